"""Whether this cycle's clock may age anything: the run history as its witness (issue 11, "time can lie").

The decision is pure (``core.policy.clock_distrust``); this module reads the witness (the last
trusted cycle's time) from the job's flags, keeps a refusal for ``syncer approve-deletions`` and
takes an approval once.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from syncer.adapters.state.store import StateStore
from syncer.core.policy import clock_distrust
from syncer.runtime.jobflags import JobFlags
from syncer.settings import JobSettings

log = structlog.get_logger("syncer.engine")


def _witness(store: StateStore, job: str) -> datetime | None:
    """The time of the last cycle whose clock was trusted (a distrusted one never moves it)."""
    kept = JobFlags(store, job).clock_witness()
    if kept is not None:
        return kept
    last = store.last_run(job)  # a state from before the witness was kept
    return None if last is None else max(last.started_at, last.finished_at or last.started_at)


def clock_distrusted(store: StateStore, job: JobSettings, now: datetime) -> str | None:
    """Why this cycle may age nothing (no hard delete falls due), or ``None``; says so in the log.

    Reads only. A clock that stays wrong stays distrusted: the witness is the last *trusted*
    cycle, so a second cycle on a clock that jumped 40 days is measured from before the jump too.
    An approval (``syncer approve-deletions``) vouches for the clock once.
    """
    flags = JobFlags(store, job.name)
    reason = clock_distrust(
        now, _witness(store, job.name), job.schedule.interval, job.deprovision.max_run_gap
    )
    if reason is None or flags.clock_approved():
        return None
    log.warning(
        "clock_distrusted",
        job=job.name,
        reason=reason,
        detail=(
            "this cycle ages nothing: no hard delete falls due and no leaver's clock starts; if the "
            f"clock is right, run `syncer approve-deletions --job {job.name}`"
        ),
    )
    return reason


def record_clock(store: StateStore, job: str, now: datetime, distrusted: str | None) -> None:
    """A run begins: a trusted clock becomes the witness (spending an approval); a distrusted one is kept."""
    flags = JobFlags(store, job)
    if distrusted is None:
        flags.trust_clock(now)
    else:
        flags.distrust_clock(distrusted, now)
