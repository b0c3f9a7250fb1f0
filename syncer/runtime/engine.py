"""``run_cycle``: the cycle's steps (``runtime.cycle``) in their order, for plan, sync, apply and the daemon.

``syncer plan``, ``syncer sync``, ``syncer apply`` and the daemon all come through here, so a
dry run computes exactly the plan a real run would send. A dry run reads the source, the state
and (for unlinked objects) the target, and writes nothing anywhere; neither does a saved plan
that is refused: every check that can refuse it comes before the run begins.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.state.store import StateStore
from syncer.core.changes import Plan
from syncer.core.policy import CycleOutcome, JobHealth
from syncer.core.refusals import Grounds
from syncer.errors import PlanRefused, SourceNamesError, SyncerError, TargetError, TargetUnreachable
from syncer.runtime import capabilities as discovery
from syncer.runtime import cycle, namecheck
from syncer.runtime.clocktrust import clock_distrusted, record_clock
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.cycle import CycleResult, Held, Imported, Mode
from syncer.runtime.executor import ApplyReport, Executor
from syncer.runtime.jobcontext import (
    JobContext,
    Key,
    assigned_scope,
    check_job,
    compiled_mapping,
    compiled_scope,
    config_fingerprint,
    open_client,
    open_source,
    state_url,
)
from syncer.runtime.jobflags import JobFlags
from syncer.runtime.leftalone import sort_escrow
from syncer.types import JobState, RunStatus

__all__ = [
    "CycleRequest",
    "CycleResult",
    "CycleTimeout",
    "Mode",
    "assigned_scope",
    "check_job",
    "compiled_mapping",
    "compiled_scope",
    "config_fingerprint",
    "cycle_clock",
    "open_client",
    "open_source",
    "run_cycle",
    "run_in",
    "state_url",
    "utc_now",
]

log = structlog.get_logger("syncer.engine")
NOW_VARIABLE = "SYNCER_NOW"


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time; a naive one is taken as UTC. ``ValueError`` names what was expected."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"expected an ISO 8601 time such as 2026-12-01T09:00:00+00:00, got {text!r}"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def shifted_clock(moment: datetime) -> Callable[[], datetime]:
    """A clock that starts at ``moment`` and runs at the real pace (so runs still have durations)."""
    started = time.monotonic()
    return lambda: moment + timedelta(seconds=time.monotonic() - started)


def cycle_clock() -> Callable[[], datetime]:
    """The cycle's clock: real time, or from ``$SYNCER_NOW`` (tests; the one place it is read)."""
    text = os.environ.get(NOW_VARIABLE)
    if not text:
        return utc_now
    try:
        return shifted_clock(parse_moment(text))
    except ValueError as exc:
        raise SyncerError(f"${NOW_VARIABLE}: {exc}") from None


@dataclass(frozen=True)
class CycleRequest:
    mode: Mode
    saved: Mapping[str, Any] | None
    clock: Callable[[], datetime]
    on_progress: Callable[[int, int], None] | None = None
    stop: Callable[[], str | None] | None = None
    deadline: float | None = None
    """``time.monotonic()`` after which the cycle is cancelled wherever it is (the daemon's backstop)."""


@dataclass(frozen=True)
class Sending:
    """How this cycle sends, from discovery and escrow: the update method, the escrowed objects
    (a success clears theirs) and what a refusal is fingerprinted against (``core.refusals``)."""

    update_method: str
    escrowed: frozenset[Key]
    grounds: Grounds


class CycleTimeout(SyncerError):
    """The cycle ran past its deadline and was cancelled; the next cycle repairs what was cut off."""


async def run_in(context: JobContext, request: CycleRequest) -> CycleResult:
    """One cycle of an already built context (the daemon's and the in-process tests' entry)."""
    if request.deadline is None:
        return await _run(context, request)
    try:
        async with asyncio.timeout_at(request.deadline):
            return await _run(context, request)
    except TimeoutError:
        raise CycleTimeout(
            f"job {context.name}: the cycle was cancelled at its deadline; requests in flight are lost "
            "and the next cycle repairs them by matching"
        ) from None


async def _run(context: JobContext, request: CycleRequest) -> CycleResult:
    """The line: read, import, match, plan, hold; stop for a plan; else begin, apply, record."""
    clock, mode = request.clock, request.mode
    with context.open_store() as store:
        health = JobFlags(store, context.name).health()
        if health.disabled_reason and mode is Mode.SYNC:
            raise PlanRefused(f"job {context.name} is disabled: {health.disabled_reason}")
        state = store.load(context.name)
        initial = not store.has_state(context.name)
        imported = await _import(context, store, state, initial, request)
        cycle.check_saved_inputs(request.saved, imported.inputs)
        approved_shrink = cycle.guard_shrink(context, store, imported, mode, clock())
        # trustsrc hook: time can lie; a clock the trusted run history cannot vouch for ages nothing
        imported = replace(imported, clock_distrusted=clock_distrusted(store, context.job, imported.now))
        escrow = store.escrowed(context.name)
        async with context.open_client() as client:
            try:
                found = await discovery.for_cycle(
                    store, context.name, context.job.target, client, save=mode is Mode.SYNC
                )
                discovery.refuse_missing_extensions(context.name, context.mapping, found.capabilities)
                grounds = context.grounds(found.schemas_digest)
                left = sort_escrow(escrow, lambda: imported.desired, state, grounds)
                matched = await cycle.match(
                    context, client, imported, state, left.keys, capabilities=found.capabilities
                )
            except TargetError as exc:
                if mode is Mode.SYNC:
                    cycle.record_refused(context, store, health, exc, imported, clock)
                raise
            planned = cycle.plan(context, imported, matched, state, left.waiting, left.held)
            held = cycle.hold(context, store, planned, state, approved_shrink)
            cycle.check_saved_plan(request.saved, held.plan)
            if mode is Mode.PLAN:
                return CycleResult(plan=held.plan, requests=client.stats)
            sending = Sending(
                update_method=discovery.update_method(context.job.target, found.capabilities),
                escrowed=frozenset((e.kind, e.source_id) for e in escrow),
                grounds=grounds,
            )
            return await _apply(context, request, store, client, state, imported, held, health, sending)


async def _import(
    context: JobContext, store: StateStore, state: JobState, initial: bool, request: CycleRequest
) -> Imported:
    """Read and import; a real cycle the name check refuses is recorded (``aborted``) before it fails.

    The snapshot lives only in here: held by ``_run`` it would stay in memory for the whole cycle.
    """
    snapshot = await cycle.read(context)
    try:
        return cycle.import_(context, snapshot, state, initial=initial, now=request.clock())
    except SourceNamesError:
        if request.mode is Mode.SYNC:
            objects = len(snapshot.users) + len(snapshot.groups)
            namecheck.record_refused(context, store, objects, initial, request.clock)
        raise


async def _apply(
    context: JobContext,
    request: CycleRequest,
    store: StateStore,
    client: ScimClient,
    state: JobState,
    imported: Imported,
    held: Held,
    health: JobHealth,
    sending: Sending,
) -> CycleResult:
    """Begin the run, apply (as ``sending`` says), record; one ``finally`` ends the run."""
    clock, plan = request.clock, held.plan
    run_id = store.begin_run(context.name, initial=imported.initial, dry_run=False, started_at=clock())
    store.escrow_tick(context.name)
    record_clock(store, context.name, imported.now, imported.clock_distrusted)  # trustsrc hook
    status, counts = RunStatus.CRASHED, {}
    unreachable: TargetUnreachable | None = None
    # every event of the run names it, the policy's and cycle_finished included
    with structlog.contextvars.bound_contextvars(job=context.name, cycle=run_id):
        log.info("cycle_started", initial=imported.initial)  # here: the first moment the run has its id
        try:
            if request.stop is not None and request.stop():
                # a daemon stopping before anything was sent: nothing sent, the run says why
                status, counts = RunStatus.STOPPED, {cycle.SOURCE_OBJECTS: imported.objects}
                return CycleResult(plan=plan, requests=client.stats, run_id=run_id)
            executor, report = await _execute(
                context, request, store, client, state, imported, plan, run_id, sending
            )
            executor.forget_returned_leavers(set(imported.desired) | set(imported.intake.out_of_scope))
            executor.fill_missing_hashes()
            cycle.record_safety(context, store, held, imported.now)
            status = cycle.run_status(report)
            counts = cycle.run_counts(report, client.stats, imported.objects, executor.escrow_failures)
        except asyncio.CancelledError:
            status = RunStatus.STOPPED  # cancelled at the daemon's deadline
            raise
        except TargetUnreachable as exc:
            # the target died mid-apply: what landed is committed; the run fails and the policy moves
            status, counts = RunStatus.FAILED, {cycle.SOURCE_OBJECTS: imported.objects}
            unreachable = exc
        finally:
            finished = clock()
            store.finish_run(run_id, finished_at=finished, status=status, counts=counts)
        if unreachable is not None:
            cycle.after_cycle(
                context, store, health, cycle.fatal_outcome(unreachable, finished, imported.objects), 0
            )
            raise unreachable
        _after_run(context, store, health, held, report, finished, len(imported.desired), imported.aging)
        log.info(
            "cycle_finished",
            status=status.value,
            changes=len(plan.changes),
            failures=report.failures,
            requests=client.stats.total,
            writes=client.stats.writes,
        )
        return CycleResult(plan=plan, requests=client.stats, run_id=run_id, report=report)


async def _execute(
    context: JobContext,
    request: CycleRequest,
    store: StateStore,
    client: ScimClient,
    state: JobState,
    imported: Imported,
    plan: Plan,
    run_id: str,
    sending: Sending,
) -> tuple[Executor, ApplyReport]:
    """Send the held plan within the begun run ``run_id``; the executor stays for the bookkeeping after."""
    executor = context.executor(
        run_id=run_id,
        client=client,
        store=store,
        state=state,
        desired=imported.desired,
        escrowed=sending.escrowed,
        clock=request.clock,
        on_progress=request.on_progress,
        stop=request.stop,
        update_method=sending.update_method,
        grounds=sending.grounds,
    )
    return executor, await executor.apply(plan)


def _after_run(
    context: JobContext,
    store: StateStore,
    health: JobHealth,
    held: Held,
    report: ApplyReport,
    finished: datetime,
    objects: int,
    aging: bool = True,
) -> None:
    """The policy after a run that got through its apply: quarantine and notifications."""
    outcome = CycleOutcome(
        finished_at=finished,
        objects=max(1, objects),
        failures=report.failures,
        fatal=report.refused,
        held_deletions=bool(held.plan.held),
        aging=aging,  # trustsrc hook: a distrusted clock ages no quarantine
    )
    cycle.after_cycle(context, store, health, outcome, report.failures)


def run_cycle(
    config: LoadedConfig,
    job_name: str | None,
    *,
    mode: Mode | str = Mode.SYNC,
    saved_plan: Mapping[str, Any] | None = None,
    clock: Callable[[], datetime] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    stop: Callable[[], str | None] | None = None,
    deadline: float | None = None,
) -> CycleResult:
    """Run one cycle of a job: ``plan`` stops after safety, ``sync`` applies the plan.

    ``stop`` (the daemon's) returns a reason once the process is stopping: requests in flight
    finish and are recorded, the rest are not sent, and the run ends as ``stopped``. Past
    ``deadline`` (monotonic) the cycle is cancelled and :class:`CycleTimeout` raised.
    """
    context = JobContext.build(config, job_name)
    request = CycleRequest(Mode(mode), saved_plan, clock or cycle_clock(), on_progress, stop, deadline)
    return asyncio.run(run_in(context, request))
