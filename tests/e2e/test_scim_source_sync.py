"""SCIM to SCIM end to end: the CLI migrates users and groups from one real scim2-server into another."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ENTERPRISE, ROOT, Workspace
from tests.support import canary
from tests.support.scim_server import ScimTestServer

SOURCE_TOKEN = canary.SOURCE_TOKEN


@pytest.fixture
def source_server() -> Iterator[ScimTestServer]:
    with ScimTestServer(SOURCE_TOKEN) as server:
        yield server


@pytest.fixture
def migration(tmp_path: Path, scim: ScimTestServer, source_server: ScimTestServer) -> Workspace:
    ws = Workspace(root=tmp_path, server=scim)
    canary.declare_input(tmp_path / "source-token").write_text(SOURCE_TOKEN + "\n", encoding="utf-8")
    ws.config.write_text(
        f"""state: sqlite:///state.db
jobs:
  - name: migrate
    source:
      type: scim
      url: {source_server.base_url}
      token_file: source-token
      page_size: 4
    target:
      url: {scim.base_url}
    mapping: {ROOT / "mappings" / "scim-to-scim.yaml"}
""",
        encoding="utf-8",
    )
    return ws


def test_users_groups_and_managers_move_from_one_scim_service_to_another(
    migration: Workspace, source_server: ScimTestServer
) -> None:
    """Every source user and group arrives with its values, manager and members; a rerun sends nothing."""
    boss = source_server.seed_user(userName="boss@example.org", title="CEO", externalId="e-boss")
    staff = [
        source_server.seed_user(
            userName=f"staff{n}@example.org",
            name={"givenName": f"Staff{n}", "familyName": "Member"},
            emails=[{"type": "work", "value": f"staff{n}@example.org"}],
            **{ENTERPRISE: {"department": "Ops", "manager": {"value": boss["id"]}}},
        )
        for n in range(9)
    ]
    source_server.seed_user(userName="gone@example.org", active=False)
    source_server.seed_group(displayName="Ops", members=[{"value": u["id"]} for u in staff[:5]])

    migration.run("sync")
    users = migration.users()
    assert sorted(users) == sorted(["boss@example.org", *(f"staff{n}@example.org" for n in range(9))])
    assert users["boss@example.org"]["externalId"] == "e-boss"
    target_boss = users["boss@example.org"]["id"]
    for n in range(9):
        got = users[f"staff{n}@example.org"]
        assert got["name"]["givenName"] == f"Staff{n}"
        assert got["emails"] == [{"type": "work", "value": f"staff{n}@example.org"}]
        assert got[ENTERPRISE] == {"department": "Ops", "manager": {"value": target_boss}}
    ops = migration.groups()["Ops"]
    by_id = {u["id"]: name for name, u in users.items()}
    assert sorted(by_id[m["value"]] for m in ops["members"]) == [f"staff{n}@example.org" for n in range(5)]

    migration.server.reset_counts()
    migration.run("sync")
    assert migration.server.counts() == {}
