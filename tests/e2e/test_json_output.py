"""``--format json`` on sync and apply: one document on stdout whose facts match the target."""

from __future__ import annotations

import json

from tests.e2e.conftest import TOKEN, Workspace


def test_sync_json_counts_what_the_server_holds(workspace: Workspace) -> None:
    """The initial sync's document names the job and cycle and counts the creates the server really got."""
    result = workspace.run("sync", "--format", "json")
    doc = json.loads(result.stdout)
    users, groups = workspace.users(), workspace.groups()
    assert doc["job"] == "e2e"
    assert doc["kind"] == "initial"
    assert doc["cycle_id"]
    assert doc["counts"]["create"] == len(users) + len(groups)
    assert doc["failed"] == 0
    assert doc["held_removals"] == 0
    assert doc["exit_code"] == 0
    assert doc["requests"]["writes"] >= len(users) + len(groups)
    assert TOKEN not in result.stdout


def test_sync_json_on_an_unchanged_directory_counts_nothing(synced: Workspace) -> None:
    """A second cycle with nothing changed says incremental and sends no writes."""
    doc = json.loads(synced.run("sync", "--format", "json").stdout)
    assert doc["kind"] == "incremental"
    assert doc["counts"]["create"] == 0
    assert doc["requests"]["writes"] == 0


def test_apply_json_reports_the_applied_plan(synced: Workspace) -> None:
    """Applying a saved plan that disables one user counts the disable the server shows."""
    data = synced.load()
    target = next(u for u in data["users"] if u["accountEnabled"])
    target["accountEnabled"] = False
    synced.save(data)
    plan_file = synced.root / "plan.json"
    synced.run("plan", "--out", str(plan_file))
    doc = json.loads(synced.run("apply", str(plan_file), "--format", "json").stdout)
    assert doc["counts"]["disable"] == 1
    assert synced.users()[target["userPrincipalName"]]["active"] is False
    assert doc["exit_code"] == 0


def test_bad_format_is_refused(workspace: Workspace) -> None:
    """An unknown format fails before anything is sent."""
    workspace.run("sync", "--format", "yaml", expect=1)
    assert workspace.users() == {}


def test_validate_json_says_valid_and_names_the_jobs(workspace: Workspace) -> None:
    """A good config: ok, and the job list."""
    doc = json.loads(workspace.run("validate", "--no-source", "--format", "json").stdout)
    assert doc == {"ok": True, "config": str(workspace.config), "jobs": ["e2e"]}


def test_validate_json_cites_file_and_line(workspace: Workspace) -> None:
    """A broken config: ok false, exit 1, and the error names the config file and its line."""
    workspace.config.write_text(workspace.config.read_text() + "  - name: [\n", encoding="utf-8")
    result = workspace.run("validate", "--no-source", "--format", "json", expect=1)
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    assert any(f"{workspace.config.name}:" in e for e in doc["errors"])


def test_test_connection_json_reports_auth_and_capabilities(workspace: Workspace) -> None:
    """Against scim2-server: ok, bearer auth, capabilities listed, and no token in the document."""
    result = workspace.run("test-connection", "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    assert doc["job"] == "e2e"
    assert doc["auth"] == "bearer token"
    assert doc["capabilities"]
    assert all(f["severity"] != "error" for f in doc["findings"])
    assert TOKEN not in result.stdout
