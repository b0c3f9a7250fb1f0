"""Asana's SCIM API: ``GET /Users`` filters on ``userName`` only; groups take no filter.

Source: developers.asana.com/docs/scim.
"""

from __future__ import annotations

from collections.abc import Sequence

from tests.support.quirk_target import Behaviour
from tests.support.quirks.filters import EqFilterOn

FILTERABLE = {"Users": frozenset({"username"}), "Groups": frozenset[str]()}


def emulation() -> Sequence[Behaviour]:
    return [EqFilterOn(FILTERABLE)]
