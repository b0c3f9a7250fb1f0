"""What applying a plan did, as frozen values, and the pure fold into log records and counts.

Each applied change ends in one :class:`ChangeResult` (kopf's outcome: a value, never a shared
object mutated along the way). An object's results fold into one :class:`ObjectOutcome`, which
is one provisioning-log record; all outcomes, the plan's skips and its held removals fold into
the run's :class:`RunCounts`. Every record the provisioning log gets is built here.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from syncer.core.changes import Change, Skip
from syncer.types import Action, ModifiedProperty, ObjectKind, ProvisioningLogEntry, ScimError, Status, Step


class Reason(enum.StrEnum):
    """Failure and warning reasons the executor itself gives (the target's come as error codes)."""

    CYCLE_STOPPED = "CycleStopped"
    TARGET_UNREACHABLE = "TargetUnreachable"
    REFERENCE_NOT_RESOLVED = "ReferenceNotResolved"
    DUPLICATE_TARGET_ENTRIES = "DuplicateTargetEntries"
    TARGET_OBJECT_LINKED = "TargetObjectAlreadyLinked"
    CONFLICT_NOT_MATCHED = "ConflictNotMatched"
    """A 409 on create whose holder neither a filter nor a listing finds: failed, not resent."""
    GONE_NOT_CONFIRMED = "NotFoundNotConfirmed"
    NO_UNIQUE_VALUE = "NoUniqueValue"
    """Every SelectUniqueValue candidate is held on the target (or given out this cycle): not created."""
    INTERNAL_ERROR = "InternalError"
    STAGED_DELETE = "StagedDelete"


NOT_ESCROWED = frozenset({Reason.CYCLE_STOPPED, Reason.TARGET_UNREACHABLE})
"""Failures that are the cycle's, not the object's: a retry next cycle needs no backoff."""


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """What one applied change did: one value per change, never changed after."""

    kind: ObjectKind
    source_id: str
    display: str
    action: Action
    status: Status = Status.SUCCESS
    reason: str | None = None
    detail: str | None = None
    target_id: str | None = None
    modified: tuple[ModifiedProperty, ...] = ()
    steps: tuple[Step, ...] = ()
    members_added: int = 0
    members_removed: int = 0
    sent: bool = True
    """False when nothing was sent (the cycle stopped first): recorded, never escrowed."""
    verb: str = ""
    """The change's verb (``create``, ``update``, ``link``, ``disable`` ...), for the counts."""
    scim_error: ScimError | None = None
    """The target's error answer when the target refused the change."""

    @property
    def applied(self) -> bool:
        """The change was sent and did what it was for (a deferred reference still counts)."""
        return self.sent and self.status is not Status.FAILURE

    @property
    def key(self) -> tuple[ObjectKind, str]:
        return (self.kind, self.source_id)


@dataclass(frozen=True, slots=True)
class ObjectOutcome:
    """One object's results in this cycle, folded: what its provisioning-log record says."""

    kind: ObjectKind
    source_id: str
    display: str
    action: Action
    status: Status
    reason: str | None
    detail: str | None
    target_id: str | None
    modified: tuple[ModifiedProperty, ...]
    steps: tuple[Step, ...]
    sent: bool
    scim_error: ScimError | None = None

    @property
    def escrow(self) -> bool:
        """A failure of the object's own, retried by later cycles with a backoff."""
        return self.status is Status.FAILURE and self.reason not in NOT_ESCROWED


_RANK = {Status.SUCCESS: 0, Status.SKIPPED: 0, Status.WARNING: 1, Status.FAILURE: 2}


def fold_object(results: Sequence[ChangeResult]) -> ObjectOutcome:
    """The first action that is not ``Other`` names the record; the worst status wins.

    The reason and detail are the first ones of that worst status: an object whose create
    failed does not report the warning of a later reference it never got to. When a stop came
    between an object's changes, the record is what was sent; the rest is planned again.
    """
    sent = any(r.sent for r in results)
    results = [r for r in results if r.sent] if sent else results
    first = results[0]
    action = next((r.action for r in results if r.action is not Action.OTHER), Action.OTHER)
    worst = max(results, key=lambda r: _RANK[r.status]).status
    telling = next((r for r in results if r.status is worst and r.reason), None)
    target_id = next((r.target_id for r in reversed(results) if r.target_id), None)
    return ObjectOutcome(
        kind=first.kind,
        source_id=first.source_id,
        display=results[-1].display,
        action=action,
        status=worst,
        reason=telling.reason if telling else None,
        detail=telling.detail if telling else next((r.detail for r in results if r.detail), None),
        target_id=target_id,
        modified=tuple(m for r in results for m in r.modified),
        steps=tuple(s for r in results for s in r.steps),
        sent=sent,
        scim_error=telling.scim_error if telling else None,
    )


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who and when a record belongs to; ``change_id`` is the record's own id."""

    job: str
    run_id: str
    change_id: str
    time: datetime


def outcome_entry(o: ObjectOutcome, stamp: Stamp) -> ProvisioningLogEntry:
    export = Step("export", o.status, o.detail or "")
    return ProvisioningLogEntry(
        job=stamp.job,
        run_id=stamp.run_id,
        change_id=stamp.change_id,
        time=stamp.time,
        kind=o.kind,
        source_id=o.source_id,
        display=o.display,
        target_id=o.target_id,
        action=o.action,
        status=o.status,
        reason=o.reason,
        detail=o.detail,
        modified=o.modified,
        steps=(*o.steps, export),
        scim_error=o.scim_error,
    )


def skip_entry(s: Skip, stamp: Stamp) -> ProvisioningLogEntry:
    return ProvisioningLogEntry(
        job=stamp.job,
        run_id=stamp.run_id,
        change_id=stamp.change_id,
        time=stamp.time,
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


def held_entry(c: Change, held_reason: str | None, stamp: Stamp) -> ProvisioningLogEntry:
    return ProvisioningLogEntry(
        job=stamp.job,
        run_id=stamp.run_id,
        change_id=stamp.change_id,
        time=stamp.time,
        kind=c.kind,
        source_id=c.source_id,
        display=c.display,
        target_id=getattr(c, "target_id", None),
        action=Action.STAGED_DELETE,
        status=Status.SKIPPED,
        reason=Reason.STAGED_DELETE,
        detail=held_reason,
        steps=(Step("processing", Status.SKIPPED, held_reason or ""),),
    )


NOT_SENT = "notSent"
"""The run record's count of objects a stopped cycle never sent."""


@dataclass(frozen=True, slots=True)
class RunCounts:
    """The run's counts, typed: what the run record stores and the CLI reports."""

    by_outcome: Mapping[tuple[Action, Status], int] = field(default_factory=lambda: MappingProxyType({}))
    failures: int = 0
    staged_deletes: int = 0
    members_added: int = 0
    members_removed: int = 0
    not_sent: int = 0
    applied: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    """Changes applied, by verb: what the CLI reports as created, updated, linked, disabled..."""

    def of(self, action: Action, status: Status) -> int:
        return self.by_outcome.get((action, status), 0)

    def done(self, verb: str) -> int:
        return self.applied.get(verb, 0)

    def as_record(self) -> dict[str, int]:
        """The string-keyed form the run record has always stored (``Create.Success``, ...)."""
        counts = {f"{a.value}.{s.value}": n for (a, s), n in self.by_outcome.items()}
        if self.staged_deletes:
            counts["StagedDelete.Skipped"] = self.staged_deletes
        counts["members.added"] = self.members_added
        counts["members.removed"] = self.members_removed
        if self.not_sent:
            counts[NOT_SENT] = self.not_sent
        return counts


def count(
    outcomes: Iterable[tuple[Action, Status, bool]],
    skips: Iterable[Skip],
    *,
    held: int = 0,
    members_added: int = 0,
    members_removed: int = 0,
    applied: Mapping[str, int] | None = None,
) -> RunCounts:
    """The run's counts from each object's (action, status, sent), the plan's skips, and the
    changes applied by verb."""
    tally: Counter[tuple[Action, Status]] = Counter()
    failures = not_sent = 0
    for action, status, sent in outcomes:
        if not sent:  # a stopped cycle's remainder: neither done nor failed nor out of scope
            not_sent += 1
            continue
        tally[(action, status)] += 1
        failures += status is Status.FAILURE
    for skip in skips:
        tally[(Action.OTHER, skip.status)] += 1
        failures += skip.status is Status.FAILURE
    return RunCounts(
        by_outcome=MappingProxyType(dict(tally)),
        failures=failures,
        staged_deletes=held,
        members_added=members_added,
        members_removed=members_removed,
        not_sent=not_sent,
        applied=MappingProxyType(dict(applied or {})),
    )
