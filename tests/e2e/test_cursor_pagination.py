"""Cursor-only targets and sources (RFC 9865), as AWS IAM Identity Center and Entra ID acting as a
SCIM server are: the hostile proxy in front of the real scim2-server refuses ``startIndex`` with a
400, serves ``cursor`` pages of at most 100, and announces it in ``/ServiceProviderConfig``."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.e2e.conftest import ROOT, Workspace
from tests.support import canary, cursor_bends
from tests.support.hostile import HostileTarget
from tests.support.scim_server import ScimTestServer

PEOPLE = 250
SOURCE_TOKEN = canary.SOURCE_TOKEN


def _listings(target: HostileTarget, endpoint: str = "/Users") -> list[dict[str, str]]:
    """The query of every listing request (a GET of the collection without a filter)."""
    queries = []
    for method, path in target.seen():
        split = urlsplit(path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        if method == "GET" and split.path.endswith(endpoint) and "filter" not in query:
            queries.append(query)
    return queries


@pytest.fixture
def cursor_target(workspace: Workspace) -> Iterator[HostileTarget]:
    with HostileTarget(workspace.server.base_url, mode="cursor_only") as target:
        yield target


def _many_people(workspace: Workspace, count: int) -> list[str]:
    """A directory of ``count`` enabled users (no groups), each also on the target already."""
    data = workspace.load()
    template = next(u for u in data["users"] if u["accountEnabled"])
    users = []
    for n in range(count):
        user = copy.deepcopy(template)
        name = f"person{n:03}"
        user.update(
            id=f"00000000-0000-4000-8000-{n:012}",
            userPrincipalName=f"{name}@contoso.com",
            mail=f"{name}@contoso.com",
            mailNickname=name,
            displayName=f"Person {n:03}",
            employeeId=f"E{5000 + n}",
            manager=None,
        )
        users.append(user)
    workspace.save({"users": users, "groups": []})
    for user in users:
        workspace.server.seed_user(userName=user["userPrincipalName"])
    return [u["userPrincipalName"] for u in users]


def test_a_cursor_only_target_is_matched_by_listing_every_page(
    workspace: Workspace, cursor_target: HostileTarget
) -> None:
    """250 people already on the target, matched by one listing in cursor pages of at most 100:
    every account is linked, nothing is created twice, and no request asks by startIndex."""
    names = _many_people(workspace, PEOPLE)
    workspace.write_config(url=cursor_target.base_url, extra_job="    matching: {strategy: list}\n")
    workspace.run("sync")
    assert workspace.sql("select count(*) from links where origin = 'matched'") == [(PEOPLE,)]
    assert sorted(workspace.users()) == sorted(names)
    pages = _listings(cursor_target)
    assert pages and all("startIndex" not in p and "cursor" in p for p in pages)
    assert all(int(p["count"]) <= cursor_bends.MAX_PAGE for p in pages)
    assert len([p for p in pages if "attributes" not in p]) == 3  # 100 + 100 + 50
    # matched by the listing, not by a query per person after a refused listing
    assert not [p for m, p in cursor_target.seen() if m == "GET" and "filter=" in p]


def test_auto_matching_counts_by_cursor_then_lists(
    workspace: Workspace, cursor_target: HostileTarget
) -> None:
    """``matching.strategy: auto`` asks for a one-item cursor page for the count, then lists."""
    _many_people(workspace, 120)
    workspace.write_config(url=cursor_target.base_url)
    workspace.run("sync")
    assert workspace.sql("select count(*) from links where origin = 'matched'") == [(120,)]
    pages = _listings(cursor_target)
    assert pages[0] == {"cursor": "", "count": "1", "attributes": "id"}
    assert all("startIndex" not in p for p in pages)
    assert not [p for m, p in cursor_target.seen() if m == "GET" and "filter=" in p]


def test_discover_lists_a_cursor_only_target(workspace: Workspace, cursor_target: HostileTarget) -> None:
    _many_people(workspace, 120)
    workspace.write_config(url=cursor_target.base_url)
    result = workspace.run("discover", "--format", "csv")
    assert result.stdout.count("@contoso.com") >= 120
    assert all("startIndex" not in p for p in _listings(cursor_target))


def test_a_target_that_repeats_its_cursor_fails_the_listing_and_says_so(
    workspace: Workspace, cursor_target: HostileTarget
) -> None:
    _many_people(workspace, PEOPLE)  # three pages: the second answers its own cursor again
    cursor_target.set_mode("repeat_cursor")
    workspace.write_config(url=cursor_target.base_url)
    result = workspace.run("discover", expect=None)
    assert result.returncode != 0
    assert "nextCursor it had answered before" in result.stderr
    assert cursor_target.requests() < 20


# --- a SCIM source that pages only by cursor ---------------------------------------------------


@pytest.fixture
def source_server() -> Iterator[ScimTestServer]:
    with ScimTestServer(SOURCE_TOKEN) as server:
        yield server


@pytest.fixture
def cursor_source(source_server: ScimTestServer) -> Iterator[HostileTarget]:
    with HostileTarget(source_server.base_url, mode="cursor_only") as target:
        yield target


def _migration(root: Path, target: ScimTestServer, source_url: str, pagination: str = "cursor") -> Workspace:
    ws = Workspace(root=root, server=target)
    canary.declare_input(root / "source-token").write_text(SOURCE_TOKEN + "\n", encoding="utf-8")
    ws.config.write_text(
        f"""state: sqlite:///state.db
jobs:
  - name: migrate
    source:
      type: scim
      url: {source_url}
      token_file: source-token
      page_size: 4
      pagination: {pagination}
      retries: 1
    target:
      url: {target.base_url}
    mapping: {ROOT / "mappings" / "scim-to-scim.yaml"}
""",
        encoding="utf-8",
    )
    return ws


def _seed_source(source: ScimTestServer) -> list[str]:
    names = [f"staff{n}@example.org" for n in range(11)]
    users = [source.seed_user(userName=name) for name in names]
    source.seed_group(displayName="Ops", members=[{"value": u["id"]} for u in users[:6]])
    return names


def test_a_cursor_only_scim_source_is_read_whole(
    tmp_path: Path, scim: ScimTestServer, source_server: ScimTestServer, cursor_source: HostileTarget
) -> None:
    names = _seed_source(source_server)
    migration = _migration(tmp_path, scim, cursor_source.base_url)
    migration.run("sync")
    assert sorted(migration.users()) == sorted(names)
    assert len(migration.groups()["Ops"]["members"]) == 6
    pages = _listings(cursor_source)
    assert len(pages) == 3 and pages[0]["cursor"] == "" and all("startIndex" not in p for p in pages)


def test_index_paging_against_a_cursor_only_source_fails_the_read(
    tmp_path: Path, scim: ScimTestServer, source_server: ScimTestServer, cursor_source: HostileTarget
) -> None:
    _seed_source(source_server)
    result = _migration(tmp_path, scim, cursor_source.base_url, pagination="index").run("sync", expect=None)
    assert result.returncode != 0 and "400 invalidValue" in result.stderr
    assert "set `pagination: cursor`" in result.stderr
    assert scim.resources("Users") == []


def test_a_source_that_repeats_its_cursor_fails_the_read_and_nobody_is_deprovisioned(
    tmp_path: Path, scim: ScimTestServer, source_server: ScimTestServer, cursor_source: HostileTarget
) -> None:
    names = _seed_source(source_server)
    migration = _migration(tmp_path, scim, cursor_source.base_url)
    migration.run("sync")
    scim.reset_counts()
    cursor_source.set_mode("repeat_cursor")
    result = migration.run("sync", expect=None)
    assert result.returncode != 0
    assert "nextCursor it had answered before" in result.stderr
    assert scim.writes() == 0
    users = migration.users()
    assert sorted(users) == sorted(names) and all(u["active"] for u in users.values())
