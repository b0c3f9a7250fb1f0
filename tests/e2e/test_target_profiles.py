"""Target profiles: each documented quirk, emulated in front of the real scim2-server, is met.

The emulations are :data:`tests.support.quirks.EMULATIONS`; each test first shows the emulated
target refuses what a careless client sends (so the test can fail), then syncs with the profile.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncer.settings.profiles import PROFILES, TargetProfile
from tests.e2e.conftest import ROOT, TOKEN, Workspace
from tests.support.quirk_target import QuirkTarget
from tests.support.quirks import EMULATIONS, cursor
from tests.support.quirks.cursor import CursorOnly
from tests.support.scim_server import ScimTestServer


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
