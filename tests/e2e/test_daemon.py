"""`syncer run` as a subprocess against the real SCIM server: cycles, reloads, metrics, stopping."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ROOT, TOKEN, Workspace
from tests.support.scim_server import ScimTestServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _configure(
    ws: Workspace, *, metrics_port: int | None, concurrency: int = 4, progress: str = "1s", extra: str = ""
) -> None:
    ws.write_config(extra_job="    schedule: {interval: 1s, jitter: 0s}\n" + extra)
    top = f"daemon: {{stop_timeout: 20s, progress_every: {progress}, lease_ttl: 10s}}\n"
    if metrics_port is not None:
        top += f"metrics: {{listen: 127.0.0.1:{metrics_port}}}\n"
    text = ws.config.read_text().replace("jobs:\n", top + "jobs:\n", 1)
    ws.config.write_text(text.replace("concurrency: 4", f"concurrency: {concurrency}"))


class Daemon:
    def __init__(self, ws: Workspace, log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "syncer",
                "-c",
                str(ws.config),
                "--log-level",
                "info",
                "--log-json",
                "run",
            ],
            cwd=ws.root,
            env={**os.environ, "E2E_TOKEN": TOKEN, **(env or {})},
            stdout=log.with_suffix(".stdout").open("w"),  # kept for the canary scan
            stderr=log.open("w"),
        )

    def events(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text().splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                found.append({"event": "not-json", "line": line})
        return found

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("event") == event]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


@contextmanager
def daemon(ws: Workspace, name: str = "daemon", env: dict[str, str] | None = None) -> Iterator[Daemon]:
    """A daemon subprocess; ``env`` adds to its environment (libfaketime's, for a clock offset)."""
    d = Daemon(ws, ws.root / f"{name}.log", env)
    try:
        yield d
    finally:
        if d.process.poll() is None:
            d.process.kill()
            d.process.wait()


def wait_for(what: str, check: Callable[[], Any], timeout: float = 40) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def finished_runs(ws: Workspace) -> list[tuple[Any, ...]]:
    if not ws.state.exists():
        return []
    try:
        return ws.sql(
            "select id, status, started_at, finished_at from runs where finished_at is not null order by seq"
        )
    except sqlite3.OperationalError:  # the daemon has not created the tables yet
        return []


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_daemon_runs_cycles_reloads_serves_metrics_and_stops_cleanly(workspace: Workspace) -> None:
    """Cycles run every second without overlap, pick up changes, survive a bad SIGHUP; SIGTERM exits 0."""
    port = _free_port()
    _configure(workspace, metrics_port=port)
    base = f"http://127.0.0.1:{port}"
    with daemon(workspace) as d:
        wait_for("two cycles", lambda: len(finished_runs(workspace)) >= 2)
        assert len(workspace.users()) == 59  # the initial cycle created everyone entitled
        # every cycle_started / cycle_done names its run, as the README says
        wait_for("a cycle_done", lambda: d.named("cycle_done"))
        done = [event["cycle"] for event in d.named("cycle_done")]
        started = {event["cycle"] for event in d.named("cycle_started")}
        run_ids = {row[0] for row in workspace.sql("select id from runs")}
        assert set(done) <= started <= run_ids and None not in done
        assert all(event["job"] == "e2e" for event in d.named("cycle_started"))

        # a source change is picked up by a later cycle
        data = workspace.load()
        data["users"][3]["jobTitle"] = "Daemon Tester"
        workspace.save(data)
        upn = data["users"][3]["userPrincipalName"]
        wait_for("the new title", lambda: workspace.users()[upn].get("title") == "Daemon Tester")

        # metrics and health
        status, text = get(f"{base}/metrics")
        assert status == 200
        for series in (
            'syncer_cycles_total{job="e2e",outcome="succeeded"}',
            'syncer_objects_total{action="Create",job="e2e",status="Success"}',
            'syncer_requests_total{job="e2e",method="POST",status="201"}',
            'syncer_request_duration_seconds_bucket{le="0.005",method="PATCH"}',
            'syncer_escrow_objects{job="e2e"} 0.0',
            'syncer_job_quarantined{job="e2e"} 0.0',
            'syncer_job_state{job="e2e",state="active"} 1.0',
            'syncer_last_successful_cycle_timestamp_seconds{job="e2e"}',
            "syncer_scheduler_running 1.0",
        ):
            assert series in text, series
        assert get(f"{base}/healthz") == (200, '{"status": "ok", "jobs": {"e2e": "active"}}\n')

        # a quarantined job turns /healthz into a 503 with the reason
        health = json.dumps(
            {
                "quarantine": {
                    "reason": "EncounteredQuarantineException",
                    "since": "2099-01-01T00:00:00+00:00",
                },
                "disabled_reason": None,
            }
        )
        with workspace.sql_connection() as db:
            db.execute(
                "insert into job_flags (job, key, value, updated_at) "
                "values ('e2e', 'health', ?, '2099-01-01')",
                (health,),
            )
        status, body = get(f"{base}/healthz")
        assert status == 503 and "EncounteredQuarantineException" in body
        with workspace.sql_connection() as db:
            db.execute("delete from job_flags where key = 'health'")

        # SIGHUP with an invalid config: logged, the old config keeps running
        good = workspace.config.read_text()
        workspace.config.write_text(good + "unknown_key: 1\n")
        d.process.send_signal(signal.SIGHUP)
        failed = wait_for("the reload error", lambda: d.named("config_reload_failed"))
        assert "unknown_key" in failed[0]["error"]
        before = len(finished_runs(workspace))
        wait_for("a cycle after the bad reload", lambda: len(finished_runs(workspace)) > before)
        assert d.process.poll() is None
        workspace.config.write_text(good)

        assert d.stop() == 0
    assert d.named("daemon_stopped")
    assert not d.named("not-json") and not d.named("cycle_crashed")
    runs = finished_runs(workspace)
    assert {r[1] for r in runs} <= {"succeeded"}
    for earlier, later in itertools.pairwise(runs):
        assert earlier[3] <= later[2], "two cycles of one job overlapped"
    assert workspace.sql("select count(*) from runs where finished_at is null") == [(0,)]


def test_sigterm_mid_cycle_finishes_in_flight_requests_and_loses_nothing(workspace: Workspace) -> None:
    """SIGTERM during a cycle stops sending, records the run, exits 0; the next sync completes the work."""
    # every title changes on purpose: the change threshold would hold them all
    no_guard = "    safety: {change_threshold: none}\n"
    _configure(workspace, metrics_port=None, concurrency=1, progress="0s", extra=no_guard)
    workspace.run("sync")
    data = workspace.load()
    for user in data["users"]:
        user["jobTitle"] = f"{user['jobTitle']} II"
    workspace.save(data)
    with daemon(workspace) as d:
        wait_for("the cycle to be under way", lambda: [e for e in d.named("cycle_progress") if e["done"] > 0])
        assert d.stop() == 0
    last = workspace.sql("select id, status from runs order by seq desc limit 1")[0]
    assert last[1] in ("stopped", "succeeded")
    if last[1] == "stopped":
        assert (
            workspace.sql(
                "select count(*) from provisioning_log "
                f"where run_id = '{last[0]}' and reason = 'CycleStopped'"
            )[0][0]
            > 0
        )
    workspace.run("sync")
    titles = {u["userName"]: u.get("title") for u in workspace.users().values()}
    for user in data["users"]:
        if user["accountEnabled"]:
            assert titles[user["userPrincipalName"]] == user["jobTitle"]
    result = workspace.run("sync")
    assert "0 updated" in result.stdout


def test_two_daemons_on_one_state_never_run_one_job_at_once(workspace: Workspace) -> None:
    """The lease row lets one daemon run a job's cycle at a time; the other skips and says why."""
    _configure(workspace, metrics_port=None)
    with daemon(workspace, "first") as first, daemon(workspace, "second") as second:
        wait_for("several cycles", lambda: len(finished_runs(workspace)) >= 5)
        assert first.stop() == 0 and second.stop() == 0
    runs = sorted(finished_runs(workspace), key=lambda r: r[2])
    for earlier, later in itertools.pairwise(runs):
        assert earlier[3] <= later[2], "two daemons ran the job at once"
    skipped = [e for d in (first, second) for e in d.named("cycle_skipped") if "lease" in e["reason"]]
    ran = [d for d in (first, second) if d.named("cycle_started")]
    assert skipped or len(ran) == 1
    assert len(workspace.users()) == 59


class _Slow:
    """WSGI middleware: every write waits ``delay`` seconds before the server sees it (a stalling target)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.app: Any = None

    def wrap(self, app: Any) -> Any:
        self.app = app
        return self

    def __call__(self, environ: Any, start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] != "GET":
            time.sleep(self.delay)
        return self.app(environ, start_response)


def test_a_stalling_target_cannot_hold_the_job_past_cycle_timeout(tmp_path: Path) -> None:
    """A cycle past daemon.cycle_timeout stops sending, ends `stopped`, frees the lease; more cycles run."""
    with ScimTestServer(wrap=_Slow(0.5).wrap) as server:
        shutil.copy(ROOT / "examples" / "directory.json", tmp_path / "directory.json")
        ws = Workspace(root=tmp_path, server=server)
        _configure(ws, metrics_port=None, concurrency=1)
        text = ws.config.read_text().replace("lease_ttl: 10s}", "lease_ttl: 10s, cycle_timeout: 2s}")
        ws.config.write_text(text)
        started = time.monotonic()
        with daemon(ws) as d:
            wait_for("two cycles to end", lambda: len(finished_runs(ws)) >= 2, timeout=60)
            took = time.monotonic() - started
            assert d.stop() == 0
        runs = finished_runs(ws)
        assert [r[1] for r in runs[:2]] == ["stopped", "stopped"], runs
        assert took < 30, f"two cycles of a 32 s sync took {took:.1f} s"
        reasons = [e["reason"] for e in d.named("cycle_stopped")]
        assert reasons and "daemon.cycle_timeout" in reasons[0]
        assert ws.sql("select count(*) from runner_leases where expires_at > 0") == [(0,)]
        assert 0 < len(ws.users()) < 59  # some users were created before each deadline
