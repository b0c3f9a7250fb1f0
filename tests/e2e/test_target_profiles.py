"""Target profiles: each documented quirk, emulated in front of the real scim2-server, is met.

The emulations are :data:`tests.support.quirks.EMULATIONS`; each test first shows the emulated
target refuses what a careless client sends (so the test can fail), then syncs with the profile.
"""

from __future__ import annotations

import contextlib
import http.client
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

from syncer import __version__
from syncer.settings.profiles import PROFILES, TargetProfile
from tests.e2e.conftest import ROOT, TOKEN, Workspace
from tests.support.quirk_target import Behaviour, QuirkTarget, Request, Response
from tests.support.quirks import EMULATIONS, cursor
from tests.support.quirks.budgets import WriteWindow
from tests.support.quirks.cursor import CursorOnly
from tests.support.quirks.deactivating import DeleteDeactivates
from tests.support.quirks.github import OneWriterAtATime
from tests.support.scim_server import ScimTestServer

B = TypeVar("B", bound=Behaviour)


@pytest.fixture
def zoom(scim: ScimTestServer) -> Iterator[QuirkTarget]:
    with QuirkTarget(scim.base_url, EMULATIONS[TargetProfile.ZOOM]()) as target:
        yield target


def _workspace(tmp_path: Path, scim: ScimTestServer, url: str, target_lines: str) -> Workspace:
    (tmp_path / "directory.json").write_text((ROOT / "examples" / "directory.json").read_text())
    ws = Workspace(root=tmp_path, server=scim)
    ws.write_config(url=url, target_lines=target_lines)
    return ws


def test_zoom_refuses_a_request_without_the_scim_accept_header(zoom: QuirkTarget) -> None:
    """The emulation is Zoom's: a plain JSON client is refused (406), a SCIM one answered."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    plain = httpx.get(f"{zoom.base_url}/Users", headers={**auth, "Accept": "application/json"})
    scim = httpx.get(f"{zoom.base_url}/Users", headers={**auth, "Accept": "application/scim+json"})
    assert (plain.status_code, scim.status_code) == (406, 200)


def test_a_sync_into_zoom_sends_every_request_as_scim(
    tmp_path: Path, scim: ScimTestServer, zoom: QuirkTarget
) -> None:
    ws = _workspace(tmp_path, scim, zoom.base_url, "profile: zoom")
    ws.run("sync")
    assert zoom.refused() == []
    source = {u["userPrincipalName"] for u in ws.load()["users"] if u["accountEnabled"]}
    assert source <= set(ws.users())
    assert all("application/scim+json" in (r.header("Accept") or "") for r in zoom.seen())


def test_test_connection_names_the_profile_and_what_it_does(
    tmp_path: Path, scim: ScimTestServer, zoom: QuirkTarget
) -> None:
    ws = _workspace(tmp_path, scim, zoom.base_url, "profile: zoom")
    shown = ws.run("test-connection").stdout
    assert "profile: zoom (Zoom)" in shown
    assert PROFILES[TargetProfile.ZOOM].quirks[0].handling in shown
    document = json.loads(ws.run("test-connection", "--format", "json").stdout)
    assert document["profile"] == "zoom"


def test_validate_warns_of_a_setting_past_the_profiles_documented_limit(
    tmp_path: Path, scim: ScimTestServer
) -> None:
    ws = _workspace(tmp_path, scim, scim.base_url, "profile: github-emu\n      concurrency: 4")
    result = ws.run("validate", "--no-source")
    assert "target.concurrency: 4 is more than GitHub Enterprise Managed Users documents (1)" in result.stderr


def test_an_unknown_profile_is_refused_naming_the_choices(tmp_path: Path, scim: ScimTestServer) -> None:
    ws = _workspace(tmp_path, scim, scim.base_url, "profile: slak")
    result = ws.run("validate", "--no-source", expect=1)
    assert "profile" in result.stderr and "slack" in result.stderr and "config.yaml" in result.stderr


# --- AWS IAM Identity Center, Entra ID, Asana, Databricks -------------------------------------------

AWS, ASANA, ENTRA = TargetProfile.AWS_IDENTITY_CENTER, TargetProfile.ASANA, TargetProfile.ENTRA
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
AWS_MAPPING = """\
description: Entra ID users and groups to AWS IAM Identity Center, two emails and phones mapped.
users:
  - target: userName
    source: userPrincipalName
    match: 1
  - target: emails[type eq "work"].value
    source: mail
    match: 2
  - target: emails[type eq "work"].primary
    constant: true
  - target: emails[type eq "other"].value
    expression: Join("", [mailNickname], "@home.example")
  - target: phoneNumbers[type eq "work"].value
    source: telephoneNumber
  - target: phoneNumbers[type eq "mobile"].value
    source: mobile
  - target: addresses[type eq "work"].locality
    source: city
  - target: addresses[type eq "other"].streetAddress
    source: streetAddress
  - target: active
    expression: Not([IsSoftDeleted])
  - target: displayName
    source: displayName
  - target: name.givenName
    source: givenName
  - target: name.familyName
    source: surname
groups:
  - target: displayName
    source: displayName
    match: 1
  - target: members
    source: members
"""
QUERY = "    matching: {strategy: query}\n"


@contextlib.contextmanager
def emulated(scim: ScimTestServer, profile: TargetProfile) -> Iterator[QuirkTarget]:
    with QuirkTarget(scim.base_url, EMULATIONS[profile]()) as target:
        yield target


def _aws_workspace(
    tmp_path: Path,
    scim: ScimTestServer,
    url: str,
    extra_job: str = "",
    mapping: str = AWS_MAPPING,
    target_lines: str = "",
) -> Workspace:
    (tmp_path / "directory.json").write_text((ROOT / "examples" / "directory.json").read_text())
    (tmp_path / "aws.yaml").write_text(mapping)
    ws = Workspace(root=tmp_path, server=scim, mapping=tmp_path / "aws.yaml")
    lines = "profile: aws-identity-center" + (f"\n      {target_lines}" if target_lines else "")
    ws.write_config(url=url, target_lines=lines, extra_job=extra_job)
    return ws


def _get(target: QuirkTarget, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{target.base_url}{path}", params=params, headers={"Accept": "application/scim+json"})


def _send(target: QuirkTarget, method: str, path: str, body: Any) -> httpx.Response:
    headers = {"Accept": "application/scim+json", "Content-Type": "application/scim+json"}
    return httpx.request(method, f"{target.base_url}{path}", json=body, headers=headers)


def _user(name: str, **more: Any) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": name,
        "displayName": name,
        "name": {"givenName": "A", "familyName": "B"},
        **more,
    }


def _patches(target: QuirkTarget, resource: str) -> list[dict[str, Any]]:
    return [r.json() for r in target.seen() if r.method == "PATCH" and r.resource == resource]


def _filters(target: QuirkTarget, resource: str) -> list[str]:
    return [f for r in target.seen() if r.resource == resource and (f := r.param("filter")) is not None]


@pytest.mark.parametrize(
    ("profile", "resource", "text", "status"),
    [
        (AWS, "/Users", 'userName eq "a"', 200),
        (AWS, "/Users", 'externalId eq "a"', 200),
        (AWS, "/Users", 'emails[type eq "work" and value eq "a"]', 400),
        (AWS, "/Users", 'displayName eq "a"', 400),
        (AWS, "/Users", 'userName co "a"', 400),
        (AWS, "/Users", 'userName eq "a" or userName eq "b"', 400),
        (AWS, "/Groups", 'displayName eq "a"', 200),
        (ENTRA, "/Users", 'externalId eq "a"', 200),
        (ENTRA, "/Users", 'title eq "a"', 400),
        (ASANA, "/Users", 'userName eq "a"', 200),
        (ASANA, "/Groups", 'displayName eq "a"', 400),
        (ASANA, "/Users", 'externalId eq "a"', 400),
    ],
)
def test_the_emulations_refuse_a_filter_their_target_does_not_take(
    scim: ScimTestServer, profile: TargetProfile, resource: str, text: str, status: int
) -> None:
    with emulated(scim, profile) as target:
        answer = _get(target, resource, filter=text)
    assert answer.status_code == status
    if status == 400:
        assert answer.json()["scimType"] == "invalidFilter"


def test_asana_groups_are_matched_by_listing_and_users_by_query(tmp_path: Path, scim: ScimTestServer) -> None:
    """Asana filters groups on nothing: a filter on displayName would be a 400 per group, every cycle."""
    held = scim.seed_group(schemas=[GROUP_SCHEMA], displayName="Engineering")
    scim.seed_user(schemas=[USER_SCHEMA], userName="ben.holt@contoso.com")
    with emulated(scim, ASANA) as asana:
        ws = _workspace(tmp_path, scim, asana.base_url, "profile: asana")
        ws.write_config(url=asana.base_url, target_lines="profile: asana", extra_job=QUERY)
        ws.run("sync")
        assert asana.refused() == []
        assert _filters(asana, "Groups") == []
        assert 'userName eq "ben.holt@contoso.com"' in _filters(asana, "Users")
    engineering = [g for g in scim.resources("Groups") if g["displayName"] == "Engineering"]
    assert [g["id"] for g in engineering] == [held["id"]]  # matched, not created a second time
    assert len(ws.users()) == len([u for u in ws.load()["users"] if u["accountEnabled"]])


def test_aws_users_matched_on_an_email_are_matched_by_listing(tmp_path: Path, scim: ScimTestServer) -> None:
    """AWS filters users on userName and externalId only: an email match goes by a listing."""
    held = scim.seed_user(
        **_user("bholt@contoso.com", emails=[{"type": "work", "value": "ben.holt@contoso.com"}])
    )
    with emulated(scim, AWS) as aws:
        ws = _aws_workspace(tmp_path, scim, aws.base_url, QUERY)
        ws.run("sync")
        assert aws.refused() == []
        assert not any("emails" in f for f in _filters(aws, "Users"))
    assert ws.users()["ben.holt@contoso.com"]["id"] == held["id"]  # matched on the email, renamed


class HiddenUntilConflict(Behaviour):
    """Listings leave out one user until a create of it is refused 409: a listing that was stale."""

    def __init__(self, user_name: str) -> None:
        self.user_name, self.conflicted = user_name, False

    def bend(self, request: Request, response: Response, target: QuirkTarget) -> Response:
        if request.resource != "Users":
            return response
        if request.method == "POST" and response.status == 409:
            self.conflicted = True
        if request.method != "GET" or request.id or self.conflicted or response.status != 200:
            return response
        data = response.json()
        kept = [r for r in data.get("Resources", []) if r.get("userName") != self.user_name]
        data["totalResults"] -= len(data.get("Resources", [])) - len(kept)
        data["Resources"] = kept
        return response.with_json(data)


def test_a_conflict_on_aws_is_matched_by_listing_when_the_matching_attribute_cannot_be_filtered(
    tmp_path: Path, scim: ScimTestServer
) -> None:
    """Matched on the work email only: after a 409 the holder is found by a listing, not a refused filter."""
    held = scim.seed_user(
        **_user("ben.holt@contoso.com", emails=[{"type": "work", "value": "ben.holt@contoso.com"}])
    )
    mapping = AWS_MAPPING.replace(
        "    source: userPrincipalName\n    match: 1\n", "    source: userPrincipalName\n"
    )
    mapping = mapping.replace("    match: 2\n", "    match: 1\n")
    hidden = HiddenUntilConflict("ben.holt@contoso.com")
    with QuirkTarget(scim.base_url, [*EMULATIONS[AWS](), hidden]) as aws:
        # one change at a time: creates beside the listing would change its totalResults
        ws = _aws_workspace(tmp_path, scim, aws.base_url, mapping=mapping, target_lines="concurrency: 1")
        ws.run("sync")
        assert hidden.conflicted
        assert aws.refused() == []
    assert ws.users()["ben.holt@contoso.com"]["id"] == held["id"]


def test_aws_answers_an_empty_members_and_the_membership_filter(scim: ScimTestServer) -> None:
    user = scim.seed_user(**_user("a@x"))
    group = scim.seed_group(schemas=[GROUP_SCHEMA], displayName="G", members=[{"value": user["id"]}])
    with emulated(scim, AWS) as aws:
        assert _get(aws, f"/Groups/{group['id']}").json()["members"] == []
        assert all(g["members"] == [] for g in _get(aws, "/Groups").json()["Resources"])
        member = f'id eq "{group["id"]}" and members eq "{user["id"]}"'
        stranger = f'id eq "{group["id"]}" and members eq "nobody"'
        assert _get(aws, "/Groups", filter=member).json()["totalResults"] == 1
        assert _get(aws, "/Groups", filter=stranger).json()["totalResults"] == 0


def test_a_matched_aws_group_gets_only_its_missing_members_and_loses_none(
    tmp_path: Path, scim: ScimTestServer
) -> None:
    """AWS's GET says a group has no members; taking that as the truth would add everyone again."""
    (tmp_path / "directory.json").write_text((ROOT / "examples" / "directory.json").read_text())
    directory = json.loads((tmp_path / "directory.json").read_text())
    people = {u["id"]: u for u in directory["users"]}
    source = next(g for g in directory["groups"] if g["displayName"] == "Engineering")
    present = [scim.seed_user(**_user(people[m]["userPrincipalName"]))["id"] for m in source["members"][:3]]
    stranger = scim.seed_user(**_user("not.in.the.source@contoso.com"))["id"]
    held = scim.seed_group(
        schemas=[GROUP_SCHEMA],
        displayName="Engineering",
        members=[{"value": i} for i in [*present, stranger]],
    )
    with emulated(scim, AWS) as aws:
        ws = _aws_workspace(tmp_path, scim, aws.base_url)
        ws.run("sync")
        assert aws.refused() == []
        added = [
            m["value"]
            for r in aws.seen()
            if r.method == "PATCH" and r.path == f"/Groups/{held['id']}"
            for op in r.json()["Operations"]
            if op["op"] == "add" and op["path"] == "members"
            for m in op["value"]
        ]
        assert any("members eq" in f for f in _filters(aws, "Groups"))
    members = [m["value"] for m in ws.groups()["Engineering"]["members"]]
    assert ws.groups()["Engineering"]["id"] == held["id"]
    assert not set(present) & set(added)  # the three it held are not added again
    assert len(added) == len(source["members"]) - 3
    assert len(members) == len(set(members)) == len(source["members"]) + 1  # the stranger stays


def test_aws_refuses_more_than_100_member_changes_and_a_replace_of_members(scim: ScimTestServer) -> None:
    group = scim.seed_group(schemas=[GROUP_SCHEMA], displayName="G")
    many = [{"value": f"u{i}"} for i in range(101)]
    with emulated(scim, AWS) as aws:
        patch = {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": many}]}
        replace = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "members", "value": []}]}
        ok = {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": many[:100]}]}
        assert _send(aws, "PATCH", f"/Groups/{group['id']}", patch).status_code == 400
        assert _send(aws, "PATCH", f"/Groups/{group['id']}", replace).status_code == 400
        assert _send(aws, "PATCH", f"/Groups/{group['id']}", ok).status_code in (200, 204)
        body = {"schemas": [GROUP_SCHEMA], "displayName": "H", "members": many}
        assert _send(aws, "POST", "/Groups", body).status_code == 400


def test_a_group_of_150_goes_to_aws_in_patches_of_at_most_100(tmp_path: Path, scim: ScimTestServer) -> None:
    with emulated(scim, AWS) as aws:
        ws = _aws_workspace(tmp_path, scim, aws.base_url)

        def grow(data: dict[str, Any]) -> None:
            template = data["users"][0]
            for i in range(150):
                data["users"].append(
                    {
                        **template,
                        "id": f"extra-{i}",
                        "userPrincipalName": f"extra.{i}@contoso.com",
                        "mail": f"extra.{i}@contoso.com",
                        "mailNickname": f"extra.{i}",
                    }
                )
            data["groups"].append(
                {"id": "big", "displayName": "Big", "members": [f"extra-{i}" for i in range(150)]}
            )

        ws.edit(grow)
        ws.run("sync")
        assert aws.refused() == []
        sizes = [
            len(op["value"])
            for body in _patches(aws, "Groups")
            for op in body["Operations"]
            if op["path"] == "members"
        ]
        assert all(op["op"] != "replace" for body in _patches(aws, "Groups") for op in body["Operations"])
    assert max(sizes) <= 100 and sum(sizes) >= 150
    assert len(ws.groups()["Big"]["members"]) == 150


def test_aws_refuses_a_second_email_or_phone(scim: ScimTestServer) -> None:
    two = [{"type": "work", "value": "a@x"}, {"type": "other", "value": "a@y"}]
    with emulated(scim, AWS) as aws:
        assert _send(aws, "POST", "/Users", _user("a@x", emails=two)).status_code == 400
        phones = [{"type": "work", "value": "1"}, {"type": "mobile", "value": "2"}]
        assert _send(aws, "POST", "/Users", _user("a@x", phoneNumbers=phones)).status_code == 400
        created = _send(aws, "POST", "/Users", _user("a@x", emails=two[:1]))
        assert created.status_code == 201
        second = {"op": "add", "path": "emails", "value": [two[1]]}
        patch = {"schemas": [PATCH_OP], "Operations": [second]}
        assert _send(aws, "PATCH", f"/Users/{created.json()['id']}", patch).status_code == 400


def test_aws_users_carry_only_their_primary_email_phone_and_address(
    tmp_path: Path, scim: ScimTestServer
) -> None:
    """The mapping maps two emails, two phones, two addresses; AWS takes one of each."""
    with emulated(scim, AWS) as aws:
        ws = _aws_workspace(tmp_path, scim, aws.base_url)
        ws.edit(lambda d: d["users"][0].update(mail=None))  # Ben has no work email: the other one goes
        ws.run("sync")
        assert aws.refused() == []
        ben = ws.users()["ben.holt@contoso.com"]
        assert [e["value"] for e in ben["emails"]] == ["ben.holt@home.example"]
        for user in ws.users().values():
            assert all(len(user.get(a) or []) <= 1 for a in ("emails", "phoneNumbers", "addresses")), user
        other = next(u for n, u in ws.users().items() if n != "ben.holt@contoso.com")
        assert [e["type"] for e in other["emails"]] == ["work"]
        assert [p["type"] for p in other["phoneNumbers"]] == ["work"]
        ws.edit(lambda d: d["users"][0].update(mail="ben.holt@contoso.com"))  # back: work replaces other
        ws.run("sync")
        assert aws.refused() == []
    assert [e["value"] for e in ws.users()["ben.holt@contoso.com"]["emails"]] == ["ben.holt@contoso.com"]


def test_aws_refuses_a_user_without_a_family_name(scim: ScimTestServer) -> None:
    with emulated(scim, AWS) as aws:
        lacking = {**_user("a@x"), "name": {"givenName": "A"}}
        assert _send(aws, "POST", "/Users", lacking).status_code == 400
        assert _send(aws, "POST", "/Users", _user("a@x")).status_code == 201


def test_an_aws_user_without_a_family_name_is_skipped_with_the_reason(
    tmp_path: Path, scim: ScimTestServer
) -> None:
    with emulated(scim, AWS) as aws:
        ws = _aws_workspace(tmp_path, scim, aws.base_url)
        ws.edit(lambda d: d["users"][0].update(surname=None))
        plan = ws.run("plan").stdout
        assert "AWS IAM Identity Center requires name.familyName; the source has none" in plan
        ws.run("sync")
        assert aws.refused() == []
    assert "ben.holt@contoso.com" not in ws.users()
    assert len(ws.users()) == len([u for u in ws.load()["users"] if u["accountEnabled"]]) - 1
    logged = ws.sql(
        "SELECT detail FROM provisioning_log WHERE source_id = 'f1cfcaee-0e9b-5fd0-a47d-4cb3354bfaf6'"
    )
    assert any("requires name.familyName" in str(row[0]) for row in logged)


def test_validate_warns_when_the_mapping_maps_no_family_name_for_aws(
    tmp_path: Path, scim: ScimTestServer
) -> None:
    mapping = AWS_MAPPING.replace("  - target: name.familyName\n    source: surname\n", "")
    ws = _aws_workspace(tmp_path, scim, scim.base_url, mapping=mapping)
    warned = ws.run("validate", "--no-source").stderr
    assert "AWS IAM Identity Center requires name.familyName on every user" in warned
    assert "givenName" not in warned


def test_databricks_refuses_a_filter_of_more_than_200_nodes(scim: ScimTestServer) -> None:
    big = " or ".join(f'userName eq "u{i}"' for i in range(101))  # 201 nodes
    with emulated(scim, TargetProfile.DATABRICKS) as databricks:
        assert _get(databricks, "/Users", filter=big).status_code == 400
        assert _get(databricks, "/Users", filter='userName eq "u"').status_code == 200


@pytest.mark.parametrize("profile", [AWS, ASANA, ENTRA, TargetProfile.ZOOM, TargetProfile.DATABRICKS])
def test_a_full_sync_through_each_emulated_target_is_never_refused(
    tmp_path: Path, scim: ScimTestServer, profile: TargetProfile
) -> None:
    """Every behaviour of the profile's emulation at once (AWS and Entra: cursor pages included).

    A user and a group exist on the target before, and matching queries each object, so the
    target's filters are asked; a second cycle then updates and removes.
    """
    scim.seed_user(**_user("ben.holt@contoso.com"))
    scim.seed_group(schemas=[GROUP_SCHEMA], displayName="Engineering")
    with emulated(scim, profile) as target:
        if profile is AWS:
            ws = _aws_workspace(tmp_path, scim, target.base_url, QUERY)
        else:
            ws = _workspace(tmp_path, scim, target.base_url, f"profile: {profile.value}")
            ws.write_config(url=target.base_url, target_lines=f"profile: {profile.value}", extra_job=QUERY)
        ws.run("sync")
        data = ws.load()
        leaver = next(u for u in data["users"][1:] if u["accountEnabled"])
        ws.edit(lambda d: (d["users"][2].update(displayName="Renamed Person"), d["users"].remove(leaver)))
        ws.run("sync")
        assert target.refused() == []
    source = {u["userPrincipalName"] for u in ws.load()["users"] if u["accountEnabled"]}
    assert source <= set(ws.users())
    assert {g["displayName"] for g in data["groups"]} == set(ws.groups())


@pytest.mark.parametrize("profile", [AWS, ENTRA])
def test_aws_and_entra_emulations_page_by_cursor_only(scim: ScimTestServer, profile: TargetProfile) -> None:
    for i in range(3):
        scim.seed_user(**_user(f"u{i}@x"))
    with emulated(scim, profile) as target:
        assert _get(target, "/Users", startIndex="1", count="2").status_code == 400
        first = _get(target, "/Users", count="2").json()
        second = _get(target, "/Users", count="2", cursor=first["nextCursor"]).json()
    assert len(first["Resources"]) == 2 and len(second["Resources"]) == 1 and "nextCursor" not in second


def test_update_method_put_is_refused_for_aws(tmp_path: Path, scim: ScimTestServer) -> None:
    """AWS answers a group with empty members: a PUT of what a GET said would remove every member."""
    ws = _aws_workspace(tmp_path, scim, scim.base_url, target_lines="update_method: put")
    result = ws.run("validate", "--no-source", expect=1)
    assert "update_method: put cannot be used with profile aws-identity-center" in result.stderr


def test_provision_on_demand_of_an_asana_group_matches_it_by_listing(
    tmp_path: Path, scim: ScimTestServer
) -> None:
    """One group on demand is looked up as a cycle would: by a listing, Asana filtering no group."""
    held = scim.seed_group(schemas=[GROUP_SCHEMA], displayName="Small")
    with emulated(scim, ASANA) as asana:
        ws = _workspace(tmp_path, scim, asana.base_url, "profile: asana")
        ws.edit(lambda d: d["groups"].append({"id": "small", "displayName": "Small", "members": []}))
        shown = ws.run("provision", "--id", "small").stdout
        assert asana.refused() == [], shown
        assert _filters(asana, "Groups") == []
    assert [g["id"] for g in scim.resources("Groups") if g["displayName"] == "Small"] == [held["id"]]
    assert ws.sql("SELECT target_id FROM links WHERE kind = 'group'") == [(held["id"],)]


def test_select_unique_value_on_an_attribute_aws_cannot_filter_checks_a_listing(
    tmp_path: Path, scim: ScimTestServer
) -> None:
    """AWS filters users on userName and externalId only: a free displayName is looked for in a listing."""
    taken = scim.seed_user(**{**_user("someone.else@contoso.com"), "displayName": "Ben Holt"})
    rule = 'SelectUniqueValue(Join(" ", [givenName], [surname]), Join(" ", [givenName], [surname], "2"))'
    mapping = AWS_MAPPING.replace(
        "  - target: displayName\n    source: displayName\n",
        f"  - target: displayName\n    expression: '{rule}'\n    apply: on_create\n",
        1,  # the users' one, not the groups'
    )
    with emulated(scim, AWS) as aws:
        # one change at a time: creates beside the listing would change its totalResults
        ws = _aws_workspace(tmp_path, scim, aws.base_url, mapping=mapping, target_lines="concurrency: 1")
        ws.run("sync")
        assert aws.refused() == []
        assert not any("displayName" in f for f in _filters(aws, "Users"))
    assert ws.users()["ben.holt@contoso.com"]["displayName"] == "Ben Holt 2"
    assert ws.users()["someone.else@contoso.com"]["id"] == taken["id"]


def _seed_people(ws: Workspace, scim: ScimTestServer, count: int) -> list[str]:
    """``count`` enabled source users, each already on the target (so every one is matched)."""
    template = next(u for u in ws.load()["users"] if u["accountEnabled"])
    users = []
    for i in range(count):
        name = f"person{i:03}@contoso.com"
        users.append(
            {**template, "id": f"src-{i:03}", "userPrincipalName": name, "mail": name, "manager": None}
        )
        scim.seed_user(userName=name)
    ws.save({"users": users, "groups": []})
    return [u["userPrincipalName"] for u in users]


@pytest.mark.parametrize("profile", ["aws-identity-center", "entra"])
def test_a_cursor_profile_lists_a_target_that_does_not_announce_cursors(
    tmp_path: Path, scim: ScimTestServer, profile: str
) -> None:
    """AWS and Entra page by cursor, 100 at most, and refuse ``startIndex``; not every one says so."""
    with QuirkTarget(scim.base_url, [CursorOnly(announce=False)]) as target:
        ws = _workspace(tmp_path, scim, target.base_url, "concurrency: 4")
        if profile == "aws-identity-center":  # AWS requires the names: a mapping that maps them
            (tmp_path / "aws.yaml").write_text(AWS_MAPPING)
            ws.mapping = tmp_path / "aws.yaml"
        ws.write_config("    matching: {strategy: list}\n", url=target.base_url)
        names = _seed_people(ws, scim, 150)
        careless = ws.run("plan", "--format", "json", expect=None)
        assert any(r.status == 400 for _, r in target.refused()), careless.stderr  # startIndex refused
        target.clear()
        ws.write_config(
            "    matching: {strategy: list}\n", url=target.base_url, target_lines=f"profile: {profile}"
        )
        ws.run("sync")
        assert target.refused() == []
        listings = [r for r in target.seen() if cursor.is_listing(r)]
        assert listings and all(r.param("startIndex") is None for r in listings)
        assert all(int(r.param("count") or 0) <= 100 for r in listings)
        assert not [r for r in target.seen() if r.param("filter")], "matched by listing, not by queries"
        linked = {row[0] for row in ws.sql("SELECT source_id FROM links WHERE kind = 'user'")}
        assert linked == {f"src-{i:03}" for i in range(len(names))}


# --- GitHub Enterprise Managed Users --------------------------------------------------------------


def _behaviour(target: QuirkTarget, kind: type[B]) -> B:
    return next(b for b in target.behaviours if isinstance(b, kind))


@pytest.fixture
def github(scim: ScimTestServer) -> Iterator[QuirkTarget]:
    with QuirkTarget(scim.base_url, EMULATIONS[TargetProfile.GITHUB_EMU]()) as target:
        yield target


# The documented 1,000 user writes an hour would make the sample's first sync take minutes; the
# tests raise it as an admin with a raised limit would (the write budget is proved on its own).
GITHUB_LINES = "profile: github-emu\n      user_write_rate_limit: 200/s"


def test_github_refuses_a_second_request_while_one_is_in_flight(github: QuirkTarget) -> None:
    """The emulation is GitHub's: eight requests at once see 429s; one at a time, none."""
    headers = {"Authorization": f"Bearer {TOKEN}", "User-Agent": "test"}

    def one(_: int) -> int:
        return httpx.get(f"{github.base_url}/Users", headers=headers).status_code

    with ThreadPoolExecutor(8) as pool:
        parallel = list(pool.map(one, range(32)))
    assert 429 in parallel
    assert [one(i) for i in range(4)] == [200] * 4


def test_a_sync_into_github_sends_one_request_at_a_time(
    tmp_path: Path, scim: ScimTestServer, github: QuirkTarget
) -> None:
    ws = _workspace(tmp_path, scim, github.base_url, GITHUB_LINES)
    ws.run("sync")
    assert github.refused() == []
    assert _behaviour(github, OneWriterAtATime).max_in_flight == 1
    source = {u["userPrincipalName"] for u in ws.load()["users"] if u["accountEnabled"]}
    assert source <= set(ws.users())


def test_github_refuses_a_request_without_a_user_agent(github: QuirkTarget) -> None:
    """403 without a User-Agent (http.client sends none), 200 with one."""
    parts = urlsplit(github.base_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port)
    conn.request("GET", f"{parts.path}/Users", headers={"Authorization": f"Bearer {TOKEN}"})
    bare = conn.getresponse().status
    conn.close()
    named = httpx.get(f"{github.base_url}/Users", headers={"Authorization": f"Bearer {TOKEN}"})
    assert (bare, named.status_code) == (403, 200)


def test_every_request_syncer_sends_names_syncer_as_its_user_agent(
    tmp_path: Path, scim: ScimTestServer, github: QuirkTarget
) -> None:
    ws = _workspace(tmp_path, scim, github.base_url, GITHUB_LINES)
    ws.run("test-connection")
    ws.run("sync")
    assert github.refused() == []
    assert {r.header("User-Agent") for r in github.seen()} == {f"syncer/{__version__}"}


# --- Slack ------------------------------------------------------------------------------------------


@pytest.fixture
def slack(scim: ScimTestServer) -> Iterator[QuirkTarget]:
    with QuirkTarget(scim.base_url, EMULATIONS[TargetProfile.SLACK]()) as target:
        yield target


# Slack's 180 user writes a minute would make the sample's first sync take half a minute; the tests
# raise the budgets (the write budget is proved on its own, with a budget the emulation counts).
SLACK_LINES = "profile: slack\n      write_rate_limit: 400/s\n      user_write_rate_limit: 300/s"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/scim+json"}


def test_slack_keeps_a_deleted_user_deactivated(scim: ScimTestServer, slack: QuirkTarget) -> None:
    """The emulation is Slack's: a DELETE answers 204 and the account stays, inactive; creating it
    again is refused (409), so a client that drops the link and POSTs a returner fails."""
    user = scim.seed_user(schemas=["urn:ietf:params:scim:schemas:core:2.0:User"], userName="ann@x.example")
    deleted = httpx.delete(f"{slack.base_url}/Users/{user['id']}", headers=AUTH)
    after = httpx.get(f"{slack.base_url}/Users/{user['id']}", headers=AUTH)
    again = httpx.post(
        f"{slack.base_url}/Users",
        headers={**AUTH, "Content-Type": "application/scim+json"},
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ann@x.example"},
    )
    assert (deleted.status_code, after.status_code, after.json()["active"]) == (204, 200, False)
    assert again.status_code == 409


def test_a_user_deleted_in_slack_keeps_its_link_and_a_returner_is_reactivated(
    tmp_path: Path, scim: ScimTestServer, slack: QuirkTarget
) -> None:
    ws = _workspace(tmp_path, scim, slack.base_url, SLACK_LINES)
    ws.write_config(
        url=slack.base_url,
        target_lines=SLACK_LINES,
        extra_job="    deprovision: {hard_delete_after: 0s}\n",
    )
    ws.run("sync")
    data = ws.load()
    leaver = data["users"][30]
    upn = leaver["userPrincipalName"]
    target_id = ws.users()[upn]["id"]
    data["users"].remove(leaver)
    ws.save(data)
    assert (
        f"- delete user {upn} (gone from the source; the target keeps it deactivated)"
        in ws.run("plan").stdout
    )
    summary = ws.run("sync").stdout
    assert "1 deleted (the target keeps it deactivated)" in summary
    assert "deleted (the target keeps it deactivated) 1" in ws.run("status").stdout
    assert ws.users()[upn]["active"] is False  # Slack keeps it
    assert ws.sql(
        f"select target_id, disabled, deleted_at is not null from links where source_id = '{leaver['id']}'"
    ) == [(target_id, 1, 1)]
    slack.clear()
    ws.run("sync")  # deleted already: nothing more to send
    assert [r for r in slack.seen() if r.is_write] == []

    data["users"].append(leaver)
    ws.save(data)
    slack.clear()
    ws.run("sync")
    writes = [(r.method, r.path) for r in slack.seen() if r.is_write and r.resource == "Users"]
    assert ("PATCH", f"/Users/{target_id}") in writes
    assert not any(method == "POST" for method, _ in writes)
    assert not any(upn in (r.param("filter") or "") for r in slack.seen())  # no re-matching: linked
    assert ws.users()[upn]["active"] is True and ws.users()[upn]["id"] == target_id
    assert slack.refused() == []


def test_test_connection_reads_slacks_plural_service_provider_configs(
    tmp_path: Path, scim: ScimTestServer, slack: QuirkTarget
) -> None:
    """Slack answers 404 at the singular; syncer reads the plural and shows what it says."""
    assert httpx.get(f"{slack.base_url}/ServiceProviderConfig", headers=AUTH).status_code == 404
    ws = _workspace(tmp_path, scim, slack.base_url, SLACK_LINES)
    document = json.loads(ws.run("test-connection", "--format", "json").stdout)
    assert document["capabilities"][0].startswith("patch: yes"), document  # "unknown" unread
    assert "/ServiceProviderConfigs" in {r.path for r in slack.seen()}


# --- write budgets ------------------------------------------------------------------------------------


def test_a_sync_spends_the_configured_write_budgets_and_meets_no_429(
    tmp_path: Path, scim: ScimTestServer
) -> None:
    """The emulation counts writes in a sliding second, as a strict target would, and answers 429
    past 30 (users) and 40 (all); the config's budgets of 20/s and 30/s keep every write inside it.
    The sample's first sync is over a hundred writes at concurrency 8: unpaced, it passes 30 a second
    many times over."""
    windows = [WriteWindow(40, 1.0), WriteWindow(30, 1.0, users_only=True)]
    with QuirkTarget(scim.base_url, windows) as target:
        lines = "concurrency: 8\n      write_rate_limit: 30/s\n      user_write_rate_limit: 20/s"
        ws = _workspace(tmp_path, scim, target.base_url, lines)
        ws.run("sync")
        assert target.refused() == []
        assert sum(r.is_write and r.resource == "Users" for r in target.seen()) > 40


# --- each profile through its whole emulation ---------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "lines"),
    [(TargetProfile.GITHUB_EMU, GITHUB_LINES), (TargetProfile.SLACK, SLACK_LINES)],
    ids=lambda v: v.value if isinstance(v, TargetProfile) else None,
)
def test_a_profile_syncs_through_its_whole_emulation_with_nothing_refused(
    tmp_path: Path, scim: ScimTestServer, profile: TargetProfile, lines: str
) -> None:
    with QuirkTarget(scim.base_url, EMULATIONS[profile]()) as target:
        ws = _workspace(tmp_path, scim, target.base_url, lines)
        ws.run("test-connection")
        ws.run("sync")
        data = ws.load()
        data["users"][5]["jobTitle"] = "Changed"
        ws.save(data)
        ws.run("sync")
        assert target.refused() == []
        source = {u["userPrincipalName"] for u in data["users"] if u["accountEnabled"]}
        assert source <= set(ws.users())
        assert ws.users()[data["users"][5]["userPrincipalName"]]["title"] == "Changed"


def test_any_target_missing_the_singular_service_provider_config_is_asked_the_plural(
    tmp_path: Path, scim: ScimTestServer, slack: QuirkTarget
) -> None:
    """Without the profile syncer asks RFC 7644's name first, meets the 404, and reads the plural."""
    ws = _workspace(tmp_path, scim, slack.base_url, "concurrency: 4")
    document = json.loads(ws.run("test-connection", "--format", "json").stdout)
    assert document["capabilities"][0].startswith("patch: yes"), document
    assert [r.path for r, _ in slack.refused()] == ["/ServiceProviderConfig"]


def test_asana_shares_the_deactivating_delete(tmp_path: Path, scim: ScimTestServer) -> None:
    """``profile: asana`` reads the same quirk: the deleted user's link stays, disabled, on its id."""
    with QuirkTarget(scim.base_url, [DeleteDeactivates()]) as target:
        ws = _workspace(tmp_path, scim, target.base_url, "profile: asana")
        ws.write_config(
            url=target.base_url,
            target_lines="profile: asana",
            extra_job="    deprovision: {hard_delete_after: 0s}\n",
        )
        ws.run("sync")
        data = ws.load()
        leaver = data["users"].pop(12)
        ws.save(data)
        ws.run("sync")
        target_id = ws.users()[leaver["userPrincipalName"]]["id"]
        assert ws.users()[leaver["userPrincipalName"]]["active"] is False
        assert ws.sql(f"select target_id, disabled from links where source_id = '{leaver['id']}'") == [
            (target_id, 1)
        ]
