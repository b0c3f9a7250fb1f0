"""Databricks' SCIM API refuses a filter expression of more than 200 nodes.

Source: docs.databricks.com/api/workspace/users/list.
"""

from __future__ import annotations

from collections.abc import Sequence

from tests.support.quirk_target import Behaviour
from tests.support.quirks.filters import MaxFilterNodes

MAX_FILTER_NODES = 200


def emulation() -> Sequence[Behaviour]:
    return [MaxFilterNodes(MAX_FILTER_NODES)]
