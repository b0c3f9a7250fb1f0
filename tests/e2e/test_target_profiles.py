"""Target profiles: each documented quirk, emulated in front of the real scim2-server, is met.

The emulations are :data:`tests.support.quirks.EMULATIONS`; each test first shows the emulated
target refuses what a careless client sends (so the test can fail), then syncs with the profile.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
import pytest

from syncer import __version__
from syncer.settings.profiles import PROFILES, TargetProfile
from tests.e2e.conftest import ROOT, TOKEN, Workspace
from tests.support.quirk_target import Behaviour, QuirkTarget
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
