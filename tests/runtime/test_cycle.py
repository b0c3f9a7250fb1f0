"""The cycle in process: its real steps, a temp SQLite state, a fake target behind httpx.MockTransport.

Milliseconds each; what only a real server and a subprocess can show stays in tests/e2e.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from syncer.core.rendering import render_json
from syncer.errors import PlanRefused, SyncerError
from syncer.runtime.configfile import load_config
from syncer.runtime.engine import CycleRequest, CycleResult, CycleTimeout, Mode, cycle_clock, run_in, utc_now
from syncer.runtime.jobcontext import JobContext

ROOT = Path(__file__).resolve().parents[2]
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


class FakeTarget:
    """A SCIM target in memory: list with an ``eq`` filter, create, patch; every request recorded.

    It has no discovery endpoints (404, as some targets): the cycle then goes on RFC defaults.
    """

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, dict[str, Any]]] = {"Users": {}, "Groups": {}}
        self.requests: list[tuple[str, str]] = []
        self.ids = itertools.count(1)
        self.before_write: Callable[[], None] = lambda: None

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]

    def seed(self, kind: str, **attributes: Any) -> None:
        new = str(next(self.ids))
        self.objects[kind][new] = {"id": new, **attributes}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path))
        kind = request.url.path.split("/")[-1 if request.method in ("GET", "POST") else -2]
        if kind not in self.objects:
            error = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404"}
            return httpx.Response(404, json=error)
        if request.method == "GET":
            return self._list(kind, parse_qs(request.url.query.decode()))
        self.before_write()
        if request.method == "POST":
            new = str(next(self.ids))
            self.objects[kind][new] = {**json.loads(request.content), "id": new}
            return httpx.Response(201, json=self.objects[kind][new])
        return httpx.Response(204)

    def _list(self, kind: str, query: dict[str, list[str]]) -> httpx.Response:
        found = list(self.objects[kind].values())
        if "filter" in query:
            path, value = re.fullmatch(r'(\S+) eq "(.*)"', query["filter"][0]).groups()  # type: ignore[union-attr]
            found = [o for o in found if str(o.get(path, "")).lower() == value.lower()]
        count = int(query.get("count", ["1000"])[0])
        body = {"schemas": [LIST], "totalResults": len(found), "Resources": found[:count]}
        body.update(startIndex=1, itemsPerPage=min(count, len(found)))
        return httpx.Response(200, json=body)


@pytest.fixture
def directory(tmp_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "examples" / "directory.json").read_text(encoding="utf-8"))
    data["users"] = [u for u in data["users"] if u["accountEnabled"]][:6]
    kept = {u["id"] for u in data["users"]}
    for user in data["users"]:
        user["manager"] = user["manager"] if user["manager"] in kept else None
    data["groups"] = [{**g, "members": [m for m in g["members"] if m in kept]} for g in data["groups"][:2]]
    (tmp_path / "directory.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "config.yaml").write_text(
        f"""state: sqlite:///state.db
jobs:
  - name: j
    source: {{type: file, path: directory.json}}
    target: {{url: "https://target.invalid/scim/v2", token: t, concurrency: 1, retries: 1}}
    mapping: {ROOT / "mappings" / "asana.yaml"}
""",
        encoding="utf-8",
    )
    return data


def _context(tmp_path: Path, target: FakeTarget) -> JobContext:
    config = load_config(tmp_path / "config.yaml")
    return dataclasses.replace(JobContext.build(config, "j"), transport=httpx.MockTransport(target))


def _cycle(tmp_path: Path, target: FakeTarget, mode: Mode = Mode.SYNC, **extra: Any) -> CycleResult:
    request = CycleRequest(mode=mode, saved=extra.pop("saved", None), clock=utc_now, **extra)
    return asyncio.run(run_in(_context(tmp_path, target), request))


def _rows(tmp_path: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(tmp_path / "state.db") as db:
        return list(db.execute(query))


def _written(tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    if not (tmp_path / "state.db").exists():
        return {}
    tables = ("runs", "links", "job_flags", "escrow", "provisioning_log")
    return {t: _rows(tmp_path, f"select * from {t}") for t in tables}


def test_plan_reads_and_writes_nothing(tmp_path: Path, directory: dict[str, Any]) -> None:
    """A plan sends only GETs and leaves the state exactly as it was."""
    target = FakeTarget()
    _cycle(tmp_path, target)
    before = _written(tmp_path)
    target.requests.clear()
    directory["users"][0]["jobTitle"] = "Changed"
    (tmp_path / "directory.json").write_text(json.dumps(directory), encoding="utf-8")
    result = _cycle(tmp_path, target, Mode.PLAN)
    assert [c.verb for c in result.plan.changes] == ["update"]
    assert target.writes() == [] and result.run_id is None
    assert _written(tmp_path) == before


def test_a_refused_saved_plan_writes_nothing(tmp_path: Path, directory: dict[str, Any]) -> None:
    """A saved plan refused because the target moved: no run, no escrow tick, no flag, nothing sent."""
    target = FakeTarget()
    saved = json.loads(render_json(_cycle(tmp_path, target, Mode.PLAN).plan))
    target.seed("Users", userName=directory["users"][2]["userPrincipalName"])
    before = _written(tmp_path)
    with pytest.raises(PlanRefused, match="the target changed"):
        _cycle(tmp_path, target, saved=saved)
    assert target.writes() == []
    assert _written(tmp_path) == before


def test_a_stop_mid_phase_ends_the_run_stopped_with_what_was_sent(
    tmp_path: Path, directory: dict[str, Any]
) -> None:
    """A stop after two creates: the rest is not sent, the two links are kept, the run says stopped."""
    target = FakeTarget()
    created = lambda: len(target.writes()) >= 2  # noqa: E731
    result = _cycle(tmp_path, target, stop=lambda: "stopping" if created() else None)
    assert result.report is not None and result.report.stopped == "stopping"
    assert len(target.writes()) == 2
    assert _rows(tmp_path, "select status from runs") == [("stopped",)]
    assert _rows(tmp_path, "select count(*) from links") == [(2,)]
    again = _cycle(tmp_path, target)
    assert again.report is not None and not again.report.failures
    assert len(target.objects["Users"]) == 6 and len(target.objects["Groups"]) == 2


def test_a_crash_mid_apply_ends_the_run_crashed_not_running(
    tmp_path: Path, directory: dict[str, Any]
) -> None:
    """Whatever escapes the apply, the run that began is closed, in its one finally."""
    target = FakeTarget()

    def explode() -> None:
        raise RuntimeError("the fake target broke")

    target.before_write = explode
    with pytest.raises(RuntimeError):
        _cycle(tmp_path, target)
    assert _rows(tmp_path, "select status, finished_at is not null from runs") == [("crashed", 1)]


def test_a_cycle_past_its_deadline_is_cancelled_and_its_run_closed(
    tmp_path: Path, directory: dict[str, Any]
) -> None:
    """A target that never answers a write cannot hold the cycle past its deadline."""

    async def never(request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            await asyncio.sleep(3600)
        return FakeTarget()(request)

    context = dataclasses.replace(_context(tmp_path, FakeTarget()), transport=httpx.MockTransport(never))
    request = CycleRequest(mode=Mode.SYNC, saved=None, clock=utc_now, deadline=time.monotonic() + 0.5)
    started = time.monotonic()
    with pytest.raises(CycleTimeout, match="deadline"):
        asyncio.run(run_in(context, request))
    assert time.monotonic() - started < 5
    assert _rows(tmp_path, "select status from runs") == [("stopped",)]


def test_the_cycle_clock_comes_from_syncer_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """$SYNCER_NOW starts the clock at that time and lets it run; a bad value names the variable."""
    monkeypatch.setenv("SYNCER_NOW", "2030-01-02T03:04:05")
    clock = cycle_clock()
    first = clock()
    assert first.isoformat().startswith("2030-01-02T03:04:05") and first.tzinfo is not None
    assert clock() >= first
    monkeypatch.setenv("SYNCER_NOW", "tomorrow")
    with pytest.raises(SyncerError, match=r"\$SYNCER_NOW: expected an ISO 8601 time"):
        cycle_clock()
