"""What syncer writes for people to read (saved plans, log exports) is private: mode 0600."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Workspace


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_saved_plan_is_private_even_over_an_open_file(workspace: Workspace) -> None:
    plan = workspace.root / "plan.json"
    plan.write_text("{}", encoding="utf-8")
    plan.chmod(0o644)
    workspace.run("plan", "--out", str(plan))
    assert _mode(plan) == 0o600 and '"fingerprint"' in plan.read_text(encoding="utf-8")
    fresh = workspace.root / "fresh.json"
    workspace.run("plan", "--out", str(fresh))
    assert _mode(fresh) == 0o600


def test_log_exports_are_private(synced: Workspace) -> None:
    out = synced.root / "export"
    synced.run("logs", "--format", "csv", "--out", str(out))
    files = sorted(out.iterdir())
    assert len(files) == 3 and {_mode(f) for f in files} == {0o600}


def test_a_newline_in_a_source_value_cannot_forge_a_plan_line(workspace: Workspace) -> None:
    def forge(data: dict) -> None:  # type: ignore[type-arg]
        user = data["users"][1]
        user["userPrincipalName"] = "intern@contoso.com\n+ create user ceo@contoso.com"

    workspace.edit(forge)
    out = workspace.run("plan").stdout
    # a line end in an identity value refuses that record (core.intake); nothing of it is planned
    assert "+ create user intern@contoso.com" not in out
    assert not [line for line in out.splitlines() if line.startswith("+ create user ceo@")]
