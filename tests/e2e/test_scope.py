"""Scope and safe deprovisioning end to end: assignment, scoping filters, leavers, held deletions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.conftest import Workspace


def _group(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(g for g in data["groups"] if g["displayName"] == name)


def _upn(data: dict[str, Any], source_id: str) -> str:
    return str(next(u for u in data["users"] if u["id"] == source_id)["userPrincipalName"])


def _clear_counts(ws: Workspace) -> None:
    ws.server.reset_counts()


def test_assignment_provisions_only_members_of_assigned_groups(workspace: Workspace) -> None:
    """With assigned_groups, only the group's members and the group itself are provisioned."""
    workspace.write_config(extra_job="    scope: {assigned_groups: [Finance]}\n")
    data = workspace.load()
    finance = _group(data, "Finance")
    workspace.run("sync")
    expected = sorted(_upn(data, m) for m in finance["members"])
    assert sorted(workspace.users()) == expected
    assert sorted(workspace.groups()) == ["Finance"]


def test_unassigned_user_is_disabled_and_reassigned_user_comes_back(workspace: Workspace) -> None:
    """Removing a user from the assigned group disables it; adding it back re-activates it."""
    workspace.write_config(extra_job="    scope: {assigned_groups: [Finance]}\n")
    workspace.run("sync")
    data = workspace.load()
    finance = _group(data, "Finance")
    leaver = finance["members"][-1]
    finance["members"] = finance["members"][:-1]
    workspace.save(data)
    plan = workspace.run("plan").stdout
    assert f"- disable user {_upn(data, leaver)} (out of scope: not assigned" in plan
    workspace.run("sync")
    assert workspace.users()[_upn(data, leaver)]["active"] is False
    finance["members"].append(leaver)
    workspace.save(data)
    workspace.run("sync")
    user = workspace.users()[_upn(data, leaver)]
    assert user["active"] is True
    assert user["id"] in {m["value"] for m in workspace.groups()["Finance"]["members"]}


def test_filtered_out_user_is_disabled(workspace: Workspace) -> None:
    """A user who stops passing the scoping filter is disabled, with the failing clause in the plan."""
    workspace.write_config(
        extra_job="    scope:\n      users:\n"
        "        - - {attribute: department, operator: EQUALS, value: Sales}\n"
    )
    workspace.run("sync")
    data = workspace.load()
    sales = [u for u in data["users"] if u["department"] == "Sales" and u["accountEnabled"]]
    assert sorted(workspace.users()) == sorted(u["userPrincipalName"] for u in sales)
    mover = sales[1]
    mover["department"] = "Marketing"
    workspace.save(data)
    plan = workspace.run("plan").stdout
    assert "department EQUALS 'Sales' (value 'Marketing'): false" in plan
    workspace.run("sync")
    assert workspace.users()[mover["userPrincipalName"]]["active"] is False


def test_skip_policy_leaves_out_of_scope_users_untouched(workspace: Workspace) -> None:
    """With out_of_scope: skip, a user leaving scope keeps its account and its memberships."""
    workspace.write_config(
        extra_job="    scope: {assigned_groups: [Finance]}\n    deprovision: {out_of_scope: skip}\n"
    )
    workspace.run("sync")
    data = workspace.load()
    finance = _group(data, "Finance")
    leaver = finance["members"][0]
    finance["members"] = finance["members"][1:]
    workspace.save(data)
    _clear_counts(workspace)
    workspace.run("sync")
    assert workspace.server.writes() == 0
    user = workspace.users()[_upn(data, leaver)]
    assert user["active"] is True
    assert user["id"] in {m["value"] for m in workspace.groups()["Finance"]["members"]}


def test_nested_groups_are_expanded_only_when_asked(workspace: Workspace) -> None:
    """Members of a group nested in an assigned group are in scope only with nested: true."""
    data = workspace.load()
    outsider = next(u for u in data["users"] if u["department"] == "Marketing" and u["accountEnabled"])
    data["groups"].append({"id": "g-nested", "displayName": "Finance Partners", "members": [outsider["id"]]})
    _group(data, "Finance")["members"].append("g-nested")
    workspace.save(data)
    workspace.write_config(extra_job="    scope: {assigned_groups: [Finance]}\n")
    plan = workspace.run("plan").stdout
    assert f"+ create user {outsider['userPrincipalName']}" not in plan
    assert f"# not in scope: user {outsider['userPrincipalName']}" not in plan  # one counting line instead
    assert " not in scope: --show-skipped to list them" in plan
    listed = workspace.run("plan", "--show-skipped").stdout
    assert f"# not in scope: user {outsider['userPrincipalName']}: not assigned" in listed
    assert "--show-skipped to list them" not in listed
    workspace.write_config(extra_job="    scope: {assigned_groups: [Finance], nested: true}\n")
    workspace.run("sync")
    assert outsider["userPrincipalName"] in workspace.users()
    assert sorted(workspace.groups()) == ["Finance"]


def test_gone_user_is_disabled_then_deleted_after_the_grace_period(synced: Workspace) -> None:
    """A leaver is disabled first, and deleted once it has been gone for hard_delete_after."""
    synced.write_config(extra_job="    deprovision: {hard_delete_after: 1h}\n")
    data = synced.load()
    gone = data["users"][30]
    data["users"].remove(gone)
    for group in data["groups"]:
        group["members"] = [m for m in group["members"] if m != gone["id"]]
    synced.save(data)
    synced.run("sync")
    assert synced.users()[gone["userPrincipalName"]]["active"] is False
    upn = gone["userPrincipalName"]
    assert f"- delete user {upn}" not in synced.run("plan").stdout  # still inside the grace period
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    assert f"- delete user {upn} (gone from the source since" in synced.run("plan", "--as-of", later).stdout
    assert "- delete user" in synced.run("sync", "--dry-run", env={"SYNCER_NOW": later}).stdout
    assert synced.users()[upn]["active"] is False  # a dry run on a moved clock sends nothing
    synced.run("sync", "--as-of", later)
    assert upn not in synced.users()
    assert synced.sql(f"select count(*) from links where source_id = '{gone['id']}'") == [(0,)]


def test_deletes_false_never_deletes(synced: Workspace) -> None:
    """With deletes: false a leaver is disabled and never deleted, whatever the grace period."""
    synced.write_config(extra_job="    deprovision: {hard_delete_after: 0s, deletes: false}\n")
    data = synced.load()
    gone = data["users"][31]
    data["users"].remove(gone)
    synced.save(data)
    synced.run("sync")
    synced.run("sync")
    assert synced.users()[gone["userPrincipalName"]]["active"] is False


def test_threshold_holds_then_approve_deletions_releases_exactly_those(synced: Workspace) -> None:
    """Held deletions show in status with TooManyDeletes, and approve-deletions lets exactly them through."""
    synced.write_config(extra_job="    deprovision: {deletion_threshold: 1}\n")
    data = synced.load()
    leavers = data["users"][40:43]
    for user in leavers:
        user["accountEnabled"] = False
    synced.save(data)
    synced.run("sync", expect=3)  # held removals: pending work, exit 3
    assert synced.server.writes() == 0
    status = synced.run("status").stdout
    assert "quarantine: TooManyDeletes" in status
    assert "held deletions: 3 (threshold 1)" in status
    approved = synced.run("approve-deletions", "--job", "e2e").stdout
    assert "approved: 3 held disables/deletes" in approved
    # one more leaver after the approval: it is not among the approved and stays within the threshold
    data["users"][44]["accountEnabled"] = False
    synced.save(data)
    synced.run("sync")
    assert all(
        synced.users()[u["userPrincipalName"]]["active"] is False for u in [*leavers, data["users"][44]]
    )
    status = synced.run("status").stdout
    assert "quarantine: no" in status and "held deletions" not in status


def test_source_that_lost_most_objects_is_refused_until_approved(synced: Workspace) -> None:
    """A source that shrank past max_source_shrink is refused, and approve-deletions accepts it once."""
    data = synced.load()
    kept = data["users"][:10]
    kept_ids = {u["id"] for u in kept}
    data["users"] = kept
    for group in data["groups"]:
        group["members"] = [m for m in group["members"] if m in kept_ids]
    synced.save(data)
    result = synced.run("sync", expect=1)
    assert "fewer than the 65 of the last cycle" in result.stderr
    assert synced.server.writes() == 0
    synced.write_config(
        extra_job="    deprovision: {deletion_threshold: 100, deletion_threshold_percent: 100%}\n"
    )
    synced.run("approve-deletions")
    synced.run("sync")
    active = [u for u in synced.users().values() if u.get("active")]
    assert len(active) == len([u for u in kept if u["accountEnabled"]])


def test_plan_why_explains_scope(workspace: Workspace) -> None:
    """`syncer plan --why ID` prints assignment, every clause with its value, and the verdict."""
    workspace.write_config(
        extra_job="    scope:\n      assigned_groups: [Sales]\n      users:\n"
        "        - - {attribute: department, operator: EQUALS, value: Sales}\n"
        "          - {attribute: employeeId, operator: REGEX MATCH, value: '^E1'}\n"
    )
    data = workspace.load()
    seller = next(u for u in data["users"] if u["id"] in _group(data, "Sales")["members"])
    out = workspace.run("plan", "--why", seller["id"]).stdout
    assert "assignment: assigned via group Sales" in out
    assert "department EQUALS 'Sales' (value 'Sales'): true" in out
    assert f"employeeId REGEX MATCH '^E1' (value '{seller['employeeId']}'): true" in out
    assert out.strip().endswith("result: IN SCOPE")
    # the userName the admin knows finds the same object, in any case
    by_name = workspace.run("plan", "--why", seller["userPrincipalName"].upper()).stdout
    assert by_name == out


def test_bad_scoping_clause_refuses_the_config(workspace: Workspace) -> None:
    """A bad regex in a scoping clause fails `syncer validate` with the config's file and line."""
    workspace.write_config(
        extra_job="    scope:\n      users:\n"
        "        - - {attribute: mail, operator: REGEX MATCH, value: '(['}\n"
    )
    result = workspace.run("validate", expect=1)
    assert "config.yaml:14" in result.stderr and "invalid regular expression" in result.stderr


def test_unknown_assigned_group_fails_the_cycle(synced: Workspace) -> None:
    """An assigned group that is not in the source fails the cycle instead of unassigning everyone."""
    synced.write_config(extra_job="    scope: {assigned_groups: [Nonexistent]}\n")
    result = synced.run("sync", expect=1)
    assert "assigned group 'Nonexistent' is not in the source" in result.stderr
    assert synced.server.writes() == 0
