"""Matching that fits the server: targets that compare or add otherwise than RFC 7643/7644 say.

Each quirk is a :class:`~tests.support.hostile.HostileTarget` mode in front of the real
scim2-server, and each test counts what syncer sent through it.

* ``case_exact_filter``: ``filter=userName eq "Alice@x.com"`` misses ``alice@x.com`` (the
  server compares byte-wise, though ``userName`` is ``caseExact: false``) while its uniqueness
  check still refuses the POST with 409. syncer must find the holder by listing, link and update
  it, and never POST again.
* ``duplicate_member_add``: an ``add`` of a member the group holds lists it twice (RFC 7644
  §3.5.2.1 says it should change nothing). A group matched rather than created, or after
  ``restart --full``, must have its members read once and get only the missing ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Workspace
from tests.support.hostile import HostileTarget
from tests.support.scim_server import ScimTestServer

QUERY = "    matching: {strategy: query}\n"
BY_EXTERNAL_ID = """users:
  - {target: externalId, source: id, match: 1}
  - {target: userName, source: userPrincipalName}
  - {target: displayName, source: displayName}
  - {target: active, expression: "Not([IsSoftDeleted])"}
groups:
  - {target: displayName, source: displayName, match: 1}
  - {target: members, source: members}
"""


@pytest.fixture
def hostile(scim: ScimTestServer) -> Iterator[HostileTarget]:
    with HostileTarget(scim.base_url) as target:
        yield target


def _user(source_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": source_id,
        "userPrincipalName": name,
        "mail": name,
        "givenName": name.split("@")[0].title(),
        "surname": "Example",
        "displayName": name.split("@")[0].title() + " Example",
        "jobTitle": "Engineer",
        "accountEnabled": True,
        **extra,
    }


def _workspace(
    root: Path, scim: ScimTestServer, hostile: HostileTarget, users: list[dict[str, Any]]
) -> Workspace:
    ws = Workspace(root=root, server=scim)
    ws.write_config(QUERY, url=hostile.base_url)
    ws.save({"users": users, "groups": []})
    return ws


def _posts(hostile: HostileTarget) -> list[str]:
    return [path for method, path in hostile.seen() if method == "POST"]


def _listings(hostile: HostileTarget, kind: str = "Users") -> list[str]:
    """Unfiltered GETs of a kind's first page: the listings (not the count probe, not lookups)."""
    return [
        path
        for method, path in hostile.seen()
        if method == "GET"
        and path.split("?")[0].endswith(kind)
        and "filter=" not in path
        and "startIndex=1&" in path
        and "attributes=id" not in path  # the count probe
    ]


def _record(ws: Workspace, source_id: str) -> tuple[str, str | None, str, list[dict[str, Any]]]:
    [(status, reason, detail, steps)] = ws.sql(
        f"select status, reason, detail, steps from provisioning_log where source_id = '{source_id}' "
        "order by id desc limit 1"
    )
    return status, reason, detail or "", json.loads(steps or "[]")


# --- 1. a case-exact filter and a 409 ------------------------------------------------------------


def test_a_409_the_case_exact_filter_cannot_explain_is_matched_by_listing_not_posted_again(
    tmp_path: Path, scim: ScimTestServer, hostile: HostileTarget
) -> None:
    """``Alice@x.com`` vs the target's ``alice@x.com``: one 409 each, one listing for all, linked, updated."""
    held = scim.seed_user(userName="alice@x.com", title="Old title")
    carol = scim.seed_user(userName="carol@x.com")
    people = [_user("a1", "Alice@x.com"), _user("b1", "bob@x.com"), _user("c1", "CAROL@x.com")]
    ws = _workspace(tmp_path, scim, hostile, people)
    hostile.set_mode("case_exact_filter")

    result = ws.run("sync")

    assert "0 failed" in result.stdout
    assert len(_posts(hostile)) == 3  # bob's create, and one 409 each for Alice and CAROL
    assert len(_listings(hostile)) == 1  # shared by both 409s
    users = {u["id"]: u for u in scim.resources("Users")}
    assert len(users) == 3
    assert users[held["id"]]["userName"] == "Alice@x.com"  # a case-only change is still sent
    assert users[held["id"]]["title"] == "Engineer"
    assert users[carol["id"]]["userName"] == "CAROL@x.com"
    links = dict(ws.sql("select source_id, target_id from links where origin = 'matched'"))
    assert links == {"a1": held["id"], "c1": carol["id"]}
    status, _, _, steps = _record(ws, "a1")
    assert status == "Success"
    assert any("listing" in step["detail"] for step in steps)

    # linked and complete: the next cycle sends nothing at all
    hostile.set_mode("case_exact_filter")
    scim.reset_counts()
    ws.run("sync")
    assert scim.writes() == 0


def test_a_409_no_listing_explains_fails_once_without_a_second_post(
    tmp_path: Path, scim: ScimTestServer, hostile: HostileTarget
) -> None:
    """Matching on externalId, the userName taken by another account: failed once, with the reason."""
    mapping = tmp_path / "by-external-id.yaml"
    mapping.write_text(BY_EXTERNAL_ID, encoding="utf-8")
    other = scim.seed_user(userName="carol@x.com", externalId="someone-else", displayName="Not Carol")
    ws = _workspace(tmp_path, scim, hostile, [_user("c1", "carol@x.com"), _user("d1", "dave@x.com")])
    ws.mapping = mapping
    ws.write_config(QUERY, url=hostile.base_url)
    hostile.set_mode("case_exact_filter")

    result = ws.run("sync", expect=None)

    assert _posts(hostile) == ["/v2/Users", "/v2/Users"]  # dave's create and carol's one 409
    assert len(_listings(hostile)) == 1
    status, reason, detail, _ = _record(ws, "c1")
    assert (status, reason) == ("Failure", "ConflictNotMatched")
    assert "409" in detail and "externalId 'c1'" in detail and "Not sent again" in detail
    assert ws.sql("select count(*) from links where source_id = 'c1'") == [(0,)]
    [untouched] = [u for u in scim.resources("Users") if u["id"] == other["id"]]
    assert (untouched["externalId"], untouched["displayName"]) == ("someone-else", "Not Carol")
    assert "1 failed" in result.stdout


def test_a_listing_hit_linked_to_another_source_object_is_never_taken(
    tmp_path: Path, scim: ScimTestServer, hostile: HostileTarget
) -> None:
    """The listing finds ``alice@x.com``, but it is still linked to the leaver a0: both are told."""
    ws = _workspace(
        tmp_path,
        scim,
        hostile,
        [_user("a0", "alice@x.com"), _user("b1", "bob@x.com"), _user("e1", "eve@x.com")],
    )
    ws.run("sync")
    [(alice_id,)] = ws.sql("select target_id from links where source_id = 'a0'")
    ws.edit(lambda d: d["users"].__setitem__(0, _user("a1", "Alice@x.com")))
    hostile.set_mode("case_exact_filter")

    ws.run("sync", expect=None)

    assert _posts(hostile) == ["/v2/Users"]  # a1's one 409, never a second POST
    status, reason, detail, _ = _record(ws, "a1")
    assert (status, reason) == ("Failure", "TargetObjectAlreadyLinked")
    assert "a0" in detail
    assert ws.sql("select source_id from links where target_id = '" + alice_id + "'") == [("a0",)]
    assert [u["userName"] for u in scim.resources("Users") if u["id"] == alice_id] == ["alice@x.com"]


# --- 2. a newly matched group on a target that does not de-duplicate an add ----------------------


def _members_read(hostile: HostileTarget, group_id: str) -> int:
    return hostile.seen().count(("GET", f"/v2/Groups/{group_id}?attributes=members"))


def _group_link(ws: Workspace) -> tuple[list[str], str]:
    [(members, origin)] = ws.sql("select members, origin from links where source_id = 'g1'")
    return json.loads(members), origin


def test_a_newly_matched_group_is_read_once_and_gets_only_its_missing_members(
    tmp_path: Path, scim: ScimTestServer, hostile: HostileTarget
) -> None:
    """ann is in the target group already, zed is there and not in the source: only ben is added.

    The same after ``restart --full``, which drops the links: nothing is added at all. zed, a
    member syncer never managed, stays through all of it.
    """
    ann = scim.seed_user(userName="ann@x.com")
    zed = scim.seed_user(userName="zed@x.com")
    group = scim.seed_group(displayName="Engineering", members=[{"value": ann["id"]}, {"value": zed["id"]}])
    ws = Workspace(root=tmp_path, server=scim)
    ws.write_config(url=hostile.base_url)
    engineering = {"id": "g1", "displayName": "Engineering", "members": ["a1", "b1"]}
    ws.save({"users": [_user("a1", "ann@x.com"), _user("b1", "ben@x.com")], "groups": [engineering]})
    hostile.set_mode("duplicate_member_add")

    ws.run("sync")

    ben = ws.users()["ben@x.com"]
    assert dict(hostile.duplicates.adds) == {group["id"]: [ben["id"]]}  # never ann, who is there
    assert not any(hostile.duplicates.twice.values())
    assert _members_read(hostile, group["id"]) == 1
    held = {m["value"] for m in ws.groups()["Engineering"]["members"]}
    assert held == {ann["id"], zed["id"], ben["id"]}
    assert _group_link(ws) == (["a1", "b1"], "matched")

    ws.run("restart", "--job", "e2e", "--full")
    hostile.set_mode("duplicate_member_add")
    ws.run("sync")
    assert dict(hostile.duplicates.adds) == {}
    assert [m for m, p in hostile.seen() if m == "PATCH" and "/Groups/" in p] == []
    assert _members_read(hostile, group["id"]) == 1
    assert {m["value"] for m in ws.groups()["Engineering"]["members"]} == held
    assert _group_link(ws) == (["a1", "b1"], "matched")

    # ben, whom syncer added, and ann, whom the source holds, are syncer's to remove; zed is not
    ws.edit(lambda d: d["groups"][0].__setitem__("members", []))
    hostile.set_mode("duplicate_member_add")
    ws.run("sync")
    assert {m["value"] for m in ws.groups()["Engineering"]["members"]} == {zed["id"]}
    assert _members_read(hostile, group["id"]) == 0


def test_the_proxy_lists_a_re_added_member_twice(scim: ScimTestServer, hostile: HostileTarget) -> None:
    """The quirk itself: an add of a member the group holds shows it twice from then on."""
    ann = scim.seed_user(userName="ann@x.com")
    group = scim.seed_group(displayName="Engineering", members=[{"value": ann["id"]}])
    hostile.set_mode("duplicate_member_add")
    add = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": ann["id"]}]}],
    }
    with httpx.Client(base_url=hostile.base_url, timeout=10) as http:
        assert http.patch(f"/Groups/{group['id']}", json=add).status_code in (200, 204)
        shown = http.get(f"/Groups/{group['id']}").json()["members"]
        listed = http.get("/Groups").json()["Resources"][0]["members"]
    assert [m["value"] for m in shown] == [ann["id"], ann["id"]] == [m["value"] for m in listed]
    assert [m["value"] for m in scim.resources("Groups")[0]["members"]] == [ann["id"]]
