"""Day-2 operations on a job's state: status, approving held deletions, explaining scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syncer.adapters.state.store import StateStore
from syncer.core.mapping import source_view
from syncer.core.policy import JobHealth, next_run
from syncer.runtime.clocktrust import APPROVED_CLOCK, CLOCK_DISTRUSTED
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.engine import (
    APPROVED_DELETIONS,
    APPROVED_SHRINK,
    HELD_DELETIONS,
    SHRINK_REFUSED,
    assigned_scope,
    compiled_scope,
    open_source,
    read_health,
    state_url,
)
from syncer.types import EscrowEntry, RunRecord


@dataclass(frozen=True)
class JobStatus:
    """What ``syncer status`` shows for one job."""

    job: str
    links: int
    last_run: RunRecord | None
    held: dict[str, Any] | None
    approved: list[str] | None
    shrink_refused: dict[str, Any] | None
    shrink_approved: bool
    health: JobHealth
    escrow: list[EscrowEntry]
    next_run: datetime | None


def job_status(config: LoadedConfig, job_name: str, now: datetime) -> JobStatus:
    interval = config.settings.job(job_name).schedule.interval
    with StateStore(state_url(config)) as store:
        state = store.load(job_name)
        health = read_health(store, job_name)
        last = store.last_run(job_name)
        return JobStatus(
            job=job_name,
            links=len(state.links),
            last_run=store.last_run(job_name),
            held=store.get_flag(job_name, HELD_DELETIONS),
            approved=store.get_flag(job_name, APPROVED_DELETIONS),
            shrink_refused=store.get_flag(job_name, SHRINK_REFUSED),
            shrink_approved=store.get_flag(job_name, APPROVED_SHRINK) is not None,
            health=health,
            escrow=store.escrowed(job_name),
            next_run=next_run(health, last.finished_at if last else None, interval, now),
        )


def approve_deletions(config: LoadedConfig, job_name: str) -> list[str]:
    """Release what the last cycle held: exactly those removals, and a refused source shrink.

    Returns what was approved, one line each; empty when nothing was held.
    """
    approved: list[str] = []
    with StateStore(state_url(config)) as store:
        held = store.get_flag(job_name, HELD_DELETIONS)
        if held:
            keys = list(held.get("keys") or [])
            store.set_flag(job_name, APPROVED_DELETIONS, keys)
            approved.append(f"{len(keys)} held disables/deletes ({held.get('reason')})")
        refused = store.get_flag(job_name, SHRINK_REFUSED)
        if refused:
            store.set_flag(job_name, APPROVED_SHRINK, refused)
            store.set_flag(job_name, SHRINK_REFUSED, None)
            approved.append(f"the source shrink refused at {refused.get('at')}: {refused.get('reason')}")
        clock = store.get_flag(job_name, CLOCK_DISTRUSTED)  # trustsrc hook: time can lie
        if clock:
            store.set_flag(job_name, APPROVED_CLOCK, clock)
            store.set_flag(job_name, CLOCK_DISTRUSTED, None)
            approved.append(f"the clock distrusted at {clock.get('at')}: {clock.get('reason')}")
    return approved


def explain_scope(config: LoadedConfig, job_name: str, source_id: str) -> list[str]:
    """The full scope evaluation of one source object (``syncer plan --why``)."""
    job = config.settings.job(job_name)
    scope = compiled_scope(config, job)
    snapshot = open_source(config, job).read()
    assigned = assigned_scope(job, scope, snapshot)
    for obj in (*snapshot.users, *snapshot.groups):
        if obj.id == source_id:
            return [f"{obj.kind.value} {obj.id}", *scope.explain(obj, source_view(obj), assigned)]
    skipped = [s for s in snapshot.skipped if s.id == source_id]
    if skipped:
        return [f"{source_id}: not imported: {skipped[0].location}: {skipped[0].reason}"]
    raise KeyError(f"no user or group with id {source_id!r} in the source")
