"""Write budgets: token buckets on a fake clock, and one bucket per host when the budget is shared."""

from __future__ import annotations

import asyncio
import threading

import pytest

from syncer.adapters.scim.pacing import BudgetScope, WriteBudget, WriteBudgets, shared_budget


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_budget_of_one_spends_the_rate_evenly() -> None:
    """At 2 writes a second the first goes at once and each next one waits half a second more."""
    clock = FakeClock()
    budget = WriteBudget(2.0, clock=clock)
    assert [budget.claim() for _ in range(4)] == [0.0, 0.5, 1.0, 1.5]


def test_waiting_writes_leave_no_token_for_a_newcomer() -> None:
    """Claimed tokens are debt: after a queue of three, a fourth waits behind them, not beside."""
    clock = FakeClock()
    budget = WriteBudget(1.0, clock=clock)
    for _ in range(3):
        budget.claim()
    clock.now += 1.0  # one token refilled, already owed to the second write
    assert budget.claim() == pytest.approx(2.0)


def test_an_idle_budget_refills_to_its_burst_and_no_further() -> None:
    clock = FakeClock()
    budget = WriteBudget(1.0, burst=3, clock=clock)
    clock.now += 3600  # an idle hour saves up three writes, not 3,600
    assert [budget.claim() for _ in range(4)] == [0.0, 0.0, 0.0, pytest.approx(1.0)]


def test_never_more_than_the_count_in_any_window() -> None:
    """1,000 an hour, spent evenly: in every hour of a long run the writes sent stay within 1,000."""
    clock = FakeClock()
    budget = WriteBudget(1000 / 3600, clock=clock)
    start = clock.now
    sent = [start + budget.claim() for _ in range(3000)]
    for i, at in enumerate(sent):
        within = [t for t in sent[i:] if t < at + 3600 - 1e-6]
        assert len(within) <= 1000


def test_a_shared_budget_is_one_bucket_per_host_and_scope() -> None:
    one = shared_budget("Slack.example", BudgetScope.USER_WRITES, 3.0)
    assert shared_budget("slack.example", BudgetScope.USER_WRITES, 3.0) is one
    assert shared_budget("slack.example", BudgetScope.WRITES, 3.0) is not one
    assert shared_budget("other.example", BudgetScope.USER_WRITES, 3.0) is not one


def test_threads_claiming_at_once_get_distinct_tokens() -> None:
    """The daemon's jobs run in threads: claims from many at once still queue one behind another."""
    clock = FakeClock()
    budget = WriteBudget(10.0, clock=clock)
    waits: list[float] = []
    lock = threading.Lock()

    def claim() -> None:
        for _ in range(50):
            wait = budget.claim()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(round(w, 6) for w in waits) == [round(i / 10, 6) for i in range(200)]


def test_only_writes_draw_on_the_budgets_and_user_writes_on_both() -> None:
    """A GET takes nothing; a group PATCH takes a write; a user POST a write and a user write."""
    clock = FakeClock()
    budgets = WriteBudgets(WriteBudget(1.0, burst=10, clock=clock), WriteBudget(1.0, burst=10, clock=clock))

    async def main() -> None:
        await budgets.spend("GET", "/Users?filter=x")
        await budgets.spend("PATCH", "/Groups/7")
        await budgets.spend("POST", "/Users")
        await budgets.spend("DELETE", "/Users/3")

    asyncio.run(main())
    assert budgets.writes is not None and budgets.user_writes is not None
    assert budgets.writes.claim() == 0.0 and budgets.user_writes.claim() == 0.0
    # 10 tokens each: three writes and a fourth claim leave 6; two user writes and a claim leave 7
    assert [budgets.writes.claim() for _ in range(7)][-1] == pytest.approx(1.0)
    assert [budgets.user_writes.claim() for _ in range(8)][-1] == pytest.approx(1.0)
