"""Recovery: a 409 on create links the existing user; a sync killed at any moment is repaired by the next."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import pytest

from tests.e2e.conftest import ROOT, TOKEN, Workspace
from tests.support.scim_server import ScimTestServer

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

EMPTY_LIST = json.dumps(
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "Resources": [],
        "startIndex": 1,
        "itemsPerPage": 0,
    }
).encode()


def _workspace(root: Path, server: ScimTestServer, extra_job: str = "") -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "examples" / "directory.json", root / "directory.json")
    ws = Workspace(root=root, server=server)
    ws.write_config(extra_job)
    return ws


def _clear_counts(server: ScimTestServer) -> None:
    server.reset_counts()


# --- 409 on create ---------------------------------------------------------------------------------


class HideFirstLookup:
    """Answers the first ``GET /v2/Users?filter=...`` of each filter with an empty list while ``hiding``.

    So matching misses a user that exists, the POST gets the real server's 409, and the
    follow-up lookup syncer makes after the 409 reaches the real server.
    """

    def __init__(self) -> None:
        self.hiding = True
        self.hidden: list[str] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, app: WSGIApplication) -> WSGIApplication:
        def middleware(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            filters = parse_qs(environ.get("QUERY_STRING", "")).get("filter")
            if (
                self.hiding
                and filters
                and environ["REQUEST_METHOD"] == "GET"
                and environ["PATH_INFO"].rstrip("/") == "/v2/Users"
            ):
                with self._lock:
                    first = filters[0] not in self._seen
                    self._seen.add(filters[0])
                    if first:
                        self.hidden.append(filters[0])
                if first:
                    start_response(
                        "200 OK",
                        [("Content-Type", "application/scim+json"), ("Content-Length", str(len(EMPTY_LIST)))],
                    )
                    return [EMPTY_LIST]
            return app(environ, start_response)

        return middleware


@pytest.fixture
def hiding() -> Iterator[tuple[ScimTestServer, HideFirstLookup]]:
    hide = HideFirstLookup()
    with ScimTestServer(wrap=hide) as server:
        yield server, hide


def test_conflict_on_create_links_the_existing_user(
    tmp_path: Path, hiding: tuple[ScimTestServer, HideFirstLookup]
) -> None:
    """A POST answered 409 makes syncer look the user up again and link it instead of duplicating it."""
    server, hide = hiding
    # one query per user, so the hidden lookups are what matching sees (a listing would find them)
    ws = _workspace(tmp_path, server, "    matching: {strategy: query}\n")
    source = ws.load()
    exact, other_case = source["users"][1], source["users"][2]
    seeded = server.seed_user(userName=exact["userPrincipalName"])
    seeded_upper = server.seed_user(userName=other_case["userPrincipalName"].upper(), title="Old")

    result = ws.run("sync")
    assert "0 failed" in result.stdout
    counts = server.counts()
    assert counts["POST"] == 64  # 62 created and the two that answered 409
    # every user and group looked up once, and the two conflicting userNames again after the 409;
    # and the new state's first cycle reads the 3 discovery endpoints (then cached for a day)
    assert server.discovery_requests() == 3
    assert counts["GET"] == len(hide.hidden) + len(source["groups"]) + 2 + 3
    users = server.resources("Users")
    names = Counter(u["userName"].lower() for u in users)
    assert max(names.values()) == 1
    enabled = {u["userPrincipalName"].lower() for u in source["users"] if u["accountEnabled"]}
    assert set(names) == enabled
    by_id = {u["id"]: u for u in users}
    assert by_id[seeded["id"]]["title"] == exact["jobTitle"]
    assert by_id[seeded_upper["id"]]["title"] == other_case["jobTitle"]
    assert by_id[seeded_upper["id"]]["userName"] == other_case["userPrincipalName"]
    links = {row[0]: row[1:] for row in ws.sql("select source_id, target_id, origin from links")}
    assert links[exact["id"]] == (seeded["id"], "matched")
    assert links[other_case["id"]] == (seeded_upper["id"], "matched")
    steps = ws.sql(f"select steps from provisioning_log where source_id = '{exact['id']}'")
    first_step = json.loads(steps[0][0])[0]
    assert first_step["status"] == "Warning"
    assert "409" in first_step["detail"] or "conflict" in first_step["detail"].lower()

    # the linked users are complete: the next cycle, with nothing hidden, sends nothing
    hide.hiding = False
    _clear_counts(server)
    ws.run("sync")
    assert server.writes() == 0


# --- crash safety ------------------------------------------------------------------------------------


class Slow:
    """Every request takes ``delay`` s more, so a cycle is long enough to be killed in the middle."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def __call__(self, app: WSGIApplication) -> WSGIApplication:
        def middleware(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            if self.delay:
                time.sleep(self.delay)
            return app(environ, start_response)

        return middleware


@pytest.fixture(scope="module")
def slowed() -> Iterator[tuple[ScimTestServer, Slow]]:
    slow = Slow(0.02)
    with ScimTestServer(wrap=slow) as server:
        yield server, slow


def _expected_groups(source: dict[str, Any]) -> dict[str, list[str]]:
    by_id = {u["id"]: u for u in source["users"]}
    return {
        g["displayName"]: sorted(
            by_id[m]["userPrincipalName"].lower() for m in g["members"] if by_id[m]["accountEnabled"]
        )
        for g in source["groups"]
    }


def _kill_after(ws: Workspace, delay: float) -> dict[str, int]:
    """Start `syncer sync`, SIGKILL it ``delay`` s after its first request; the requests it got out."""
    env = {**os.environ, "E2E_TOKEN": TOKEN}
    env.pop("SYNCER_CONFIG", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "syncer", "-c", str(ws.config), "sync"],
        cwd=ws.root,
        env=env,
        stdout=(ws.root / "killed-sync.stdout").open("a"),  # kept for the canary scan
        stderr=(ws.root / "killed-sync.stderr").open("a"),
    )
    try:
        # timed from the first request, not from the start: the interpreter's start-up alone
        # (about 0.6 s) would otherwise eat most of the window
        deadline = time.monotonic() + 30
        while not ws.server.counts() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    time.sleep(0.1)  # let the requests already in the server finish
    return ws.server.counts()


def test_a_killed_sync_is_repaired_by_the_next(tmp_path: Path, slowed: tuple[ScimTestServer, Slow]) -> None:
    """After a sync is SIGKILLed at a random moment, the next sync converges without any duplicate."""
    server, slow = slowed
    rng = random.Random(20240611)
    # one kill in each third of the window, so the trials hit lookups, user creates and groups
    delays = [rng.uniform(0.3 + 0.4 * i, 0.7 + 0.4 * i) for i in range(3)]
    interrupted = []
    for trial, delay in enumerate(delays):
        server.reset()
        slow.delay = 0.02
        ws = _workspace(tmp_path / f"trial{trial}", server)
        source = ws.load()
        killed = _kill_after(ws, delay)
        interrupted.append(killed)
        slow.delay = 0  # only the killed cycle needs to be slow
        where = f"trial {trial}: killed after {delay:.2f}s having sent {killed}"

        ws.run("sync")
        users = server.resources("Users")
        names = Counter(u["userName"].lower() for u in users)
        assert max(names.values()) == 1, f"{where}: duplicates {[n for n, c in names.items() if c > 1]}"
        enabled = {u["userPrincipalName"].lower() for u in source["users"] if u["accountEnabled"]}
        assert set(names) == enabled, where
        by_target_id = {u["id"]: u["userName"].lower() for u in users}
        groups = server.resources("Groups")
        assert sorted(g["displayName"] for g in groups) == sorted(_expected_groups(source)), where
        got = {
            g["displayName"]: sorted(by_target_id[m["value"]] for m in g.get("members") or []) for g in groups
        }
        assert got == _expected_groups(source), where
        assert ws.sql("select count(*) from links") == [(64,)], where

        _clear_counts(server)
        ws.run("sync")
        assert server.writes() == 0, f"{where}; the third sync sent {server.counts()}"
    # the test is only worth something if some kill landed while writes were being sent
    assert any(k.get("POST", 0) for k in interrupted), interrupted
