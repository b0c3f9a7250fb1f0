"""``mapping: asana`` names a preset shipped in the package; paths keep working as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.errors import ConfigError
from syncer.runtime.configfile import load_config
from syncer.runtime.presets import PRESETS, preset_names

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, mapping: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        "jobs:\n  - name: j\n    source: {type: file, path: d.json}\n"
        "    target: {url: 'https://app.example/scim/v2'}\n"
        f"    mapping: {mapping}\n",
        encoding="utf-8",
    )
    return path


def test_every_mapping_of_the_repository_is_a_preset() -> None:
    assert preset_names() == sorted(p.stem for p in (ROOT / "mappings").glob("*.yaml"))
    assert (PRESETS / "asana.yaml").read_bytes() == (ROOT / "mappings" / "asana.yaml").read_bytes()


def test_a_bare_name_loads_the_preset(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, "asana"))
    assert config.mappings["j"].document.path == PRESETS / "asana.yaml"
    assert [m.target for m in config.mappings["j"].settings.users][:1] == ["userName"]


def test_a_file_of_that_name_beside_the_config_wins(tmp_path: Path) -> None:
    (tmp_path / "asana").write_text((ROOT / "mappings" / "scim-default.yaml").read_text(), encoding="utf-8")
    config = load_config(_config(tmp_path, "asana"))
    assert config.mappings["j"].document.path == tmp_path / "asana"


def test_an_unknown_name_lists_the_presets_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(_config(tmp_path, "asanna"))
    message = str(refused.value)
    assert "config.yaml:5" in message and "asanna" in message and "asana, ldap" in message


def test_a_path_is_still_a_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(_config(tmp_path, "mappings/asana.yaml"))
    assert str(tmp_path / "mappings" / "asana.yaml") in str(refused.value)
