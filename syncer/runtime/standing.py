"""A job's standing between cycles, and the admin's levers on it.

One module, one status type (:class:`JobStanding`) for ``syncer status``, ``/healthz``, the
metrics, the daemon's tick and provision on demand. Everything lives in the state's per-job
flags (:class:`~syncer.runtime.jobflags.JobFlags`), so the daemon and a ``syncer`` command in
another shell see the same thing: ``syncer pause`` takes effect at the daemon's next tick
without a signal. The levers: pause, resume, restart, approve-config, approve-deletions.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from syncer.adapters.state.store import StateStore
from syncer.core.findsource import find_source_object
from syncer.core.mapping import source_view
from syncer.core.policy import JobHealth, next_run
from syncer.errors import SyncerError
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.jobcontext import JobContext, state_url
from syncer.runtime.jobflags import JobFlags
from syncer.settings import JobSettings
from syncer.types import EscrowEntry, RunRecord, RunStatus


class Standing(enum.StrEnum):
    """What a job is doing between cycles."""

    ACTIVE = "active"
    QUARANTINED = "quarantined"
    DISABLED = "disabled"
    PAUSED = "paused"
    HELD = "held"
    """A change of mapping or scope awaits ``approve-config`` (``hold_on_config_change``)."""


JOB_STATES = tuple(s.value for s in Standing)


def read_health(store: StateStore, job: str) -> JobHealth:
    """The job's quarantine and disabled standing, as the cycle recorded it."""
    return JobFlags(store, job).health()


def escrow_size(store: StateStore, job: str) -> int:
    """Objects escrowed: failed, and retried by later cycles with a growing backoff."""
    return len(store.escrowed(job))


# --- hold on config change ------------------------------------------------------------------


def provisioning_fingerprint(config: LoadedConfig, job: JobSettings) -> str:
    """What decides who is provisioned how: the mapping file's bytes and the job's scope and policy.

    The interval, the token or the log level can change without a review; this cannot.
    """
    digest = hashlib.sha256(config.mappings[job.name].document.path.read_bytes())
    decided = {
        "scope": job.scope.model_dump(mode="json"),
        "deprovision": job.deprovision.model_dump(mode="json"),
        "provision_groups": job.provision_groups,
    }
    digest.update(json.dumps(decided, sort_keys=True).encode())
    return "sha256:" + digest.hexdigest()


def config_hold(store: StateStore, config: LoadedConfig, job: JobSettings, now: datetime) -> str | None:
    """Why the daemon must not run the job's cycle now (a changed mapping or scope), or ``None``.

    The first cycle ever records the fingerprint. A change is held only with
    ``hold_on_config_change``; without it the new fingerprint is simply recorded.
    """
    flags = JobFlags(store, job.name)
    current = provisioning_fingerprint(config, job)
    approved = flags.approved_config()
    if approved == current:
        if flags.config_held() is not None:
            flags.clear_config_hold()
        return None
    if approved is None or not job.hold_on_config_change:
        flags.approve_config(current)
        return None
    held = flags.config_held()
    if not held or held.get("fingerprint") != current:
        flags.hold_config(current, now)
    return (
        f"the mapping or scope of job {job.name} changed; review `syncer plan --job {job.name}`, "
        f"then run `syncer approve-config --job {job.name}`"
    )


def approve_config(config: LoadedConfig, job: JobSettings) -> bool:
    """Accept the job's current mapping and scope; True when a held change was released."""
    with StateStore(state_url(config)) as store:
        flags = JobFlags(store, job.name)
        held = flags.config_held() is not None
        flags.approve_config(provisioning_fingerprint(config, job))
    return held


# --- pause, resume, restart, approve-deletions ------------------------------------------------


def pause(config: LoadedConfig, job: str, now: datetime) -> bool:
    """Stop running the job's cycles (state kept); False when it was already paused."""
    with StateStore(state_url(config)) as store:
        flags = JobFlags(store, job)
        if flags.paused_since() is not None:
            return False
        flags.set_paused(now)
    return True


def resume(config: LoadedConfig, job: str) -> bool:
    """Run the job's cycles again, from where it left off; False when it was not paused."""
    with StateStore(state_url(config)) as store:
        flags = JobFlags(store, job)
        if flags.paused_since() is None:
            return False
        flags.set_paused(None)
    return True


def restart(config: LoadedConfig, job: str, *, full: bool) -> None:
    """Entra's "Restart provisioning": clear escrow, quarantine and change tracking (``full``: links).

    The next cycle is an initial one: it compares every in-scope object afresh (and, after a
    full restart, matches every one again). Approvals the admin gave are kept.
    """
    with StateStore(state_url(config)) as store:
        store.reset(job, links=full)
        JobFlags(store, job).clear_for_restart()


def approve_deletions(config: LoadedConfig, job_name: str) -> list[str]:
    """Release what the last cycle held: exactly those removals, and a refused source shrink.

    Returns what was approved, one line each; empty when nothing was held.
    """
    approved: list[str] = []
    with StateStore(state_url(config)) as store:
        flags = JobFlags(store, job_name)
        held = flags.held_deletions()
        if held:
            keys = list(held.get("keys") or [])
            flags.approve_deletions(keys)
            approved.append(f"{len(keys)} held disables/deletes ({held.get('reason')})")
        refused = flags.shrink_refused()
        if refused:
            flags.approve_shrink(refused)
            approved.append(f"the source shrink refused at {refused.get('at')}: {refused.get('reason')}")
        clock = flags.clock_distrusted()  # trustsrc hook: time can lie
        if clock:
            flags.approve_clock(clock)
            approved.append(f"the clock distrusted at {clock.get('at')}: {clock.get('reason')}")
    return approved


def explain_scope(config: LoadedConfig, job_name: str, source_id: str) -> list[str]:
    """The full scope evaluation of one source object (``syncer plan --why``)."""
    context = JobContext.build(config, job_name)
    snapshot = context.open_source().read()
    assigned = context.assigned(snapshot)
    obj = find_source_object(
        (*snapshot.users, *snapshot.groups), source_id, context.mapping, context.evaluation(datetime.now(UTC))
    )
    if obj is not None:
        return [f"{obj.kind.value} {obj.id}", *context.scope.explain(obj, source_view(obj), assigned)]
    skipped = [s for s in snapshot.skipped if s.id == source_id]
    if skipped:
        return [f"{source_id}: not imported: {skipped[0].location}: {skipped[0].reason}"]
    raise KeyError(f"no user or group with id or name {source_id!r} in the source")


# --- the standing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobStanding:
    """A job's standing for ``syncer status``, ``/healthz``, the metrics and the daemon's tick."""

    job: str
    state: Standing
    reason: str | None
    health: JobHealth
    last_run: RunRecord | None
    last_success: datetime | None
    next_cycle: datetime | None
    """When the daemon runs it next (as the daemon recorded it, else from the policy)."""
    next_run: datetime | None
    """When the quarantine backoff lets a cycle run, from the last run alone."""
    escrowed: tuple[EscrowEntry, ...]
    links: int
    held_deletions: dict[str, Any] | None
    approved: list[str] | None
    shrink_refused: dict[str, Any] | None
    shrink_approved: bool
    held_changes: dict[str, Any] | None = None
    """Attribute changes the change threshold held (``runtime.changehold``)."""
    approved_changes: int = 0

    @property
    def escrow(self) -> int:
        return len(self.escrowed)

    @property
    def held(self) -> dict[str, Any] | None:
        return self.held_deletions

    def as_json(self) -> dict[str, Any]:
        run = self.last_run
        quarantine = self.health.quarantine
        return {
            "job": self.job,
            "state": self.state.value,
            "reason": self.reason,
            "quarantine": None
            if quarantine is None
            else {
                "reason": quarantine.reason,
                "since": quarantine.since.isoformat(),
                "detail": quarantine.detail,
            },
            "lastCycle": None
            if run is None
            else {
                "id": run.id,
                "kind": "initial" if run.initial else "incremental",
                "status": run.status,
                "started": run.started_at.isoformat(),
                "finished": run.finished_at.isoformat() if run.finished_at else None,
                "durationSeconds": duration(run),
                "counts": dict(run.counts),
            },
            "lastSuccessfulCycle": self.last_success.isoformat() if self.last_success else None,
            "nextCycle": self.next_cycle.isoformat() if self.next_cycle else None,
            "escrow": self.escrow,
            "heldRefused": [
                {
                    "kind": e.kind.value,
                    "sourceId": e.source_id,
                    "display": e.display,
                    "attempts": e.attempts,
                    "answer": e.refused.answer,
                }
                for e in self.escrowed
                if e.refused is not None
            ],
            "links": self.links,
            "heldDeletions": len((self.held_deletions or {}).get("keys") or []),
            "heldChanges": len((self.held_changes or {}).get("keys") or []),
        }


JobOverview = JobStanding
JobStatus = JobStanding
"""The names the two former modules (``control``, ``operations``) gave the one type."""


def duration(run: RunRecord) -> float | None:
    if run.finished_at is None:
        return None
    return round((run.finished_at - run.started_at).total_seconds(), 3)


def _state(flags: JobFlags, health: JobHealth, job: str) -> tuple[Standing, str | None]:
    paused = flags.paused_since()
    if health.disabled_reason is not None:
        return Standing.DISABLED, health.disabled_reason
    if paused is not None:
        return Standing.PAUSED, f"paused since {paused}; `syncer resume --job {job}`"
    if health.quarantine is not None:
        return Standing.QUARANTINED, f"{health.quarantine.reason}: {health.quarantine.detail}".rstrip(": ")
    held_config = flags.config_held()
    if held_config:
        return Standing.HELD, (
            f"mapping or scope changed at {held_config.get('since')}; review `syncer plan --job {job}`, "
            f"then `syncer approve-config --job {job}`"
        )
    return Standing.ACTIVE, None


def overview(store: StateStore, job: JobSettings, now: datetime) -> JobStanding:
    """Read a job's standing from the state: state and reason, last and next cycle, escrow."""
    flags = JobFlags(store, job.name)
    health = flags.health()
    runs = [r for r in store.runs(job.name, limit=50) if not r.dry_run]
    last = runs[0] if runs else None
    success = next((r for r in runs if r.status == RunStatus.SUCCEEDED and r.finished_at), None)
    state, reason = _state(flags, health, job.name)
    newest = store.last_run(job.name)
    due = next_run(health, newest.finished_at if newest else None, job.schedule.interval, now)
    next_cycle = flags.next_cycle()
    if next_cycle is None and state in (Standing.ACTIVE, Standing.QUARANTINED):
        next_cycle = next_run(health, last.finished_at if last else None, job.schedule.interval, now)
    if state in (Standing.DISABLED, Standing.PAUSED):
        next_cycle = None
    return JobStanding(
        job=job.name,
        state=state,
        reason=reason,
        health=health,
        last_run=last,
        last_success=success.finished_at if success else None,
        next_cycle=next_cycle,
        next_run=due,
        escrowed=tuple(store.escrowed(job.name)),
        links=len(store.load(job.name).links),
        held_deletions=flags.held_deletions(),
        approved=flags.approved_deletions() or None,
        shrink_refused=flags.shrink_refused(),
        shrink_approved=flags.shrink_approved(),
        held_changes=flags.held_changes(),
        approved_changes=len(flags.approved_changes()),
    )


def record_next_cycle(store: StateStore, job: str, at: datetime | None, owner: str) -> None:
    JobFlags(store, job).set_next_cycle(at, owner)


def job_overview(config: LoadedConfig, name: str, now: datetime | None = None) -> JobStanding:
    """:func:`overview` of a job by name, opening the state for the one read."""
    job = config.settings.job(name)
    with StateStore(state_url(config)) as store:
        return overview(store, job, now or datetime.now().astimezone())


def job_status(config: LoadedConfig, job_name: str, now: datetime) -> JobStanding:
    """The standing ``syncer status`` prints (the same as :func:`job_overview`)."""
    return job_overview(config, job_name, now)


# --- the daemon's reading of it ---------------------------------------------------------------


def tick_skip_reason(
    store: StateStore, config: LoadedConfig, job: JobSettings, now: datetime, owner: str
) -> str | None:
    """Why the daemon's tick must not run the job's cycle now, or ``None``.

    Disabled, paused, not yet due on the quarantine backoff, or a config change held.
    """
    view = overview(store, job, now)
    if view.state is Standing.DISABLED:
        return f"disabled: {view.reason}; `syncer restart --job {job.name}` enables it"
    if view.state is Standing.PAUSED:
        return "paused"
    quarantine = view.health.quarantine
    if quarantine is not None:
        last = view.last_run.finished_at if view.last_run else None
        due = next_run(view.health, last, job.schedule.interval, now)
        if due is not None and due > now:
            record_next_cycle(store, job.name, due, owner)
            return f"quarantined ({quarantine.reason}); next attempt at {due.isoformat()}"
    return config_hold(store, config, job, now)


def health_report(
    store: StateStore, jobs: Sequence[JobSettings], unhealthy: Collection[str], running: bool, now: datetime
) -> tuple[bool, dict[str, Any]]:
    """``/healthz``: healthy or not, and the body that says why (jobs in an ``unhealthy_when`` state)."""
    reasons: list[str] = [] if running else ["the scheduler is not running"]
    states: dict[str, str] = {}
    for job in jobs:
        try:
            view = overview(store, job, now)
        except SyncerError as exc:
            reasons.append(f"job {job.name}: the state cannot be read: {exc}")
            continue
        states[job.name] = view.state.value
        if view.state in unhealthy:
            reasons.append(f"job {job.name} is {view.state.value}: {view.reason}")
    body: dict[str, Any] = {"status": "ok" if not reasons else "unhealthy", "jobs": states}
    if reasons:
        body["reasons"] = reasons
    return not reasons, body
