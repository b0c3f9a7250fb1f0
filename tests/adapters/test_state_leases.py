"""The single-runner lease: expiry on the database's clock, a fencing token every write checks.

Two stores on one SQLite file stand for two processes (each has its own connections); the
end-to-end tests in ``tests/e2e/test_one_runner.py`` do the same with real processes.
"""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer.adapters.state import StateStore, lease_name
from syncer.errors import LeaseLost, StateError
from syncer.types import ObjectKind
from tests.adapters.test_state_store import T0, a_link

TTL = datetime.timedelta(seconds=30)
WRITER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=0)
db.execute("INSERT INTO job_flags VALUES ('b', 'k', '1', '2025-01-01 00:00:00')")
db.commit()
"""
SHORT = datetime.timedelta(seconds=0.3)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


@pytest.fixture
def two(url: str) -> Iterator[tuple[StateStore, StateStore]]:
    with StateStore(url) as first, StateStore(url) as second:
        yield first, second


def test_a_lease_has_one_holder_until_it_expires_or_is_released(two: tuple[StateStore, StateStore]) -> None:
    """A second owner cannot take a held lease; it can once it expired or was released.

    Expired means: past its end on the database's clock, and watched unrenewed for its TTL.
    """
    first, second = two
    assert first.take_lease("job:a", "one", ttl=SHORT) is not None
    assert second.take_lease("job:a", "two", ttl=TTL) is None
    assert second.take_lease("job:b", "two", ttl=TTL) is not None  # leases are per job
    time.sleep(0.4)
    past = first.lease_holder("job:a")  # past its end: still named, until someone takes it
    assert past is not None and past.owner == "one" and past.overdue
    assert "--wait takes the job over after 0.3s" in past.describe()
    taken = second.take_lease("job:a", "two", ttl=TTL)
    assert taken is not None
    first.release_lease("job:a", "one")  # not the holder any more: no effect
    holder = first.lease_holder("job:a")
    assert holder is not None and holder.owner == "two"
    second.release_lease("job:a", "two")
    assert first.lease_holder("job:a") is None
    assert first.take_lease("job:a", "one", ttl=TTL) is not None


def test_a_caller_clock_ahead_cannot_expire_a_live_lease(two: tuple[StateStore, StateStore]) -> None:
    """The first design took `now` from the caller: a clock 10 minutes ahead took a live lease."""
    first, second = two
    assert first.acquire_lease("job:a", "one", ttl=TTL, now=datetime.datetime.now(datetime.UTC))
    ahead = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=10)
    assert not second.acquire_lease("job:a", "two", ttl=TTL, now=ahead)
    assert second.take_lease("job:a", "two", ttl=TTL) is None
    holder = second.lease_holder("job:a")
    assert holder is not None and holder.owner == "one"


def test_an_expired_lease_is_taken_only_after_watching_it_for_its_ttl(
    two: tuple[StateStore, StateStore],
) -> None:
    """A contender that first looks at an already expired lease still watches it for a TTL."""
    first, second = two
    assert first.take_lease("job:a", "one", ttl=SHORT) is not None
    time.sleep(0.4)
    assert second.take_lease("job:a", "two", ttl=TTL) is None  # expired, but never watched
    time.sleep(0.4)
    assert second.take_lease("job:a", "two", ttl=TTL) is not None


def test_a_renewal_restarts_the_watch(two: tuple[StateStore, StateStore]) -> None:
    first, second = two
    lease = first.take_lease("job:a", "one", ttl=SHORT)
    assert lease is not None
    assert second.take_lease("job:a", "two", ttl=TTL) is None
    time.sleep(0.2)
    assert first.renew_lease(lease, ttl=SHORT)
    time.sleep(0.2)
    assert second.take_lease("job:a", "two", ttl=TTL) is None  # renewed 0.2 s ago: alive
    time.sleep(0.15)
    assert second.take_lease("job:a", "two", ttl=TTL) is None  # expired, but the new beat seen 0.15 s ago
    time.sleep(0.25)
    assert second.take_lease("job:a", "two", ttl=TTL) is not None


def test_every_acquisition_gets_a_higher_token_and_renewal_keeps_it(
    two: tuple[StateStore, StateStore],
) -> None:
    """The fencing token only grows, released or not; renewing keeps it and needs it."""
    first, second = two
    one = first.take_lease("job:a", "one", ttl=TTL)
    assert one is not None and one.token == 1
    assert first.renew_lease(one, ttl=TTL)
    first.release_lease("job:a", "one")
    two_ = second.take_lease("job:a", "two", ttl=TTL)
    assert two_ is not None and two_.token == 2
    assert not first.renew_lease(one, ttl=TTL), "a renewal with an old token revived a lost lease"
    again = second.take_lease("job:a", "two", ttl=TTL)  # its own lease, taken again: a new token
    assert again is not None and again.token == 3


def test_the_holder_says_who_where_and_since_when(url: str) -> None:
    """What a refused command prints: the command, pid, host and the time it took the lease (UTC)."""
    with StateStore(url) as store:
        before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
        store.take_lease(lease_name("hr"), "me", ttl=TTL, command="sync")
        holder = store.lease_holder("job:hr")
    assert holder is not None
    assert (holder.pid, holder.host, holder.command) == (os.getpid(), socket.gethostname(), "sync")
    assert before <= holder.since <= datetime.datetime.now(datetime.UTC)
    assert holder.expires_at - holder.since == pytest.approx(TTL, abs=datetime.timedelta(seconds=0.01))
    text = holder.describe()
    assert not holder.overdue and "--wait takes" not in text
    assert f"pid {os.getpid()}" in text and socket.gethostname() in text and "since 20" in text


def test_a_worker_that_lost_its_lease_writes_nothing(two: tuple[StateStore, StateStore]) -> None:
    """After another process took the lease, the old holder's next write raises LeaseLost, and is not done."""
    first, second = two
    lease = first.take_lease("job:a", "one", ttl=SHORT)
    assert lease is not None
    first.fence(lease)
    first.save_link("a", a_link("u1", "t1"))  # still ours
    assert second.take_lease("job:a", "two", ttl=TTL) is None  # seen held: the watch starts
    time.sleep(0.4)
    assert second.take_lease("job:a", "two", ttl=TTL) is not None
    with pytest.raises(LeaseLost, match="taken by another process"):
        first.save_link("a", a_link("u2", "t2"))
    with pytest.raises(LeaseLost):
        first.begin_run("a", initial=False, dry_run=False, started_at=T0)
    assert set(second.load("a").links) == {(ObjectKind.USER, "u1")}
    assert second.runs("a") == []


def test_fencing_covers_every_store_the_cycle_opens_on_that_url(two: tuple[StateStore, StateStore]) -> None:
    """The holder wraps the cycle in `fencing`; a store the cycle opens itself is fenced too."""
    first, second = two
    lease = first.take_lease("job:a", "one", ttl=SHORT)
    assert lease is not None
    with first.fencing(lease), StateStore(first.url) as cycle:  # the cycle's own store
        cycle.set_flag("a", "k", 1)
        assert second.take_lease("job:a", "two", ttl=TTL) is None
        time.sleep(0.4)
        assert second.take_lease("job:a", "two", ttl=TTL) is not None
        with pytest.raises(LeaseLost):
            cycle.set_flag("a", "k", 2)
    second.set_flag("a", "k", 3)  # outside the block: not fenced
    assert second.get_flag("a", "k") == 3


def test_the_state_file_and_its_wal_are_private(tmp_path: Path) -> None:
    """The state holds names and emails: 0600 for the file, its -wal and -shm, whatever the umask."""
    path = tmp_path / "state.db"
    old = os.umask(0o022)
    try:
        with StateStore(f"sqlite:///{path}") as store:
            store.save_link("a", a_link("u1", "t1"))
            modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.glob("state.db*")}
    finally:
        os.umask(old)
    assert modes == {"state.db": 0o600, "state.db-wal": 0o600, "state.db-shm": 0o600}


def test_an_existing_world_readable_state_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateStore(f"sqlite:///{path}").close()
    path.chmod(0o644)
    StateStore(f"sqlite:///{path}").close()
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_state_file_deleted_mid_run_fails_the_next_write_naming_it(tmp_path: Path) -> None:
    """SQLite writes to an unlinked file without a word and loses it all at exit; syncer stops instead."""
    path = tmp_path / "state.db"
    with StateStore(f"sqlite:///{path}") as store:
        store.save_link("a", a_link("u1", "t1"))
        for companion in tmp_path.glob("state.db*"):
            companion.unlink()
        with pytest.raises(StateError, match=rf"state file {path} was deleted"):
            store.save_link("a", a_link("u2", "t2"))


def test_a_state_file_replaced_mid_run_fails_the_next_write_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with StateStore(f"sqlite:///{path}") as store:
        store.save_link("a", a_link("u1", "t1"))
        path.rename(tmp_path / "moved.db")
        path.write_bytes(b"")
        with pytest.raises(StateError, match=rf"state file {path} was replaced"):
            store.set_flag("a", "k", 1)


def test_opening_a_second_store_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    """Closing any descriptor of a SQLite file drops the process's POSIX locks on it: corruption.

    The daemon's store and each cycle's store live in one process, so opening one must not open
    and close the database file. Else the first store's shared lock is gone, and another process
    closing its last connection believes it is the only one: it checkpoints and deletes the WAL
    under the first store (seen: "database disk image is malformed" after a sync beside a daemon).
    """
    path = tmp_path / "state.db"
    wal = tmp_path / "state.db-wal"
    with StateStore(f"sqlite:///{path}") as first:
        first.save_link("a", a_link("u1", "t1"))  # its pooled connection stays open
        StateStore(f"sqlite:///{path}").close()
        other = subprocess.run([sys.executable, "-c", WRITER, str(path)], capture_output=True, timeout=30)
        assert other.returncode == 0, other.stderr
        assert wal.exists(), "another process deleted the WAL of a database still open here"
        first.save_link("a", a_link("u2", "t2"))
        assert len(first.load("a").links) == 2


TRUNCATE_SHM = """
import os, sys
from syncer.adapters.state import StateStore
from tests.adapters.test_state_store import a_link

store = StateStore(f"sqlite:///{sys.argv[1]}")
store.save_link("a", a_link("u1", "t1"))
os.truncate(sys.argv[1] + "-shm", 0)
store.save_link("a", a_link("u2", "t2"))
"""


def test_a_truncated_shared_memory_file_fails_with_a_message_not_sigbus(tmp_path: Path) -> None:
    """SQLite maps the -shm file: cut under it, the process died of SIGBUS without a word (exit 135)."""
    path = tmp_path / "state.db"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", TRUNCATE_SHM, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert f"shared-memory file {path}-shm was truncated" in done.stderr


HOLD_AND_DIE = """
import datetime, os, sys
from syncer.adapters.state import StateStore

store = StateStore(f"sqlite:///{sys.argv[1]}")
assert store.take_lease("job:a", "dead", ttl=datetime.timedelta(minutes=10), command="sync")
os._exit(0)  # like a SIGKILL: no release
"""


def test_the_lease_of_a_killed_process_on_this_host_is_taken_at_once(url: str, tmp_path: Path) -> None:
    """A `syncer sync` killed mid-run must not block the next one for a TTL: its pid is gone."""
    path = tmp_path / "state.db"
    StateStore(url).close()
    died = subprocess.run([sys.executable, "-c", HOLD_AND_DIE, str(path)], capture_output=True, timeout=60)
    assert died.returncode == 0, died.stderr
    with StateStore(url) as store:
        holder = store.lease_holder("job:a")
        assert holder is not None and holder.owner == "dead"
        taken = store.take_lease("job:a", "next", ttl=TTL)
    assert taken is not None and taken.token == 2


def test_a_live_holder_in_another_process_is_not_taken(url: str, tmp_path: Path) -> None:
    """The same check leaves a live holder alone (here: a process that holds and sleeps)."""
    path = tmp_path / "state.db"
    StateStore(url).close()
    script = HOLD_AND_DIE.replace("os._exit(0)", "print('held', flush=True); import time; time.sleep(30)")
    live = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert live.stdout is not None and live.stdout.readline().strip() == "held"
        with StateStore(url) as store:
            assert store.take_lease("job:a", "next", ttl=TTL) is None
    finally:
        live.kill()
        live.wait()
