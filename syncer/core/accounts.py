"""Account discovery: what each object already on the target is to this job, before any sync.

Entra calls it onboarding an existing tenant: the admin about to point syncer at a target that
already has people in it wants to know, before anything is written, which accounts syncer would
take over (and by which matching attribute, for which source object), which it already manages,
and which it would leave alone. The answers are the cycle's own: a listed resource is matched
exactly as :class:`~syncer.core.matching.ListingMatcher` matches it in a real cycle, so what
``syncer discover`` says *would match* is what the first sync links.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

from syncer.core.matching import ListingMatcher, duplicate_sources, needs_lookup
from syncer.core.scimpath import ScimPath
from syncer.types import Desired, JobState, ObjectKind

NAME_ATTRIBUTE = {ObjectKind.USER: "userName", ObjectKind.GROUP: "displayName"}
"""The attribute that names a target object for a person reading the list."""


class Standing(enum.StrEnum):
    """What a target object is to the job."""

    LINKED = "linked"
    """The state links it to a source object: syncer manages it already."""
    WOULD_MATCH = "would-match"
    """One unlinked source object's matching value finds it: the first sync links it and updates it."""
    AMBIGUOUS = "ambiguous"
    """Several source objects, or one source object and several target objects, share the value:
    the cycle fails those objects (``DuplicateSourceEntries`` / ``DuplicateTargetEntries``) and
    links nothing until someone decides."""
    UNMANAGED = "unmanaged"
    """Target-only: no source object matches it, and syncer never modifies or deletes it."""


@dataclass(frozen=True, slots=True)
class TargetAccount:
    """One object listed on the target, with what it is to the job."""

    kind: ObjectKind
    target_id: str
    name: str
    standing: Standing
    source_ids: tuple[str, ...] = ()
    matched_by: str | None = None


@dataclass(frozen=True)
class Inventory:
    """Every target object of the kinds the job provisions, and what the source adds to them."""

    accounts: tuple[TargetAccount, ...]
    to_create: Mapping[ObjectKind, int] = field(default_factory=dict)
    """In-scope source objects that match nothing: the first sync creates them."""
    links_missing: Mapping[ObjectKind, int] = field(default_factory=dict)
    """Links in the state whose target object the listing did not return (deleted on the target)."""

    def counts(self, kind: ObjectKind) -> Counter[Standing]:
        return Counter(a.standing for a in self.accounts if a.kind is kind)


def classify(
    kind: ObjectKind,
    resources: Iterable[Mapping[str, Any]],
    objects: Sequence[Desired],
    state: JobState,
    paths: Sequence[ScimPath],
) -> tuple[list[TargetAccount], int, int]:
    """The standing of every listed resource of ``kind``; also the creates and the missing links.

    ``objects`` are the job's in-scope source objects after mapping; ``paths`` the mapping's
    paths of that kind (its matching attributes among them).
    """
    of_kind = [o for o in objects if o.kind is kind]
    linked = {link.target_id: link.source_id for link in state.of_kind(kind)}
    duplicated = duplicate_sources(of_kind)
    unlinked = needs_lookup(of_kind, state, ())
    matcher = ListingMatcher(kind, unlinked, paths)
    listed: list[tuple[str, str]] = []
    for resource in resources:
        matcher.add(resource)
        listed.append((str(resource["id"]), str(resource.get(NAME_ATTRIBUTE[kind]) or "")))
    claims: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    shared: set[str] = set()  # target objects one source object matches together with others
    to_create = 0
    for (_, source_id), match in matcher.matches().items():
        if not match.hits:
            to_create += 1
        for hit in match.hits:
            claims[hit.id].append((source_id, match.path))
        if len(match.hits) > 1:
            shared.update(hit.id for hit in match.hits)
    accounts = [
        _account(kind, target_id, name, linked, claims, duplicated.keys() | shared)
        for target_id, name in listed
    ]
    seen = {target_id for target_id, _ in listed}
    return accounts, to_create, sum(1 for target_id in linked if target_id not in seen)


def _account(
    kind: ObjectKind,
    target_id: str,
    name: str,
    linked: Mapping[str, str],
    claims: Mapping[str, list[tuple[str, str | None]]],
    contested: Set[str],
) -> TargetAccount:
    """``contested``: source ids shared with another source object, and target ids shared by one."""
    if target_id in linked:
        return TargetAccount(kind, target_id, name, Standing.LINKED, (linked[target_id],))
    claimed = claims.get(target_id, [])
    if not claimed:
        return TargetAccount(kind, target_id, name, Standing.UNMANAGED)
    sources = tuple(sorted({source_id for source_id, _ in claimed}))
    path = claimed[0][1]
    ambiguous = len(claimed) > 1 or target_id in contested or any(s in contested for s in sources)
    standing = Standing.AMBIGUOUS if ambiguous else Standing.WOULD_MATCH
    return TargetAccount(kind, target_id, name, standing, sources, path)
