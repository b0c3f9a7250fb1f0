"""A target that dies mid-sync, and a 404 that is not the application's: the real CLI, the real
scim2-server, and the fault proxy in front of it.

Run with ``-s`` for the figures of the dead-target trial (requests, escrow, log lines, wall time).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_faults import CONCURRENCY, _workspace, make_directory
from tests.support.fault_proxy import FaultProxy, Rule
from tests.support.scim_server import ScimTestServer


@pytest.fixture
def proxy(scim: ScimTestServer) -> Iterator[FaultProxy]:
    with FaultProxy(scim.base_url) as p:
        yield p


def test_a_target_killed_mid_sync_stops_the_cycle_with_one_message(
    tmp_path: Path, scim: ScimTestServer, proxy: FaultProxy
) -> None:
    """The 40th create kills the target: the sync stops within seconds, escrows nothing it never
    sent, and says once that the target is unreachable."""
    users = 300
    ws = _workspace(tmp_path, scim, proxy.base_url, make_directory(users, 5))
    proxy.set_rules(Rule("down", every=40, limit=1, methods={"POST"}))
    started = time.monotonic()
    result = ws.run("sync", expect=1)
    wall = time.monotonic() - started
    escrowed = ws.sql("select count(*) from escrow")[0][0]
    logged = ws.sql("select count(*) from provisioning_log where reason = 'TargetUnreachable'")[0][0]
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    retries = sum("scim.retry" in line for line in lines)
    created = len(scim.resources("Users"))
    print(
        f"\ndead target after 39 creates of {users}: wall {wall:.1f}s, requests seen by the proxy "
        f"{proxy.stats().received}, retries logged {retries}, escrowed {escrowed}, "
        f"'TargetUnreachable' records {logged}, output lines {len(lines)}, created {created}\n"
        f"{result.stderr.strip().splitlines()[-1]}"
    )
    assert proxy.down.is_set()
    assert "unreachable" in result.stderr
    assert escrowed <= CONCURRENCY  # at most what was in flight; the never-sent are not escrowed
    assert retries <= 6 * CONCURRENCY  # the requests in flight, each with its attempts
    assert wall < 30
    assert len(lines) < 150
    # the run ends failed (not crashed, not running) and the job's standing records the failure
    assert [row[0] for row in ws.sql("select status from runs")] == ["failed"]
    status = ws.run("status").stdout
    assert "failed" in status


@pytest.mark.parametrize(
    "fault",
    [
        Rule("html", status=404, probability=1.0, methods={"PATCH"}),
        Rule("404", probability=1.0, methods={"PATCH"}),
    ],
    ids=["nginx-html-404", "scim-404-from-a-route"],
)
def test_a_404_on_the_disable_keeps_the_leaver_linked_until_it_is_disabled(
    tmp_path: Path, scim: ScimTestServer, proxy: FaultProxy, fault: Rule
) -> None:
    """A gateway's 404 on the disable PATCH is not "already gone": the link stays, the disable is
    escrowed, and the next cycle disables the leaver."""
    source = make_directory(20, 0)
    ws = _workspace(tmp_path, scim, proxy.base_url, source)
    ws.run("sync")
    leaver = source["users"][12]  # reports to a manager, manages nobody: one disable PATCH
    ws.edit(lambda d: d["users"].pop(12))
    proxy.set_rules(fault)
    ws.run("sync", expect=None)
    assert proxy.stats().injected, "the 404 was not injected"
    (row,) = ws.sql(f"select count(*) from links where source_id = '{leaver['id']}'")
    assert row[0] == 1, "the leaver's link was dropped on a 404 that proved nothing"
    assert ws.sql("select count(*) from escrow")[0][0] == 1
    proxy.set_rules()
    with ws.sql_connection() as db:
        db.execute("update escrow set skip_cycles = 0")
    ws.run("sync")
    active = {u["userName"]: u.get("active") for u in scim.resources("Users")}
    assert active[leaver["userPrincipalName"]] is False
