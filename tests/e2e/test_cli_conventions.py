"""The conventions an admin expects of a CLI (issue 14): usage errors, readable help, clear TLS errors."""

from __future__ import annotations

from typer.testing import CliRunner

from syncer.cli import app
from tests.e2e.conftest import Workspace


def test_a_bad_log_level_is_a_usage_error_listing_the_choices() -> None:
    result = CliRunner().invoke(app, ["--log-level", "bogus", "validate"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for choice in ("debug", "info", "warning", "error"):
        assert f"'{choice}'" in result.output


def test_expression_help_shows_its_example_intact() -> None:
    result = CliRunner().invoke(app, ["expression", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "[givenName]" in result.output and "[surname]" in result.output


def test_https_to_a_plain_http_server_says_so(workspace: Workspace) -> None:
    workspace.write_config(url=workspace.server.base_url.replace("http://", "https://"))
    result = workspace.run("test-connection", expect=1)
    assert "the server speaks plain HTTP" in result.stderr
    assert "WRONG_VERSION_NUMBER" not in result.stderr and "_ssl.c" not in result.stderr
