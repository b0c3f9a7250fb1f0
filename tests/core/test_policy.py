"""The quarantine state machine and escrow backoff (syncer.core.policy), with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syncer.core.policy import (
    ESCROW_PROPORTION,
    ESCROW_TOTAL,
    QUARANTINE_EXCEPTION,
    TOO_MANY_DELETES,
    CycleOutcome,
    EscrowThresholds,
    JobHealth,
    Quarantine,
    escrow_delay,
    next_health,
    next_run,
    quarantine_reason,
)

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SMALL = EscrowThresholds(min_failures=10, proportion=0.40, total=100, absolute=150)
INTERVAL = timedelta(minutes=40)


def outcome(
    failures: int = 0,
    objects: int = 1000,
    *,
    refs: int = 0,
    fatal: str | None = None,
    held: bool = False,
    at: datetime = T0,
) -> CycleOutcome:
    return CycleOutcome(
        finished_at=at,
        objects=objects,
        failures=failures,
        reference_failures=refs,
        fatal=fatal,
        held_deletions=held,
    )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (outcome(fatal="401 Unauthorized"), QUARANTINE_EXCEPTION),
        (outcome(fatal="401 Unauthorized", failures=500, held=True), QUARANTINE_EXCEPTION),
        (outcome(failures=10, objects=20), ESCROW_PROPORTION),  # 50% with exactly min_failures
        (outcome(failures=9, objects=10), None),  # 90% but below min_failures
        (outcome(failures=10, objects=25), None),  # exactly 40%: not more than the proportion
        (outcome(failures=11, objects=25), ESCROW_PROPORTION),  # 44%
        (outcome(failures=100, objects=1000), None),  # exactly total: not more
        (outcome(failures=101, objects=1000), ESCROW_TOTAL),
        (outcome(failures=50, objects=1000, refs=100), None),  # exactly absolute with references
        (outcome(failures=50, objects=1000, refs=101), ESCROW_TOTAL),
        (outcome(failures=0, objects=1000, refs=151), ESCROW_TOTAL),  # references alone count here
        (outcome(failures=5, objects=1000, held=True), TOO_MANY_DELETES),
        (outcome(failures=101, objects=1000, held=True), ESCROW_TOTAL),  # thresholds before deletions
        (outcome(failures=5, objects=1000), None),
        (outcome(), None),
        (outcome(failures=0, objects=0), None),
    ],
)
def test_quarantine_reason(case: CycleOutcome, expected: str | None) -> None:
    """Each outcome quarantines for exactly the expected reason, at and around each threshold."""
    found = quarantine_reason(case, SMALL)
    assert (found[0] if found else None) == expected


def test_quarantine_reason_details() -> None:
    """The detail names what passed which threshold."""
    assert quarantine_reason(outcome(fatal="401: bad token"), SMALL) == (
        QUARANTINE_EXCEPTION,
        "401: bad token",
    )
    assert quarantine_reason(outcome(failures=11, objects=20), SMALL) == (
        ESCROW_PROPORTION,
        "11 of 20 objects failed (55%, more than 40% with at least 10)",
    )
    assert quarantine_reason(outcome(failures=101), SMALL) == (
        ESCROW_TOTAL,
        "101 objects failed (more than 100)",
    )
    assert quarantine_reason(outcome(failures=50, refs=101), SMALL) == (
        ESCROW_TOTAL,
        "151 failures with references (more than 150)",
    )
    assert quarantine_reason(outcome(held=True), SMALL) == (
        TOO_MANY_DELETES,
        "the deletion threshold held this cycle's disables and deletes",
    )


def test_entra_defaults() -> None:
    """The default thresholds are Entra's: 5,000 at more than 40%, 40,000 in all, 60,000 absolute."""
    defaults = EscrowThresholds()
    assert (defaults.min_failures, defaults.proportion, defaults.total, defaults.absolute) == (
        5000,
        0.40,
        40000,
        60000,
    )
    assert quarantine_reason(outcome(failures=4999, objects=5000), defaults) is None
    assert quarantine_reason(outcome(failures=5000, objects=12500), defaults) is None  # exactly 40%
    assert quarantine_reason(outcome(failures=5000, objects=12000), defaults) is not None
    assert quarantine_reason(outcome(failures=40001, objects=10**6), defaults) is not None


def test_next_health_enters_quarantine() -> None:
    """A healthy job meeting a fatal cycle enters quarantine since that cycle, with 0 attempts."""
    after = next_health(JobHealth(), outcome(fatal="401"), SMALL)
    assert after == JobHealth(quarantine=Quarantine(QUARANTINE_EXCEPTION, T0, "401", attempts=0))
    assert not after.healthy


def test_next_health_keeps_quarantine_and_counts_attempts() -> None:
    """Another failing cycle keeps the original ``since`` and adds one attempt."""
    before = JobHealth(quarantine=Quarantine(QUARANTINE_EXCEPTION, T0, "401", attempts=2))
    after = next_health(before, outcome(fatal="403", at=T0 + timedelta(hours=30)), SMALL)
    assert after == JobHealth(quarantine=Quarantine(QUARANTINE_EXCEPTION, T0, "403", attempts=3))


def test_next_health_changes_reason() -> None:
    """A quarantined job failing for another reason takes the new reason, same since, attempts + 1."""
    before = JobHealth(quarantine=Quarantine(QUARANTINE_EXCEPTION, T0, "401", attempts=0))
    after = next_health(before, outcome(failures=101, at=T0 + timedelta(hours=6)), SMALL)
    assert after.quarantine == Quarantine(ESCROW_TOTAL, T0, "101 objects failed (more than 100)", attempts=1)
    assert after.disabled_reason is None


def test_next_health_clean_cycle_lifts() -> None:
    """A clean cycle lifts quarantine whatever its reason and age."""
    before = JobHealth(quarantine=Quarantine(ESCROW_TOTAL, T0, "x", attempts=7))
    assert next_health(before, outcome(failures=3, at=T0 + timedelta(days=27)), SMALL) == JobHealth()
    assert next_health(JobHealth(), outcome(), SMALL).healthy


def test_next_health_disables_after_28_days() -> None:
    """Still failing 28 days after entering quarantine disables the job; a day less does not."""
    before = JobHealth(quarantine=Quarantine(QUARANTINE_EXCEPTION, T0, "401", attempts=20))
    almost = next_health(
        before, outcome(fatal="401", at=T0 + timedelta(days=28) - timedelta(seconds=1)), SMALL
    )
    assert almost.disabled_reason is None and almost.quarantine is not None
    assert almost.quarantine.attempts == 21
    after = next_health(before, outcome(fatal="401", at=T0 + timedelta(days=28)), SMALL)
    assert after.disabled_reason == (
        "quarantined for 28 days (EncounteredQuarantineException): disabled until `syncer restart`"
    )
    assert after.quarantine == Quarantine(QUARANTINE_EXCEPTION, T0, "401", attempts=21)


def test_next_health_disabled_stays_disabled() -> None:
    """A disabled job stays as it is, even after a clean cycle."""
    disabled = JobHealth(
        quarantine=Quarantine(QUARANTINE_EXCEPTION, T0, "401", attempts=30), disabled_reason="x"
    )
    assert next_health(disabled, outcome(), SMALL) is disabled
    assert next_health(disabled, outcome(fatal="401"), SMALL) is disabled


def test_next_run_healthy_is_last_plus_interval() -> None:
    """A healthy job runs one interval after its last cycle finished."""
    now = T0 + timedelta(minutes=5)
    assert next_run(JobHealth(), T0, INTERVAL, now) == T0 + INTERVAL


@pytest.mark.parametrize(
    ("attempts", "hours"),
    [(0, 6), (1, 12), (2, 24), (3, 24), (10, 24)],
)
def test_next_run_quarantine_backoff(attempts: int, hours: int) -> None:
    """Quarantined, the job runs 6 h, 12 h, 24 h, then daily after its last cycle, whatever the interval."""
    health = JobHealth(quarantine=Quarantine(QUARANTINE_EXCEPTION, T0, attempts=attempts))
    last = T0 + timedelta(days=attempts)
    assert next_run(health, last, INTERVAL, last + timedelta(minutes=1)) == last + timedelta(hours=hours)


def test_next_run_disabled_is_none() -> None:
    """A disabled job is never scheduled."""
    health = JobHealth(quarantine=Quarantine(QUARANTINE_EXCEPTION, T0), disabled_reason="disabled")
    assert next_run(health, T0, INTERVAL, T0) is None
    assert next_run(health, None, INTERVAL, T0) is None


def test_next_run_never_ran_is_now() -> None:
    """A job that never ran is due now, healthy or quarantined."""
    now = T0 + timedelta(hours=3)
    assert next_run(JobHealth(), None, INTERVAL, now) == now
    assert next_run(JobHealth(quarantine=Quarantine(TOO_MANY_DELETES, T0)), None, INTERVAL, now) == now


@pytest.mark.parametrize(
    ("attempts", "skip"), [(0, 0), (1, 0), (2, 1), (3, 3), (4, 7), (5, 15), (6, 31), (7, 35), (20, 35)]
)
def test_escrow_delay_forty_minutes(attempts: int, skip: int) -> None:
    """At a 40 min interval the skips double (0, 1, 3, 7, 15, 31) up to a day's 36 cycles less one."""
    assert escrow_delay(attempts, timedelta(minutes=40)) == skip


@pytest.mark.parametrize(("attempts", "skip"), [(1, 0), (2, 1), (3, 3), (4, 3), (5, 3), (6, 3)])
def test_escrow_delay_six_hours(attempts: int, skip: int) -> None:
    """At a 6 h interval a day is 4 cycles, so no retry waits more than 3 skipped cycles."""
    assert escrow_delay(attempts, timedelta(hours=6)) == skip


def test_escrow_delay_long_interval_retries_every_cycle() -> None:
    """With an interval of a day or more, an escrowed object is retried every cycle."""
    assert [escrow_delay(a, timedelta(days=2)) for a in range(1, 6)] == [0, 0, 0, 0, 0]


def test_a_distrusted_clock_does_not_age_a_quarantine_into_a_disabled_job() -> None:
    """A clock that jumped 40 days ages no quarantine: the job stays quarantined, not disabled."""
    from dataclasses import replace

    before = JobHealth(quarantine=Quarantine(QUARANTINE_EXCEPTION, T0, "401", attempts=2))
    jumped = replace(outcome(fatal="401", at=T0 + timedelta(days=40)), aging=False)
    after = next_health(before, jumped, SMALL)
    assert after.disabled_reason is None and after.quarantine is not None
