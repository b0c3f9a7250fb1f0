"""``run_cycle``: the one function that wires the core and the adapters.

``syncer plan``, ``syncer sync``, ``syncer apply`` and the daemon all come through here, so a
dry run computes exactly the plan a real run would send. A dry run reads the source, the state
and (for unlinked objects) the target, and writes nothing anywhere.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import structlog

from syncer.adapters.scim.client import RequestStats, ScimClient
from syncer.adapters.sources.base import Source
from syncer.adapters.sources.files import FileSource
from syncer.adapters.sources.scim import ScimSource
from syncer.adapters.state.store import StateStore
from syncer.core.changes import DeleteObject, DisableUser, Plan, PlanInputs, Skip
from syncer.core.expressions import EvaluationContext
from syncer.core.intake import take_in
from syncer.core.mapping import CompiledMapping, compile_mapping
from syncer.core.matching import duplicate_sources, needs_lookup
from syncer.core.planning import PlanRequest, plan_cycle
from syncer.core.policy import (
    CycleOutcome,
    EscrowThresholds,
    JobHealth,
    Quarantine,
    escrow_delay,
    next_health,
)
from syncer.core.rendering import fingerprint
from syncer.core.safety import empty_source_refusal, hold_deprovisioning, removal_key, shrink_refusal
from syncer.core.scoping import AssignedScope, Assignment, JobScope, compile_filter, resolve_assignment
from syncer.errors import (
    NotFoundError,
    PlanRefused,
    SourceError,
    TargetError,
    TlsError,
    UnauthorizedError,
)
from syncer.runtime.clocktrust import aging_allowed, now_from_environment
from syncer.runtime.configfile import LoadedConfig, read_secret, read_token
from syncer.runtime.executor import ApplyReport, Executor
from syncer.runtime.lookups import match_unlinked
from syncer.runtime.notify import notification_events, send_notification
from syncer.settings import JobSettings, LdapSourceSettings, ScimSourceSettings
from syncer.types import Desired, EscrowEntry, JobState, ObjectKind, SourceSnapshot, Status

log = structlog.get_logger("syncer.engine")

# per-job flags in the state store
HELD_DELETIONS = "held_deletions"
APPROVED_DELETIONS = "approved_deletions"
APPROVED_SHRINK = "approved_shrink"
SHRINK_REFUSED = "shrink_refused"
HEALTH = "health"
ESCROWED = "Escrowed"
Mode = Literal["plan", "sync"]


@dataclass(frozen=True)
class CycleResult:
    """What one cycle did: its plan, and for a real run the run id and the apply report."""

    plan: Plan
    requests: RequestStats
    run_id: str | None = None
    report: ApplyReport | None = None


def state_url(config: LoadedConfig) -> str:
    """The state URL, with a relative SQLite path taken from the config file's folder, not the CWD."""
    url = config.settings.state
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(config.resolve(Path(url[len(prefix) :])))
    return url


def compiled_mapping(config: LoadedConfig, job: JobSettings) -> CompiledMapping:
    """The job's mapping, checked against the source's declared attributes and the job's settings."""
    loaded = config.mappings[job.name]
    declared = getattr(job.source, "attributes", None)  # only the file source declares its attributes
    return compile_mapping(
        loaded.settings,
        file=str(loaded.document.path),
        lines=loaded.document.lines,
        user_attributes=declared.users if declared else None,
        group_attributes=declared.groups if declared else None,
        default_domain=job.default_domain is not None,
    )


def config_fingerprint(config: LoadedConfig, job: JobSettings) -> str:
    digest = hashlib.sha256(config.path.read_bytes())
    digest.update(config.mappings[job.name].document.path.read_bytes())
    return "sha256:" + digest.hexdigest()


def compiled_scope(config: LoadedConfig, job: JobSettings) -> JobScope:
    """The job's scope, compiled; a bad clause refuses the config with its file and line."""
    index = config.settings.jobs.index(job)
    loaded = config.mappings[job.name]

    def in_config(kind: str) -> Callable[[int, int], str]:
        return lambda g, c: config.document.where(("jobs", index, "scope", kind, g, c))

    def in_mapping(kind: str) -> Callable[[int, int], str]:
        return lambda g, c: loaded.document.where(("scoping", kind, g, c))

    def dumped(groups: Sequence[Sequence[Any]]) -> list[list[dict[str, Any]]]:
        return [[clause.model_dump() for clause in group] for group in groups]

    users, groups = [], []
    if job.scope.users:
        users.append(
            compile_filter(dumped(job.scope.users), label="users scoping filter", where=in_config("users"))
        )
    if job.scope.groups:
        groups.append(
            compile_filter(dumped(job.scope.groups), label="groups scoping filter", where=in_config("groups"))
        )
    scoping = loaded.settings.scoping
    if scoping.users:
        users.append(
            compile_filter(
                dumped(scoping.users), label="mapping users scoping filter", where=in_mapping("users")
            )
        )
    if scoping.groups:
        groups.append(
            compile_filter(
                dumped(scoping.groups), label="mapping groups scoping filter", where=in_mapping("groups")
            )
        )
    return JobScope(
        assignment=Assignment(tuple(job.scope.assigned_groups), job.scope.nested),
        users=tuple(users),
        groups=tuple(groups),
    )


def check_job(config: LoadedConfig, job: JobSettings) -> None:
    """Everything ``syncer validate`` can check of one job without touching the source or target."""
    compiled_mapping(config, job)
    compiled_scope(config, job)
    open_source(config, job)


def assigned_scope(job: JobSettings, scope: JobScope, snapshot: SourceSnapshot) -> AssignedScope:
    try:
        return resolve_assignment(scope.assignment, snapshot.groups)
    except ValueError as exc:
        raise SourceError(f"job {job.name}: {exc}; nothing was changed") from exc


def open_source(config: LoadedConfig, job: JobSettings) -> Source:
    """The job's source, by its ``type``; connects to nothing, so ``syncer validate`` stays offline."""
    source = job.source
    if isinstance(source, LdapSourceSettings):
        from syncer.adapters.sources.ldap import LdapSource  # ldap3 loads only for jobs that use it

        where = ("source", "password_file")
        password = read_secret(config, job, source.password, source.password_file, where)
        ca_file = config.resolve(source.ca_file) if source.ca_file else None
        return LdapSource(source, password=password, ca_file=ca_file)
    if isinstance(source, ScimSourceSettings):
        return _scim_source(config, job, source)
    groups = config.resolve(source.groups_path) if source.groups_path else None
    return FileSource(
        config.resolve(source.path),
        groups,
        csv_delimiter=source.csv_delimiter,
        settle=source.settle_time.total_seconds(),  # trustsrc hook: a file still being written
    )


def _scim_source(config: LoadedConfig, job: JobSettings, source: ScimSourceSettings) -> ScimSource:
    """A SCIM source reading through the SCIM client: the runtime wires the two adapters together.

    ``adapters.sources`` may not import ``adapters.scim``; the source takes any reader with
    ``list()`` and ``aclose()``, and this is where the real client is handed to it.
    """
    token = read_secret(config, job, source.token, source.token_file, ("source", "token_file"))
    verify: bool | str = str(config.resolve(source.ca_file)) if source.ca_file else source.verify_tls

    def reader() -> ScimClient:
        return ScimClient(
            source.url,
            token,
            timeout=source.timeout.total_seconds(),
            concurrency=1,  # pages are read one after the other
            verify=verify,
            retries=source.retries,
            user_agent="syncer/0.1 (source)",
        )

    return ScimSource(reader, url=source.url, page_size=source.page_size, groups=source.groups)


def open_client(config: LoadedConfig, job: JobSettings) -> ScimClient:
    target = job.target
    verify: bool | str = str(config.resolve(target.ca_file)) if target.ca_file else target.verify_tls
    return ScimClient(
        target.url,
        read_token(config, job),
        timeout=target.timeout.total_seconds(),
        concurrency=target.concurrency,
        verify=verify,
        retries=target.retries,
        rate_limit=target.rate_limit,
    )


def _names(users: Sequence[Desired], state: JobState) -> dict[str, str]:
    names = {link.source_id: link.display for link in state.of_kind(ObjectKind.USER)}
    names.update({u.source_id: u.display for u in users})
    return names


async def _run(
    config: LoadedConfig,
    job: JobSettings,
    *,
    mode: Mode,
    saved: Mapping[str, Any] | None,
    clock: Callable[[], datetime],
    on_progress: Callable[[int, int], None] | None,
    stop: Callable[[], str | None] | None = None,
) -> CycleResult:
    mapping = compiled_mapping(config, job)
    scope = compiled_scope(config, job)
    store = StateStore(state_url(config))
    try:
        health = read_health(store, job.name)
        if health.disabled_reason and mode == "sync":
            raise PlanRefused(f"job {job.name} is disabled: {health.disabled_reason}")
        # a blocking read (LDAP, a SCIM source with its own event loop) runs off this loop
        # (in a box emptied at once: the finished future keeps its result alive for the whole cycle)
        box = await asyncio.to_thread(lambda: [open_source(config, job).read()])
        snapshot = box.pop()
        assigned = assigned_scope(job, scope, snapshot)
        state = store.load(job.name)
        refusal = empty_source_refusal(snapshot, state)
        if refusal:
            raise SourceError(f"job {job.name}: {refusal}")
        objects = len(snapshot.users) + len(snapshot.groups)
        approved_shrink = store.get_flag(job.name, APPROVED_SHRINK) is not None
        refusal = shrink_refusal(
            _previous_objects(store, job.name), objects, job.deprovision.max_source_shrink
        )
        if refusal and not approved_shrink:
            if mode == "sync":
                store.set_flag(job.name, SHRINK_REFUSED, {"reason": refusal, "at": clock().isoformat()})
            raise SourceError(
                f"job {job.name}: {refusal}. If the source is right, run `syncer approve-deletions --job "
                f"{job.name}` to accept it once"
            )
        initial = not store.has_state(job.name)
        now = clock()
        aging = aging_allowed(store, job, now, record=mode == "sync")  # trustsrc hook: time can lie
        intake = take_in(
            snapshot,
            mapping,
            scope,
            assigned,
            EvaluationContext(now=now, default_domain=job.default_domain),
            provision_groups=job.provision_groups,
        )
        for skip in intake.skips:
            log.warning(
                "object_skipped",
                kind=skip.kind.value,
                source_id=skip.source_id,
                reason=skip.reason,
                detail=skip.detail,
            )
        escrow = store.escrowed(job.name)
        waiting = {(e.kind, e.source_id): e for e in escrow if e.skip_cycles > 0}
        skips = (*intake.skips, *(_escrow_skip(e) for e in waiting.values()))
        users, groups = intake.users, intake.groups
        failed = set(duplicate_sources(users)) | set(duplicate_sources(groups)) | {k[1] for k in waiting}
        inputs = PlanInputs(
            config=config_fingerprint(config, job), source=snapshot.fingerprint, state=state.fingerprint
        )
        # the mapped objects are all the cycle needs from here on: the source records can go
        del snapshot, assigned
        if saved is not None:
            _check_inputs(saved, inputs)
        deprovision = job.deprovision
        run_id = None
        if mode == "sync":
            run_id = store.begin_run(job.name, initial=initial, dry_run=False, started_at=clock())
            store.escrow_tick(job.name)
            structlog.contextvars.bind_contextvars(job=job.name, cycle=run_id)
        try:
            async with open_client(config, job) as client:
                try:
                    lookups = needs_lookup([*users, *groups], state, failed)
                    matches, lookup_failures = await match_unlinked(
                        client, mapping, lookups, job.matching, job.target.concurrency
                    )
                except TargetError as exc:
                    if run_id is not None:
                        store.finish_run(
                            run_id, finished_at=clock(), status="aborted", counts={"source.objects": objects}
                        )
                        _after_cycle(store, job, health, _fatal_outcome(exc, clock(), objects), 0)
                    raise
                plan = plan_cycle(
                    PlanRequest(
                        job=job.name,
                        initial=initial,
                        users=users,
                        groups=groups,
                        state=state,
                        matches=matches,
                        inputs=inputs,
                        skips=(*skips, *_lookup_skips(lookups, lookup_failures)),
                        protected=intake.protected | frozenset(waiting) | frozenset(lookup_failures),
                        manage_members=mapping.groups.members,
                        member_batch_size=job.target.member_batch_size,
                        group_deletes=deprovision.group_deletes and job.provision_groups,
                        names=_names(users, state),
                        out_of_scope=intake.out_of_scope,
                        out_of_scope_policy=deprovision.out_of_scope,
                        now=now,
                        hard_delete_after=deprovision.hard_delete_after if deprovision.deletes else None,
                        aging=aging,  # trustsrc hook
                    )
                )
                approved = store.get_flag(job.name, APPROVED_DELETIONS) or []
                plan = hold_deprovisioning(
                    plan,
                    deprovision.deletion_threshold,
                    len(state.links),
                    frozenset(approved),
                    percent=deprovision.deletion_threshold_percent,  # trustsrc hook: the lower wins
                    state=state,  # trustsrc hook: a group delete counts its members
                )
                if saved is not None and fingerprint(plan) != saved.get("fingerprint"):
                    raise PlanRefused(
                        "the target changed since the plan was made (matching now finds different objects); "
                        "run `syncer plan` again and review the new plan"
                    )
                if run_id is None:
                    return CycleResult(plan=plan, requests=client.stats)
                if stop is not None and stop():
                    # a daemon stopping before anything was sent: nothing sent, the run says why
                    store.finish_run(
                        run_id, finished_at=clock(), status="stopped", counts={"source.objects": objects}
                    )
                    return CycleResult(plan=plan, requests=client.stats, run_id=run_id)
                interval = job.schedule.interval
                executor = Executor(
                    job=job.name,
                    run_id=run_id,
                    client=client,
                    store=store,
                    state=state,
                    desired={(d.kind, d.source_id): d for d in (*users, *groups)},
                    mapping=mapping,
                    concurrency=job.target.concurrency,
                    clock=clock,
                    on_progress=on_progress,
                    dialect=job.target.dialect,
                    escrowed=frozenset((e.kind, e.source_id) for e in escrow),
                    escrow_delay=lambda attempts: escrow_delay(attempts, interval),
                    should_stop=stop,
                    update_method=job.target.update_method,
                )
                try:
                    report = await executor.apply(plan)
                except BaseException:
                    store.finish_run(run_id, finished_at=clock(), status="crashed", counts={})
                    raise
                present = {(o.kind, o.source_id) for o in (*users, *groups)} | set(intake.out_of_scope)
                executor.forget_returned_leavers(present)
                executor.fill_missing_hashes()
                _record_safety(
                    store, job, plan, consumed_shrink=approved_shrink, consumed=bool(approved), now=now
                )
                status = "stopped" if report.stopped else ("failed" if report.failures else "succeeded")
                counts = dict(report.counts)
                counts.update({f"requests.{m}": n for m, n in client.stats.by_method.items()})
                counts["source.objects"] = objects
                counts["escrowed"] = executor.escrow_failures
                finished = clock()
                store.finish_run(run_id, finished_at=finished, status=status, counts=counts)
                outcome = CycleOutcome(
                    finished_at=finished,
                    objects=max(1, len(users) + len(groups)),
                    failures=report.failures,
                    fatal=report.refused,
                    held_deletions=bool(plan.held),
                    aging=aging,  # trustsrc hook: a distrusted clock ages no quarantine
                )
                _after_cycle(store, job, health, outcome, report.failures)
                log.info(
                    "cycle_finished",
                    status=status,
                    changes=len(plan.changes),
                    failures=report.failures,
                    requests=client.stats.total,
                    writes=client.stats.writes,
                )
                return CycleResult(plan=plan, requests=client.stats, run_id=run_id, report=report)
        finally:
            if run_id is not None:
                structlog.contextvars.unbind_contextvars("job", "cycle")
    finally:
        store.close()


def _lookup_skips(
    objects: Sequence[Desired], failures: Mapping[tuple[ObjectKind, str], TargetError]
) -> list[Skip]:
    return [
        Skip(
            o.kind,
            o.source_id,
            o.display,
            failures[(o.kind, o.source_id)].code,
            Status.FAILURE,
            f"matching failed: {failures[(o.kind, o.source_id)]}",
        )
        for o in objects
        if (o.kind, o.source_id) in failures
    ]


def _escrow_skip(entry: EscrowEntry) -> Skip:
    detail = (
        f"escrowed: retried in {entry.skip_cycles} cycle(s); {entry.attempts} failed attempt(s), "
        f"last {entry.error_code}: {entry.error}"
    )
    return Skip(entry.kind, entry.source_id, entry.display, ESCROWED, Status.SKIPPED, detail)


def _fatal_outcome(exc: TargetError, now: datetime, objects: int) -> CycleOutcome:
    """A cycle the target refused before any change: credentials, endpoint (404) or TLS quarantine."""
    fatal = str(exc) if isinstance(exc, UnauthorizedError | TlsError | NotFoundError) else None
    return CycleOutcome(finished_at=now, objects=max(1, objects), failures=0 if fatal else 1, fatal=fatal)


def read_health(store: StateStore, job: str) -> JobHealth:
    """The job's quarantine standing as the state keeps it."""
    raw = store.get_flag(job, HEALTH)
    if not raw:
        return JobHealth()
    q = raw.get("quarantine")
    quarantine = (
        Quarantine(
            q["reason"], datetime.fromisoformat(q["since"]), q.get("detail", ""), int(q.get("attempts", 0))
        )
        if q
        else None
    )
    return JobHealth(quarantine=quarantine, disabled_reason=raw.get("disabled_reason"))


def write_health(store: StateStore, job: str, health: JobHealth) -> None:
    if health.healthy:
        store.set_flag(job, HEALTH, None)
        return
    q = health.quarantine
    quarantine = (
        {"reason": q.reason, "since": q.since.isoformat(), "detail": q.detail, "attempts": q.attempts}
        if q
        else None
    )
    store.set_flag(job, HEALTH, {"quarantine": quarantine, "disabled_reason": health.disabled_reason})


def _after_cycle(
    store: StateStore, job: JobSettings, before: JobHealth, outcome: CycleOutcome, failures: int
) -> None:
    """Move the quarantine state machine, and tell whoever asked to be told."""
    q = job.quarantine
    after = next_health(before, outcome, EscrowThresholds(q.min_failures, q.proportion, q.total, q.absolute))
    write_health(store, job.name, after)
    for event in notification_events(job.name, before, after, failures, outcome.finished_at):
        send_notification(job.notify, event)


def _previous_objects(store: StateStore, job: str) -> int | None:
    """How many objects the source held at the last cycle that got to the end."""
    for run in store.runs(job, limit=20):
        if run.status in ("succeeded", "failed") and "source.objects" in run.counts:
            return int(run.counts["source.objects"])
    return None


def _record_safety(
    store: StateStore, job: JobSettings, plan: Plan, *, consumed_shrink: bool, consumed: bool, now: datetime
) -> None:
    """Remember held deletions (for status and approve-deletions); use up approvals once applied."""
    if consumed_shrink:
        store.set_flag(job.name, APPROVED_SHRINK, None)
    if consumed:
        store.set_flag(job.name, APPROVED_DELETIONS, None)
    if plan.held:
        keys = sorted(removal_key(c) for c in plan.held if isinstance(c, DisableUser | DeleteObject))
        store.set_flag(
            job.name,
            HELD_DELETIONS,
            {
                "reason": plan.held_reason,
                "keys": keys,
                "threshold": str(job.deprovision.deletion_threshold),
                "at": now.isoformat(),
            },
        )
    else:
        store.set_flag(job.name, HELD_DELETIONS, None)


def _check_inputs(saved: Mapping[str, Any], inputs: PlanInputs) -> None:
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


def utc_now() -> datetime:
    return now_from_environment() or datetime.now(UTC)  # trustsrc hook: SYNCER_NOW


def run_cycle(
    config: LoadedConfig,
    job_name: str | None,
    *,
    mode: Mode = "sync",
    saved_plan: Mapping[str, Any] | None = None,
    clock: Callable[[], datetime] = utc_now,
    on_progress: Callable[[int, int], None] | None = None,
    stop: Callable[[], str | None] | None = None,
) -> CycleResult:
    """Run one cycle of a job: ``plan`` stops after planning, ``sync`` applies the plan.

    ``stop`` (the daemon's) returns a reason once the process is stopping: requests in flight
    finish and are recorded, the rest are not sent, and the run ends as ``stopped``.
    """
    job = config.settings.job(job_name)
    return asyncio.run(
        _run(config, job, mode=mode, saved=saved_plan, clock=clock, on_progress=on_progress, stop=stop)
    )
