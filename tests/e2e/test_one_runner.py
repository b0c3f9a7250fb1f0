"""One runner per job, whoever starts it: two `syncer sync`, a sync beside the daemon, a skewed clock.

Real processes on one SQLite state against the real scim2-server. A directory of a few hundred
users makes the first runner's initial sync last long enough that the second one starts while
it runs (the test waits for its ``running`` run row before starting the second).
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from syncer.adapters.state import StateStore
from syncer.runtime.lease import job_lease
from tests.e2e.conftest import TOKEN, Workspace
from tests.e2e.test_daemon import _configure, daemon, finished_runs, wait_for
from tests.e2e.test_faults import make_directory

USERS, GROUPS = 400, 20
LEASE_HELD = 75

# Debian's faketime package (make ldap-tools installs it), on whatever architecture this is
LIBFAKETIME = next(
    iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))),
    Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
)


def _big(ws: Workspace, users: int = USERS) -> None:
    ws.save(make_directory(users, GROUPS))


def _running(ws: Workspace) -> bool:
    try:
        return bool(ws.sql("select id from runs where status = 'running'"))
    except Exception:  # the tables are not there yet
        return False


def _popen(ws: Workspace, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "syncer", "-c", str(ws.config), *args],
        cwd=ws.root,
        env={**os.environ, "E2E_TOKEN": TOKEN},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _duplicates(ws: Workspace) -> dict[str, int]:
    users = collections.Counter(u["userName"] for u in ws.server.resources("Users"))
    groups = collections.Counter(g["displayName"] for g in ws.server.resources("Groups"))
    return {name: n for name, n in (*users.items(), *groups.items()) if n > 1}


def test_a_second_sync_refuses_while_one_runs_and_names_the_holder(workspace: Workspace) -> None:
    """Two `syncer sync` on one state: the second exits 75 naming the first (host, pid, since)."""
    _big(workspace)
    first = _popen(workspace, "sync")
    try:
        wait_for("the first sync's run", lambda: _running(workspace) or first.poll() is not None)
        second = workspace.run("sync", expect=None)
        _out, err = first.communicate(timeout=180)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert second.returncode == LEASE_HELD, second.stderr
    message = second.stderr
    assert "is being run by" in message and f"pid {first.pid}" in message and "since" in message
    assert _duplicates(workspace) == {}
    assert len(workspace.server.resources("Groups")) == GROUPS


def test_sync_beside_the_daemon_refuses_then_waits(workspace: Workspace) -> None:
    """`syncer sync` while the daemon runs the job refuses; with --wait it runs once the cycle is done."""
    _configure(workspace, metrics_port=None)
    workspace.config.write_text(workspace.config.read_text().replace("interval: 1s", "interval: 1h"))
    _big(workspace)
    with daemon(workspace) as d:
        wait_for("the daemon's cycle", lambda: _running(workspace), timeout=60)
        refused = workspace.run("sync", expect=None)
        waited = workspace.run("sync", "--wait", "--wait-timeout", "120s", expect=None)
        assert d.stop() == 0
    assert refused.returncode == LEASE_HELD, refused.stderr
    assert f"pid {d.process.pid}" in refused.stderr
    assert waited.returncode == 0, waited.stderr
    assert "0 created" in waited.stdout or "created" not in waited.stdout
    assert _duplicates(workspace) == {}
    runs = finished_runs(workspace)
    assert len(runs) == 2 and runs[0][3] <= runs[1][2], (runs, waited.stdout, waited.stderr)


def test_wait_gives_up_after_its_timeout(workspace: Workspace) -> None:
    """--wait with a short timeout ends with exit 75 and the holder, not a hang, and sends nothing."""
    with (
        StateStore(f"sqlite:///{workspace.state}") as store,
        job_lease(store, "e2e", command="restart", ttl=timedelta(seconds=5)),
    ):
        started = time.monotonic()
        second = workspace.run("sync", "--wait", "--wait-timeout", "1s", expect=None)
        took = time.monotonic() - started
    assert second.returncode == LEASE_HELD, second.stderr
    assert f"job e2e is being run by `syncer restart` (pid {os.getpid()}" in second.stderr
    assert "(waited 1s)" in second.stderr
    assert 1 <= took < 30
    assert workspace.server.resources("Users") == []


@pytest.mark.skipif(not LIBFAKETIME.exists(), reason="needs libfaketime (apt install faketime)")
def test_a_daemon_with_its_clock_ahead_does_not_take_a_live_lease(workspace: Workspace) -> None:
    """A second daemon whose clock (and so its SQLite's) runs 10 minutes ahead leaves a live lease alone.

    With the first design it took the "expired" lease: the first daemon lost it mid-cycle and the
    two ran the job at once.
    """
    _configure(workspace, metrics_port=None)
    _big(workspace, users=1000)
    with daemon(workspace, "first") as first:
        wait_for("the first daemon's cycle", lambda: _running(workspace), timeout=60)
        with daemon(workspace, "second", env={"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME": "+10m"}) as second:
            wait_for(
                "the skewed daemon's first tick",
                lambda: second.named("cycle_skipped") or second.named("cycle_started"),
            )
            wait_for("the first cycle to end", lambda: first.named("cycle_done"), timeout=180)
            assert first.stop() == 0 and second.stop() == 0
    assert first.named("lease_lost") == []
    assert first.named("cycle_done")[0]["outcome"] == "succeeded"
    skipped = [e["reason"] for e in second.named("cycle_skipped")]
    assert any("lease held" in reason for reason in skipped), skipped
    assert _duplicates(workspace) == {}
