"""Names that match nothing (a job, a source id) end as one clean line and exit 1, not a traceback."""

from __future__ import annotations

from tests.e2e.conftest import Workspace


def test_unknown_job_is_one_clean_line(workspace: Workspace) -> None:
    result = workspace.run("plan", "--job", "nope", expect=1)
    assert result.stderr.strip() == "error: no job named 'nope'; jobs: e2e"
    assert "Traceback" not in result.stderr


def test_unknown_source_id_for_why_is_one_clean_line(workspace: Workspace) -> None:
    result = workspace.run("plan", "--why", "no-such-id", expect=1)
    assert result.stderr.strip() == "error: no user or group with id or name 'no-such-id' in the source"
