"""Typos that pass the load-time checks and do damage: mapped and scoping names the source lacks.

``source: jobTitel`` would clear every user's title, a scoping ``departmnet`` would disable every
Sales user; ``validate`` names them with file:line and a suggestion, and a cycle refuses them
before it plans or sends anything.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Workspace

pytestmark = pytest.mark.e2e


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1) if text in line)


@pytest.fixture
def csv_typo(workspace: Workspace) -> tuple[Workspace, Path, int]:
    """An HR CSV export with the Asana preset, whose title mapping reads ``jobTitel``."""
    shutil.copy(ROOT / "examples" / "directory.csv", workspace.root / "directory.csv")
    mapping = workspace.root / "asana.yaml"
    mapping.write_text(
        (ROOT / "mappings" / "asana.yaml").read_text("utf-8").replace("source: jobTitle", "source: jobTitel"),
        "utf-8",
    )
    workspace.mapping = mapping
    workspace.write_config()
    config = workspace.config.read_text("utf-8").replace("path: directory.json", "path: directory.csv")
    workspace.config.write_text(config, "utf-8")
    return workspace, mapping, _line_of(mapping, "source: jobTitel") - 1  # the entry's `- target:` line


def test_validate_names_a_mapped_typo_with_file_line_and_the_close_match(
    csv_typo: tuple[Workspace, Path, int],
) -> None:
    workspace, mapping, line = csv_typo
    result = workspace.run("validate", expect=1)
    expected = (
        f"error: {mapping}:{line}: source attribute 'jobTitel' is not in the source "
        "(did you mean 'jobTitle'?)"
    )
    assert expected in result.stderr.splitlines()
    assert "valid (" not in result.stdout


def test_validate_no_source_checks_offline_and_passes(csv_typo: tuple[Workspace, Path, int]) -> None:
    workspace, _, _ = csv_typo
    (workspace.root / "directory.csv").unlink()  # no source at all: --no-source never reads it
    result = workspace.run("validate", "--no-source")
    assert "valid (1 job(s): e2e)" in result.stdout


def test_sync_with_a_mapped_typo_sends_nothing(csv_typo: tuple[Workspace, Path, int]) -> None:
    workspace, mapping, line = csv_typo
    result = workspace.run("sync", expect=1)
    assert f"{mapping}:{line}: source attribute 'jobTitel'" in result.stderr
    assert "nothing was planned or sent" in result.stderr
    assert workspace.server.writes() == 0
    assert workspace.users() == {}


def test_a_scoping_typo_refuses_the_cycle_before_anything_is_sent(synced: Workspace) -> None:
    """``departmnet`` would put every Sales user out of scope, so every one of them disabled."""
    before = synced.users()
    synced.write_config(
        extra_job="    scope:\n      users:\n"
        "        - - {attribute: departmnet, operator: EQUALS, value: Sales}\n"
    )
    line = _line_of(synced.config, "attribute: departmnet")
    validated = synced.run("validate", expect=1)
    assert (
        f"error: {synced.config}:{line}: scoping attribute 'departmnet' is not in the source "
        "(did you mean 'department'?)"
    ) in validated.stderr.splitlines()

    plan = synced.run("plan", expect=1)
    assert "departmnet" in plan.stderr and "disable" not in plan.stdout
    result = synced.run("sync", expect=1)
    assert f"{synced.config}:{line}: scoping attribute 'departmnet'" in result.stderr
    assert synced.server.writes() == 0
    assert synced.users() == before
    # the refused cycle is on record as refused before any change, not as one that ran
    (status,) = synced.sql("SELECT status FROM runs ORDER BY seq DESC LIMIT 1")[0]
    assert status == "aborted"


def test_an_absent_optional_attribute_is_only_a_warning(workspace: Workspace) -> None:
    """The preset reads ``costCenter``; a directory without it syncs, and validate says so."""
    workspace.edit(lambda data: [user.pop("costCenter", None) for user in data["users"]])
    result = workspace.run("validate")
    warning = next(line for line in result.stderr.splitlines() if "'costCenter'" in line)
    assert warning.startswith("warning: ") and "source attribute 'costCenter' is not in the source" in warning
    workspace.run("sync")
    assert workspace.users()
