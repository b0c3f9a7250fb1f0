"""Secrets stay secret through the real CLI: a wrong secret file is refused by name, never shown."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Workspace

SHADOW = "sroot:$6$saltsalt$hashhashhash:19000:0:99999:7:::\nsdaemon:*:19000:0:99999:7:::\n"
LEAKS = ("sroot", "saltsalt", "hashhash", "sdaemon")


@pytest.mark.parametrize("command", [("validate",), ("sync",), ("plan",), ("test-connection",)])
def test_a_token_file_that_is_not_a_token_is_refused_by_name(
    workspace: Workspace, command: tuple[str, ...]
) -> None:
    (workspace.root / "shadow").write_text(SHADOW, encoding="utf-8")
    workspace.write_config(token_line="token_file: shadow")
    result = workspace.run(*command, expect=1)
    assert "shadow" in result.stderr and "one line" in result.stderr
    assert "Traceback" not in result.stderr
    assert not [leak for leak in LEAKS if leak in result.stdout + result.stderr]
    assert workspace.server.writes() == 0


def test_plain_http_to_a_remote_target_is_refused_until_allowed(workspace: Workspace) -> None:
    workspace.write_config(url="http://app.example/scim/v2")
    result = workspace.run("validate", expect=1)
    assert "plain http:// to app.example" in result.stderr and "allow_insecure_http: true" in result.stderr
    assert "config.yaml:5" in result.stderr
    text = workspace.config.read_text(encoding="utf-8")
    workspace.config.write_text(
        text.replace("      concurrency: 4", "      allow_insecure_http: true\n      concurrency: 4"),
        encoding="utf-8",
    )
    workspace.run("validate")
