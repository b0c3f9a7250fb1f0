"""Ctrl-C during a manual ``syncer sync``: it stops after what is in flight and logs only what it saw.

What it never sent is neither a failure nor a success: the summary counts it ``not sent``
(text and ``--format json``), the provisioning log records it skipped with the reason, and a
stop quarantines nothing (57 "failures" of a Ctrl-C would otherwise trip the escrow proportion).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, TOKEN, Workspace
from tests.e2e.test_daemon import _Slow
from tests.support.scim_server import ScimTestServer


def _interrupted(ws: Workspace, server: ScimTestServer, *args: str) -> subprocess.CompletedProcess[str]:
    """``syncer sync`` sent SIGINT once three users are on the target."""
    env = {**os.environ, "E2E_TOKEN": TOKEN}
    env.pop("SYNCER_CONFIG", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "syncer", "-c", str(ws.config), "sync", *args],
        cwd=ws.root,
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
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_ctrl_c_stops_the_sync_records_it_stopped_and_logs_no_unseen_success(
    tmp_path: Path, fmt: str
) -> None:
    with ScimTestServer(wrap=_Slow(0.25).wrap) as server:
        shutil.copy(ROOT / "examples" / "directory.json", tmp_path / "directory.json")
        ws = Workspace(root=tmp_path, server=server)
        ws.write_config()
        ws.config.write_text(ws.config.read_text().replace("concurrency: 4", "concurrency: 1"))
        planned = len(json.loads(ws.run("plan", "--format", "json").stdout)["changes"])
        done = _interrupted(ws, server, "--format", fmt)
        stdout, stderr = done.stdout, done.stderr
        assert done.returncode == 1, (stdout, stderr)
        assert "SIGINT: stopping after the requests in flight" in stderr
        assert "Traceback" not in stderr
        on_target = {u["id"] for u in server.resources("Users")}
        assert 3 <= len(on_target) < 59  # it stopped: the rest was not sent
        (run_id, status) = ws.sql("select id, status from runs order by seq desc limit 1")[0]
        assert status == "stopped"
        created = ws.sql(
            "select target_id from provisioning_log "
            "where lower(action) = 'create' and lower(status) = 'success'"
        )
        # every success logged is an account the target holds, and every account it holds was logged
        assert {row[0] for row in created} == on_target
        # what was never sent is no failure: not in the summary's failed, not in the log
        failed_rows = ws.sql(
            f"select count(*) from provisioning_log where run_id = '{run_id}' and status = 'Failure'"
        )
        assert failed_rows == [(0,)]
        (skipped,) = ws.sql(
            "select count(*) from provisioning_log "
            f"where run_id = '{run_id}' and status = 'Skipped' and detail like 'not sent, the cycle stopped%'"
        )[0]
        if fmt == "json":
            document = json.loads(stdout)
            assert document["failed"] == 0 and document["stopped"]
            not_sent = document["not_sent"]
        else:
            assert "cycle stopped: SIGINT received" in stderr
            assert "object(s) failed" not in stderr
            found = re.search(r"; 0 failed, (\d+) not sent \(stopped\)", stdout)
            assert found, stdout
            not_sent = int(found.group(1))
        assert not_sent > 0 and not_sent == skipped
        assert len(on_target) + not_sent <= planned
        (standing,) = json.loads(ws.run("status", "--format", "json").stdout)
        assert standing["lastCycle"]["status"] == "stopped"
        assert standing["quarantine"] is None and standing["escrow"] == 0  # a stop is not the job's failure
        assert standing["lastCycle"]["counts"]["notSent"] == not_sent
        status_text = ws.run("status").stdout
        assert f"not sent (the cycle stopped) {not_sent}" in status_text and " failed" not in status_text
        # the next sync sends what was left
        again = ws.run("sync")
        assert "0 failed" in again.stdout and "not sent" not in again.stdout
        assert len(server.resources("Users")) == len([u for u in ws.load()["users"] if u["accountEnabled"]])
