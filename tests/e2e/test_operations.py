"""Day-2 commands end to end: `logs` filters and CSV, `provision` on demand, `restart`, `pause`, `status`."""

from __future__ import annotations

import csv
import json

from tests.e2e.conftest import Workspace


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_logs_filters_and_csv_round_trip(synced: Workspace, tmp_path: object) -> None:
    """Filters narrow the records; the three CSV files hold the same records, joined by change id."""
    creates = _json_lines(synced.run("logs", "--action", "create", "--format", "json").stdout)
    assert len(creates) == 64 and {r["provisioningAction"] for r in creates} == {"create"}
    skipped = _json_lines(
        synced.run("logs", "--status", "skipped", "--format", "json", "--since", "1h").stdout
    )
    assert [r["provisioningStatusInfo"]["errorInformation"]["errorCode"] for r in skipped] == [  # type: ignore[index]
        "NotEffectivelyEntitled"
    ]
    one = creates[0]["sourceIdentity"]["id"]  # type: ignore[index]
    by_id = _json_lines(synced.run("logs", "--id", str(one), "--format", "json").stdout)
    assert [r["changeId"] for r in by_id] == [creates[0]["changeId"]]
    assert synced.run("logs", "--since", "2099-01-01", "--format", "json").stdout == ""
    table = synced.run("logs", "--status", "failure,skipped").stdout.splitlines()
    assert table[0].startswith("TIME (UTC)") and "NotEffectivelyEntitled" in table[1] and len(table) == 2
    # the default table fits 100 columns; --wide has every column, values whole
    default = synced.run("logs").stdout.splitlines()
    assert max(len(line) for line in default) <= 100 and "SOURCE ID" not in default[0]
    wide = synced.run("logs", "--wide").stdout.splitlines()
    assert "SOURCE ID" in wide[0] and "TARGET ID" in wide[0] and max(len(line) for line in wide) > 100

    out = synced.root / "export"
    synced.run("logs", "--format", "csv", "--out", str(out))
    records = list(csv.DictReader((out / "ProvisioningLogs.csv").open(encoding="utf-8")))
    steps = list(csv.DictReader((out / "ProvisioningLogs_ProvisioningSteps.csv").open(encoding="utf-8")))
    props = list(csv.DictReader((out / "ProvisioningLogs_ModifiedProperties.csv").open(encoding="utf-8")))
    everything = _json_lines(synced.run("logs", "--format", "json").stdout)
    assert [r["Change ID"] for r in records] == [r["changeId"] for r in everything]
    assert [(r["Action"], r["Status"]) for r in records] == [
        (str(r["provisioningAction"]).capitalize(), str(r["provisioningStatusInfo"]["status"]).capitalize())  # type: ignore[index]
        for r in everything
    ]
    change_ids = {r["Change ID"] for r in records}
    assert steps and {s["Change ID"] for s in steps} <= change_ids
    assert props and {p["Change ID"] for p in props} <= change_ids
    title = next(p for p in props if p["Display Name"] == "title")
    assert title["Old Value"] == "" and title["New Value"]

    bad = synced.run("logs", "--status", "broken", expect=1)
    assert "unknown status 'broken'" in bad.stderr
    assert "--out DIR" in synced.run("logs", "--format", "csv", expect=1).stderr


def test_provision_on_demand_prints_the_steps_and_leaves_what_a_cycle_would(workspace: Workspace) -> None:
    """One user goes through import, scope, match and create now; the next cycle finds nothing to send."""
    data = workspace.load()
    user = next(u for u in data["users"] if u["accountEnabled"] and not u.get("manager"))
    result = workspace.run("provision", "--id", user["id"])
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines if line[:1].isdigit()] == [
        "1. Import",
        "2. Determine if in scope",
        "3. Match on the target",
        "4. Perform action",
    ]
    assert "no target object matches: it will be created" in result.stdout
    assert f"Create user {user['userPrincipalName']}: Success" in result.stdout
    assert list(workspace.users()) == [user["userPrincipalName"]]
    records = _json_lines(workspace.run("logs", "--id", user["id"], "--format", "json").stdout)
    assert len(records) == 1 and str(records[0]["cycleId"]).startswith("ondemand-")

    again = workspace.run("provision", "--id", user["id"])
    assert "linked to target id" in again.stdout and "RedundantExport" in again.stdout

    workspace.run("sync")
    in_cycle = workspace.sql(
        f"select action, reason from provisioning_log where source_id = '{user['id']}' "
        "and run_id not like 'ondemand-%'"
    )
    assert in_cycle == [("Other", "RedundantExport")]


def test_provision_refuses_big_groups_and_explains_out_of_scope(workspace: Workspace) -> None:
    """A group with more than 5 members is refused; a disabled user is shown out of scope and not created."""
    data = workspace.load()
    big = next(g for g in data["groups"] if len(g["members"]) > 5)
    refused = workspace.run("provision", "--id", big["id"], expect=1)
    assert "up to 5" in refused.stdout
    disabled = next(u for u in data["users"] if not u["accountEnabled"])
    shown = workspace.run("provision", "--id", disabled["id"])
    assert "2. Determine if in scope: Skipped" in shown.stdout
    assert "NotEffectivelyEntitled" in shown.stdout
    assert workspace.users() == {}
    assert "not in the source" in workspace.run("provision", "--id", "nobody", expect=1).stdout


def test_restart_makes_the_next_cycle_initial_and_pause_shows_in_status(synced: Workspace) -> None:
    """After `restart` (and `restart --full`) the next cycle is an initial one that creates no duplicates."""
    synced.run("restart")
    result = synced.run("sync")
    assert "initial cycle" in result.stdout and "0 created" in result.stdout
    synced.run("restart", "--full")
    result = synced.run("sync")
    assert "initial cycle" in result.stdout and "0 created" in result.stdout and "64 linked" in result.stdout
    assert len(synced.users()) == 59
    assert "incremental cycle" in synced.run("sync").stdout

    synced.run("pause")
    status = json.loads(synced.run("status", "--format", "json").stdout)[0]
    assert status["state"] == "paused" and status["nextCycle"] is None
    assert status["lastCycle"]["kind"] == "incremental" and status["escrow"] == 0
    synced.run("resume")
    assert "state: active" in synced.run("status").stdout


def test_status_says_each_thing_once_in_words(synced: Workspace) -> None:
    """One next-cycle line, one escrow line, no record keys (``Other.Skipped``) in the text."""
    text = synced.run("status").stdout
    labels = [line.strip().split(":")[0] for line in text.splitlines() if line[:2] == "  " and ":" in line]
    assert len(labels) == len(set(labels)), text
    for label in ("state", "last cycle", "next cycle", "quarantine", "escrow"):
        assert label in labels, text
    assert "next run" not in text and "Other." not in text and ".Success" not in text
    assert "created 64" in text and "requests: " in text, text  # 59 users and 5 groups
