"""Config and mapping YAML: what is expanded where, and input that must end in a clean error."""

from __future__ import annotations

import time
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


LAUGHS = """a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _timed_refusal(path: Path, loader: object = load_config) -> str:
    started = time.monotonic()
    with pytest.raises(ConfigError) as failed:
        loader(path)  # type: ignore[operator]
    assert time.monotonic() - started < 5
    return str(failed.value)


def test_a_yaml_alias_bomb_in_the_config_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(LAUGHS + "jobs: []\n", encoding="utf-8")
    message = _timed_refusal(path)
    assert str(path) in message and "aliases" in message


def test_a_yaml_alias_bomb_in_a_mapping_is_refused_at_once(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(LAUGHS.replace("a: &a", "users: []\na: &a"), encoding="utf-8")
    message = _timed_refusal(_config(tmp_path, mapping))
    assert f"{mapping}:" in message and "aliases" in message


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("jobs: &j [*j]\n", encoding="utf-8")
    assert "recursive" in _timed_refusal(path)


def test_modest_aliases_still_work(tmp_path: Path) -> None:
    """Two jobs sharing one target block through an anchor is a real use; it keeps working."""
    path = tmp_path / "config.yaml"
    job = "  - name: {name}\n    source: {{type: file, path: d.json}}\n    mapping: {mapping}\n"
    mapping = ROOT / "mappings" / "asana.yaml"
    path.write_text(
        "jobs:\n"
        + job.format(name="a", mapping=mapping)
        + '    target: &t {url: "https://app.example/scim/v2", token: t}\n'
        + job.format(name="b", mapping=mapping)
        + "    target: *t\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert [j.target.url for j in config.settings.jobs] == ["https://app.example/scim/v2"] * 2


@pytest.mark.parametrize("opening", ["[", '{"a": '])
def test_a_config_nested_1000_deep_is_a_clean_error(tmp_path: Path, opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    path = tmp_path / "config.yaml"
    path.write_text(
        "state: sqlite:///s.db\njobs: " + opening * 1000 + "1" + closing * 1000 + "\n", encoding="utf-8"
    )
    message = _timed_refusal(path)
    assert f"{path}:2" in message and "nested deeper than 100" in message


def test_a_mapping_nested_1000_deep_is_a_clean_error(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("users:\n  - " + "[" * 1000 + "]" * 1000 + "\n", encoding="utf-8")
    message = _timed_refusal(_config(tmp_path, mapping))
    assert f"{mapping}:2" in message and "nested deeper than 100" in message
