"""Escrow backoff and the quarantine state machine, over run outcomes (Entra's rules).

Pure: every function takes the previous state, what the cycle did and ``now``, and returns the
next state. The runtime stores the state and asks here when the job may run next.

Quarantine (Entra's "application-provisioning-quarantine-status"): entered at once when the
target refuses the credentials or the endpoint is wrong (401, 403, 404 on the base URL, TLS),
when one cycle's failures pass the escrow thresholds, or when the deletion threshold held a
cycle's removals. While quarantined the job runs after 6 h, 12 h, 24 h, then daily; a clean
cycle lifts it; after 28 days in quarantine the job is disabled until ``syncer restart``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

QUARANTINE_EXCEPTION = "EncounteredQuarantineException"
ESCROW_PROPORTION = "EncounteredEscrowProportionThreshold"
ESCROW_TOTAL = "EncounteredTotalEscrowThreshold"
TOO_MANY_DELETES = "TooManyDeletes"

BACKOFF = (timedelta(hours=6), timedelta(hours=12), timedelta(hours=24))
DAILY = timedelta(hours=24)
DISABLE_AFTER = timedelta(days=28)
ESCROW_CAP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class EscrowThresholds:
    """When a cycle's failures quarantine the job (Entra's defaults; smaller ones suit small tenants).

    ``min_failures`` with more than ``proportion`` failing, or more than ``total`` failing, or
    more than ``absolute`` (reference failures included) quarantines the job.
    """

    min_failures: int = 5000
    proportion: float = 0.40
    total: int = 40000
    absolute: int = 60000


@dataclass(frozen=True, slots=True)
class CycleOutcome:
    """What one cycle did, as the policy needs it.

    ``failures`` excludes reference failures (manager, members), as Entra's thresholds do;
    ``fatal`` is set when the target refused the cycle outright (credentials, endpoint, TLS).
    """

    finished_at: datetime
    objects: int
    failures: int
    reference_failures: int = 0
    fatal: str | None = None
    held_deletions: bool = False
    aging: bool = True
    """``False`` when the cycle's clock was distrusted: the 28-day quarantine clock does not advance."""


@dataclass(frozen=True, slots=True)
class Quarantine:
    reason: str
    since: datetime
    detail: str = ""
    attempts: int = 0
    """Cycles run while quarantined; picks the next backoff step."""


@dataclass(frozen=True, slots=True)
class JobHealth:
    """The job's standing: quarantined (with why since when), disabled, or neither."""

    quarantine: Quarantine | None = None
    disabled_reason: str | None = None

    @property
    def healthy(self) -> bool:
        return self.quarantine is None and self.disabled_reason is None


def quarantine_reason(outcome: CycleOutcome, thresholds: EscrowThresholds) -> tuple[str, str] | None:
    """Why this cycle quarantines the job (reason code, detail), or ``None``."""
    if outcome.fatal is not None:
        return QUARANTINE_EXCEPTION, outcome.fatal
    failing = outcome.failures
    if (
        outcome.objects
        and failing >= thresholds.min_failures
        and failing / outcome.objects > thresholds.proportion
    ):
        return ESCROW_PROPORTION, (
            f"{failing} of {outcome.objects} objects failed ({failing * 100 / outcome.objects:.0f}%, "
            f"more than {thresholds.proportion:.0%} with at least {thresholds.min_failures})"
        )
    if failing > thresholds.total:
        return ESCROW_TOTAL, f"{failing} objects failed (more than {thresholds.total})"
    if failing + outcome.reference_failures > thresholds.absolute:
        return ESCROW_TOTAL, (
            f"{failing + outcome.reference_failures} failures with references "
            f"(more than {thresholds.absolute})"
        )
    if outcome.held_deletions:
        return TOO_MANY_DELETES, "the deletion threshold held this cycle's disables and deletes"
    return None


def next_health(health: JobHealth, outcome: CycleOutcome, thresholds: EscrowThresholds) -> JobHealth:
    """The job's standing after a cycle: enter, keep, change or lift quarantine; disable after 28 days."""
    if health.disabled_reason is not None:
        return health
    found = quarantine_reason(outcome, thresholds)
    if found is None:
        return JobHealth()
    reason, detail = found
    current = health.quarantine
    if current is None:
        return JobHealth(quarantine=Quarantine(reason, outcome.finished_at, detail, attempts=0))
    quarantine = replace(current, reason=reason, detail=detail, attempts=current.attempts + 1)
    if outcome.aging and outcome.finished_at - current.since >= DISABLE_AFTER:
        return JobHealth(
            quarantine=quarantine,
            disabled_reason=(
                f"quarantined for {DISABLE_AFTER.days} days ({reason}): disabled until `syncer restart`"
            ),
        )
    return JobHealth(quarantine=quarantine)


def next_run(
    health: JobHealth, last_finished: datetime | None, interval: timedelta, now: datetime
) -> datetime | None:
    """When the job may run next: on its interval, or on the quarantine backoff; ``None`` when disabled."""
    if health.disabled_reason is not None:
        return None
    if last_finished is None:
        return now
    if health.quarantine is None:
        return last_finished + interval
    step = health.quarantine.attempts
    delay = BACKOFF[step] if step < len(BACKOFF) else DAILY
    return last_finished + delay


CLOCK_SKEW = timedelta(minutes=5)
"""How far behind the last run a clock may read and still be trusted: skew between hosts (Kerberos' bound)."""
MIN_RUN_GAP = timedelta(days=2)
"""The smallest default ``max_run_gap``: above the daily quarantine backoff and a missed day."""


def clock_distrust(
    now: datetime, last_run: datetime | None, interval: timedelta, max_gap: timedelta | None
) -> str | None:
    """Why this cycle's clock must age nothing (no hard delete falls due), or ``None`` when it may.

    The run history is the witness: a clock earlier than the last run (beyond a few minutes of
    skew) went backwards, and one far later than the schedule explains (``max_gap``, by default
    max(2 x interval, 2 days)) jumped, or the job was off for long. Either way an admin decides.
    """
    if last_run is None:
        return None
    if now < last_run - CLOCK_SKEW:
        return (
            f"the clock reads {now:%Y-%m-%d %H:%M} UTC, earlier than the last run at "
            f"{last_run:%Y-%m-%d %H:%M} UTC"
        )
    gap = max_gap if max_gap is not None else max(2 * interval, MIN_RUN_GAP)
    if now - last_run > gap:
        return (
            f"the clock reads {now:%Y-%m-%d %H:%M} UTC, {_days(now - last_run)} after the last run at "
            f"{last_run:%Y-%m-%d %H:%M} UTC: later than the schedule explains (max_run_gap {_days(gap)})"
        )
    return None


def _days(span: timedelta) -> str:
    days = span.total_seconds() / 86400
    return f"{days:.0f} days" if days >= 1 else f"{span.total_seconds() / 3600:.1f} hours"


def escrow_delay(attempts: int, interval: timedelta) -> int:
    """Cycles to skip before retrying an escrowed object: 0 (next cycle), then 1, 3, 7 ... capped at a day.

    The retry comes after 1, 2, 4, 8 ... cycles; the cap keeps a failing object retried at least
    daily, whatever the interval.
    """
    if attempts <= 1:
        return 0
    cycles: int = 2 ** (attempts - 1)
    cap = max(1, int(ESCROW_CAP / interval)) if interval > timedelta(0) else cycles
    return min(cycles, cap) - 1
