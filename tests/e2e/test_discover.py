"""``syncer discover`` against a real scim2-server that already holds accounts: the onboarding view."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tests.e2e.conftest import Workspace


def _enabled(ws: Workspace) -> list[dict[str, Any]]:
    return [u for u in ws.load()["users"] if u["accountEnabled"]]


def _seeded(ws: Workspace) -> tuple[list[dict[str, Any]], str]:
    """Three source users already on the target (one in another case), an unmanaged user, a group."""
    users = _enabled(ws)[:3]
    for user in users[:2]:
        ws.server.seed_user(userName=user["userPrincipalName"])
    ws.server.seed_user(userName=users[2]["userPrincipalName"].upper())  # RFC 7643: not case-exact
    ws.server.seed_user(userName="contractor@elsewhere.example")
    group = ws.load()["groups"][0]["displayName"]
    ws.server.seed_group(displayName=group)
    return users, group


def test_discover_sorts_target_accounts_and_writes_nothing(workspace: Workspace) -> None:
    users, group = _seeded(workspace)
    before = {u["id"]: u for u in workspace.server.resources("Users")}
    workspace.server.reset_counts()
    result = workspace.run("discover", "--format", "json")
    document = json.loads(result.stdout)
    rows = {(r["kind"], r["name"]): r for r in document["objects"]}
    for user in users:
        name = user["userPrincipalName"]
        row = rows.get(("user", name)) or rows[("user", name.upper())]
        assert row["standing"] == "would-match"
        assert row["source"] == [user["id"]]
        assert row["matched_by"] == "userName"
    assert rows[("user", "contractor@elsewhere.example")]["standing"] == "unmanaged"
    assert rows[("user", "contractor@elsewhere.example")]["source"] == []
    assert rows[("group", group)]["standing"] == "would-match"
    counts = document["counts"]["user"]
    assert counts["would-match"] == 3 and counts["unmanaged"] == 1 and counts["linked"] == 0
    assert counts["to_create"] == len(_enabled(workspace)) - 3
    # nothing written: no write to the target, no state
    sent = workspace.server.counts()
    assert set(sent) <= {"GET"}, sent
    assert {u["id"]: u for u in workspace.server.resources("Users")} == before
    assert not workspace.state.exists() or workspace.sql("select count(*) from links") == [(0,)]


def test_after_a_sync_the_accounts_are_linked_and_the_unmanaged_one_is_untouched(
    workspace: Workspace,
) -> None:
    _seeded(workspace)
    workspace.run("sync")
    stranger = next(
        u for u in workspace.server.resources("Users") if u["userName"] == "contractor@elsewhere.example"
    )
    result = workspace.run("discover", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    standings = {(r["kind"], r["name"]): r["standing"] for r in rows}
    assert standings[("user", "contractor@elsewhere.example")] == "unmanaged"
    linked = [r for r in rows if r["standing"] == "linked"]
    assert len(linked) == len(workspace.server.resources("Users")) - 1 + len(workspace.load()["groups"])
    assert all(r["source"] for r in linked)
    after = next(u for u in workspace.server.resources("Users") if u["id"] == stranger["id"])
    assert after == stranger  # syncer never touched the account it did not create or match


def test_discover_table_names_each_standing_with_counts(workspace: Workspace) -> None:
    _seeded(workspace)
    result = workspace.run("discover", "--standing", "unmanaged")
    assert "contractor@elsewhere.example" in result.stdout
    assert "would-match" not in result.stdout.split("Target users:")[0]  # filtered out of the table
    assert "Target users: 0 linked, 3 would-match, 0 ambiguous, 1 unmanaged" in result.stdout
    assert "Nothing was written" in result.stdout


def test_a_target_account_two_source_users_claim_is_ambiguous(workspace: Workspace) -> None:
    """Two source users with one userName (DuplicateSourceEntries): their account is linked to neither."""
    first, second = _enabled(workspace)[:2]
    shared = first["userPrincipalName"]
    workspace.edit(
        lambda d: next(u for u in d["users"] if u["id"] == second["id"]).update(userPrincipalName=shared)
    )
    workspace.server.seed_user(userName=shared)
    result = workspace.run("discover", "--format", "json")
    (row,) = [r for r in json.loads(result.stdout)["objects"] if r["name"] == shared]
    assert row["standing"] == "ambiguous"
    assert row["source"] == sorted([first["id"], second["id"]])
