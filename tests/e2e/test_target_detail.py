"""What the target said: a refused write's SCIM error (status, scimType, detail) in the provisioning log.

A 400 with a SCIM error body is injected by the fault proxy in front of the real scim2-server on
the first user POST; ``syncer logs`` must show the target's ``detail`` (not only ``Permanent``),
cut to the table's width unless ``--wide``, and the JSON record must keep the status, scimType
and detail apart so a script can read them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Workspace
from tests.support.fault_proxy import FaultProxy, Rule
from tests.support.scim_server import ScimTestServer

DETAIL = (
    "Attribute 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter' is not "
    "supported by this tenant; remove it from the request or enable the extension in the admin console"
)


@pytest.fixture
def proxy(scim: ScimTestServer) -> Iterator[FaultProxy]:
    with FaultProxy(scim.base_url) as p:
        yield p


@pytest.fixture
def refused(workspace: Workspace, proxy: FaultProxy) -> Workspace:
    """A sync whose first user POST the target refuses with 400 invalidValue and a long detail."""
    workspace.write_config(url=proxy.base_url)
    proxy.set_rules(Rule("400", first=1, methods={"POST"}, path=r"/Users$", detail=DETAIL))
    workspace.run("sync", expect=None)
    assert proxy.stats().injected.get("400") == 1
    return workspace


def test_the_log_table_shows_the_targets_detail_cut_to_fit(refused: Workspace) -> None:
    table = refused.run("logs", "--status", "failure").stdout
    rows = [line for line in table.splitlines() if "Failure" in line]
    assert len(rows) == 1, table
    row = rows[0]
    assert "400 invalidValue" in row, table
    assert "Attribute 'urn:ietf" in row, table
    assert row.endswith("…") and len(row) <= 100, table


def test_the_wide_table_shows_the_whole_detail(refused: Workspace) -> None:
    table = refused.run("logs", "--status", "failure", "--wide").stdout
    rows = [line for line in table.splitlines() if "Failure" in line]
    assert len(rows) == 1, table
    assert rows[0].endswith(DETAIL), table


def test_the_json_record_keeps_status_scim_type_and_detail(refused: Workspace) -> None:
    lines = refused.run("logs", "--status", "failure", "--format", "json").stdout.splitlines()
    assert len(lines) == 1, lines
    error = json.loads(lines[0])["provisioningStatusInfo"]["errorInformation"]
    assert error["errorCode"] == "Permanent"
    assert error["httpStatus"] == 400
    assert error["scimType"] == "invalidValue"
    assert error["additionalDetails"] == DETAIL
    assert DETAIL in error["reason"]


def test_connection_to_a_target_answering_500_says_so(workspace: Workspace, proxy: FaultProxy) -> None:
    """A server that answers 500 is reachable: test-connection names the status and the server's
    detail, and does not say it cannot reach the target."""
    workspace.write_config(url=proxy.base_url)
    proxy.set_rules(Rule("500", probability=1.0, detail="the tenant database is in maintenance"))
    result = workspace.run("test-connection", expect=1)
    assert f"{proxy.base_url} answered 500" in result.stderr, result.stderr
    assert "the tenant database is in maintenance" in result.stderr, result.stderr
    assert "cannot reach" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_connection_to_nothing_still_says_cannot_reach(workspace: Workspace, proxy: FaultProxy) -> None:
    """No answer at all (the connection is reset) is what "cannot reach" is for."""
    workspace.write_config(url=proxy.base_url)
    proxy.set_rules(Rule("reset", probability=1.0))
    result = workspace.run("test-connection", expect=1)
    assert f"cannot reach {proxy.base_url}" in result.stderr, result.stderr
