"""``--job`` that names no job is a typed config error; the CLI no longer swallows every KeyError."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncer.errors import ConfigError, UnknownJob
from syncer.runtime.configfile import load_config

ROOT = Path(__file__).resolve().parents[1]


def _two_jobs(tmp_path: Path) -> Path:
    config = tmp_path / "config.yaml"
    job = """  - name: {name}
    source: {{type: file, path: {root}/examples/directory.json}}
    target: {{url: "https://app.example/scim/v2", token: t}}
    mapping: {root}/mappings/asana.yaml
"""
    config.write_text(
        "jobs:\n" + job.format(name="hr", root=ROOT) + job.format(name="it", root=ROOT), encoding="utf-8"
    )
    return config


def test_an_unknown_job_name_raises_unknown_job(tmp_path: Path) -> None:
    settings = load_config(_two_jobs(tmp_path)).settings
    with pytest.raises(UnknownJob) as caught:
        settings.job("nope")
    assert isinstance(caught.value, ConfigError)
    assert isinstance(caught.value, KeyError)  # callers that caught KeyError keep working
    assert str(caught.value) == "no job named 'nope'; jobs: hr, it"  # not quoted like a dict key


def test_no_job_among_several_raises_unknown_job(tmp_path: Path) -> None:
    settings = load_config(_two_jobs(tmp_path)).settings
    with pytest.raises(UnknownJob, match="holds 2 jobs; choose one with --job"):
        settings.job(None)
    assert settings.job("it").name == "it"
