"""How fast syncer may talk to one target: a rate limit, write budgets, and a concurrency that adapts.

The rate limit spaces request starts evenly (``rate_limit: 25/s`` = one start every 40 ms), so
a documented target limit is never hit. Write budgets (``write_rate_limit``,
``user_write_rate_limit``) are :class:`WriteBudget` token buckets that only writes draw on: a
target that counts writes (GitHub EMU: 1,000 user writes an hour; Slack: 600 writes and 180
user writes a minute) is never pushed past its count, while reads go at the request pace. A
budget the target keeps per organisation is one bucket per target host in this process
(:func:`shared_budget`), so the daemon's jobs writing to the same Slack share it.

The adaptive limit halves the requests in flight when the target throttles (429, 503) and grows
back by one after a full window of successes (AIMD, as TCP does), so a struggling target gets
relief without a human lowering ``concurrency``. A failed
request waits before its next attempt (:class:`Backoff`).
"""

from __future__ import annotations

import asyncio
import enum
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import RetryCallState

from syncer.errors import TransientTargetError

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_RETRY_AFTER = 60.0
"""Longest Retry-After honoured: a target asking for an hour should fail this cycle, not stall it."""


class RateLimit:
    """Even spacing of request starts: at most ``per_second`` starts in any second, on average."""

    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        start = max(now, self._next)
        # claimed before sleeping: asyncio runs this without a switch, so no two callers share a slot
        self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


class WriteBudget:
    """A token bucket of writes: ``per_second`` refill it, it holds ``burst`` writes at most.

    Each write takes a token before it is sent; a write finding none waits until its token has
    refilled (the bucket goes into debt when it is claimed, so waiters queue in order and no two
    share a token). syncer uses ``burst=1``: the budget is spent evenly, which never puts more
    than the documented count in any window of the documented length, whether the target counts
    in fixed or sliding windows. A larger burst would let the first writes of a window go at
    once, yet a target counting a sliding window would then see the burst *plus* the refill
    inside one window and answer 429.

    The bookkeeping takes a thread lock, not an asyncio one: the daemon runs its jobs in threads,
    each with its own event loop, and jobs writing to one host share one budget.
    """

    def __init__(
        self, per_second: float, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_second <= 0:
            raise ValueError("a write budget needs a positive rate")
        self.per_second = per_second
        self.burst = max(1, burst)
        self._clock = clock
        self._tokens = float(self.burst)
        self._at = clock()
        self._lock = threading.Lock()

    def claim(self) -> float:
        """Take a token for one write: the seconds to wait before sending it (0.0: at once)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.per_second)
            self._at = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.per_second

    async def wait(self) -> None:
        delay = self.claim()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass(frozen=True, slots=True)
class WriteBudgets:
    """The budgets a client's writes draw on: every write, and writes to ``/Users``."""

    writes: WriteBudget | None = None
    user_writes: WriteBudget | None = None

    async def spend(self, method: str, path: str) -> None:
        """Each attempt of a write draws on the budgets: the target counts attempts, not intents."""
        if method not in WRITE_METHODS:
            return
        if self.user_writes is not None and path.lstrip("/").split("/", 1)[0].lower() == "users":
            await self.user_writes.wait()
        if self.writes is not None:
            await self.writes.wait()


class BudgetScope(enum.StrEnum):
    """Which writes a budget counts."""

    WRITES = "writes"
    USER_WRITES = "user-writes"


_shared: dict[tuple[str, BudgetScope, float], WriteBudget] = {}
_shared_lock = threading.Lock()


def shared_budget(host: str, scope: BudgetScope, per_second: float) -> WriteBudget:
    """The one budget of ``scope`` writes to ``host`` in this process, made on first use.

    Keyed by host, scope and rate: two jobs writing to one Slack organisation draw on one
    bucket. Separate processes (two daemons, a daemon and a manual ``syncer sync``) cannot see
    each other's buckets and each spends the whole budget.
    """
    key = (host.lower(), scope, per_second)
    with _shared_lock:
        budget = _shared.get(key)
        if budget is None:
            budget = _shared[key] = WriteBudget(per_second)
        return budget


class AdaptiveLimit:
    """Requests in flight, between 1 and ``maximum``: halved on throttling, +1 per window of successes."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = maximum
        self.in_flight = 0
        self._successes = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1

    async def release(self) -> None:
        async with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()

    def throttled(self) -> None:
        self.limit = max(1, self.limit // 2)
        self._successes = 0

    def succeeded(self) -> None:
        self._successes += 1
        if self.limit < self.maximum and self._successes >= self.limit:
            self.limit += 1
            self._successes = 0


class Backoff:
    """Back off exponentially with jitter, unless the target said how long (Retry-After).

    The jitter is as large as the first wait, not tenacity's fixed second, so that a small
    ``initial`` keeps retries quick and still spreads a burst of clients apart.
    """

    def __init__(self, initial: float, maximum: float) -> None:
        self.initial, self.maximum = initial, maximum

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientTargetError) and exc.retry_after is not None:
            return min(exc.retry_after, MAX_RETRY_AFTER)
        backoff = self.initial * 2.0 ** (state.attempt_number - 1) + random.uniform(0, self.initial)
        return min(backoff, self.maximum)
