"""Send a plan to the target, phase by phase, and write each result to the state as it lands.

Within a phase, objects are worked on concurrently (bounded by the target's concurrency) and
each object's own changes in order. A failed object never stops the others. The state is
written as changes complete, in batches: what a successful request changed is queued and
committed with its neighbours once ``FLUSH_EVERY`` writes are waiting or the oldest has waited
``FLUSH_SECONDS``, and at the end of every phase. Nothing is ever written before its request
succeeded. A crash loses at most the requests in flight and the last half second of completed
changes; the next cycle repairs those by matching (a 409 on create links instead of duplicating)
and by re-sending idempotent PATCHes, as it always did for the requests in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

import structlog

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.state.store import StateStore
from syncer.core.changes import (
    Change,
    ChangeMembers,
    CreateObject,
    DeleteObject,
    DisableUser,
    Phase,
    Plan,
    Skip,
    UpdateObject,
)
from syncer.core.mapping import CompiledMapping
from syncer.core.patching import apply_operations
from syncer.core.planning import diff_values, values_hash
from syncer.core.scimpath import (
    CORE_GROUP,
    CORE_USER,
    build_patch_operations,
    build_resource,
    equality_filter,
    flatten,
    member_operations,
    patch_body,
)
from syncer.errors import (
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    TargetError,
    TransientTargetError,
    UnauthorizedError,
)
from syncer.types import (
    Action,
    AttributeChange,
    Desired,
    JobState,
    Link,
    ModifiedProperty,
    ObjectKind,
    ProvisioningLogEntry,
    Reference,
    Status,
    Step,
    Value,
)

log = structlog.get_logger("syncer.executor")
Key = tuple[ObjectKind, str]


CREATE_ATTEMPTS = 4
"""POSTs of one object per cycle when the answers leave in doubt whether it was created."""
NOT_ESCROWED = frozenset({"CycleStopped"})
"""Failures that are the cycle's, not the object's: a retry next cycle needs no backoff."""


FLUSH_EVERY = 200
"""Completed writes (links and provisioning-log records) committed together at most."""
FLUSH_SECONDS = 0.5
"""How long a completed change may wait for its commit: the most a crash can lose of them."""


class Deferred(Exception):
    """A reference whose target is not linked (yet): left for a later cycle, not an error."""


@dataclass
class _Outcome:
    """What happened to one object in this cycle, folded into one provisioning-log record."""

    kind: ObjectKind
    source_id: str
    display: str
    action: Action = Action.OTHER
    status: Status = Status.SUCCESS
    reason: str | None = None
    detail: str | None = None
    target_id: str | None = None
    modified: list[ModifiedProperty] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    pending: int = 0

    def fail(self, reason: str, detail: str) -> None:
        self.status = Status.FAILURE
        self.reason = self.reason or reason
        self.detail = self.detail or detail


@dataclass(frozen=True)
class ApplyReport:
    """The counts one apply produced, for the run record and the CLI summary."""

    counts: Mapping[str, int]
    failures: int
    stopped: str | None
    refused: str | None = None


def _ref_text(value: Value) -> Value:
    return str(value) if isinstance(value, Reference) else value


class Executor:
    """Applies one plan for one job; owns the in-memory view of the links during the cycle."""

    def __init__(
        self,
        *,
        job: str,
        run_id: str,
        client: ScimClient,
        store: StateStore,
        state: JobState,
        desired: Mapping[Key, Desired],
        mapping: CompiledMapping,
        concurrency: int,
        clock: Callable[[], datetime],
        on_progress: Callable[[int, int], None] | None = None,
        dialect: str = "rfc",
        escrowed: frozenset[Key] = frozenset(),
        escrow_delay: Callable[[int], int] = lambda attempts: 0,
        should_stop: Callable[[], str | None] | None = None,
        update_method: str = "patch",
    ) -> None:
        self.job = job
        self.run_id = run_id
        self.client = client
        self.store = store
        self.links: dict[Key, Link] = dict(state.links)
        self.desired = desired
        self.mapping = mapping
        self.concurrency = concurrency
        self.clock = clock
        self.on_progress = on_progress
        self.dialect = dialect if update_method == "patch" else "rfc"
        self.update_method = update_method
        self.escrowed = escrowed
        self.escrow_delay = escrow_delay
        self.escrow_failures = 0
        self.should_stop = should_stop
        self.outcomes: dict[Key, _Outcome] = {}
        self.pending_references: dict[Key, frozenset[str]] = {}
        self.members_sent: dict[str, int] = {"added": 0, "removed": 0}
        self.stopped: str | None = None
        self.refused: str | None = None
        """Set when the target refused the credentials: the cycle stops and the job is quarantined."""
        self.done = 0
        self.total = 0
        # change ids: a random prefix per cycle and a counter, as unique as uuid4 and 30x cheaper
        self._id_prefix = uuid.uuid4().hex[:20]
        self._id_count = itertools.count()
        self._unsaved: dict[Key, Link | None] = {}  # None: the link is to be dropped
        self._unlogged: list[ProvisioningLogEntry] = []
        self._oldest: float | None = None

    # --- bookkeeping ------------------------------------------------------------------------

    def _save(self, link: Link) -> None:
        """Remember a link that a successful request made true; committed with the next batch."""
        desired = self.desired.get((link.kind, link.source_id))
        skip = desired.on_create_only if desired is not None else ()
        link = replace(link, exported_hash=values_hash(link.exported, skip))
        self.links[(link.kind, link.source_id)] = link
        self._unsaved[(link.kind, link.source_id)] = link
        self._oldest = self._oldest or time.monotonic()

    def _drop(self, kind: ObjectKind, source_id: str) -> None:
        self.links.pop((kind, source_id), None)
        self._unsaved[(kind, source_id)] = None
        self._oldest = self._oldest or time.monotonic()

    def _change_id(self) -> str:
        return f"{self._id_prefix}{next(self._id_count):012x}"

    def flush(self) -> None:
        """Commit every completed change not committed yet, in one transaction."""
        if not self._unsaved and not self._unlogged:
            return
        unsaved, self._unsaved = self._unsaved, {}
        unlogged, self._unlogged = self._unlogged, []
        self._oldest = None
        self.store.write_batch(
            self.job,
            save=[link for link in unsaved.values() if link is not None],
            drop=[key for key, link in unsaved.items() if link is None],
            entries=unlogged,
        )

    def _maybe_flush(self) -> None:
        waiting = len(self._unsaved) + len(self._unlogged)
        if waiting >= FLUSH_EVERY or (
            self._oldest is not None and time.monotonic() - self._oldest >= FLUSH_SECONDS
        ):
            self.flush()

    def _entry(self, o: _Outcome) -> ProvisioningLogEntry:
        return ProvisioningLogEntry(
            job=self.job,
            run_id=self.run_id,
            change_id=self._change_id(),
            time=self.clock(),
            kind=o.kind,
            source_id=o.source_id,
            display=o.display,
            target_id=o.target_id,
            action=o.action,
            status=o.status,
            reason=o.reason,
            detail=o.detail,
            modified=tuple(o.modified),
            steps=tuple(o.steps),
        )

    def _finish(self, key: Key) -> None:
        outcome = self.outcomes[key]
        outcome.pending -= 1
        self.done += 1
        if self.on_progress:
            self.on_progress(self.done, self.total)
        if outcome.pending == 0:
            outcome.steps.append(Step("export", outcome.status, outcome.detail or ""))
            self._unlogged.append(self._entry(outcome))
            self._oldest = self._oldest or time.monotonic()
            self._escrow(key, outcome)
            # logged: only the action and status are read again (for the counts), so let the rest go
            outcome.modified, outcome.steps, outcome.detail = [], [], None
        self._maybe_flush()

    def _escrow(self, key: Key, outcome: _Outcome) -> None:
        """A failed object goes to escrow (retried by later cycles); a success takes it out."""
        if outcome.status is Status.FAILURE:
            if outcome.reason in NOT_ESCROWED:
                return
            attempts = self.store.escrow_failure(
                self.job,
                key[0],
                key[1],
                display=outcome.display,
                code=outcome.reason or "Failure",
                error=outcome.detail or "",
                now=self.clock(),
                skip_cycles=self.escrow_delay,
            )
            self.escrow_failures += 1
            log.warning(
                "object_escrowed",
                kind=key[0].value,
                source_id=key[1],
                attempts=attempts,
                error=outcome.detail,
            )
        elif key in self.escrowed:
            self.store.escrow_clear(self.job, key[0], key[1])

    def _target_of(self, kind: ObjectKind, source_id: str, planned: str | None) -> str:
        link = self.links.get((kind, source_id))
        if link is not None:
            return link.target_id
        if planned is not None:
            return planned
        raise Deferred(f"{kind.value} {source_id} is not provisioned")

    def _resolve(self, value: Value) -> Value:
        if isinstance(value, Reference):
            link = self.links.get((ObjectKind.USER, value.source_id))
            if link is None:
                raise Deferred(f"reference to user {value.source_id}, which is not provisioned yet")
            return link.target_id
        return value

    def _core(self, kind: ObjectKind) -> str:
        return CORE_USER if kind is ObjectKind.USER else CORE_GROUP

    # --- the plan ---------------------------------------------------------------------------

    def record_skips(self, skips: Sequence[Skip]) -> None:
        now = self.clock()
        entries = [
            ProvisioningLogEntry(
                job=self.job,
                run_id=self.run_id,
                change_id=self._change_id(),
                time=now,
                kind=s.kind,
                source_id=s.source_id,
                display=s.display,
                target_id=s.target_id,
                action=Action.OTHER,
                status=s.status,
                reason=s.reason,
                detail=s.detail or None,
                steps=(Step("import", Status.SUCCESS), Step("matching", s.status, s.detail)),
            )
            for s in skips
        ]
        if entries:
            self.store.record_many(entries)

    def forget_returned_leavers(self, present: Iterable[Key]) -> None:
        """A user back in the source is no leaver: stop its hard-delete clock, even if it stays disabled."""
        for key in present:
            link = self.links.get(key)
            if link is not None and link.gone_since is not None:
                self._save(replace(link, gone_since=None))
        self.flush()

    def fill_missing_hashes(self) -> None:
        """Give ``exported_hash`` to links saved without one (by an older syncer): once, no request.

        Later cycles then recognise those objects as unchanged by the digest alone.
        """
        for key, link in list(self.links.items()):
            desired = self.desired.get(key)
            if link.exported_hash or desired is None:
                continue
            digest = values_hash(link.exported, desired.on_create_only)
            if digest:
                self.links[key] = replace(link, exported_hash=digest)
                self._unsaved[key] = self.links[key]
        self.flush()

    def record_held(self, plan: Plan) -> None:
        entries = [
            ProvisioningLogEntry(
                job=self.job,
                run_id=self.run_id,
                change_id=self._change_id(),
                time=self.clock(),
                kind=c.kind,
                source_id=c.source_id,
                display=c.display,
                target_id=getattr(c, "target_id", None),
                action=Action.STAGED_DELETE,
                status=Status.SKIPPED,
                reason="StagedDelete",
                detail=plan.held_reason,
                steps=(Step("processing", Status.SKIPPED, plan.held_reason or ""),),
            )
            for c in plan.held
        ]
        if entries:
            self.store.record_many(entries)

    async def apply(self, plan: Plan) -> ApplyReport:
        # references planned as their own PATCH: not on the target yet when the object is linked
        self.pending_references = {
            (c.kind, c.source_id): frozenset(ch.path for ch in c.changes)
            for c in plan.changes
            if isinstance(c, UpdateObject) and c.phase is Phase.REFERENCES
        }
        self.record_skips(plan.skips)
        self.record_held(plan)
        self.total = len(plan.changes)
        for change in plan.changes:
            key = (change.kind, change.source_id)
            outcome = self.outcomes.setdefault(key, _Outcome(change.kind, change.source_id, change.display))
            outcome.pending += 1
        try:
            for phase in Phase:
                changes = plan.of_phase(phase)
                waves = sorted({c.wave for c in changes if isinstance(c, CreateObject)}) or [0]
                for wave in waves:
                    await self._run_phase(
                        [c for c in changes if (c.wave if isinstance(c, CreateObject) else waves[0]) == wave]
                    )
                    self.flush()
        finally:
            # completed changes are committed even when the cycle is cancelled or fails
            self.flush()
        counts: dict[str, int] = defaultdict(int)
        for o in self.outcomes.values():
            counts[f"{o.action.value}.{o.status.value}"] += 1
        for skip in plan.skips:
            counts[f"{Action.OTHER.value}.{skip.status.value}"] += 1
        failures = sum(1 for o in self.outcomes.values() if o.status is Status.FAILURE) + sum(
            1 for s in plan.skips if s.status is Status.FAILURE
        )
        if plan.held:
            counts["StagedDelete.Skipped"] = len(plan.held)
        counts["members.added"] = self.members_sent["added"]
        counts["members.removed"] = self.members_sent["removed"]
        return ApplyReport(counts=dict(counts), failures=failures, stopped=self.stopped, refused=self.refused)

    async def _run_phase(self, changes: Sequence[Change]) -> None:
        if not changes:
            return
        by_object: dict[Key, list[Change]] = defaultdict(list)
        for change in changes:
            by_object[(change.kind, change.source_id)].append(change)
        queue: asyncio.Queue[list[Change]] = asyncio.Queue()
        for group in by_object.values():
            queue.put_nowait(group)

        async def worker() -> None:
            while True:
                try:
                    group = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                for change in group:
                    await self._apply_one(change)

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(by_object)))))

    async def _apply_one(self, change: Change) -> None:
        key = (change.kind, change.source_id)
        outcome = self.outcomes[key]
        try:
            if self.stopped is None and self.should_stop is not None:
                # the daemon is stopping: what is in flight finishes, nothing new is sent
                self.stopped = self.should_stop()
            if self.stopped:
                outcome.fail("CycleStopped", f"not sent: {self.stopped}")
            elif isinstance(change, CreateObject):
                await self._create(change, outcome)
            elif isinstance(change, UpdateObject):
                await self._update(change, outcome)
            elif isinstance(change, ChangeMembers):
                await self._members(change, outcome)
            elif isinstance(change, DisableUser):
                await self._disable(change, outcome)
            elif isinstance(change, DeleteObject):
                await self._delete(change, outcome)
        except Deferred as exc:
            outcome.steps.append(Step("processing", Status.WARNING, str(exc)))
            if outcome.status is Status.SUCCESS:
                outcome.status = Status.WARNING
                outcome.reason = outcome.reason or "ReferenceNotResolved"
                outcome.detail = outcome.detail or str(exc)
        except UnauthorizedError as exc:
            self.stopped = f"the target refused the credentials ({exc})"
            self.refused = self.stopped
            outcome.fail(exc.code, str(exc))
            log.error("cycle_stopped", reason=self.stopped)
        except TargetError as exc:
            outcome.fail(exc.code, str(exc))
            log.warning("change_failed", kind=change.kind.value, source_id=change.source_id, error=str(exc))
        except (ValueError, TypeError, KeyError) as exc:
            # a bug or a value the target format cannot carry: this object fails, the cycle goes on
            outcome.fail("InternalError", f"{type(exc).__name__}: {exc}")
            log.exception("change_crashed", kind=change.kind.value, source_id=change.source_id)
        finally:
            self._finish(key)

    # --- one change each ----------------------------------------------------------------------

    async def _modify(self, kind: ObjectKind, target_id: str, ops: list[dict[str, Any]]) -> None:
        """PATCH the operations, or on a PUT-only target, GET, apply them locally and PUT."""
        if self.update_method == "put":
            current = await self.client.get(kind, target_id)
            await self.client.put(kind, target_id, apply_operations(current, ops))
        else:
            await self.client.patch(kind, target_id, patch_body(ops))

    def _exported_values(self, values: Mapping[str, Value]) -> dict[str, Value]:
        return {p: v for p, v in values.items() if v is not None}

    async def _create(self, change: CreateObject, outcome: _Outcome) -> None:
        await self._create_or_match(change.kind, change.source_id, change.display, change.attributes, outcome)

    async def _rematch(self, kind: ObjectKind, source_id: str, outcome: _Outcome) -> None:
        """Find the object by its matching attributes and link it, creating it only if none is found."""
        desired = self.desired[(kind, source_id)]
        if await self._match_existing(desired, outcome):
            return
        values = {p: (v if v is not None else desired.defaults.get(p)) for p, v in desired.attributes.items()}
        wanted = {p: v for p, v in values.items() if v is not None}
        await self._create_or_match(kind, source_id, desired.display, wanted, outcome, looked=True)

    async def _match_existing(self, desired: Desired, outcome: _Outcome) -> bool:
        """Link the target object with the desired matching values, if there is one (and converge it)."""
        paths = self.mapping.of(desired.kind).paths
        for path, value in desired.matching:
            hits = await self.client.find(desired.kind, equality_filter(path, value))
            if len(hits) > 1:
                outcome.fail("DuplicateTargetEntries", f"{path} matches {len(hits)} target objects")
                return True
            if hits:
                await self._converge(
                    desired, str(hits[0]["id"]), flatten(hits[0], paths), outcome, matched_on=path
                )
                return True
        return False

    async def _create_or_match(
        self,
        kind: ObjectKind,
        source_id: str,
        display: str,
        attributes: Mapping[str, Value],
        outcome: _Outcome,
        *,
        looked: bool = False,
    ) -> None:
        """POST the object; when the answer leaves in doubt whether it exists now, look before POSTing again.

        A 409, a dropped response or a malformed answer may mean the create happened: the object
        is then looked up by its matching values and linked, so an unreliable target never gets
        it twice. Each POST is tried a bounded number of times.
        """
        outcome.action = Action.CREATE
        sent: dict[str, Value] = {}
        for path, value in attributes.items():
            try:
                sent[path] = self._resolve(value)
            except Deferred:
                continue
        body = build_resource(self._core(kind), sent)
        last: TargetError | None = None
        for _ in range(CREATE_ATTEMPTS):
            try:
                created = await self.client.create(kind, body)
            except (ConflictError, TransientTargetError, MalformedResponseError) as exc:
                if isinstance(exc, TransientTargetError) and not exc.maybe_processed:
                    raise
                last = exc
                outcome.steps.append(
                    Step("export", Status.WARNING, f"create not confirmed ({exc.code}); matching")
                )
                desired = self.desired.get((kind, source_id))
                if desired is not None and await self._match_existing(desired, outcome):
                    return
                if isinstance(exc, ConflictError) and looked:
                    raise
                looked = True
                continue
            target_id = str(created["id"])
            # the plan's own read-only mapping when all of it was sent: one copy per object, not two
            exported = (
                attributes
                if len(sent) == len(attributes) and isinstance(attributes, MappingProxyType)
                else MappingProxyType({p: attributes[p] for p in sent})
            )
            self._save(Link(kind, source_id, target_id, display, exported))
            outcome.target_id = target_id
            outcome.modified.extend(
                ModifiedProperty(p, None, _ref_text(v)) for p, v in sorted(exported.items())
            )
            return
        assert last is not None
        raise last

    async def _converge(
        self,
        desired: Desired,
        target_id: str,
        actual: Mapping[str, Value],
        outcome: _Outcome,
        matched_on: str,
    ) -> None:
        """Link a found object and PATCH what differs from the desired values."""
        wanted: dict[str, Value] = {}
        for path, value in desired.attributes.items():
            try:
                wanted[path] = self._resolve(value)
            except Deferred:
                continue
        changes = tuple(
            c for c in diff_values(wanted, actual, skip=desired.on_create_only) if c.new is not None
        )
        if changes:
            ops = build_patch_operations(changes, current=actual, dialect=self.dialect)
            await self._modify(desired.kind, target_id, ops)
        exported = {p: desired.attributes[p] for p in wanted if wanted[p] is not None}
        self._save(
            Link(
                desired.kind,
                desired.source_id,
                target_id,
                desired.display,
                MappingProxyType(exported),
                origin="matched",
            )
        )
        outcome.action = Action.UPDATE
        outcome.target_id = target_id
        outcome.steps.append(Step("matching", Status.SUCCESS, f"matched on {matched_on}"))
        outcome.modified.extend(ModifiedProperty(c.path, c.old, c.new) for c in changes)

    async def _update(self, change: UpdateObject, outcome: _Outcome) -> None:
        if outcome.action is Action.OTHER:
            outcome.action = Action.UPDATE
        target_id = self._target_of(change.kind, change.source_id, change.target_id)
        sendable: list[AttributeChange] = []
        deferred: list[str] = []
        for c in change.changes:
            try:
                sendable.append(AttributeChange(c.path, _ref_text(c.old), self._resolve(c.new)))
            except Deferred:
                deferred.append(c.path)
        if sendable:
            before = self.links.get((change.kind, change.source_id))
            desired_now = self.desired.get((change.kind, change.source_id))
            current = {
                p: _ref_text(v)
                for p, v in (
                    before.exported if before else desired_now.attributes if desired_now else {}
                ).items()
            }
            ops = build_patch_operations(sendable, current=current, dialect=self.dialect)
            try:
                await self._modify(change.kind, target_id, ops)
            except NotFoundError:
                outcome.steps.append(
                    Step("export", Status.WARNING, f"{target_id} is gone on the target; re-matching")
                )
                self._drop(change.kind, change.source_id)
                await self._rematch(change.kind, change.source_id, outcome)
                return
        link = self.links.get((change.kind, change.source_id))
        exported = dict(link.exported) if link else {}
        sent_paths = {c.path for c in sendable}
        for c in change.changes:
            if c.path not in sent_paths:
                continue
            if c.new is None:
                exported.pop(c.path, None)
            else:
                exported[c.path] = c.new
        if link is None:
            desired = self.desired.get((change.kind, change.source_id))
            base = self._exported_values(desired.attributes) if desired and change.matched_on else {}
            pending = self.pending_references.get((change.kind, change.source_id), frozenset())
            base = {
                p: v
                for p, v in base.items()
                if p not in pending and p not in (desired.on_create_only if desired else ())
            }
            base.update(exported)
            link = Link(
                change.kind,
                change.source_id,
                target_id,
                change.display,
                MappingProxyType(base),
                origin="matched",
            )
            outcome.steps.append(Step("matching", Status.SUCCESS, f"matched on {change.matched_on}"))
        else:
            link = replace(link, exported=MappingProxyType(exported), display=change.display)
        if change.enable:
            link = replace(link, disabled=False, gone_since=None)
        self._save(link)
        outcome.target_id = target_id
        outcome.modified.extend(
            ModifiedProperty(c.path, _ref_text(c.old), _ref_text(c.new))
            for c in change.changes
            if c.path in sent_paths
        )
        if deferred:
            raise Deferred(f"{', '.join(deferred)} refer to objects not provisioned yet")

    async def _members(self, change: ChangeMembers, outcome: _Outcome) -> None:
        if outcome.action is Action.OTHER:
            outcome.action = Action.UPDATE
        target_id = self._target_of(ObjectKind.GROUP, change.group_source_id, change.target_id)
        resolved: dict[str, str] = {}
        unresolved: list[str] = []
        for member in change.add or change.remove:
            link = self.links.get((ObjectKind.USER, member))
            if link is None:
                unresolved.append(member)
            else:
                resolved[member] = link.target_id
        if resolved:
            ops = (
                member_operations(list(resolved.values()), [], dialect=self.dialect)
                if change.add
                else member_operations([], list(resolved.values()), dialect=self.dialect)
            )
            await self._modify(ObjectKind.GROUP, target_id, ops)
        group = self.links.get((ObjectKind.GROUP, change.group_source_id))
        if group is not None:
            members = set(group.members)
            if change.add:
                members.update(resolved)
            else:
                members.difference_update(resolved)
                members.difference_update(m for m in change.remove if m in unresolved)
            self._save(replace(group, members=frozenset(members)))
        outcome.target_id = target_id
        sign = "+" if change.add else "-"
        outcome.modified.append(ModifiedProperty("members", None, f"{sign}{len(resolved)}"))
        self.members_sent["added" if change.add else "removed"] += len(resolved)
        if unresolved and change.add:
            raise Deferred(f"{len(unresolved)} members are not provisioned yet")

    async def _disable(self, change: DisableUser, outcome: _Outcome) -> None:
        outcome.action = Action.DISABLE
        outcome.target_id = change.target_id
        ops = build_patch_operations([AttributeChange("active", True, False)], dialect=self.dialect)
        try:
            await self._modify(ObjectKind.USER, change.target_id, ops)
        except NotFoundError:
            outcome.detail = "already gone on the target"
            self._drop(ObjectKind.USER, change.source_id)
            return
        link = self.links.get((ObjectKind.USER, change.source_id))
        if link is None:
            return
        exported = dict(link.exported)
        if "active" in exported:
            exported["active"] = False
        gone_since = link.gone_since
        if change.gone and gone_since is None:
            gone_since = self.clock().isoformat()
        self._save(replace(link, disabled=True, exported=MappingProxyType(exported), gone_since=gone_since))
        outcome.modified.append(ModifiedProperty("active", True, False))
        outcome.steps.append(Step("processing", Status.SUCCESS, change.reason))

    async def _delete(self, change: DeleteObject, outcome: _Outcome) -> None:
        outcome.action = Action.DELETE
        outcome.target_id = change.target_id
        try:
            await self.client.delete(change.kind, change.target_id)
        except NotFoundError:
            outcome.detail = "already gone on the target"
        self._drop(change.kind, change.source_id)
        outcome.steps.append(Step("processing", Status.SUCCESS, change.reason))
