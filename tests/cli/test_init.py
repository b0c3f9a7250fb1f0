"""``syncer init`` writes a starter config that loads as written, for every source type."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from syncer.cli import app
from syncer.runtime.configfile import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("source", ["csv", "json", "ldap", "ad", "scim"])
def test_the_starter_config_loads_for_every_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    for name in ("APP_TOKEN", "LDAP_PASSWORD", "SOURCE_SCIM_TOKEN"):
        monkeypatch.setenv(name, "x-secret")
    out = tmp_path / "config.yaml"
    result = CliRunner().invoke(
        app, ["init", "--source", source, "--out", str(out), "--token-env", "APP_TOKEN", "--job", "hr"]
    )
    assert result.exit_code == 0, result.output
    assert "x-secret" not in out.read_text() and "${APP_TOKEN}" in out.read_text()
    config = load_config(out)
    job = config.settings.jobs[0]
    assert job.name == "hr" and job.target.url.startswith("https://")
    assert config.mappings["hr"].document.path.stem == (
        "asana" if source in ("csv", "json") else "ldap" if source in ("ldap", "ad") else "scim-to-scim"
    )


def test_init_refuses_to_overwrite_and_names_the_presets(tmp_path: Path) -> None:
    out = tmp_path / "config.yaml"
    out.write_text("mine\n", encoding="utf-8")
    kept = CliRunner().invoke(app, ["init", "--out", str(out)])
    assert kept.exit_code == 1 and out.read_text() == "mine\n" and "--force" in kept.output
    wrong = CliRunner().invoke(app, ["init", "--out", str(tmp_path / "n.yaml"), "--preset", "asanna"])
    assert wrong.exit_code == 2 and "asana, ldap" in wrong.output


def test_init_example_writes_the_shipped_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASANA_SCIM_TOKEN", "x")
    out = tmp_path / "reference.yaml"
    assert CliRunner().invoke(app, ["init", "--example", "--out", str(out)]).exit_code == 0
    assert out.read_text() == (ROOT / "config.example.yaml").read_text()
    assert load_config(out).mappings["asana"].document.path.stem == "asana"
