"""job_lease: refuse or wait, a heartbeat that keeps a long block's lease, release in a finally."""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer.adapters.state import StateStore
from syncer.errors import LeaseHeld, LeaseLost
from syncer.runtime.lease import job_lease

TTL = datetime.timedelta(seconds=0.6)


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[StateStore, StateStore]]:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    with StateStore(url) as first, StateStore(url) as second:
        yield first, second


def test_a_block_longer_than_the_ttl_keeps_its_lease_and_releases_it(
    two: tuple[StateStore, StateStore],
) -> None:
    """The heartbeat renews every third of the TTL: a 3-TTL block is never seen as expired."""
    first, second = two
    with job_lease(first, "hr", command="sync", ttl=TTL):
        for _ in range(6):
            time.sleep(TTL.total_seconds() / 2)
            held = pytest.raises(LeaseHeld, match=r"job hr is being run by `syncer sync` \(pid \d+ on host")
            with held, job_lease(second, "hr", command="sync", ttl=TTL):
                pass
    assert second.lease_holder("job:hr") is None  # released at once, not left to expire
    with job_lease(second, "hr", command="sync", ttl=TTL):
        pass


def test_a_block_that_raises_still_releases(two: tuple[StateStore, StateStore]) -> None:
    first, second = two
    with pytest.raises(RuntimeError), job_lease(first, "hr", command="sync", ttl=TTL):
        raise RuntimeError("boom")
    assert second.lease_holder("job:hr") is None


def test_wait_takes_the_lease_once_the_holder_is_done(two: tuple[StateStore, StateStore]) -> None:
    first, second = two
    taken = threading.Event()

    def hold() -> None:
        with job_lease(first, "hr", command="run", ttl=TTL):
            taken.set()
            time.sleep(1.0)

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(5)
    started = time.monotonic()
    with job_lease(second, "hr", command="sync", ttl=TTL, wait=datetime.timedelta(seconds=10)):
        waited = time.monotonic() - started
    holder.join()
    assert 0.5 < waited < 5


def test_wait_gives_up_after_its_timeout_naming_the_holder(two: tuple[StateStore, StateStore]) -> None:
    first, second = two
    with job_lease(first, "hr", command="run", ttl=TTL):
        started = time.monotonic()
        refused = pytest.raises(LeaseHeld, match=r"`syncer run` .*\(waited 0.5s\)")
        with refused, job_lease(second, "hr", command="sync", ttl=TTL, wait=datetime.timedelta(seconds=0.5)):
            pass
        assert 0.4 < time.monotonic() - started < 3


def test_a_lost_lease_is_reported_and_the_next_write_refused(two: tuple[StateStore, StateStore]) -> None:
    """Another process took the lease over (here: by force): the heartbeat says so, the fence refuses."""
    first, second = two
    with job_lease(first, "hr", command="run", ttl=TTL) as held:
        first.release_lease("job:hr", held.lease.owner)  # as if it had expired
        assert second.take_lease("job:hr", "intruder", ttl=datetime.timedelta(minutes=1)) is not None
        deadline = time.monotonic() + 5
        while held.lost is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert held.lost == "the job's lease was taken by another process"
        with pytest.raises(LeaseLost):
            first.set_flag("hr", "k", 1)
    holder = second.lease_holder("job:hr")
    assert holder is not None and holder.owner == "intruder"  # the loser's release did not free it
