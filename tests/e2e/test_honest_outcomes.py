"""Nothing that looks like success when it is not (issue 14): held work, failed cycles, quarantine.

The real CLI against the real scim2-server: every summary and exit code below is what an admin
(or the script that runs ``syncer sync``) would see.
"""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import ROOT, Workspace

HELD_REMOVALS = 3
"""The exit code of a sync, apply or provision that held removals (README: CLI reference)."""


def _disable_three(ws: Workspace) -> list[dict[str, Any]]:
    """Three active users disabled in the source, over a deletion threshold of 2."""
    ws.write_config(extra_job="    deprovision: {deletion_threshold: 2}\n")
    data = ws.load()
    leavers = [u for u in data["users"] if u["accountEnabled"]][20:23]
    for user in leavers:
        user["accountEnabled"] = False
    ws.save(data)
    return leavers


def test_held_removals_are_pending_work_in_plan_apply_and_sync(synced: Workspace) -> None:
    """Removals held by the threshold show in every summary, keep plan's exit at 2 and sync's at 3."""
    leavers = _disable_three(synced)

    plan = synced.run("plan", "--detailed-exitcode", "--out", "plan.json", expect=2)
    assert "# held: - disable user" in plan.stdout
    assert "HELD: 3 objects would be disabled or deleted, threshold 2" in plan.stdout
    assert "No changes" not in plan.stdout and "up to date" not in plan.stdout
    assert plan.stdout.rstrip().endswith("0 failing, 3 disables/deletes held.")
    saved = json.loads((synced.root / "plan.json").read_text("utf-8"))
    assert saved["summary"]["held"] == 3 and saved["summary"]["disable"] == 0

    applied = synced.run("apply", "plan.json", expect=HELD_REMOVALS)
    assert "0 disabled" in applied.stdout and "; 0 failed; 3 disables/deletes held." in applied.stdout
    assert "`syncer approve-deletions --job e2e`" in applied.stdout
    assert "job e2e is now quarantined (TooManyDeletes: " in applied.stdout
    assert synced.server.writes() == 0

    again = synced.run("sync", expect=HELD_REMOVALS)  # still held: still pending, still exit 3
    assert "; 0 failed; 3 disables/deletes held." in again.stdout
    assert "HELD: 3 objects would be disabled or deleted" in again.stdout
    assert synced.server.writes() == 0
    assert all(synced.users()[u["userPrincipalName"]]["active"] is True for u in leavers)

    synced.run("approve-deletions", "--job", "e2e")
    released = synced.run("sync")
    assert "3 disabled" in released.stdout and "held" not in released.stdout
    assert "job e2e: cleared quarantine TooManyDeletes (this cycle ran clean)" in released.stdout
    assert all(synced.users()[u["userPrincipalName"]]["active"] is False for u in leavers)
    done = synced.run("plan", "--detailed-exitcode")
    assert "No changes. The target is up to date." in done.stdout


def test_provision_of_a_held_removal_exits_3(synced: Workspace) -> None:
    """On demand, a disable the threshold holds is not done: provision says so and exits 3."""
    leavers = _disable_three(synced)
    synced.write_config(extra_job="    deprovision: {deletion_threshold: 1}\n")
    held = synced.run("provision", "--id", leavers[0]["id"], expect=HELD_REMOVALS)
    assert "held by the deletion threshold" in held.stdout
    assert synced.server.writes() == 0


def test_a_cycle_where_every_change_failed_says_the_cycle_failed(synced: Workspace) -> None:
    """A mapped target path the app lacks (``titel``): every update is refused; the cycle says it failed."""
    mapping = synced.root / "mapping.yaml"
    text = (ROOT / "mappings" / "asana.yaml").read_text("utf-8")
    mapping.write_text(text.replace("- target: title\n", "- target: titel\n"), "utf-8")
    synced.mapping = mapping
    # every user gets the new path: the change threshold would hold it, and nothing would be sent
    synced.write_config(extra_job="    safety: {change_threshold: none}\n")
    result = synced.run("sync", expect=1)
    assert "Synced job" not in result.stdout
    assert result.stdout.startswith("Cycle failed for job e2e (incremental cycle "), result.stdout
    assert "nothing was changed on the target" in result.stdout
    assert "`syncer logs --status failure --run " in result.stderr


def test_a_plan_whose_users_all_lack_the_matching_value_says_why_and_adds_no_members(
    workspace: Workspace,
) -> None:
    """An export whose userPrincipalName cells are all empty: the text plan says why; no member adds."""
    text = workspace.config.read_text("utf-8").replace(
        "path: directory.json", "path: users.csv, groups_path: groups.csv"
    )
    workspace.config.write_text(text, "utf-8")
    rows = "".join(f"u{i:02d},,Given{i},Surname{i},true\n" for i in range(12))
    (workspace.root / "users.csv").write_text(
        "id,userPrincipalName,givenName,surname,accountEnabled\n" + rows, "utf-8"
    )
    members = ";".join(f"u{i:02d}" for i in range(12))
    (workspace.root / "groups.csv").write_text(f"id,displayName,members\ng1,Everyone,{members}\n", "utf-8")

    plan = workspace.run("plan")
    assert (
        "# 12 users skipped: no value for matching attribute userName (mapped from userPrincipalName)"
        in plan.stdout
    ), plan.stdout
    assert "+ create group Everyone" in plan.stdout
    assert "member" not in plan.stdout.replace("0 members to add", ""), plan.stdout
    saved = json.loads(workspace.run("plan", "--format", "json").stdout)
    assert saved["summary"]["members_added"] == 0 and saved["summary"]["create"] == 1
