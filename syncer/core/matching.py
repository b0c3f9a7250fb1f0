"""Pair desired objects with the target objects they already are.

Linked objects carry their target id in the state and need no lookup. Unlinked ones are looked
up by their matching attributes in precedence order (the runtime sends the queries); here we
decide what the answers mean. SCIM's ``userName`` is case-insensitive (RFC 7643 §4.1.1), so
matching values are compared case-folded; a case-only change is still sent as an update.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncer.core.scimpath import ScimPath, flatten, get_value
from syncer.types import Desired, JobState, ObjectKind, TargetObject, Value

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


class ListingMatcher:
    """Match unlinked objects against a listing of the target, one resource at a time.

    The ``matching`` strategy reads the whole target once instead of querying per object. Each
    listed resource is kept only if some unlinked object has one of its matching values, so
    memory grows with the matches, not with the target. Values compare as :func:`matching_key`
    does (strings case-folded); an entry of a multi-valued attribute matches like SCIM's ``eq``.
    """

    def __init__(self, kind: ObjectKind, objects: Sequence[Desired], paths: Sequence[ScimPath]) -> None:
        self.kind = kind
        self.objects = [o for o in objects if o.kind is kind]
        self.paths = tuple(paths)
        by_text = {p.text: p for p in self.paths}
        self.wanted = {(path, matching_key(value)) for o in self.objects for path, value in o.matching}
        self.matching_paths = tuple(
            by_text[path] for path in sorted({path for o in self.objects for path, _ in o.matching})
        )
        self.hits: dict[tuple[str, str], list[TargetObject]] = defaultdict(list)
        self.seen = 0

    def add(self, resource: Mapping[str, Any]) -> None:
        """Look at one listed resource; keep it when an unlinked object matches it."""
        self.seen += 1
        keys = []
        for path in self.matching_paths:
            value = get_value(resource, path)
            for item in value if isinstance(value, list | tuple) else (value,):
                if item is not None and (path.text, matching_key(item)) in self.wanted:
                    keys.append((path.text, matching_key(item)))
        if keys:
            found = TargetObject(self.kind, str(resource["id"]), flatten(resource, self.paths))
            for key in keys:
                self.hits[key].append(found)

    def matches(self) -> dict[tuple[ObjectKind, str], Match]:
        """Every object's answer, as the per-object queries would have given it."""
        results: dict[tuple[ObjectKind, str], Match] = {}
        for obj in self.objects:
            results[(obj.kind, obj.source_id)] = Match(obj.source_id, None, ())
            for path, value in obj.matching:
                hits = self.hits.get((path, matching_key(value)))
                if hits:
                    results[(obj.kind, obj.source_id)] = Match(obj.source_id, path, tuple(hits))
                    break
        return results


def nothing_to_match(objects: Sequence[Desired]) -> dict[tuple[ObjectKind, str], Match]:
    """The answers when the target holds no object of their kind: every one is to be created."""
    return {(o.kind, o.source_id): Match(o.source_id, None, ()) for o in objects}


def should_list(unlinked: int, total: int, ratio: float) -> bool:
    """``auto``: list the target when it holds at most ``ratio`` objects per unlinked object."""
    return total <= ratio * unlinked
