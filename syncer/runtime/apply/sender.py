"""Sending one change: its requests, the PUT fallback, and the recovery of a doubtful answer.

A 409, a dropped response or a malformed answer to a POST may mean the create happened: the
object is looked up by its matching values and linked, so an unreliable target never gets it
twice. A 404 on a write proves nothing by itself (a gateway in front of the target answers 404
too): the resource is asked for, and only a SCIM error body saying 404 makes it gone. What each
answer means is decided in :mod:`syncer.core.recovery`; this module only acts on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.scim.protocol import (
    CORE_GROUP,
    CORE_USER,
    apply_operations,
    build_patch_operations,
    build_resource,
    patch_body,
)
from syncer.core.changes import CreateObject
from syncer.core.mapping import CompiledMapping
from syncer.core.outcomes import ChangeResult, Reason
from syncer.core.planning import diff_values
from syncer.core.recovery import (
    CreateDoubt,
    Gone,
    Miss,
    after_create_error,
    after_miss,
    claimed_text,
    gone_verdict,
)
from syncer.core.scimpath import flatten
from syncer.errors import NotFoundError, TargetError, UnauthorizedError
from syncer.runtime.lookups import Listings
from syncer.types import (
    Action,
    Candidates,
    Desired,
    Link,
    ModifiedProperty,
    ObjectKind,
    Reference,
    Status,
    Step,
    Value,
)

from .draft import Deferred, Draft, Refused
from .journal import Journal, LinkTaken
from .unique import UniqueValues

CREATE_ATTEMPTS = 4
"""POSTs of one object per cycle when the answers leave in doubt whether it was created."""


def ref_text(value: Value) -> Value:
    return str(value) if isinstance(value, Reference) else value


@dataclass(frozen=True, slots=True)
class Wire:
    """How this job's target takes changes (and the page size it is listed with after a 409)."""

    dialect: str = "rfc"
    update_method: str = "patch"
    page_size: int = 1000
    listed: frozenset[ObjectKind] = frozenset()
    """Kinds the target cannot filter on by every matching attribute: looked up by listing."""
    members_in_get: bool = True
    """A group's GET shows its members; ``False`` (AWS): membership is asked member by member."""
    filter_attributes: Mapping[ObjectKind, frozenset[str]] | None = None
    """The attributes the target filters on, per kind (``None``: any): SelectUniqueValue's lookups."""


class Sender:
    """The requests of one change at a time, against the links the journal holds."""

    def __init__(self, client: ScimClient, journal: Journal, mapping: CompiledMapping, wire: Wire) -> None:
        self.client = client
        self.journal = journal
        self.mapping = mapping
        self.wire = wire
        self.listings = Listings(client, mapping, self._unlinked, wire.page_size)
        self.unique = UniqueValues(client, wire.filter_attributes, wire.page_size)
        self._present: dict[str, frozenset[str]] = {}
        self._asked: dict[str, dict[str, bool]] = {}

    def _unlinked(self, kind: ObjectKind) -> list[Desired]:
        return [d for k, d in self.journal.desired.items() if k[0] is kind and self.journal.link(*k) is None]

    # --- building blocks ------------------------------------------------------------------------

    def resolve(self, value: Value) -> Value:
        if isinstance(value, Reference):
            link = self.journal.link(ObjectKind.USER, value.source_id)
            if link is None:
                raise Deferred(f"reference to user {value.source_id}, which is not provisioned yet")
            return link.target_id
        return value

    def target_of(self, kind: ObjectKind, source_id: str, planned: str | None) -> str:
        link = self.journal.link(kind, source_id)
        if link is not None:
            return link.target_id
        if planned is not None:
            return planned
        raise Deferred(f"{kind.value} {source_id} is not provisioned")

    async def modify(self, kind: ObjectKind, target_id: str, ops: list[dict[str, Any]]) -> None:
        """PATCH the operations, or on a PUT-only target, GET, apply them locally and PUT."""
        if self.wire.update_method == "put":
            current = await self.client.get(kind, target_id)
            await self.client.put(kind, target_id, apply_operations(current, ops))
        else:
            await self.client.patch(kind, target_id, patch_body(ops))

    async def present_members(
        self, group_source_id: str, target_id: str, candidates: Collection[str]
    ) -> frozenset[str]:
        """Which of ``candidates`` (member target ids) a newly matched group holds; else none.

        An ``add`` of a member a group holds SHOULD change nothing (RFC 7644 §3.5.2.1), but some
        targets list it twice. A group syncer created or has added members to holds nothing
        syncer did not record, so only a newly matched one is read: its members in one GET,
        once a cycle, or where the target's answers leave ``members`` empty (AWS), each candidate
        asked with ``id eq "G" and members eq "U"``, since that empty list is not the truth.
        """
        if not self.journal.newly_matched(ObjectKind.GROUP, group_source_id):
            return frozenset()
        if self.wire.members_in_get:
            if target_id not in self._present:
                self._present[target_id] = await self.client.member_ids(target_id)
            return self._present[target_id] & frozenset(candidates)
        asked = self._asked.setdefault(target_id, {})
        unknown = [c for c in candidates if c not in asked]
        answers = await asyncio.gather(*(self.client.has_member(target_id, c) for c in unknown))
        asked.update(zip(unknown, answers, strict=True))
        return frozenset(c for c in candidates if asked[c])

    async def gone(self, kind: ObjectKind, target_id: str, error: NotFoundError, draft: Draft) -> None:
        """After a 404 on a write: return if the object is proven gone, else refuse the change.

        The link is kept and the change retried by escrow until a GET of the resource answers
        with a SCIM error body saying 404.
        """
        try:
            await self.client.get(kind, target_id)
            probe: TargetError | None = None
        except UnauthorizedError:
            raise
        except TargetError as exc:
            probe = exc
        verdict = gone_verdict(probe)
        if verdict is Gone.GONE:
            return
        found = "the object is still there" if verdict is Gone.PRESENT else f"GET said: {probe}"
        raise Refused(
            Reason.GONE_NOT_CONFIRMED,
            f"{error}; not taken as gone ({found}): the link is kept and the change retried",
        )

    # --- creating and matching ------------------------------------------------------------------

    async def create(self, change: CreateObject, draft: Draft) -> None:
        await self.create_or_match(change.kind, change.source_id, change.display, change.attributes, draft)

    async def rematch(self, kind: ObjectKind, source_id: str, draft: Draft) -> None:
        """Find the object by its matching attributes and link it, creating it only if none is found."""
        desired = self.journal.desired[(kind, source_id)]
        if await self.match_existing(desired, draft):
            return
        values = {p: (v if v is not None else desired.defaults.get(p)) for p, v in desired.attributes.items()}
        wanted = {p: v for p, v in values.items() if v is not None}
        await self.create_or_match(kind, source_id, desired.display, wanted, draft)

    async def match_existing(self, desired: Desired, draft: Draft) -> bool:
        """Link the target object with the desired matching values, if there is one (and converge it).

        The hits are verified by the client (each must carry the value), so a target that ignores
        the filter cannot hand a 409'd object someone else's account.
        """
        paths = self.mapping.of(desired.kind).paths
        if desired.kind in self.wire.listed:  # the target cannot filter on these: a listing answers
            match = await self.listings.match(desired)
            if len(match.hits) > 1:
                found = f"{match.path} matches {len(match.hits)} target objects"
                draft.fail(Reason.DUPLICATE_TARGET_ENTRIES, found)
                return True
            if match.hits:
                hit = match.hits[0]
                self.claim_found(desired, hit.id, draft)
                await self.converge(desired, hit.id, hit.values, draft, matched_on=f"{match.path} (listing)")
                return True
            return False
        for path, value in desired.matching:
            hits = await self.client.lookup(desired.kind, path, value)
            if len(hits) > 1:
                draft.fail(Reason.DUPLICATE_TARGET_ENTRIES, f"{path} matches {len(hits)} target objects")
                return True
            if hits:
                target_id = str(hits[0]["id"])
                self.claim_found(desired, target_id, draft)
                await self.converge(desired, target_id, flatten(hits[0], paths), draft, matched_on=path)
                return True
        return False

    async def match_listed(self, desired: Desired, error: TargetError, draft: Draft) -> None:
        """After a 409 the filter did not explain: link the holder a listing finds, or fail once.

        The listing compares as the attribute's ``caseExact`` says, in NFC (``userName``: any
        case), and the hit is claimed like any other, so it is never another object's account.
        """
        match = await self.listings.match(desired)
        if len(match.hits) > 1:
            ids = ", ".join(sorted(h.id for h in match.hits))
            draft.fail(Reason.DUPLICATE_TARGET_ENTRIES, f"{match.path} matches target objects {ids}")
            return
        if not match.hits:
            values = ", ".join(f"{path} {value!r}" for path, value in desired.matching)
            raise Refused(
                Reason.CONFLICT_NOT_MATCHED,
                f"{error}; neither a filter nor a listing of the target finds a {desired.kind.value} "
                f"with {values}: another attribute's value is taken, or the target keeps the value "
                "for an object it does not list (a deleted account, say). Not sent again",
            )
        hit = match.hits[0]
        self.claim_found(desired, hit.id, draft)
        draft.steps.append(
            Step(
                "matching",
                Status.WARNING,
                f"the filter on {match.path} found nothing, a listing found {hit.id}: the target's "
                "filter compares otherwise than its schema says (case-exactly, say)",
            )
        )
        await self.converge(desired, hit.id, hit.values, draft, matched_on=f"{match.path} (listing)")

    def claim_found(self, desired: Desired, target_id: str, draft: Draft) -> None:
        """A found object owned by another source object is a conflict for both, never a link."""
        owner = self.journal.owner(desired.kind, target_id)
        me = (desired.kind, desired.source_id)
        if owner is None or owner == me:
            return
        mine, theirs = claimed_text(desired.kind, target_id, owner, me)
        other = self.journal.link(*owner)
        draft.also.append(
            ChangeResult(
                kind=owner[0],
                source_id=owner[1],
                display=other.display if other else owner[1],
                action=Action.OTHER,
                status=Status.FAILURE,
                reason=Reason.TARGET_OBJECT_LINKED,
                detail=theirs,
                target_id=target_id,
                steps=(Step("matching", Status.FAILURE, theirs),),
            )
        )
        raise Refused(Reason.TARGET_OBJECT_LINKED, mine)

    async def create_or_match(
        self,
        kind: ObjectKind,
        source_id: str,
        display: str,
        attributes: Mapping[str, Value],
        draft: Draft,
    ) -> None:
        """POST the object; when the answer leaves in doubt whether it was created, look before resending.

        A 409 the lookup cannot explain is never sent again: the holder is found by listing.
        """
        draft.action = Action.CREATE
        if any(isinstance(v, Candidates) for v in attributes.values()):
            attributes = MappingProxyType(await self.unique.resolve(kind, attributes, draft))
        sent: dict[str, Value] = {}
        for path, value in attributes.items():
            try:
                sent[path] = self.resolve(value)
            except Deferred:
                continue
        body = build_resource(CORE_USER if kind is ObjectKind.USER else CORE_GROUP, sent)
        desired = self.journal.desired.get((kind, source_id))
        last: TargetError | None = None
        for _ in range(CREATE_ATTEMPTS):
            try:
                created = await self.client.create(kind, body)
            except TargetError as exc:
                if after_create_error(exc) is CreateDoubt.FAIL:
                    raise
                last = exc
                draft.steps.append(
                    Step("export", Status.WARNING, f"create not confirmed ({exc.code}); matching")
                )
                if desired is None:
                    raise
                if await self.match_existing(desired, draft):
                    return
                if after_miss(exc) is Miss.LIST:
                    await self.match_listed(desired, exc, draft)
                    return
                continue
            self.created(kind, source_id, display, attributes, sent, str(created["id"]), draft)
            return
        assert last is not None
        raise last

    def created(
        self,
        kind: ObjectKind,
        source_id: str,
        display: str,
        attributes: Mapping[str, Value],
        sent: Mapping[str, Value],
        target_id: str,
        draft: Draft,
    ) -> None:
        # the plan's own read-only mapping when all of it was sent: one copy per object, not two
        exported = (
            attributes
            if len(sent) == len(attributes) and isinstance(attributes, MappingProxyType)
            else MappingProxyType({p: attributes[p] for p in sent})
        )
        draft.target_id = target_id
        try:
            self.journal.save(Link(kind, source_id, target_id, display, exported))
        except LinkTaken as exc:
            raise Refused(
                Reason.TARGET_OBJECT_LINKED,
                f"the target answered the create with id {target_id}, which is already linked to "
                f"source object {exc.owner[1]}: not linked (the target reuses ids or answered for "
                "another object)",
            ) from None
        draft.modified.extend(ModifiedProperty(p, None, ref_text(v)) for p, v in sorted(exported.items()))

    async def converge(
        self, desired: Desired, target_id: str, actual: Mapping[str, Value], draft: Draft, matched_on: str
    ) -> None:
        """Link a found object and PATCH what differs from the desired values."""
        wanted: dict[str, Value] = {}
        for path, value in desired.attributes.items():
            if isinstance(value, Candidates):
                continue  # chosen only for a create: a found object keeps its own
            try:
                wanted[path] = self.resolve(value)
            except Deferred:
                continue
        changes = tuple(
            c for c in diff_values(wanted, actual, skip=desired.on_create_only) if c.new is not None
        )
        if changes:
            ops = build_patch_operations(changes, current=actual, dialect=self.wire.dialect)
            await self.modify(desired.kind, target_id, ops)
        exported = {p: desired.attributes[p] for p in wanted if wanted[p] is not None}
        link = Link(
            desired.kind,
            desired.source_id,
            target_id,
            desired.display,
            MappingProxyType(exported),
            origin="matched",
        )
        self.journal.save(link)
        draft.action = Action.UPDATE
        draft.target_id = target_id
        draft.steps.append(Step("matching", Status.SUCCESS, f"matched on {matched_on}"))
        draft.modified.extend(ModifiedProperty(c.path, c.old, c.new) for c in changes)
