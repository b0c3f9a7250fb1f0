"""Config and mapping YAML: what is expanded where, and input that must end in a clean error."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.errors import ConfigError
from syncer.runtime.configfile import load_config, load_mapping

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-value-never-sent"


def _config(tmp_path: Path, mapping: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""jobs:
  - name: j
    source: {{type: file, path: d.json}}
    target: {{url: "https://app.example/scim/v2", token: t}}
    mapping: {mapping}
""",
        encoding="utf-8",
    )
    return path


def _mapping(tmp_path: Path, constant: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        f"""users:
  - {{target: userName, source: userPrincipalName, match: 1}}
  - target: title
    constant: "{constant}"
""",
        encoding="utf-8",
    )
    return path


def test_a_mapping_file_refuses_an_environment_variable_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared preset with ``constant: ${SECRET}`` must not send the secret to every target user."""
    monkeypatch.setenv("SECRET", SECRET)
    with pytest.raises(ConfigError) as failed:
        load_config(_config(tmp_path, _mapping(tmp_path, "${SECRET}")))
    message = str(failed.value)
    assert f"{tmp_path / 'mapping.yaml'}:4" in message
    assert "${SECRET}" in message and "mapping files expand no environment variables" in message
    assert SECRET not in message


def test_a_mapping_file_keeps_a_dollar_that_is_no_variable(tmp_path: Path) -> None:
    loaded = load_mapping(_mapping(tmp_path, "costs $5 or ${not a name}"))
    assert loaded.settings.users[1].constant == "costs $5 or ${not a name}"


@pytest.mark.parametrize("preset", sorted(p.name for p in (ROOT / "mappings").glob("*.yaml")))
def test_every_preset_still_loads(preset: str) -> None:
    assert load_mapping(ROOT / "mappings" / preset).settings.users
