"""Whether this cycle's clock may age anything: the run history as its witness (issue 11, "time can lie").

The decision is pure (``core.policy.clock_distrust``); this module reads the last run's times
from the state, keeps the refusal for ``syncer approve-deletions``, and takes an approval once.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import structlog

from syncer.adapters.state.store import StateStore
from syncer.core.policy import clock_distrust
from syncer.errors import ConfigError
from syncer.settings import JobSettings

log = structlog.get_logger("syncer.engine")

CLOCK_DISTRUSTED = "clock_distrusted"
"""Flag: why the last cycle aged nothing, for ``syncer approve-deletions`` to approve."""
APPROVED_CLOCK = "approved_clock"
"""Flag: an admin vouched for the clock; the next cycle ages as its clock says, once."""
CLOCK_WITNESS = "clock_witness"
"""Flag: when the last cycle with a trusted clock ran (ISO 8601)."""


def _witness(store: StateStore, job: str) -> datetime | None:
    """The time of the last cycle whose clock was trusted (a distrusted one never moves it)."""
    kept = store.get_flag(job, CLOCK_WITNESS)
    if kept:
        return datetime.fromisoformat(str(kept))
    last = store.last_run(job)  # a state from before the witness was kept
    return None if last is None else max(last.started_at, last.finished_at or last.started_at)


def aging_allowed(store: StateStore, job: JobSettings, now: datetime, *, record: bool) -> bool:
    """True when this cycle may age leavers (hard deletes fall due); says why not when it may not.

    ``record`` (a sync, not a plan) moves the witness, keeps a refusal for approval and uses up an
    approval. A clock that stays wrong stays distrusted: the witness is the last *trusted* cycle,
    so a second cycle on a clock that jumped 40 days ahead is measured from before the jump too.
    """
    reason = clock_distrust(
        now, _witness(store, job.name), job.schedule.interval, job.deprovision.max_run_gap
    )
    approved = reason is not None and store.get_flag(job.name, APPROVED_CLOCK) is not None
    if reason is None or approved:
        if record:
            store.set_flag(job.name, CLOCK_WITNESS, now.isoformat())
            store.set_flag(job.name, APPROVED_CLOCK, None)
            store.set_flag(job.name, CLOCK_DISTRUSTED, None)
        return True
    log.warning(
        "clock_distrusted",
        job=job.name,
        reason=reason,
        detail=(
            "this cycle ages nothing: no hard delete falls due and no leaver's clock starts; if the "
            f"clock is right, run `syncer approve-deletions --job {job.name}`"
        ),
    )
    if record:
        store.set_flag(job.name, CLOCK_DISTRUSTED, {"reason": reason, "at": now.isoformat()})
    return False


def now_from_environment() -> datetime | None:
    """``SYNCER_NOW`` (ISO 8601), the clock a test or a drill sets for a whole process; else ``None``."""
    text = os.environ.get("SYNCER_NOW")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"SYNCER_NOW: expected an ISO 8601 time, got {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
