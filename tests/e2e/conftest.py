"""End-to-end fixtures: the real ``syncer`` CLI in a subprocess against the real scim2-server."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import canary
from tests.support.scim_server import ScimTestServer

ROOT = Path(__file__).resolve().parents[2]
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
TOKEN = canary.TARGET_TOKEN  # a canary: the session fails if any output holds it


@dataclass
class Workspace:
    """A config, a copy of the sample directory and a state file in a temp dir, pointed at a server."""

    root: Path
    server: ScimTestServer
    mapping: Path = field(default_factory=lambda: ROOT / "mappings" / "asana.yaml")

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def directory(self) -> Path:
        return self.root / "directory.json"

    @property
    def state(self) -> Path:
        return self.root / "state.db"

    def write_config(
        self,
        extra_job: str = "",
        url: str | None = None,
        token_line: str | None = None,
        target_lines: str = "concurrency: 4",
    ) -> None:
        """``target_lines``: more keys of the ``target`` block, each line indented as ``url:`` is."""
        canary.declare_input(self.config)  # an input: it may hold a webhook URL or a literal token
        token = token_line if token_line is not None else "token: ${E2E_TOKEN}"
        self.config.write_text(
            f"""state: sqlite:///state.db
jobs:
  - name: e2e
    source: {{type: file, path: directory.json}}
    target:
      url: {url or self.server.base_url}
      {token}
      {target_lines}
      timeout: 10s
      retries: 2
    mapping: {self.mapping}
{extra_job}""",
            encoding="utf-8",
        )

    def load(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.directory.read_text(encoding="utf-8"))
        return data

    def save(self, data: dict[str, Any]) -> None:
        self.directory.write_text(json.dumps(data, indent=2), encoding="utf-8")

    def edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        data = self.load()
        change(data)
        self.save(data)

    def run(
        self, *args: str, expect: int | None = 0, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "E2E_TOKEN": TOKEN, **(env or {})}
        full_env.pop("SYNCER_CONFIG", None)
        result = subprocess.run(
            [sys.executable, "-m", "syncer", "-c", str(self.config), *args],
            cwd=self.root,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        command = f"syncer {' '.join(args)}"
        canary.record(command, "stdout", result.stdout)
        canary.record(command, "stderr", result.stderr)
        if expect is not None:
            assert result.returncode == expect, (
                f"syncer {' '.join(args)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n"
                f"{result.stderr}"
            )
        return result

    def users(self) -> dict[str, dict[str, Any]]:
        return {u["userName"]: u for u in self.server.resources("Users")}

    def groups(self) -> dict[str, dict[str, Any]]:
        return {g["displayName"]: g for g in self.server.resources("Groups")}

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.state) as db:
            return list(db.execute(query))

    def sql_connection(self) -> sqlite3.Connection:
        """A connection for writes (``with`` commits); SQLite waits for a running daemon's writes."""
        return sqlite3.connect(self.state, timeout=30)


@pytest.fixture
def workspace(tmp_path: Path, scim: ScimTestServer) -> Workspace:
    shutil.copy(ROOT / "examples" / "directory.json", tmp_path / "directory.json")
    ws = Workspace(root=tmp_path, server=scim)
    ws.write_config()
    return ws


@pytest.fixture
def synced(workspace: Workspace) -> Workspace:
    """A workspace after a successful initial sync, with the server's counters zeroed."""
    workspace.run("sync")
    workspace.server.reset_counts()
    return workspace
