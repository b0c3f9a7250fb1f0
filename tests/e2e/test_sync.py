"""The sync core end to end: the CLI, the bundled directory, a real scim2-server, a real SQLite state."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import ENTERPRISE, Workspace


def _user(data: dict[str, Any], upn: str) -> dict[str, Any]:
    return next(u for u in data["users"] if u["userPrincipalName"] == upn)


def _by_id(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["id"]: u for u in data["users"]}


def test_initial_sync_creates_every_entitled_user_and_group(workspace: Workspace) -> None:
    """The first cycle creates every enabled user with its attributes, resolves managers and fills groups."""
    result = workspace.run("sync")
    assert "initial cycle" in result.stdout
    source = workspace.load()
    enabled = [u for u in source["users"] if u["accountEnabled"]]
    users = workspace.users()
    assert sorted(users) == sorted(u["userPrincipalName"] for u in enabled)
    by_target_id = {u["id"]: name for name, u in users.items()}
    by_source_id = _by_id(source)
    for src in enabled:
        got = users[src["userPrincipalName"]]
        assert got["active"] is True
        assert got["title"] == src["jobTitle"]
        assert got["name"]["formatted"] == f"{src['givenName']} {src['surname']}"
        assert got[ENTERPRISE]["department"] == src["department"]
        assert got[ENTERPRISE]["employeeNumber"] == src["employeeId"]
        assert got["addresses"] == [
            {"type": "work", "country": src["country"], "region": src["state"], "locality": src["city"]}
        ]
        assert got["phoneNumbers"] == [{"type": "work", "value": src["telephoneNumber"]}]
        if src["manager"]:
            manager_upn = by_source_id[src["manager"]]["userPrincipalName"]
            assert by_target_id[got[ENTERPRISE]["manager"]["value"]] == manager_upn
        else:
            assert "manager" not in got.get(ENTERPRISE, {})
    groups = workspace.groups()
    assert sorted(groups) == sorted(g["displayName"] for g in source["groups"])
    for group in source["groups"]:
        expected = sorted(
            by_source_id[m]["userPrincipalName"]
            for m in group["members"]
            if by_source_id[m]["accountEnabled"]
        )
        got_members = sorted(
            by_target_id[m["value"]] for m in groups[group["displayName"]].get("members") or []
        )
        assert got_members == expected, group["displayName"]


def test_disabled_source_user_is_never_created(workspace: Workspace) -> None:
    """A user disabled in the source and never provisioned is skipped as NotEffectivelyEntitled."""
    workspace.run("sync")
    disabled = [u for u in workspace.load()["users"] if not u["accountEnabled"]]
    assert len(disabled) == 1
    assert disabled[0]["userPrincipalName"] not in workspace.users()
    rows = workspace.sql(f"select reason from provisioning_log where source_id = '{disabled[0]['id']}'")
    assert rows == [("NotEffectivelyEntitled",)]


def test_second_sync_sends_no_write_request(synced: Workspace) -> None:
    """With nothing changed in the source, an incremental cycle sends no request at all."""
    result = synced.run("sync")
    assert "incremental cycle" in result.stdout
    assert synced.server.writes() == 0
    assert synced.server.counts() == {}


def test_one_changed_attribute_sends_exactly_one_patch(synced: Workspace) -> None:
    """Changing one user's title in the source sends one PATCH and nothing else."""
    upn = synced.load()["users"][5]["userPrincipalName"]
    synced.edit(lambda d: _user(d, upn).__setitem__("jobTitle", "Principal Engineer"))
    synced.run("sync")
    assert synced.server.counts() == {"PATCH": 1}
    assert synced.users()[upn]["title"] == "Principal Engineer"


def test_value_becoming_null_is_removed_on_target(synced: Workspace) -> None:
    """A previously exported value that becomes null in the source is removed on the target."""
    upn = synced.load()["users"][7]["userPrincipalName"]
    synced.edit(lambda d: _user(d, upn).__setitem__("jobTitle", None))
    synced.run("sync")
    assert "title" not in synced.users()[upn]
    assert synced.server.counts() == {"PATCH": 1}


def test_disabling_a_source_user_sets_active_false(synced: Workspace) -> None:
    """accountEnabled false in the source disables the linked user on the target (PATCH active=false)."""
    upn = synced.load()["users"][3]["userPrincipalName"]
    synced.edit(lambda d: _user(d, upn).__setitem__("accountEnabled", False))
    result = synced.run("plan")
    assert f"- disable user {upn}" in result.stdout
    target_id = synced.users()[upn]["id"]

    def groups_of_user() -> set[str]:
        return {
            name
            for name, g in synced.groups().items()
            if target_id in {m["value"] for m in g.get("members") or []}
        }

    before = groups_of_user()
    assert before
    synced.run("sync")
    assert synced.users()[upn]["active"] is False
    assert groups_of_user() == set()  # a disabled user loses the memberships syncer gave it
    assert synced.server.counts() == {"PATCH": 1 + len(before)}
    # re-enabling brings it back, with its memberships, in the same cycle
    synced.edit(lambda d: _user(d, upn).__setitem__("accountEnabled", True))
    synced.run("sync")
    assert synced.users()[upn]["active"] is True
    assert groups_of_user() == before


def test_user_gone_from_source_is_disabled_not_deleted(synced: Workspace) -> None:
    """A linked user removed from the source is disabled on the target and stays there."""
    data = synced.load()
    gone = data["users"][10]
    data["users"] = [u for u in data["users"] if u["id"] != gone["id"]]
    for group in data["groups"]:
        group["members"] = [m for m in group["members"] if m != gone["id"]]
    synced.save(data)
    synced.run("sync")
    assert synced.users()[gone["userPrincipalName"]]["active"] is False


def test_removing_a_member_removes_exactly_that_member(synced: Workspace) -> None:
    """Dropping one member from a source group removes that member and no other."""
    data = synced.load()
    group = next(g for g in data["groups"] if g["displayName"] == "Engineering")
    removed = group["members"][2]
    before = {m["value"] for m in synced.groups()["Engineering"]["members"]}
    group["members"] = [m for m in group["members"] if m != removed]
    synced.save(data)
    result = synced.run("plan")
    assert "- remove 1 member from group Engineering" in result.stdout
    synced.run("sync")
    after = {m["value"] for m in synced.groups()["Engineering"]["members"]}
    assert len(before - after) == 1 and not after - before
    removed_upn = _by_id(data)[removed]["userPrincipalName"]
    assert synced.users()[removed_upn]["id"] in before - after
    assert synced.server.counts() == {"PATCH": 1}


def test_group_gone_from_source_is_deleted(synced: Workspace) -> None:
    """A linked group removed from the source is deleted on the target."""
    # its members count against the threshold too: 1 + 7 is over 10% of 65 managed objects
    synced.write_config(extra_job="    deprovision: {deletion_threshold_percent: 20%}\n")
    synced.edit(lambda d: d.__setitem__("groups", [g for g in d["groups"] if g["displayName"] != "Finance"]))
    synced.run("sync")
    assert "Finance" not in synced.groups()
    assert synced.server.counts() == {"DELETE": 1}


def test_existing_matching_users_are_linked_not_duplicated(workspace: Workspace) -> None:
    """Users already on the target with the same userName (any case) are matched and updated in place."""
    source = workspace.load()
    first, second = source["users"][1], source["users"][2]
    seeded = workspace.server.seed_user(userName=first["userPrincipalName"].upper(), title="Old title")
    seeded_exact = workspace.server.seed_user(
        userName=second["userPrincipalName"], title=second["jobTitle"], active=True
    )
    result = workspace.run("plan")
    assert f"= link user {first['userPrincipalName']} (matched on userName)" in result.stdout
    workspace.run("sync")
    users = workspace.server.resources("Users")
    names = [u["userName"].lower() for u in users]
    assert len(names) == len(set(names))
    by_id = {u["id"]: u for u in users}
    assert by_id[seeded["id"]]["title"] == first["jobTitle"]
    assert by_id[seeded["id"]]["userName"] == first["userPrincipalName"]  # a case-only change is sent
    assert by_id[seeded_exact["id"]]["title"] == second["jobTitle"]
    origins = dict(workspace.sql("select source_id, origin from links"))
    assert origins[first["id"]] == "matched" and origins[second["id"]] == "matched"


def test_unmanaged_target_objects_are_never_touched(workspace: Workspace) -> None:
    """Users and groups syncer neither created nor matched keep their exact version through every cycle."""
    stranger = workspace.server.seed_user(userName="stranger@fabrikam.com", title="Contractor")
    group = workspace.server.seed_group(displayName="Fabrikam Partners", members=[{"value": stranger["id"]}])
    workspace.write_config(
        extra_job="    deprovision: {max_source_shrink: 100%, deletion_threshold_percent: 100%}\n"
    )
    workspace.run("sync")
    workspace.edit(lambda d: d.__setitem__("users", d["users"][:40]))
    workspace.run("sync")
    users = {u["id"]: u for u in workspace.server.resources("Users")}
    groups = {g["id"]: g for g in workspace.server.resources("Groups")}
    assert users[stranger["id"]]["meta"]["version"] == stranger["meta"]["version"]
    assert users[stranger["id"]].get("active") is None
    assert groups[group["id"]]["meta"]["version"] == group["meta"]["version"]


def test_unmanaged_members_of_a_managed_group_stay(workspace: Workspace) -> None:
    """A member added in the app directly to a group syncer manages is never removed by syncer."""
    stranger = workspace.server.seed_user(userName="stranger@fabrikam.com")
    workspace.server.seed_group(displayName="Sales", members=[{"value": stranger["id"]}])
    workspace.run("sync")
    workspace.edit(
        lambda d: next(g for g in d["groups"] if g["displayName"] == "Sales").__setitem__("members", [])
    )
    workspace.run("sync")
    members = [m["value"] for m in workspace.groups()["Sales"].get("members") or []]
    assert members == [stranger["id"]]


def test_plan_writes_nothing_to_target_or_state(workspace: Workspace) -> None:
    """`syncer plan` only reads: no write request reaches the server and the state holds no link or run."""
    result = workspace.run("plan", "--format", "json")
    plan = json.loads(result.stdout)
    assert plan["summary"]["create"] == 64
    assert plan["fingerprint"].startswith("sha256:")
    counts = workspace.server.counts()
    assert set(counts) == {"GET"}
    assert workspace.sql("select count(*) from links") == [(0,)]
    assert workspace.sql("select count(*) from runs") == [(0,)]
    assert workspace.server.resources("Users") == []


def test_dry_run_sync_prints_the_plan_and_writes_nothing(synced: Workspace) -> None:
    """`syncer sync --dry-run` prints the diff and sends no write."""
    upn = synced.load()["users"][5]["userPrincipalName"]
    synced.edit(lambda d: _user(d, upn).__setitem__("jobTitle", "Lead"))
    result = synced.run("sync", "--dry-run")
    assert f"~ update user {upn} title: " in result.stdout and '-> "Lead"' in result.stdout
    assert synced.server.writes() == 0


def test_detailed_exitcode(synced: Workspace) -> None:
    """`plan --detailed-exitcode` exits 0 with no changes and 2 with pending changes."""
    synced.run("plan", "--detailed-exitcode", expect=0)
    synced.edit(lambda d: d["users"][4].__setitem__("jobTitle", "Changed"))
    synced.run("plan", "--detailed-exitcode", expect=2)


def test_deleted_target_object_is_recreated_in_the_same_cycle(synced: Workspace) -> None:
    """A 404 on a linked id drops the link and re-matches (here: re-creates) the user in the same cycle."""
    upn = synced.load()["users"][6]["userPrincipalName"]
    old_id = synced.users()[upn]["id"]
    synced.server.call("DELETE", f"/Users/{old_id}")
    synced.edit(lambda d: _user(d, upn).__setitem__("jobTitle", "Re-created"))
    synced.run("sync")
    user = synced.users()[upn]
    assert user["id"] != old_id and user["title"] == "Re-created"
    assert synced.sql(f"select count(*) from links where target_id = '{user['id']}'") == [(1,)]
    synced.run("sync")
    assert synced.server.writes() == 1 + 1  # the PATCH that hit 404 and the POST; the next cycle sends none


def test_bad_source_record_is_skipped_and_never_deprovisioned(synced: Workspace) -> None:
    """A record with a malformed value is skipped with its reason; its linked user is left alone."""
    data = synced.load()
    victim = data["users"][8]
    victim["jobTitle"] = {"nested": "not a scalar"}
    data["users"].append({"userPrincipalName": "no-id@contoso.com"})
    synced.save(data)
    result = synced.run("sync")
    assert "0 disabled" in result.stdout
    assert synced.users()[victim["userPrincipalName"]]["active"] is True
    assert "no-id@contoso.com" not in synced.users()
    reasons = synced.sql(
        f"select reason, detail from provisioning_log where source_id = '{victim['id']}' "
        "order by id desc limit 1"
    )
    assert reasons[0][0] == "ImportSkipped" and "jobTitle" in reasons[0][1]


def test_empty_source_is_refused(synced: Workspace) -> None:
    """A source that suddenly holds nobody is refused instead of disabling everyone."""
    synced.save({"users": [], "groups": []})
    result = synced.run("sync", expect=1)
    assert "no users and no groups" in result.stderr
    assert synced.server.writes() == 0


def test_unreadable_source_fails_the_cycle_without_changes(synced: Workspace) -> None:
    """A source file that does not parse fails the cycle with the file named, and nothing is disabled."""
    synced.directory.write_text('{"users": [', encoding="utf-8")
    result = synced.run("sync", expect=1)
    assert "directory.json" in result.stderr
    assert synced.server.writes() == 0


def test_provisioning_log_has_one_record_per_object(workspace: Workspace) -> None:
    """Every object of the initial cycle leaves exactly one provisioning-log record with its action."""
    workspace.run("sync")
    rows = workspace.sql("select source_id, action, status from provisioning_log")
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)) == 65
    actions = {(a, s) for _, a, s in rows}
    assert actions == {("Create", "Success"), ("Other", "Skipped")}


def test_deletion_threshold_holds_every_disable(synced: Workspace) -> None:
    """Above deprovision.deletion_threshold no disable is sent, and the leavers keep their memberships."""
    synced.write_config(extra_job="    deprovision: {deletion_threshold: 2}\n")
    data = synced.load()
    leavers = data["users"][20:23]
    leaver_ids = {u["id"] for u in leavers}
    data["users"] = [u for u in data["users"] if u["id"] not in leaver_ids]
    for group in data["groups"]:
        group["members"] = [m for m in group["members"] if m not in leaver_ids]
    synced.save(data)
    result = synced.run("plan")
    assert "HELD: 3 objects would be disabled or deleted, threshold 2" in result.stdout
    assert "- remove" not in result.stdout.replace("# held: -", "")
    synced.run("sync", expect=3)  # held removals: pending work, exit 3
    assert synced.server.writes() == 0
    assert all(synced.users()[u["userPrincipalName"]]["active"] is True for u in leavers)
    staged = synced.sql("select count(*) from provisioning_log where action = 'StagedDelete'")
    assert staged == [(3,)]
    synced.write_config(extra_job="    deprovision: {deletion_threshold: 3}\n")
    synced.run("sync")
    assert all(synced.users()[u["userPrincipalName"]]["active"] is False for u in leavers)


def test_lost_state_relinks_everything_without_duplicates(synced: Workspace) -> None:
    """With the state file gone, the next cycle matches every object instead of creating it again."""
    before = {u["userName"]: u["id"] for u in synced.server.resources("Users")}
    synced.state.unlink()
    result = synced.run("sync")
    assert "initial cycle" in result.stdout and "64 linked" in result.stdout
    counts = synced.server.counts()
    assert "POST" not in counts and "DELETE" not in counts
    # the five newly matched groups' members are read once each and all found there: nothing is added
    assert "PATCH" not in counts
    assert {u["userName"]: u["id"] for u in synced.server.resources("Users")} == before
    synced.server.reset_counts()
    synced.run("sync")
    assert synced.server.writes() == 0


def test_duplicate_source_values_fail_both_objects(workspace: Workspace) -> None:
    """Two source users with the same userPrincipalName (any case) both fail and neither is created."""
    data = workspace.load()
    twin = dict(
        data["users"][12], id="twin-0001", userPrincipalName=data["users"][12]["userPrincipalName"].upper()
    )
    data["users"].append(twin)
    workspace.save(data)
    result = workspace.run("sync", expect=1)
    assert "DuplicateSourceEntries" in workspace.run("plan").stdout
    assert "2 failed" in result.stdout
    assert data["users"][12]["userPrincipalName"] not in workspace.users()


def test_put_only_target_gets_the_same_result(workspace: Workspace) -> None:
    """With update_method: put, updates, disables and member removals go out as GET + PUT, never PATCH."""
    text = workspace.config.read_text().replace(
        "      retries: 2\n", "      retries: 2\n      update_method: put\n"
    )
    workspace.config.write_text(text)
    workspace.run("sync")
    workspace.server.reset_counts()
    data = workspace.load()
    title_user, leaver = data["users"][5], data["users"][6]
    title_user["jobTitle"] = "Principal"
    leaver["accountEnabled"] = False
    engineering = next(g for g in data["groups"] if g["displayName"] == "Engineering")
    dropped = engineering["members"][0]
    engineering["members"] = engineering["members"][1:]
    workspace.save(data)
    workspace.run("sync")
    counts = workspace.server.counts()
    assert "PATCH" not in counts and counts.get("PUT", 0) >= 3
    users = workspace.users()
    assert users[title_user["userPrincipalName"]]["title"] == "Principal"
    assert users[leaver["userPrincipalName"]]["active"] is False
    dropped_id = users[_by_id(data)[dropped]["userPrincipalName"]]["id"]
    assert dropped_id not in {m["value"] for m in workspace.groups()["Engineering"]["members"]}
    workspace.server.reset_counts()
    workspace.run("sync")
    assert workspace.server.writes() == 0
