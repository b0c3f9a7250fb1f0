"""Pair desired objects with the target objects they already are.

Linked objects carry their target id in the state and need no lookup. Unlinked ones are looked
up by their matching attributes in precedence order (the runtime sends the queries); here we
decide what the answers mean. Matching values compare as the attribute's ``caseExact`` says
(RFC 7643: ``userName`` and ``displayName`` are not case-exact, ``externalId`` and ``id`` are) and
always in Unicode NFC, so ``José`` typed and ``José`` pasted from a decomposed source are one
value. A case-only change is still sent as an update.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncer.core.scimpath import ScimPath, flatten, get_value, parse_path
from syncer.errors import MalformedResponseError
from syncer.types import Desired, JobState, ObjectKind, TargetObject, Value

DUPLICATE_SOURCE = "DuplicateSourceEntries"
DUPLICATE_TARGET = "DuplicateTargetEntries"


CASE_EXACT = frozenset(
    {
        "id",
        "externalid",
        "password",
        "profileurl",
        "photos.value",
        "x509certificates.value",
        "groups.value",
        "members.value",
        "manager",  # the enterprise manager's "value" (an id)
        "manager.value",
    }
)
"""Attributes RFC 7643 declares ``caseExact: true`` (lower-cased, schema URN dropped); every
other attribute, custom ones included, is ``caseExact: false``, the RFC's default (§2.2)."""


def case_exact(path: str | ScimPath) -> bool:
    """Whether a matching attribute compares case-sensitively, as its SCIM schema declares."""
    return _case_exact(path if isinstance(path, str) else path.text)


@functools.lru_cache(maxsize=1024)
def _case_exact(path: str) -> bool:
    parsed = parse_path(path)
    name = parsed.attribute if parsed.sub_attribute is None else f"{parsed.attribute}.{parsed.sub_attribute}"
    return name.lower() in CASE_EXACT


def matching_key(value: Value, exact: bool = False) -> str:
    """How matching values compare: strings in NFC, case-folded unless ``exact``; the rest by text.

    Case folding can leave a string unnormalised (``ǰ`` folds to ``ǰ``), so NFC comes after it too.
    """
    if not isinstance(value, str):
        return repr(value)
    text = unicodedata.normalize("NFC", value)
    return text if exact else unicodedata.normalize("NFC", text.casefold())


def path_key(path: str, value: Value) -> tuple[str, str]:
    """A matching value keyed with its attribute, compared as that attribute says."""
    return path, matching_key(value, case_exact(path))


def verified_hits(path: str, value: Value, resources: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The answered resources that carry the searched value; what a lookup may link to.

    A resource in another case of a case-exact attribute is no hit (the target compares more
    loosely than the schema says). A resource that does not carry the value in any case or form
    means the target did not apply the filter at all: linking its answers would hand one account
    to many people, so that is a :class:`MalformedResponseError` for this lookup.
    """
    parsed = parse_path(path)
    exact = case_exact(parsed)
    wanted, loosely = matching_key(value, exact), matching_key(value)
    hits: list[Mapping[str, Any]] = []
    for resource in resources:
        held = get_value(resource, parsed)
        items = held if isinstance(held, list | tuple) else (held,)
        present = [item for item in items if item is not None]
        if any(matching_key(item, exact) == wanted for item in present):
            hits.append(resource)
        elif not any(matching_key(item) == loosely for item in present):
            raise MalformedResponseError(
                f"the target answered a filter on {path} with {len(resources)} resource(s), "
                f"at least one without the searched value: it does not apply filter, so nothing is linked",
                status=200,
            )
    return hits


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
            by_value[path_key(path, value)].append(obj)
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
    memory grows with the matches, not with the target. Values compare as :func:`path_key` does
    (NFC, case-folded unless case-exact); an entry of a multi-valued attribute matches like ``eq``.
    """

    def __init__(self, kind: ObjectKind, objects: Sequence[Desired], paths: Sequence[ScimPath]) -> None:
        self.kind = kind
        self.objects = [o for o in objects if o.kind is kind]
        self.paths = tuple(paths)
        by_text = {p.text: p for p in self.paths}
        self.wanted = {path_key(path, value) for o in self.objects for path, value in o.matching}
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
                if item is not None and (key := path_key(path.text, item)) in self.wanted:
                    keys.append(key)
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
                hits = self.hits.get(path_key(path, value))
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
