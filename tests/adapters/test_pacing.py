"""How fast syncer talks to a target: the even rate limit and the AIMD concurrency limit."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from syncer.adapters.scim.pacing import AdaptiveLimit, RateLimit


def test_rate_limit_spaces_starts() -> None:
    """At 20/s, ten starts take at least 9 intervals of 50 ms (0.45 s), evenly spaced."""

    async def main() -> list[float]:
        limit = RateLimit(20)
        starts = []
        for _ in range(10):
            await limit.wait()
            starts.append(time.monotonic())
        return starts

    starts = asyncio.run(main())
    assert starts[-1] - starts[0] >= 0.45 - 0.005
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 0.045


def test_rate_limit_concurrent_callers_share_no_slot() -> None:
    """Ten concurrent waiters at 20/s still start 50 ms apart: each claims its own slot."""

    async def main() -> list[float]:
        limit = RateLimit(20)
        starts: list[float] = []

        async def one() -> None:
            await limit.wait()
            starts.append(time.monotonic())

        await asyncio.gather(*(one() for _ in range(10)))
        return sorted(starts)

    starts = asyncio.run(main())
    assert starts[-1] - starts[0] >= 0.45 - 0.005


@pytest.mark.parametrize("per_second", [None, 0])
def test_no_rate_limit_never_waits(per_second: float | None) -> None:
    """Without a rate limit a thousand waits return at once."""

    async def main() -> float:
        limit = RateLimit(per_second)
        begin = time.monotonic()
        for _ in range(1000):
            await limit.wait()
        return time.monotonic() - begin

    assert RateLimit(per_second).interval == 0.0
    assert asyncio.run(main()) < 0.1


def test_rate_limit_interval() -> None:
    """25/s is one start every 40 ms."""
    assert RateLimit(25).interval == pytest.approx(0.04)


def test_adaptive_limit_halves_on_throttling_never_below_one() -> None:
    """Each throttle halves the limit, 8 -> 4 -> 2 -> 1, and it stays at 1."""
    limit = AdaptiveLimit(8)
    seen = [limit.limit]
    for _ in range(5):
        limit.throttled()
        seen.append(limit.limit)
    assert seen == [8, 4, 2, 1, 1, 1]


def test_adaptive_limit_grows_after_a_window_of_successes() -> None:
    """The limit grows by one after ``limit`` successes in a row, up to the maximum and no further."""
    limit = AdaptiveLimit(4)
    limit.throttled()
    limit.throttled()
    assert limit.limit == 1
    limit.succeeded()
    assert limit.limit == 2
    limit.succeeded()
    assert limit.limit == 2  # one of two
    limit.succeeded()
    assert limit.limit == 3
    for _ in range(2):
        limit.succeeded()
    assert limit.limit == 3
    limit.succeeded()
    assert limit.limit == 4
    for _ in range(100):
        limit.succeeded()
    assert limit.limit == 4 == limit.maximum


def test_adaptive_limit_throttle_restarts_the_window() -> None:
    """A throttle drops the successes counted so far toward growing."""
    limit = AdaptiveLimit(8)
    limit.throttled()  # 4
    for _ in range(3):
        limit.succeeded()
    limit.throttled()  # 2, window restarts
    limit.succeeded()
    assert limit.limit == 2
    limit.succeeded()
    assert limit.limit == 3


def test_adaptive_limit_acquire_blocks_at_the_limit() -> None:
    """With the limit at 2, a third acquire waits until one of the two is released."""

    async def main() -> None:
        limit = AdaptiveLimit(4)
        limit.throttled()
        assert limit.limit == 2
        await limit.acquire()
        await limit.acquire()
        assert limit.in_flight == 2
        third = asyncio.ensure_future(limit.acquire())
        await asyncio.sleep(0.05)
        assert not third.done()
        await limit.release()
        await asyncio.wait_for(third, 1)
        assert limit.in_flight == 2
        await limit.release()
        await limit.release()
        assert limit.in_flight == 0

    asyncio.run(main())


def test_adaptive_limit_caps_concurrency() -> None:
    """Twenty tasks through a limit of 3 never have more than 3 in flight at once."""

    async def main() -> int:
        limit = AdaptiveLimit(3)
        peak = 0

        async def task() -> None:
            nonlocal peak
            await limit.acquire()
            try:
                peak = max(peak, limit.in_flight)
                await asyncio.sleep(0.005)
            finally:
                await limit.release()

        await asyncio.gather(*(task() for _ in range(20)))
        assert limit.in_flight == 0
        return peak

    assert asyncio.run(main()) == 3
