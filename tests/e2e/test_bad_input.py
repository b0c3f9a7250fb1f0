"""Hostile or broken YAML through the real CLI: one clean error line and exit 1, quickly."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import Workspace
from tests.runtime.test_yaml_loading import LAUGHS


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (LAUGHS + "jobs: []\n", "YAML aliases expand this to more than 100000 values"),
        ("jobs: " + "[" * 5000 + "]" * 5000 + "\n", "config.yaml:1: nested deeper than 100 levels"),
    ],
)
def test_validate_refuses_hostile_yaml_cleanly(workspace: Workspace, body: str, expected: str) -> None:
    workspace.config.write_text(body, encoding="utf-8")
    started = time.monotonic()
    result = workspace.run("validate", expect=1)
    assert time.monotonic() - started < 30
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
