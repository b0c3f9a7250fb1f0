"""One cycle as a line of steps (the octoDNS ``Manager.sync`` line).

    read -> import (scope, map) -> match -> plan -> hold (safety)
    -- ``plan``, ``--dry-run`` and a refused ``apply FILE`` stop here: nothing has been written --
    begin -> apply -> record -> after-cycle policy (quarantine, notifications)

Each step is a function with typed inputs and outputs; :func:`run` reads as that line and
``ondemand`` calls the same steps with a filter on one object. A run that begins always ends,
in one ``finally``: ``crashed`` unless the apply got to the end.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from syncer.adapters.scim.client import RequestStats, ScimClient
from syncer.adapters.scim.discovery import TargetCapabilities
from syncer.adapters.state.store import StateStore
from syncer.core.changes import DeleteObject, DisableUser, Plan, PlanInputs, Skip
from syncer.core.intake import Intake, take_in
from syncer.core.matching import Match, duplicate_sources, needs_lookup
from syncer.core.planning import plan_cycle
from syncer.core.policy import CycleOutcome, EscrowThresholds, JobHealth, next_health
from syncer.core.rendering import fingerprint
from syncer.core.safety import empty_source_refusal, hold_deprovisioning, removal_key, shrink_refusal
from syncer.errors import NotFoundError, PlanRefused, SourceError, TargetError, TlsError, UnauthorizedError
from syncer.runtime import namecheck
from syncer.runtime.changehold import hold_mass_changes, record_held_changes
from syncer.runtime.executor import ApplyReport
from syncer.runtime.jobcontext import JobContext, Key
from syncer.runtime.jobflags import JobFlags
from syncer.runtime.leftalone import escrow_skip, held_skip
from syncer.runtime.lookups import match_unlinked, must_list, query_each
from syncer.runtime.notify import notification_events, send_notification
from syncer.types import Desired, EscrowEntry, JobState, RunStatus, SourceSnapshot, Status

log = structlog.get_logger("syncer.engine")
SOURCE_OBJECTS = "source.objects"
"""The run count the next cycle's shrink guard reads back."""


class Mode(enum.StrEnum):
    PLAN = "plan"
    """Stop after safety: nothing is written anywhere."""
    SYNC = "sync"


@dataclass(frozen=True)
class CycleResult:
    """What one cycle did: its plan, and for a real run the run id and the apply report."""

    plan: Plan
    requests: RequestStats
    run_id: str | None = None
    report: ApplyReport | None = None

    @property
    def outcome(self) -> str:
        """How the cycle ended, in the metrics' words (a real run only)."""
        if self.report is None or self.report.stopped:
            return RunStatus.STOPPED.value  # None: stopping before anything was sent
        return (RunStatus.FAILED if self.report.failures else RunStatus.SUCCEEDED).value


@dataclass(frozen=True)
class Imported:
    """The source, scoped and mapped: all the cycle needs of it from here on."""

    intake: Intake
    inputs: PlanInputs
    objects: int
    """How many users and groups the source returned (the shrink guard's measure)."""
    initial: bool
    now: datetime
    clock_distrusted: str | None = None
    """Why the clock cannot be trusted (``runtime.clocktrust``): then nothing ages this cycle."""

    @property
    def aging(self) -> bool:
        return self.clock_distrusted is None

    @property
    def desired(self) -> dict[Key, Desired]:
        return {(d.kind, d.source_id): d for d in (*self.intake.users, *self.intake.groups)}


@dataclass(frozen=True)
class Matched:
    """Match answers for the unlinked objects, and the objects whose lookup failed."""

    lookups: tuple[Desired, ...]
    matches: dict[Key, Match]
    failures: Mapping[Key, TargetError]


@dataclass(frozen=True)
class Held:
    """The plan after safety, and the approvals the cycle uses up if it is applied."""

    plan: Plan
    approved_deletions: bool
    approved_shrink: bool
    approved_changes: bool = False


# --- read and import ------------------------------------------------------------------------------


async def read(context: JobContext) -> SourceSnapshot:
    """One full read of the source, off the event loop (LDAP and a SCIM source block)."""
    # in a box emptied at once: the finished future would keep the snapshot alive for the cycle
    box = await asyncio.to_thread(lambda: [context.open_source().read()])
    return box.pop()


def import_(
    context: JobContext,
    snapshot: SourceSnapshot,
    state: JobState,
    *,
    initial: bool,
    now: datetime,
    quiet: bool = False,
) -> Imported:
    """Scope and map the snapshot; an empty source with provisioned objects, or a mapped name the
    source does not have (:class:`~syncer.errors.SourceNamesError`), refuses the cycle."""
    refusal = empty_source_refusal(snapshot, state)
    if refusal:
        raise SourceError(f"job {context.name}: {refusal}")
    namecheck.check(context, snapshot, quiet=quiet)  # a typo stops here, before anything is planned
    job = context.job
    intake = take_in(
        snapshot,
        context.mapping,
        context.scope,
        context.assigned(snapshot),
        context.evaluation(now),
        provision_groups=job.provision_groups,
        target=job.target.quirks,
    )
    for skip in () if quiet else intake.skips:
        log.warning(
            "object_skipped",
            kind=skip.kind.value,
            source_id=skip.source_id,
            reason=skip.reason,
            detail=skip.detail,
        )
    return Imported(
        intake=intake,
        inputs=context.inputs(snapshot.fingerprint, state),
        objects=len(snapshot.users) + len(snapshot.groups),
        initial=initial,
        now=now,
    )


def check_saved_inputs(saved: Mapping[str, Any] | None, inputs: PlanInputs) -> None:
    """``apply FILE``: refuse a plan whose config, source or state moved since it was made."""
    if saved is None:
        return
    was = saved.get("inputs") or {}
    moved = [
        what
        for what, key, now in (
            ("the config or its mapping file", "config", inputs.config),
            ("the source directory", "source", inputs.source),
            ("the state (another cycle ran since)", "state", inputs.state),
        )
        if was.get(key) != now
    ]
    if moved:
        raise PlanRefused(
            f"refusing the saved plan: {' and '.join(moved)} changed since it was made; "
            "nothing was sent. Run `syncer plan` again and review the new plan"
        )


def previous_objects(store: StateStore, job: str) -> int | None:
    """How many objects the source held at the last cycle that got to the end."""
    for run in store.runs(job, limit=20):
        if RunStatus(run.status).got_through and SOURCE_OBJECTS in run.counts:
            return int(run.counts[SOURCE_OBJECTS])
    return None


def guard_shrink(
    context: JobContext, store: StateStore, imported: Imported, mode: Mode, now: datetime
) -> bool:
    """Refuse a source that shrank past ``max_source_shrink``; True when an approval lets it through.

    A real cycle remembers the refusal, so ``approve-deletions`` can accept it once.
    """
    flags = JobFlags(store, context.name)
    approved = flags.shrink_approved()
    limit = context.job.deprovision.max_source_shrink
    refusal = shrink_refusal(previous_objects(store, context.name), imported.objects, limit)
    if refusal and not approved:
        if mode is Mode.SYNC:
            flags.refuse_shrink(refusal, now)
        raise SourceError(
            f"job {context.name}: {refusal}. If the source is right, run `syncer approve-deletions --job "
            f"{context.name}` to accept it once"
        )
    return approved


# --- match, plan, hold ------------------------------------------------------------------------------


async def match(
    context: JobContext,
    client: ScimClient,
    imported: Imported,
    state: JobState,
    waiting: frozenset[Key] = frozenset(),
    only: frozenset[Key] | None = None,
    capabilities: TargetCapabilities | None = None,
) -> Matched:
    """Look up the unlinked objects on the target (``only``: just these, one query each).

    Duplicated sources and escrowed objects waiting for their backoff are not looked up. What the
    target announced (``capabilities``) may make it a listing: one that cannot filter is listed
    even for one object, since its queries answer the first users whatever they ask.
    """
    intake = imported.intake
    failed = (
        set(duplicate_sources(intake.users)) | set(duplicate_sources(intake.groups)) | {k[1] for k in waiting}
    )
    unlinked = needs_lookup([*intake.users, *intake.groups], state, failed)
    job = context.job
    lookups = tuple(unlinked if only is None else (d for d in unlinked if (d.kind, d.source_id) in only))
    quirks = job.target.quirks
    unfilterable = must_list(context.mapping, quirks) & {d.kind for d in lookups}
    if only is None or unfilterable or (capabilities is not None and capabilities.filter.supported is False):
        settings = job.matching
        if only is not None and unfilterable:  # one object's lookup, where a filter cannot ask
            settings = settings.model_copy(update={"strategy": "query"})
        matches, failures = await match_unlinked(
            client, context.mapping, lookups, settings, job.target.concurrency, capabilities, quirks
        )
    else:
        matches, failures = await query_each(client, context.mapping, lookups, job.target.concurrency)
    if only is not None:
        for other in unlinked:  # the rest of the plan is cut away; they are not looked up
            matches.setdefault((other.kind, other.source_id), Match(other.source_id, None, ()))
    return Matched(lookups, matches, failures)


def lookup_skips(objects: Sequence[Desired], failures: Mapping[Key, TargetError]) -> list[Skip]:
    skips = []
    for o in objects:
        error = failures.get((o.kind, o.source_id))
        if error is not None:
            skips.append(
                Skip(o.kind, o.source_id, o.display, error.code, Status.FAILURE, f"matching failed: {error}")
            )
    return skips


def plan(
    context: JobContext,
    imported: Imported,
    matched: Matched,
    state: JobState,
    waiting: Sequence[EscrowEntry] = (),
    held: Sequence[EscrowEntry] = (),
) -> Plan:
    """The typed changes in order, with every skip and its reason."""
    intake = imported.intake
    skips = (
        *intake.skips,
        *(escrow_skip(e) for e in waiting),
        *(held_skip(e) for e in held),
        *lookup_skips(matched.lookups, matched.failures),
    )
    left = {(e.kind, e.source_id) for e in (*waiting, *held)}
    protected = intake.protected | left | frozenset(matched.failures)
    request = context.plan_request(
        initial=imported.initial,
        intake=intake,
        state=state,
        matches=matched.matches,
        inputs=imported.inputs,
        skips=skips,
        protected=protected,
        now=imported.now,
        aging=imported.aging,
    )
    return plan_cycle(request)


def hold(
    context: JobContext,
    store: StateStore,
    planned: Plan,
    state: JobState,
    approved_shrink: bool,
    release_changes: bool = False,
) -> Held:
    """Safety: hold every removal past the deletion threshold, and mass attribute changes, unless approved.

    ``release_changes`` (provision on demand with ``--force``) lets the change threshold's holds through.
    """
    flags = JobFlags(store, context.name)
    approved = flags.approved_deletions()
    threshold = context.job.deprovision.deletion_threshold
    held = hold_deprovisioning(
        planned,
        threshold,
        len(state.links),
        frozenset(approved),
        percent=context.job.deprovision.deletion_threshold_percent,  # trustsrc hook: the lower wins
        state=state,  # trustsrc hook: a group delete counts its members
    )
    held, approved_changes = hold_mass_changes(context.job.safety, flags, held, state, release_changes)
    return Held(held, bool(approved), approved_shrink, approved_changes)


def check_saved_plan(saved: Mapping[str, Any] | None, planned: Plan) -> None:
    if saved is not None and fingerprint(planned) != saved.get("fingerprint"):
        raise PlanRefused(
            "the target changed since the plan was made (matching now finds different objects); "
            "run `syncer plan` again and review the new plan"
        )


# --- record and the policy after a cycle ---------------------------------------------------------


def record_safety(context: JobContext, store: StateStore, held: Held, now: datetime) -> None:
    """Remember held deletions (for status and approve-deletions); use up approvals once applied."""
    flags = JobFlags(store, context.name)
    if held.approved_shrink:
        flags.approve_shrink(None)
    if held.approved_deletions:
        flags.approve_deletions(None)
    removals = [c for c in held.plan.held if isinstance(c, DisableUser | DeleteObject)]
    if held.plan.held:
        threshold = str(context.job.deprovision.deletion_threshold)
        flags.hold_deletions(held.plan.held_reason, [removal_key(c) for c in removals], threshold, now)
    else:
        flags.clear_held_deletions()
    record_held_changes(flags, held.plan, held.approved_changes, now)


def run_status(report: ApplyReport) -> RunStatus:
    if report.stopped:
        return RunStatus.STOPPED
    return RunStatus.FAILED if report.failures else RunStatus.SUCCEEDED


def run_counts(report: ApplyReport, stats: RequestStats, objects: int, escrowed: int) -> dict[str, int]:
    counts = dict(report.counts)
    counts.update({f"requests.{m}": n for m, n in stats.by_method.items()})
    counts[SOURCE_OBJECTS] = objects
    counts["escrowed"] = escrowed
    return counts


def after_cycle(
    context: JobContext, store: StateStore, before: JobHealth, outcome: CycleOutcome, failures: int
) -> None:
    """Move the quarantine state machine, and tell whoever asked to be told."""
    q = context.job.quarantine
    after = next_health(before, outcome, EscrowThresholds(q.min_failures, q.proportion, q.total, q.absolute))
    JobFlags(store, context.name).set_health(after)
    for event in notification_events(context.name, before, after, failures, outcome.finished_at):
        send_notification(context.job.notify, event)


def fatal_outcome(exc: TargetError, now: datetime, objects: int) -> CycleOutcome:
    """A cycle the target refused before any change: credentials, endpoint (404) or TLS quarantine."""
    fatal = str(exc) if isinstance(exc, UnauthorizedError | TlsError | NotFoundError) else None
    return CycleOutcome(finished_at=now, objects=max(1, objects), failures=0 if fatal else 1, fatal=fatal)


def record_refused(
    context: JobContext,
    store: StateStore,
    health: JobHealth,
    exc: TargetError,
    imported: Imported,
    clock: Callable[[], datetime],
) -> None:
    """The target refused a real cycle while matching: an ``aborted`` run, and the policy moves."""
    run_id = store.begin_run(context.name, initial=imported.initial, dry_run=False, started_at=clock())
    store.finish_run(
        run_id, finished_at=clock(), status=RunStatus.ABORTED, counts={SOURCE_OBJECTS: imported.objects}
    )
    after_cycle(context, store, health, fatal_outcome(exc, clock(), imported.objects), 0)
