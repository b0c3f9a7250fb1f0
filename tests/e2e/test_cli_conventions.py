"""The conventions an admin expects of a CLI (issue 14): usage errors, readable help, clear TLS errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from syncer.cli import app
from tests.e2e.conftest import TOKEN, Workspace


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


def _syncer(
    workspace: Workspace, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI exactly as typed: no ``-c`` put in front by the fixture."""
    full_env = {**os.environ, "E2E_TOKEN": TOKEN, "COLUMNS": "200", **(env or {})}
    for name in ("SYNCER_CONFIG", "NO_COLOR", "FORCE_COLOR"):
        if name not in (env or {}):
            full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "syncer", *args],
        cwd=workspace.root.parent,  # no config.yaml here: only the option can find it
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_global_options_work_after_the_subcommand(workspace: Workspace) -> None:
    config = str(workspace.config)
    after = _syncer(workspace, "plan", "-c", config, "--log-level", "info", "--format", "json")
    assert after.returncode == 0, after.stderr
    before = _syncer(workspace, "-c", config, "plan", "--format", "json")
    assert json.loads(after.stdout)["changes"] == json.loads(before.stdout)["changes"] != []
    assert _syncer(workspace, "validate", f"--config={config}").returncode == 0
    # after `--` nothing is an option: the -c is an extra argument, not the config
    assert _syncer(workspace, "-c", config, "validate", "--", "-c", "x").returncode == 2


def test_help_shows_what_to_type_not_python_types(workspace: Workspace) -> None:
    for command in ((), ("logs",), ("plan",), ("sync",)):
        shown = _syncer(workspace, *command, "--help")
        assert shown.returncode == 0, shown.stderr
        assert not [label for label in ("<bool>", "<list[str]>", "<str>") if label in shown.stdout]
    assert "--status          TEXT" in _syncer(workspace, "logs", "--help").stdout


def test_plan_lines_are_coloured_on_a_terminal_and_plain_otherwise(workspace: Workspace) -> None:
    config = str(workspace.config)
    plain = _syncer(workspace, "plan", "-c", config)
    assert plain.returncode == 0 and "+ create user" in plain.stdout and "\x1b[" not in plain.stdout
    forced = _syncer(workspace, "plan", "-c", config, env={"FORCE_COLOR": "1"})
    create = next(line for line in forced.stdout.splitlines() if "+ create user" in line)
    assert create.startswith("\x1b[32m"), repr(create)  # green
    bare = _syncer(workspace, "plan", "-c", config, "--no-color", env={"FORCE_COLOR": "1"})
    assert "\x1b[" not in bare.stdout and bare.stdout == plain.stdout


def test_shell_completion_completes_commands_and_options(workspace: Workspace) -> None:
    env = {"_SYNCER_COMPLETE": "complete_bash", "COMP_WORDS": "syncer pl", "COMP_CWORD": "1"}
    assert _syncer(workspace, env=env).stdout.split() == ["plan"]
    env = {"_SYNCER_COMPLETE": "complete_bash", "COMP_WORDS": "syncer logs --st", "COMP_CWORD": "2"}
    assert _syncer(workspace, env=env).stdout.split() == ["--status"]
