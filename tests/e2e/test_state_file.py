"""The state file under a real `syncer sync`: private modes, and a file deleted mid-run."""

from __future__ import annotations

import os

from tests.e2e.conftest import Workspace
from tests.e2e.test_daemon import wait_for
from tests.e2e.test_faults import make_directory
from tests.e2e.test_one_runner import _popen, _running


def test_the_state_file_and_its_wal_are_0600(workspace: Workspace) -> None:
    """They hold names and emails: readable by the owner only, whatever the umask (here 0022)."""
    old = os.umask(0o022)
    try:
        workspace.run("sync")
    finally:
        os.umask(old)
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in workspace.root.glob("state.db*")}
    assert modes and set(modes.values()) == {"0o600"}, modes


def test_a_state_file_deleted_mid_run_exits_non_zero_naming_it(workspace: Workspace) -> None:
    """SQLite keeps writing to an unlinked file and loses it all at exit; syncer stops and says so."""
    workspace.save(make_directory(600, 20))
    sync = _popen(workspace, "sync")
    try:
        wait_for("the sync's run", lambda: _running(workspace) or sync.poll() is not None)
        for file in workspace.root.glob("state.db*"):
            file.unlink()
        _out, err = sync.communicate(timeout=180)
    finally:
        if sync.poll() is None:
            sync.kill()
    assert sync.returncode == 1, err
    assert f"the state file {workspace.state} was deleted" in err
    assert "Traceback" not in err
