"""What the README says the CLI does, held against the CLI: the demo's requests, the log's fields,
and the failures that stop a cycle at once.

Each claim is read from the README itself where it quotes output, so a change in behaviour
and a stale sentence cannot drift apart silently.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncer.settings.target import TargetSettings
from tests.e2e.conftest import ROOT, Workspace
from tests.e2e.test_cli_errors import self_signed  # noqa: F401  (the fixture)
from tests.support.fault_proxy import FaultProxy, Rule
from tests.support.scim_server import ScimTestServer

README = ROOT / "README.md"


def _readme() -> str:
    return " ".join(README.read_text(encoding="utf-8").split())


def _demo_workspace(tmp_path: Path, server: ScimTestServer, url: str | None = None) -> Workspace:
    """The config ``examples/demo.sh`` writes (the preset by name, every default), on the test server."""
    shutil.copy(ROOT / "examples" / "directory.json", tmp_path / "directory.json")
    ws = Workspace(root=tmp_path, server=server)
    ws.config.write_text(
        f"""state: sqlite:///state.db
jobs:
  - name: demo
    source: {{type: file, path: directory.json}}
    target:
      url: {url or server.base_url}
      token: ${{E2E_TOKEN}}
    mapping: asana
""",
        encoding="utf-8",
    )
    return ws


def _requests_line(stdout: str) -> str:
    (line,) = [line for line in stdout.splitlines() if line.startswith("Requests: ")]
    return line


def test_the_demo_sends_the_requests_the_readme_quotes(tmp_path: Path, scim: ScimTestServer) -> None:
    """``make demo``'s steps (validate, test-connection, plan, sync, sync) print what the README quotes."""
    found = re.search(
        r"[Tt]he first sync printed `(Requests: [^`]*)` and the second `(Requests: [^`]*)`", _readme()
    )
    assert found, "the README's Quick start no longer quotes the demo's request lines"
    first, second = found.groups()
    ws = _demo_workspace(tmp_path, scim)
    for step in ("validate", "test-connection", "plan"):
        ws.run(step)
    assert _requests_line(ws.run("sync").stdout) == first
    assert _requests_line(ws.run("sync").stdout) == second


def _events(stderr: str) -> list[dict[str, Any]]:
    events = []
    for line in stderr.splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


def test_cycle_events_carry_the_documented_job_and_cycle(tmp_path: Path, scim: ScimTestServer) -> None:
    """README (Logs): from ``cycle_started`` on, each event carries ``job`` and ``cycle``, the run id."""
    readme = _readme()
    assert "each event carries `job` and `cycle` (the run id)" in readme
    assert "`cycle_started` (the run begins: from here on `cycle` is set)" in readme
    ws = _demo_workspace(tmp_path, scim)
    result = ws.run("--log-level", "info", "--log-json", "sync")
    (run_id,) = ws.sql("select id from runs")[0]
    events = _events(result.stderr)
    names = [e["event"] for e in events]
    assert "cycle_started" in names and "cycle_finished" in names, names
    run = events[names.index("cycle_started") : names.index("cycle_finished") + 1]
    assert {(e.get("job"), e.get("cycle")) for e in run} == {("demo", run_id)}, run


def test_a_tls_failure_stops_the_sync_at_once(
    tmp_path: Path,
    scim: ScimTestServer,
    self_signed: tuple[str, list[int]],  # noqa: F811
) -> None:
    """README (When the target misbehaves): a TLS failure stops the cycle at once, no request per object."""
    assert "a TLS failure (of the cycle's discovery or of a lookup" in _readme()
    url, handshakes = self_signed
    ws = _demo_workspace(tmp_path, scim, url=url)
    result = ws.run("sync", expect=1)
    assert "TLS verification failed" in result.stderr and "Traceback" not in result.stderr
    assert len(handshakes) == 1  # refused once, not retried, not once per user
    assert ws.sql("select count(*) from links") == [(0,)]


@pytest.fixture
def proxy(scim: ScimTestServer) -> Iterator[FaultProxy]:
    with FaultProxy(scim.base_url) as p:
        yield p


def test_a_run_of_lookups_that_all_fail_stops_the_cycle(
    tmp_path: Path, scim: ScimTestServer, proxy: FaultProxy
) -> None:
    """README: the first max(10, 2 × concurrency) lookups of a cycle all failing stop it (target down)."""
    readme = _readme()
    assert "so do the first max(10, 2 × concurrency) lookups of a cycle all failing" in readme
    ws = _demo_workspace(tmp_path, scim, url=proxy.base_url)
    config = ws.config.read_text(encoding="utf-8")
    config = config.replace("      token:", "      retries: 1\n      token:")  # one attempt per lookup
    ws.config.write_text(config + "    matching: {strategy: query}\n", encoding="utf-8")  # a GET per object
    proxy.set_rules(Rule("503", probability=1.0, methods={"GET"}, path=r"/(Users|Groups)$"))
    result = ws.run("sync", expect=1)
    assert "503" in result.stderr and "Traceback" not in result.stderr
    lookups = proxy.stats().injected.get("503", 0)
    concurrency = TargetSettings.model_fields["concurrency"].default  # the demo leaves it as is
    give_up = max(10, 2 * concurrency)
    assert give_up <= lookups <= give_up + concurrency, lookups  # not one per object (64)
    assert proxy.stats().received.get("POST", 0) == 0
