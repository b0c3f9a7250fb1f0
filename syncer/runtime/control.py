"""A job's standing between cycles, and the admin's levers on it: pause, resume, restart, approve-config.

Everything here lives in the state's per-job flags, so the daemon and a ``syncer`` command in
another shell see the same thing: ``syncer pause`` takes effect at the daemon's next tick
without a signal. The quarantine and escrow are written by the cycle (issue 5's policy wiring);
:func:`read_health` and :func:`escrow_size` are the one place that reads them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syncer.adapters.state.store import StateStore
from syncer.core.policy import JobHealth, next_run
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.engine import (
    HEALTH,
    HELD_DELETIONS,
    SHRINK_REFUSED,
    state_url,
)
from syncer.runtime.engine import read_health as engine_health
from syncer.settings import JobSettings
from syncer.types import RunRecord

PAUSED = "paused"
CONFIG_APPROVED = "config_fingerprint"
CONFIG_HELD = "config_held"
NEXT_CYCLE = "next_cycle"

JOB_STATES = ("active", "quarantined", "disabled", "paused", "held")


def _when(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def read_health(store: StateStore, job: str) -> JobHealth:
    """The job's quarantine and disabled standing, as the cycle recorded it (see ``engine.read_health``)."""
    return engine_health(store, job)


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
    current = provisioning_fingerprint(config, job)
    approved = store.get_flag(job.name, CONFIG_APPROVED)
    if approved == current:
        if store.get_flag(job.name, CONFIG_HELD) is not None:
            store.set_flag(job.name, CONFIG_HELD, None)
        return None
    if approved is None or not job.hold_on_config_change:
        store.set_flag(job.name, CONFIG_APPROVED, current)
        store.set_flag(job.name, CONFIG_HELD, None)
        return None
    held = store.get_flag(job.name, CONFIG_HELD)
    if not held or held.get("fingerprint") != current:
        store.set_flag(job.name, CONFIG_HELD, {"fingerprint": current, "since": now.isoformat()})
    return (
        f"the mapping or scope of job {job.name} changed; review `syncer plan --job {job.name}`, "
        f"then run `syncer approve-config --job {job.name}`"
    )


def approve_config(config: LoadedConfig, job: JobSettings) -> bool:
    """Accept the job's current mapping and scope; True when a held change was released."""
    with StateStore(state_url(config)) as store:
        held = store.get_flag(job.name, CONFIG_HELD) is not None
        store.set_flag(job.name, CONFIG_APPROVED, provisioning_fingerprint(config, job))
        store.set_flag(job.name, CONFIG_HELD, None)
    return held


# --- pause, resume, restart -------------------------------------------------------------------


def pause(config: LoadedConfig, job: str, now: datetime) -> bool:
    """Stop running the job's cycles (state kept); False when it was already paused."""
    with StateStore(state_url(config)) as store:
        if store.get_flag(job, PAUSED):
            return False
        store.set_flag(job, PAUSED, {"since": now.isoformat()})
    return True


def resume(config: LoadedConfig, job: str) -> bool:
    """Run the job's cycles again, from where it left off; False when it was not paused."""
    with StateStore(state_url(config)) as store:
        if not store.get_flag(job, PAUSED):
            return False
        store.set_flag(job, PAUSED, None)
    return True


RESTART_CLEARS = (HEALTH, HELD_DELETIONS, SHRINK_REFUSED, CONFIG_HELD)


def restart(config: LoadedConfig, job: str, *, full: bool) -> None:
    """Entra's "Restart provisioning": clear escrow, quarantine and change tracking (``full``: links).

    The next cycle is an initial one: it compares every in-scope object afresh (and, after a
    full restart, matches every one again). Approvals the admin gave are kept.
    """
    with StateStore(state_url(config)) as store:
        store.reset(job, links=full)
        for key in RESTART_CLEARS:
            store.set_flag(job, key, None)


# --- status -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobOverview:
    """A job's standing for ``syncer status``, ``/healthz`` and the metrics."""

    job: str
    state: str
    """active, quarantined, disabled, paused or held (a config change awaits approval)."""
    reason: str | None
    health: JobHealth
    last_run: RunRecord | None
    last_success: datetime | None
    next_cycle: datetime | None
    escrow: int
    links: int
    held_deletions: dict[str, Any] | None

    def as_json(self) -> dict[str, Any]:
        run = self.last_run
        quarantine = self.health.quarantine
        return {
            "job": self.job,
            "state": self.state,
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
            "links": self.links,
            "heldDeletions": len((self.held_deletions or {}).get("keys") or []),
        }


def duration(run: RunRecord) -> float | None:
    if run.finished_at is None:
        return None
    return round((run.finished_at - run.started_at).total_seconds(), 3)


def overview(store: StateStore, job: JobSettings, now: datetime) -> JobOverview:
    """Read a job's standing from the state: state and reason, last and next cycle, escrow."""
    health = read_health(store, job.name)
    runs = [r for r in store.runs(job.name, limit=50) if not r.dry_run]
    last = runs[0] if runs else None
    success = next((r for r in runs if r.status == "succeeded" and r.finished_at), None)
    paused = store.get_flag(job.name, PAUSED)
    held_config = store.get_flag(job.name, CONFIG_HELD)
    state, reason = "active", None
    if health.disabled_reason is not None:
        state, reason = "disabled", health.disabled_reason
    elif paused:
        state, reason = "paused", f"paused since {paused.get('since')}; `syncer resume --job {job.name}`"
    elif health.quarantine is not None:
        state = "quarantined"
        reason = f"{health.quarantine.reason}: {health.quarantine.detail}".rstrip(": ")
    elif held_config:
        state = "held"
        reason = (
            f"mapping or scope changed at {held_config.get('since')}; review `syncer plan --job {job.name}`, "
            f"then `syncer approve-config --job {job.name}`"
        )
    scheduled = store.get_flag(job.name, NEXT_CYCLE)
    next_cycle = _when(scheduled.get("at")) if isinstance(scheduled, dict) else None
    if next_cycle is None and state in ("active", "quarantined"):
        finished = last.finished_at if last else None
        next_cycle = next_run(health, finished, job.schedule.interval, now)
    if state in ("disabled", "paused"):
        next_cycle = None
    return JobOverview(
        job=job.name,
        state=state,
        reason=reason,
        health=health,
        last_run=last,
        last_success=success.finished_at if success else None,
        next_cycle=next_cycle,
        escrow=escrow_size(store, job.name),
        links=len(store.load(job.name).links),
        held_deletions=store.get_flag(job.name, HELD_DELETIONS),
    )


def record_next_cycle(store: StateStore, job: str, at: datetime | None, owner: str) -> None:
    store.set_flag(job, NEXT_CYCLE, {"at": at.isoformat(), "by": owner} if at else None)


def job_overview(config: LoadedConfig, name: str, now: datetime | None = None) -> JobOverview:
    """:func:`overview` of a job by name, opening the state for the one read."""
    job = config.settings.job(name)
    with StateStore(state_url(config)) as store:
        return overview(store, job, now or datetime.now().astimezone())
