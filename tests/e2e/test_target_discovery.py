"""``test-connection`` and ``validate --online``: the target's capabilities, held against the mapping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Workspace
from tests.support.hostile import HostileTarget

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ASANA = ROOT / "mappings" / "asana.yaml"


@pytest.fixture
def hostile(workspace: Workspace) -> Iterator[HostileTarget]:
    with HostileTarget(workspace.server.base_url) as target:
        workspace.write_config(url=target.base_url)
        yield target


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_test_connection_prints_what_the_target_offers(workspace: Workspace) -> None:
    result = workspace.run("test-connection")
    assert "Test connection to" in result.stdout
    assert "patch: yes; filter: yes (maxResults 1000); bulk: yes (maxOperations 1000)" in result.stdout
    assert f"User (/Users): urn:ietf:params:scim:schemas:core:2.0:User + {ENTERPRISE}" in result.stdout
    assert "warning" not in result.stderr and "error" not in result.stderr


def test_a_mapped_extension_the_target_lacks_is_refused_naming_the_line(
    workspace: Workspace, hostile: HostileTarget
) -> None:
    hostile.set_mode("no_enterprise")
    for command in (("test-connection",), ("validate", "--online")):
        result = workspace.run(*command, expect=1)
        line = _line_of(ASANA, f"{ENTERPRISE}:department")
        where = f"{ASANA}:{line} {ENTERPRISE}:department"
        assert f"error: {where}: schema extension {ENTERPRISE} is not offered" in result.stderr
        assert "mapped attribute(s) in a schema extension the target does not offer" in result.stderr
    assert "valid" not in result.stdout
    workspace.run("validate")  # offline, nothing to hold it against


def test_read_only_attributes_are_warned_and_unknown_ones_refused_with_their_line(
    workspace: Workspace,
) -> None:
    """A readOnly attribute harms nothing else: a warning. One the schema lacks is a typo far more
    often than a target announcing less than it takes: an error, with the nearest name it has."""
    mapping = workspace.root / "mapping.yaml"
    text = ASANA.read_text().replace(
        "  - target: title\n",
        "  - target: groups\n    source: department\n  - target: titel\n"
        "    source: city\n  - target: favouriteColour\n    source: city\n  - target: title\n",
    )
    mapping.write_text(text)
    workspace.mapping = mapping
    workspace.write_config()
    workspace.run("validate")  # offline there is no schema to hold the names against
    groups, titel = _line_of(mapping, "target: groups"), _line_of(mapping, "target: titel")
    colour = _line_of(mapping, "favouriteColour")
    core = "urn:ietf:params:scim:schemas:core:2.0:User"
    for command in (("validate", "--online"), ("test-connection",)):
        result = workspace.run(*command, expect=1)
        assert f"warning: {mapping}:{groups} groups: groups is readOnly on the target" in result.stderr
        assert (
            f"error: {mapping}:{titel} titel: 'titel' is not an attribute of {core} on the target "
            "(did you mean 'title'?)"
        ) in result.stderr
        assert (
            f"error: {mapping}:{colour} favouriteColour: 'favouriteColour' is not an attribute of "
            f"{core} on the target\n"
        ) in result.stderr  # nothing near enough to suggest
        assert result.stderr.count("warning:") == 1 and result.stderr.count("error: /") == 2
        assert "2 mapped attribute(s) the target's schema does not have; see above" in result.stderr
        assert "valid" not in result.stdout


def test_a_target_without_discovery_still_connects(workspace: Workspace, hostile: HostileTarget) -> None:
    hostile.set_mode("no_discovery")
    result = workspace.run("test-connection")
    assert "patch: unknown; filter: unknown" in result.stdout
    assert "/Schemas is not offered (404)" in result.stdout
    assert "warning" not in result.stderr


def test_a_target_that_cannot_filter_is_reported(workspace: Workspace, hostile: HostileTarget) -> None:
    """It says so, and ignores filters: the random-userName probe is skipped, not failed."""
    workspace.server.seed_user(userName="someone@example.org")
    hostile.set_mode("no_filter")
    result = workspace.run("test-connection")
    assert "patch: no; filter: no (maxResults 0)" in result.stdout
    assert "matching lists the target" in result.stdout


def test_test_connection_caches_the_capabilities_and_validate_writes_nothing(workspace: Workspace) -> None:
    """test-connection always asks again and keeps the answers for the cycles; validate only reads."""
    workspace.run("validate", "--online")
    assert not workspace.state.exists() or workspace.sql("select count(*) from target_capabilities") == [(0,)]
    workspace.run("test-connection")
    first = workspace.sql("select job, target_url, fetched_at from target_capabilities")
    assert [(job, url) for job, url, _ in first] == [("e2e", workspace.server.base_url)]
    workspace.run("test-connection")
    again = workspace.sql("select fetched_at from target_capabilities")
    assert len(again) == 1 and again[0][0] > first[0][2]  # refreshed, not read from the cache
