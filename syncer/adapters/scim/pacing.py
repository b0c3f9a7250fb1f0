"""How fast syncer may talk to one target: a rate limit, and a concurrency that adapts.

The rate limit spaces request starts evenly (``rate_limit: 25/s`` = one start every 40 ms), so
a documented target limit is never hit. The adaptive limit halves the requests in flight when the
target throttles (429, 503) and grows back by one after a full window of successes (AIMD, as TCP
does), so a struggling target gets relief without a human lowering ``concurrency``. A failed
request waits before its next attempt (:class:`Backoff`).
"""

from __future__ import annotations

import asyncio
import random
import time

from tenacity import RetryCallState

from syncer.errors import TransientTargetError

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
