"""The cycle acts on what the target announces (issue 13), each target bent by the hostile proxy
in front of the real scim2-server: a missing extension refuses the cycle before its first POST, a
target that cannot filter is listed and, saying it has no PATCH, updated with PUT.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.e2e.conftest import ROOT, Workspace
from tests.support.discovery_bends import SMALL_PAGE
from tests.support.hostile import HostileTarget

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ASANA = ROOT / "mappings" / "asana.yaml"


@pytest.fixture
def hostile(workspace: Workspace) -> Iterator[HostileTarget]:
    with HostileTarget(workspace.server.base_url) as target:
        workspace.write_config(url=target.base_url)
        yield target


def _lines_of(path: Path, text: str) -> list[int]:
    return [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]


def test_a_mapped_extension_the_target_lacks_refuses_the_cycle_before_any_post(
    workspace: Workspace, hostile: HostileTarget
) -> None:
    """One error naming every mapping line, not a 400 per user resent every escrow step."""
    hostile.set_mode("no_enterprise")
    result = workspace.run("sync", expect=1)
    assert workspace.server.writes() == 0
    assert result.stderr.count("does not offer the schema extension") == 1
    assert f"does not offer the schema extension {ENTERPRISE}" in result.stderr
    for line in _lines_of(ASANA, f"target: {ENTERPRISE}:"):
        assert f"{ASANA}:{line} (" in result.stderr
    assert f"{ASANA}:{_lines_of(ASANA, 'User:department')[0]} (department)" in result.stderr
    assert "Nothing was sent" in result.stderr
    assert workspace.run("plan", expect=1).stderr.count("does not offer the schema extension") == 1


def test_without_the_extension_mapped_the_same_target_syncs(
    workspace: Workspace, hostile: HostileTarget
) -> None:
    mapping = workspace.root / "core-only.yaml"
    kept, skip = [], False
    for line in ASANA.read_text().splitlines():
        if line.startswith("  - target:") or not line.startswith(" "):
            skip = ENTERPRISE in line
        if not skip:
            kept.append(line)
    mapping.write_text("\n".join(kept) + "\n")
    workspace.mapping = mapping
    workspace.write_config(url=hostile.base_url)
    hostile.set_mode("no_enterprise")
    workspace.run("sync")
    assert len(workspace.server.resources("Users")) == sum(
        u["accountEnabled"] for u in workspace.load()["users"]
    )


def test_a_target_without_filter_or_patch_is_listed_and_updated_with_put(
    workspace: Workspace, hostile: HostileTarget
) -> None:
    """filter.supported: false (and filters ignored): matched by listing, never by a lying query;
    patch.supported: false: every update, disable and member change goes out as GET + PUT."""
    users = [u for u in workspace.load()["users"] if u["accountEnabled"]]
    for user in users[:10]:
        workspace.server.seed_user(userName=user["userPrincipalName"])
    hostile.set_mode("no_filter")
    workspace.write_config(url=hostile.base_url, extra_job="    matching: {strategy: query}\n")
    workspace.run("sync")
    names = Counter(u["userName"] for u in workspace.server.resources("Users"))
    assert max(names.values()) == 1 and len(names) == len(users)
    assert workspace.sql("select count(*) from links where origin = 'matched'") == [(10,)]
    assert "PATCH" not in workspace.server.counts()
    data = workspace.load()
    data["users"][5]["jobTitle"] = "Principal"
    workspace.save(data)
    workspace.server.reset_counts()
    workspace.run("sync")
    counts = workspace.server.counts()
    assert "PATCH" not in counts and counts.get("PUT") == 1
    assert workspace.users()[data["users"][5]["userPrincipalName"]]["title"] == "Principal"


def test_a_configured_update_method_wins_over_discovery(workspace: Workspace, hostile: HostileTarget) -> None:
    hostile.set_mode("no_filter")
    workspace.write_config(url=hostile.base_url, extra_job="")
    text = workspace.config.read_text().replace(
        "      retries: 2\n", "      retries: 2\n      update_method: patch\n"
    )
    workspace.config.write_text(text)
    workspace.run("sync")
    data = workspace.load()
    data["users"][5]["jobTitle"] = "Principal"
    workspace.save(data)
    workspace.server.reset_counts()
    workspace.run("sync")
    counts = workspace.server.counts()
    assert counts.get("PATCH") == 1 and "PUT" not in counts


@pytest.mark.parametrize("mode", ["no_discovery", "broken_discovery"])
def test_a_target_without_discovery_syncs_on_rfc_defaults(
    workspace: Workspace, hostile: HostileTarget, mode: str
) -> None:
    """404 (no such endpoints) or 500 (broken): the cycle goes on as configured, and the next cycle
    does not ask again (the answer, or the failure, is remembered)."""
    hostile.set_mode(mode)
    result = workspace.run("sync")
    assert len(workspace.server.resources("Users")) > 0 and "PATCH" in workspace.server.counts()
    if mode == "broken_discovery":
        assert "discovery_failed" in result.stderr
    workspace.server.reset_counts()
    workspace.run("sync")
    assert workspace.server.discovery_requests() == 0


def test_listings_ask_for_pages_within_filter_max_results(
    workspace: Workspace, hostile: HostileTarget
) -> None:
    """filter.maxResults 7: the matching listing asks for 7 at a time, not its page_size of 50."""
    users = [u for u in workspace.load()["users"] if u["accountEnabled"]]
    for user in users[:20]:
        workspace.server.seed_user(userName=user["userPrincipalName"])
    hostile.set_mode("small_pages")
    workspace.write_config(url=hostile.base_url, extra_job="    matching: {strategy: list, page_size: 50}\n")
    workspace.run("sync")
    listings = [p for m, p in hostile.seen() if m == "GET" and "/Users?" in p and "filter" not in p]
    pages = [dict(parse_qsl(urlsplit(r).query)) for r in listings]
    assert all(int(p["count"]) <= SMALL_PAGE for p in pages)
    # 20 users in pages of 7 (the id-only check past the end aside)
    assert [p["startIndex"] for p in pages if "attributes" not in p] == ["1", "8", "15"]
    assert workspace.sql("select count(*) from links where origin = 'matched'") == [(20,)]
