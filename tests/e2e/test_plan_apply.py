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
    with ws.server._counting.lock:
        ws.server._counting.counts.clear()


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
def own_mapping(workspace: Workspace) -> Workspace:
    """The workspace with a private copy of the mapping file, which a test may edit."""
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


def test_apply_refuses_when_the_source_changed(own_mapping: Workspace) -> None:
    """A source file edited after the plan was saved refuses the plan, naming the source."""
    ws = own_mapping
    _save_plan(ws)
    ws.edit(lambda d: d["users"][3].__setitem__("jobTitle", "Changed after review"))
    stderr = _refused(ws)
    assert "source directory changed" in stderr
    assert "config" not in stderr and "state" not in stderr
    assert ws.server.resources("Users") == []


@pytest.mark.parametrize("edited", ["config", "mapping"])
def test_apply_refuses_when_the_config_or_mapping_changed(own_mapping: Workspace, edited: str) -> None:
    """An edit to config.yaml or to its mapping file after the plan was saved refuses the plan."""
    ws = own_mapping
    _save_plan(ws)
    if edited == "config":
        ws.config.write_text(ws.config.read_text().replace("concurrency: 4", "concurrency: 3"))
    else:
        ws.mapping.write_text(ws.mapping.read_text().replace("source: jobTitle", "source: department"))
    stderr = _refused(ws)
    assert "the config or its mapping file changed" in stderr
    assert "source" not in stderr.replace("syncer plan", "")  # only the config is named
    assert ws.server.resources("Users") == []


def test_apply_refuses_when_another_cycle_ran_since(workspace: Workspace) -> None:
    """A sync that ran after the plan was saved moves the state, and the plan is refused naming the state."""
    saved = _save_plan(workspace)
    workspace.run("sync")
    versions = {u["id"]: u["meta"]["version"] for u in workspace.server.resources("Users")}
    stderr = _refused(workspace)
    assert "the state (another cycle ran since) changed" in stderr
    assert "source" not in stderr and "config" not in stderr
    assert {u["id"]: u["meta"]["version"] for u in workspace.server.resources("Users")} == versions
    assert len(versions) == saved["summary"]["create"] - 5  # no user created twice


def test_apply_refuses_when_the_target_changed(workspace: Workspace) -> None:
    """A matching user that appears on the target after the plan was saved refuses the plan."""
    _save_plan(workspace)
    upn = workspace.load()["users"][4]["userPrincipalName"]
    seeded = workspace.server.seed_user(userName=upn, title="Made in the app")
    stderr = _refused(workspace)
    assert "the target changed since the plan was made" in stderr
    # nothing was sent: the server still holds only the seeded user, unmodified
    [held] = workspace.server.resources("Users")
    assert (held["id"], held["meta"]["version"]) == (seeded["id"], seeded["meta"]["version"])
    # planned again, the user is linked instead of created
    assert f"= link user {upn} (matched on userName)" in workspace.run("plan").stdout


def test_apply_refuses_an_edited_or_foreign_plan_file(workspace: Workspace) -> None:
    """An edited plan, a forged one with a recomputed fingerprint and a non-plan JSON file are refused."""
    saved = _save_plan(workspace)
    create = next(c for c in saved["changes"] if c.get("attributes", {}).get("title"))
    create["attributes"]["title"] = "Edited by hand"
    (workspace.root / "edited.json").write_text(json.dumps(saved, indent=2), encoding="utf-8")
    stderr = _refused(workspace, "edited.json")
    assert "edited.json" in stderr and "fingerprint does not match" in stderr

    # the fingerprint recomputed over the edit: apply re-plans, so the forged change is never sent
    body = {k: v for k, v in saved.items() if k not in DERIVED}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    saved["fingerprint"] = "sha256:" + hashlib.sha256(canonical).hexdigest()
    (workspace.root / "forged.json").write_text(json.dumps(saved, indent=2), encoding="utf-8")
    _refused(workspace, "forged.json")

    (workspace.root / "other.json").write_text(json.dumps({"users": [], "groups": []}), encoding="utf-8")
    stderr = _refused(workspace, "other.json")
    assert "other.json" in stderr and "not a syncer plan file" in stderr

    (workspace.root / "broken.json").write_text('{"format": 1, "changes": [', encoding="utf-8")
    stderr = _refused(workspace, "broken.json")
    assert "broken.json" in stderr
    assert workspace.server.resources("Users") == []


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
