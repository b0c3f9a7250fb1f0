"""The filters a target takes: which attributes an ``eq`` may name, and how big one may be.

RFC 7644 lets a target filter on anything; AWS IAM Identity Center, Entra ID and Asana filter
only on a few attributes per kind (``userName``, ``externalId``, a group's ``displayName``) and
answer 400 ``invalidFilter`` to the rest, and Databricks refuses a filter of more than 200 nodes.
Syncer asks before it sends: a kind whose matching attribute the target cannot filter on is
matched by listing the target, and a filter past the node limit is never sent.

The rules come from :class:`~syncer.settings.profiles.TargetQuirks`; this module is pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from syncer.core.scimpath import parsed
from syncer.settings.profiles import TargetQuirks
from syncer.types import ObjectKind

COMPARISONS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"})
LOGICAL = frozenset({"and", "or", "not"})
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[()\[\]]|[^\s()\[\]"]+')


class FilterTooLarge(ValueError):
    """A filter with more nodes than the target takes: sending it would only earn a 400."""


def filterable(path_text: str, allowed: frozenset[str] | None) -> bool:
    """Whether the target answers ``path eq value`` (``allowed``: lower-case names, ``None``: any).

    A value-filtered path (``emails[type eq "work"].value``) needs a bracketed filter, and the
    manager a ``.value``: neither is the plain ``attribute eq value`` these targets take.
    """
    if allowed is None:
        return True
    path = parsed(path_text)
    if path.value_filter is not None or path.is_reference:
        return False
    return path.text.lower() in allowed


def listed_kinds(matching: Mapping[ObjectKind, Iterable[str]], quirks: TargetQuirks) -> frozenset[ObjectKind]:
    """The kinds whose matching attributes the target cannot all filter on: they are matched by listing.

    ``matching`` holds each kind's matching paths. One unfilterable attribute is enough: the
    objects whose first matching value is missing fall back to it, and a listing answers for
    every attribute at once.
    """
    rules = quirks.filter_attributes
    if rules is None:
        return frozenset()
    return frozenset(
        kind for kind, paths in matching.items() if not all(filterable(p, rules.get(kind)) for p in paths)
    )


def filter_nodes(text: str) -> int:
    """The nodes of a filter as Databricks counts them: every comparison and logical operator.

    Quoted literals are skipped whole, so a value holding ``" and "`` counts for nothing.
    """
    return sum(
        1
        for token in _TOKEN.findall(text)
        if not token.startswith('"') and token.lower() in COMPARISONS | LOGICAL
    )


def check_filter(text: str, max_nodes: int | None) -> None:
    """Raise :class:`FilterTooLarge` when ``text`` has more nodes than ``max_nodes`` allows."""
    if max_nodes is None:
        return
    nodes = filter_nodes(text)
    if nodes > max_nodes:
        raise FilterTooLarge(f"a filter of {nodes} nodes; the target takes at most {max_nodes}")
