"""Pair desired objects with the target objects they already are.

Linked objects carry their target id in the state and need no lookup. Unlinked ones are looked
up by their matching attributes in precedence order (the runtime sends the queries); here we
decide what the answers mean. SCIM's ``userName`` is case-insensitive (RFC 7643 §4.1.1), so
matching values are compared case-folded; a case-only change is still sent as an update.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from syncer.types import Desired, JobState, TargetObject, Value

DUPLICATE_SOURCE = "DuplicateSourceEntries"
DUPLICATE_TARGET = "DuplicateTargetEntries"


def matching_key(value: Value) -> str:
    """How matching values compare: strings case-folded, everything else by its text."""
    return value.casefold() if isinstance(value, str) else repr(value)


@dataclass(frozen=True, slots=True)
class Match:
    """What the target said about one unlinked object.

    ``hits`` are the objects found by the first matching attribute that found any (``path``);
    no hits means the object is to be created.
    """

    source_id: str
    path: str | None
    hits: tuple[TargetObject, ...]


def duplicate_sources(objects: Iterable[Desired]) -> dict[str, str]:
    """Source ids that share a matching value with another source object, with the detail.

    Both objects fail (Entra's ``DuplicateSourceEntries``): syncer cannot tell which one the
    target object belongs to, and creating either would make the other a duplicate.
    """
    by_value: dict[tuple[str, str], list[Desired]] = defaultdict(list)
    for obj in objects:
        for path, value in obj.matching:
            by_value[(path, matching_key(value))].append(obj)
    failed: dict[str, str] = {}
    for (path, _), group in sorted(by_value.items()):
        if len(group) > 1:
            names = ", ".join(sorted(o.source_id for o in group))
            for obj in group:
                failed.setdefault(
                    obj.source_id, f"{path} {obj.matching_value(path)!r} is shared by source objects {names}"
                )
    return failed


def needs_lookup(objects: Sequence[Desired], state: JobState, excluded: Iterable[str]) -> list[Desired]:
    """The objects the runtime must look up on the target: unlinked, entitled, and not failed already."""
    skip = set(excluded)
    return [
        obj
        for obj in objects
        if obj.source_id not in skip
        and state.link(obj.kind, obj.source_id) is None
        and not obj.soft_deleted
        and obj.matching
    ]
