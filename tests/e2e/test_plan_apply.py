"""`syncer plan --out` and `syncer apply`: a reviewed plan is sent as is, or refused when anything moved."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Workspace

PLAN = "plan.json"
DERIVED = ("summary", "names", "fingerprint")  # plan-file keys computed from the others


def _clear_counts(ws: Workspace) -> None:
    ws.server.reset_counts()


def _save_plan(ws: Workspace) -> dict[str, Any]:
    result = ws.run("plan", "--out", PLAN)
    assert f"plan saved to {PLAN}" in result.stderr
    assert ws.server.writes() == 0
    saved: dict[str, Any] = json.loads((ws.root / PLAN).read_text(encoding="utf-8"))
    return saved


def _refused(ws: Workspace, plan_file: str = PLAN) -> str:
    """Apply ``plan_file`` expecting a refusal; returns stderr after checking nothing was written."""
    _clear_counts(ws)
    result = ws.run("apply", plan_file, expect=1)
    assert ws.server.writes() == 0, ws.server.counts()
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return result.stderr


@pytest.fixture
def small(workspace: Workspace) -> Workspace:
    """The workspace cut to its first 16 users (and a private mapping copy): refusals need no more."""
    data = workspace.load()
    data["users"] = data["users"][:16]
    kept = {u["id"] for u in data["users"]}
    for user in data["users"]:
        if user["manager"] not in kept:
            user["manager"] = None
    for group in data["groups"]:
        group["members"] = [m for m in group["members"] if m in kept]
    workspace.save(data)
    workspace.mapping = workspace.root / "mapping.yaml"
    shutil.copy(ROOT / "mappings" / "asana.yaml", workspace.mapping)
    workspace.write_config()
    return workspace


def test_saved_plan_applies_like_an_ordinary_sync(workspace: Workspace) -> None:
    """`apply plan.json` provisions the directory with exactly the requests an ordinary sync sends."""
    saved = _save_plan(workspace)
    assert saved["summary"]["create"] == 64
    _clear_counts(workspace)
    result = workspace.run("apply", PLAN)
    assert "initial cycle" in result.stdout and "64 created" in result.stdout
    applied = workspace.server.counts()
    source = workspace.load()
    enabled = sorted(u["userPrincipalName"] for u in source["users"] if u["accountEnabled"])
    assert sorted(workspace.users()) == enabled
    assert sorted(workspace.groups()) == sorted(g["displayName"] for g in source["groups"])
    members = sum(len(g.get("members") or []) for g in workspace.groups().values())
    assert members == saved["summary"]["members_added"]

    # the same directory synced from scratch, without a saved plan, costs the same requests
    workspace.server.reset()
    workspace.state.unlink()
    workspace.run("sync")
    assert workspace.server.counts() == applied
    assert sorted(workspace.users()) == enabled


def test_apply_refuses_when_the_source_changed(small: Workspace) -> None:
    """A source file edited after the plan was saved refuses the plan, naming the source."""
    _save_plan(small)
    small.edit(lambda d: d["users"][3].__setitem__("jobTitle", "Changed after review"))
    stderr = _refused(small)
    assert "source directory changed" in stderr
    assert "config" not in stderr and "state" not in stderr
    assert small.server.resources("Users") == []


def test_apply_refuses_when_the_config_or_its_mapping_changed(small: Workspace) -> None:
    """An edit to config.yaml, or to its mapping file, after the plan was saved refuses the plan."""
    _save_plan(small)
    config = small.config.read_text(encoding="utf-8")
    small.config.write_text(config.replace("concurrency: 4", "concurrency: 3"), encoding="utf-8")
    stderr = _refused(small)
    assert "config or its mapping file changed" in stderr
    assert "source" not in stderr and "state" not in stderr

    small.config.write_text(config, encoding="utf-8")
    mapping = small.mapping.read_text(encoding="utf-8")
    small.mapping.write_text(mapping.replace("source: jobTitle", "source: department"), encoding="utf-8")
    stderr = _refused(small)
    assert "config or its mapping file changed" in stderr
    assert small.server.resources("Users") == []


def test_apply_refuses_when_another_cycle_ran_since(small: Workspace) -> None:
    """A sync that ran after the plan was saved moves the state, and the plan is refused naming the state."""
    saved = _save_plan(small)
    small.run("sync")
    versions = {u["id"]: u["meta"]["version"] for u in small.server.resources("Users")}
    stderr = _refused(small)
    assert "the state (another cycle ran since) changed" in stderr
    assert "source" not in stderr and "config" not in stderr
    assert {u["id"]: u["meta"]["version"] for u in small.server.resources("Users")} == versions
    creates = [c for c in saved["changes"] if c["action"] == "create" and c["kind"] == "user"]
    assert len(versions) == len(creates)  # no user created twice


def test_apply_refuses_when_the_target_changed(small: Workspace) -> None:
    """A matching user that appears on the target after the plan was saved refuses the plan."""
    _save_plan(small)
    upn = small.load()["users"][4]["userPrincipalName"]
    seeded = small.server.seed_user(userName=upn, title="Made in the app")
    stderr = _refused(small)
    assert "the target changed" in stderr
    assert [(u["id"], u["meta"]["version"], u.get("title")) for u in small.server.resources("Users")] == [
        (seeded["id"], seeded["meta"]["version"], "Made in the app")
    ]


def test_apply_refuses_an_edited_or_foreign_plan_file(small: Workspace) -> None:
    """An edited plan, a forged one with a recomputed fingerprint and a non-plan JSON file are refused."""
    saved = _save_plan(small)
    create = next(c for c in saved["changes"] if c.get("attributes", {}).get("title"))
    create["attributes"]["title"] = "Edited by hand"
    (small.root / "edited.json").write_text(json.dumps(saved, indent=2), encoding="utf-8")
    stderr = _refused(small, "edited.json")
    assert "edited.json" in stderr and "fingerprint does not match" in stderr

    # the fingerprint recomputed over the edit: apply re-plans, so the forged change is never sent
    body = {k: v for k, v in saved.items() if k not in DERIVED}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    saved["fingerprint"] = "sha256:" + hashlib.sha256(canonical).hexdigest()
    (small.root / "forged.json").write_text(json.dumps(saved, indent=2), encoding="utf-8")
    _refused(small, "forged.json")

    (small.root / "other.json").write_text(json.dumps({"users": [], "groups": []}), encoding="utf-8")
    stderr = _refused(small, "other.json")
    assert "other.json" in stderr and "not a syncer plan file" in stderr

    assert small.server.resources("Users") == []


def test_plan_json_is_deterministic_and_matches_the_saved_plan(synced: Workspace) -> None:
    """Two `plan --format json` runs print byte-identical JSON, the same as the `--out` file's."""
    data = synced.load()
    data["users"][3]["jobTitle"] = "Head of :rocket: launches [bold]now[/bold] \u00e9"
    data["users"][9]["accountEnabled"] = False
    gone = data["users"].pop(20)
    for group in data["groups"]:
        group["members"] = [m for m in group["members"] if m != gone["id"]]
    new = dict(data["users"][5], id="new-0001", userPrincipalName="new.hire@contoso.com", manager=None)
    data["users"].append(new)
    data["groups"][0]["members"].append("new-0001")
    synced.save(data)
    synced.server.seed_user(userName="NEW.HIRE@contoso.com")  # matched: a link in the plan

    # different hash seeds, so any set or dict iteration order leaking into the output shows
    first = synced.run("plan", "--format", "json", "--out", PLAN, env={"PYTHONHASHSEED": "1"})
    second = synced.run("plan", "--format", "json", env={"PYTHONHASHSEED": "2"})
    assert first.stdout == second.stdout
    saved_text = (synced.root / PLAN).read_text(encoding="utf-8")
    assert first.stdout == saved_text  # stdout prints the values as they are (no emoji or markup)
    printed, saved = json.loads(first.stdout), json.loads(saved_text)
    assert printed["fingerprint"] == saved["fingerprint"]
    assert {k: saved["summary"][k] for k in ("update", "link", "disable", "members_added")} == {
        "update": 1,
        "link": 1,
        "disable": 2,
        "members_added": 1,
    }
    assert synced.server.writes() == 0


def test_plan_out_to_an_unwritable_path_fails_cleanly(workspace: Workspace) -> None:
    """`plan --out` into a missing folder exits 1 with the path named, not a traceback."""
    missing = Path("no-such-folder") / PLAN
    result = workspace.run("plan", "--out", str(missing), expect=None)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and str(missing) in result.stderr


def test_a_refused_apply_writes_nothing_to_the_state(small: Workspace) -> None:
    """A plan refused because the target moved leaves no run behind and no escrow tick used."""
    _save_plan(small)
    user = small.load()["users"][4]
    small.server.seed_user(userName=user["userPrincipalName"], title="Made in the app")
    with small.sql_connection() as db:
        db.execute(
            "insert into escrow (job, kind, source_id, display, attempts, skip_cycles, error_code, error, "
            "first_failed_at, last_failed_at) values ('e2e', 'user', 'someone', 'x', 2, 3, 'X', 'no', "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    before = small.sql("select * from job_flags")
    assert "the target changed" in _refused(small)
    assert small.sql("select status from runs") == []
    assert small.sql("select skip_cycles from escrow") == [(3,)]
    assert small.sql("select * from job_flags") == before
    assert "running" not in small.run("status").stdout
