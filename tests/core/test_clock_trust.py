"""Time can lie: a cycle whose clock the run history cannot vouch for ages nothing (issue 11).

A clock 365 days behind stamped leavers gone a year ago, and the next cycle hard-deleted them; a
40-day jump forward deleted five at once. The run times in the state are the witness.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from syncer.core.changes import DeleteObject, DisableUser, Skip
from syncer.core.deprovisioning import CLOCK_UNTRUSTED, gone_user
from syncer.core.policy import clock_distrust
from syncer.types import Link, ObjectKind

LAST = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=40)


@pytest.mark.parametrize(
    ("now", "max_gap", "says"),
    [
        pytest.param(LAST - timedelta(days=365), None, "earlier than the last run", id="a-year-behind"),
        pytest.param(
            LAST - timedelta(minutes=10), None, "earlier than the last run", id="ten-minutes-behind"
        ),
        pytest.param(LAST + timedelta(days=40), None, "later than the schedule explains", id="40-days-ahead"),
        pytest.param(LAST + timedelta(days=3), None, "later than the schedule explains", id="3-days-ahead"),
        pytest.param(LAST + timedelta(days=9), timedelta(days=8), "max_run_gap 8 days", id="configured-gap"),
    ],
)
def test_a_clock_the_history_cannot_vouch_for_is_distrusted(
    now: datetime, max_gap: timedelta | None, says: str
) -> None:
    """Earlier than the last run, or later than max(2 x interval, 2 days) after it: distrusted, with why."""
    reason = clock_distrust(now, LAST, INTERVAL, max_gap)
    assert reason is not None and says in reason


@pytest.mark.parametrize(
    ("now", "max_gap"),
    [
        pytest.param(LAST + INTERVAL, None, id="on-schedule"),
        pytest.param(LAST + timedelta(hours=25), None, id="quarantine-daily-backoff"),
        pytest.param(LAST - timedelta(minutes=2), None, id="skew-between-hosts"),
        pytest.param(LAST + timedelta(days=7), timedelta(days=8), id="weekly-cron-with-its-gap"),
    ],
)
def test_a_clock_on_schedule_is_trusted(now: datetime, max_gap: timedelta | None) -> None:
    """On schedule, on the quarantine backoff, within a few minutes' skew, or within max_run_gap: trusted."""
    assert clock_distrust(now, LAST, INTERVAL, max_gap) is None


def test_no_history_no_distrust() -> None:
    """The first cycle has no witness, and nothing to age either."""
    assert clock_distrust(LAST, None, INTERVAL, None) is None


def _link(gone_days: float | None, disabled: bool = True) -> Link:
    since = None if gone_days is None else (LAST - timedelta(days=gone_days)).isoformat()
    return Link(ObjectKind.USER, "u1", "t1", "ann", MappingProxyType({}), disabled=disabled, gone_since=since)


def test_a_due_hard_delete_waits_when_aging_is_suspended() -> None:
    """A leaver gone 40 days is deleted on a trusted clock, and skipped, saying why, on a distrusted one."""
    link = _link(40)
    trusted = gone_user("u1", link, now=LAST, hard_delete_after=timedelta(days=30))
    assert isinstance(trusted, DeleteObject)
    held = gone_user("u1", link, now=LAST, hard_delete_after=timedelta(days=30), aging=False)
    assert isinstance(held, Skip) and held.reason == CLOCK_UNTRUSTED
    assert "approve-deletions" in held.detail


def test_a_new_leaver_is_disabled_without_starting_the_clock_when_aging_is_suspended() -> None:
    """On a distrusted clock the disable goes out but stamps no gone-since time (it would be the lie)."""
    link = _link(None, disabled=False)
    change = gone_user("u1", link, now=LAST, hard_delete_after=timedelta(days=30), aging=False)
    assert change == DisableUser("u1", "ann", "t1", "gone from the source", gone=False)
    trusted = gone_user("u1", link, now=LAST, hard_delete_after=timedelta(days=30))
    assert trusted == DisableUser("u1", "ann", "t1", "gone from the source", gone=True)
