"""matching.strategy against a real scim2-server: what each strategy sends, and that it never duplicates."""

from __future__ import annotations

from collections import Counter

from tests.e2e.conftest import Workspace

DISCOVERY = 3
"""The first cycle of a new state also reads /ServiceProviderConfig, /ResourceTypes and /Schemas:
the target's capabilities, then cached in the state for a day (``runtime.capabilities``)."""


def _enabled(ws: Workspace) -> list[dict[str, object]]:
    return [u for u in ws.load()["users"] if u["accountEnabled"]]


def test_initial_sync_into_an_empty_target_sends_only_the_count_probes(workspace: Workspace) -> None:
    """auto: an empty target (totalResults 0) needs no lookup, so an initial sync GETs once per kind."""
    workspace.run("sync")
    counts = workspace.server.counts()
    groups = len(workspace.load()["groups"])
    assert workspace.server.discovery_requests() == DISCOVERY
    assert counts["GET"] == 2 + DISCOVERY
    assert counts["POST"] == len(_enabled(workspace)) + groups


def test_discovery_is_read_once_a_day_not_every_cycle(workspace: Workspace) -> None:
    """test-connection refreshes the cached capabilities; the cycles after it read none of them."""
    workspace.run("test-connection")
    assert workspace.server.discovery_requests() == DISCOVERY
    workspace.server.reset_counts()
    workspace.run("sync")
    assert workspace.server.discovery_requests() == 0
    assert workspace.server.counts()["GET"] == 2  # the count probes alone, as before discovery
    workspace.sql_connection().execute(  # a day later, by the real clock
        "update target_capabilities set fetched_at = datetime(fetched_at, '-25 hours')"
    ).connection.commit()
    workspace.server.reset_counts()
    workspace.run("sync")
    assert workspace.server.discovery_requests() == DISCOVERY


def test_auto_lists_a_target_that_already_holds_objects(workspace: Workspace) -> None:
    """auto: a target holding some objects is read once, page by page; each is linked, not re-created."""
    data = workspace.load()
    seeded = {u["userPrincipalName"] for u in _enabled(workspace)[:20]}
    for name in seeded:
        workspace.server.seed_user(userName=name)
    workspace.server.seed_group(displayName=data["groups"][0]["displayName"])
    workspace.run("sync")
    counts = workspace.server.counts()
    # a count probe, one page and one past its end, for users and for groups; and the matched
    # group's members, read once so that only the missing ones are added; and discovery
    assert counts["GET"] == 7 + DISCOVERY
    assert counts["POST"] == len(_enabled(workspace)) - 20 + len(data["groups"]) - 1
    names = Counter(u["userName"] for u in workspace.server.resources("Users"))
    assert max(names.values()) == 1 and set(names) == {u["userPrincipalName"] for u in _enabled(workspace)}
    matched = workspace.sql("select count(*) from links where origin = 'matched'")
    assert matched == [(21,)]
    again = workspace.run("sync")
    assert "incremental cycle" in again.stdout


def test_query_strategy_looks_up_each_unlinked_object(workspace: Workspace) -> None:
    """query: one filtered GET per unlinked object, as Entra does."""
    workspace.write_config("    matching: {strategy: query}\n")
    workspace.run("sync")
    lookups = len(_enabled(workspace)) + len(workspace.load()["groups"])
    assert workspace.server.counts()["GET"] == lookups + DISCOVERY


def test_list_strategy_reads_each_kind_once(workspace: Workspace) -> None:
    """list: one page per kind, one past the end of the non-empty one, no count probe, no per-object query."""
    workspace.write_config("    matching: {strategy: list, page_size: 50}\n")
    workspace.server.seed_user(userName=_enabled(workspace)[0]["userPrincipalName"])
    workspace.run("sync")
    assert workspace.server.counts()["GET"] == 3 + DISCOVERY
    assert len(workspace.server.resources("Users")) == len(_enabled(workspace))
