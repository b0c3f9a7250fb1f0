"""Microsoft Entra ID as a SCIM target: ``eq`` filters (joined by ``and``) on a few attributes.

Source: learn.microsoft.com/en-us/entra/identity/app-provisioning/entra-id-scim-api-reference.
Listings page by cursor (:mod:`.cursor`).
"""

from __future__ import annotations

from collections.abc import Sequence

from tests.support.quirk_target import Behaviour
from tests.support.quirks.cursor import CursorOnly
from tests.support.quirks.filters import EqFilterOn

FILTERABLE = {
    "Users": frozenset({"username", "externalid", "id", "mailnickname"}),
    "Groups": frozenset({"displayname", "externalid", "id"}),
}


def emulation() -> Sequence[Behaviour]:
    return [CursorOnly(), EqFilterOn(FILTERABLE)]
