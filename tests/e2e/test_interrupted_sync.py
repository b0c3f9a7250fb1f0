"""Ctrl-C during a manual ``syncer sync``: it stops after what is in flight and logs only what it saw."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import ROOT, TOKEN, Workspace
from tests.e2e.test_daemon import _Slow
from tests.support.scim_server import ScimTestServer


def test_ctrl_c_stops_the_sync_records_it_stopped_and_logs_no_unseen_success(tmp_path: Path) -> None:
    with ScimTestServer(wrap=_Slow(0.25).wrap) as server:
        shutil.copy(ROOT / "examples" / "directory.json", tmp_path / "directory.json")
        ws = Workspace(root=tmp_path, server=server)
        ws.write_config()
        ws.config.write_text(ws.config.read_text().replace("concurrency: 4", "concurrency: 1"))
        env = {**os.environ, "E2E_TOKEN": TOKEN}
        env.pop("SYNCER_CONFIG", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "syncer", "-c", str(ws.config), "sync"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while len(server.resources("Users")) < 3:
            assert time.monotonic() < deadline, "the sync never started creating users"
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 1, (stdout, stderr)
        assert "SIGINT: stopping after the requests in flight" in stderr
        assert "cycle stopped: SIGINT received" in stderr
        assert "Traceback" not in stderr
        on_target = {u["id"] for u in server.resources("Users")}
        assert 3 <= len(on_target) < 59  # it stopped: the rest was not sent
        (status,) = ws.sql("select status from runs order by seq desc limit 1")[0]
        assert status == "stopped"
        created = ws.sql(
            "select target_id from provisioning_log "
            "where lower(action) = 'create' and lower(status) = 'success'"
        )
        # every success logged is an account the target holds, and every account it holds was logged
        assert {row[0] for row in created} == on_target
        status_json = ws.run("status", "--format", "json").stdout
        assert '"stopped"' in status_json and "crashed" not in status_json
        # the next sync sends what was left
        again = ws.run("sync")
        assert "0 failed" in again.stdout
        assert len(server.resources("Users")) == len([u for u in ws.load()["users"] if u["accountEnabled"]])
