"""The committed JSON Schemas match the settings models, and every shipped YAML file points at one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from syncer.cli import app
from syncer.settings import json_schema

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kind", ["config", "mapping"])
def test_committed_schema_is_up_to_date(kind: str) -> None:
    """schemas/KIND.schema.json is exactly what `syncer schema KIND` prints (run `make schemas`)."""
    result = CliRunner().invoke(app, ["schema", kind])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json_schema(kind)
    assert (ROOT / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8") == result.stdout


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        ("mappings/asana.yaml", "../schemas/mapping.schema.json"),
        ("mappings/scim-default.yaml", "../schemas/mapping.schema.json"),
        ("config.example.yaml", "schemas/config.schema.json"),
    ],
)
def test_shipped_yaml_names_its_schema(path: str, schema: str) -> None:
    """Presets and the example config start with a yaml-language-server line naming an existing schema."""
    first = (ROOT / path).read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema={schema}"
    assert ((ROOT / path).parent / schema).is_file()


@pytest.mark.parametrize(
    ("kind", "pointer", "expected"),
    [
        ("config", ("$defs", "ScheduleSettings", "properties", "interval", "default"), "40m"),
        ("config", ("$defs", "JobSettings", "additionalProperties"), False),
        (
            "mapping",
            ("$defs", "AttributeMappingSettings", "properties", "apply", "enum"),
            ["always", "on_create"],
        ),
        ("mapping", ("additionalProperties",), False),
    ],
)
def test_schema_details_editors_rely_on(kind: str, pointer: tuple[str, ...], expected: object) -> None:
    """Unknown keys are flagged (additionalProperties false) and durations default as written (40m)."""
    node: object = json_schema(kind)
    for key in pointer:
        assert isinstance(node, dict)
        node = node[key]
    assert node == expected


def test_config_example_is_a_valid_config(tmp_path: Path) -> None:
    """`syncer validate` accepts config.example.yaml as shipped, so the documented keys are real keys."""
    env = {**os.environ, "ASANA_SCIM_TOKEN": "example-token"}
    result = subprocess.run(
        [sys.executable, "-m", "syncer", "-c", str(ROOT / "config.example.yaml"), "validate"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
