"""A change the target refused for good is not resent unchanged (issue 13, ``core.refusals``).

The fault proxy in front of the real scim2-server answers writes with a 400 and a SCIM error
body; the proxy's counters say what syncer sent. After the refusal, later cycles (escrow made
due, as the other escrow tests do) send nothing for the object and say it is held, with the
target's words; a changed source value, a changed mapping or ``syncer provision --id`` sends it
again; a transient 500 keeps escrow's retries as before.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ROOT, Workspace
from tests.support.fault_proxy import FaultProxy, Rule
from tests.support.hostile import HostileTarget
from tests.support.scim_server import ScimTestServer

DETAIL = "title is longer than this tenant allows (64 characters)"
HELD = f"held: the target refused this exact change (400 invalidValue: {DETAIL})"
MEGAN = 3  # megan.young@contoso.com, the fourth user of the sample directory
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
def proxy(scim: ScimTestServer) -> Iterator[FaultProxy]:
    with FaultProxy(scim.base_url) as p:
        yield p


@pytest.fixture
def synced(workspace: Workspace, proxy: FaultProxy) -> Workspace:
    """Synced through the proxy, with a mapping file of the workspace's own (the tests edit it)."""
    mapping = workspace.root / "mapping.yaml"
    shutil.copy(ROOT / "mappings" / "asana.yaml", mapping)
    workspace.mapping = mapping
    workspace.write_config(url=proxy.base_url)
    workspace.run("sync")
    return workspace


def _retitle(ws: Workspace, title: str) -> None:
    ws.edit(lambda d: d["users"][MEGAN].update(jobTitle=title))


def _due(ws: Workspace) -> None:
    """Whatever escrow's backoff says, the next cycle may retry (the escrow tests' way)."""
    with ws.sql_connection() as db:
        db.execute("update escrow set skip_cycles = 0")


def _cycle(ws: Workspace, proxy: FaultProxy, expect: int | None = 0) -> tuple[str, dict[str, int]]:
    proxy.reset_counters()
    _due(ws)
    result = ws.run("sync", expect=expect)
    return result.stdout, proxy.stats().received


def _refuse_patches(proxy: FaultProxy) -> None:
    proxy.set_rules(Rule("400", probability=1.0, methods={"PATCH"}, scim_type="invalidValue", detail=DETAIL))


def test_a_refused_patch_is_held_until_the_change_or_the_mapping_moves(
    synced: Workspace, proxy: FaultProxy
) -> None:
    _retitle(synced, "Vice President of Marketing, Communications and Brand for the Americas")
    _refuse_patches(proxy)
    _, sent = _cycle(synced, proxy, expect=1)
    assert sent.get("PATCH") == 1 and proxy.stats().injected.get("400") == 1

    for _ in range(2):  # cycles 2 and 3: nothing sent for it, not failed again, said to be held
        out, sent = _cycle(synced, proxy)
        assert sent.get("PATCH", 0) == 0 and sent.get("POST", 0) == 0, sent
        assert "0 failed" in out and "1 object(s) held" in out, out
    assert synced.sql("select attempts from escrow") == [(1,)]
    status = synced.run("status").stdout
    assert "megan.young@contoso.com: 1 attempt(s), " + HELD in status, status
    assert "sent again when the change, the mapping or the target's schemas change" in status
    held = json.loads(synced.run("status", "--format", "json").stdout)[0]["heldRefused"]
    assert [h["answer"] for h in held] == [f"400 invalidValue: {DETAIL}"]
    assert HELD in synced.run("plan").stdout

    _retitle(synced, "VP of Marketing and Brand")  # the change moved: sent at once, refused again
    _, sent = _cycle(synced, proxy, expect=1)
    assert sent.get("PATCH") == 1
    _, sent = _cycle(synced, proxy)  # ... and held again, on the new change
    assert sent.get("PATCH", 0) == 0

    proxy.set_rules()  # the mapping moved (the same body would go out): sent at once, and it lands
    mapping = synced.mapping
    mapping.write_text(mapping.read_text().replace("description: ", "description: (reviewed) "))
    _, sent = _cycle(synced, proxy)
    assert sent.get("PATCH") == 1
    assert synced.sql("select count(*) from escrow") == [(0,)]
    assert synced.users()["megan.young@contoso.com"]["title"] == "VP of Marketing and Brand"


def test_a_refused_create_is_held_without_a_request(synced: Workspace, proxy: FaultProxy) -> None:
    """A held create is not even looked up: no POST, no lookup GET for it."""
    newcomer = {
        "id": "new-1",
        "userPrincipalName": "nova.newcomer@contoso.com",
        "givenName": "Nova",
        "surname": "Newcomer",
        "jobTitle": "Analyst",
        "accountEnabled": True,
    }
    synced.edit(lambda d: d["users"].append(newcomer))
    proxy.set_rules(
        Rule("400", probability=1.0, methods={"POST"}, path=r"/Users$", scim_type="invalidSyntax")
    )
    _, sent = _cycle(synced, proxy, expect=1)
    assert sent.get("POST") == 1
    _, sent = _cycle(synced, proxy)
    assert sent.get("POST", 0) == 0 and sent.get("GET", 0) == 0, sent
    requests = synced.sql("select count(*) from provisioning_log where source_id = 'new-1'")
    assert requests == [(2,)]  # the refusal and one held record, no second failure
    (status,) = synced.sql(
        "select status from provisioning_log where source_id = 'new-1' order by id desc limit 1"
    )
    assert status == ("Skipped",)

    proxy.set_rules()
    synced.edit(lambda d: d["users"][-1].update(jobTitle="Senior Analyst"))
    _cycle(synced, proxy)
    assert "nova.newcomer@contoso.com" in synced.users()


def test_provision_on_demand_sends_a_held_object_now(synced: Workspace, proxy: FaultProxy) -> None:
    """The admin's "retry it now": ``syncer provision --id`` sends what escrow holds."""
    _retitle(synced, "Vice President of Marketing, Communications and Brand for the Americas")
    _refuse_patches(proxy)
    _cycle(synced, proxy, expect=1)
    _, sent = _cycle(synced, proxy)
    assert sent.get("PATCH", 0) == 0
    proxy.set_rules()
    proxy.reset_counters()
    megan = synced.load()["users"][MEGAN]["id"]
    synced.run("provision", "--id", megan)
    assert proxy.stats().received.get("PATCH") == 1
    assert synced.sql("select count(*) from escrow") == [(0,)]


def test_a_transient_500_is_still_retried_by_escrow(synced: Workspace, proxy: FaultProxy) -> None:
    _retitle(synced, "VP of Marketing and Brand")
    proxy.set_rules(Rule("500", probability=1.0, methods={"PATCH"}))
    _, first = _cycle(synced, proxy, expect=1)
    assert first.get("PATCH", 0) >= 1
    assert synced.sql("select refused_fingerprint from escrow") == [(None,)]
    _, again = _cycle(synced, proxy, expect=1)
    assert again.get("PATCH") == first.get("PATCH")  # the same retries, the next cycle
    proxy.set_rules()
    _cycle(synced, proxy)
    assert synced.users()["megan.young@contoso.com"]["title"] == "VP of Marketing and Brand"


def test_a_change_of_the_targets_schemas_sends_a_held_object_again(
    workspace: Workspace, proxy: FaultProxy
) -> None:
    """The target gains the enterprise extension (its /ResourceTypes and /Schemas say so, read
    again by ``test-connection``): what it refused may now be taken, so it is sent again."""
    mapping = workspace.root / "core-only.yaml"
    kept, skip = [], False
    for line in (ROOT / "mappings" / "asana.yaml").read_text().splitlines():
        if line.startswith("  - target:") or not line.startswith(" "):
            skip = ENTERPRISE in line
        if not skip:
            kept.append(line)
    mapping.write_text("\n".join(kept) + "\n")
    workspace.mapping = mapping
    with HostileTarget(proxy.base_url, mode="no_enterprise") as hostile:
        workspace.write_config(url=hostile.base_url)
        workspace.run("sync")
        _retitle(workspace, "Vice President of Marketing, Communications and Brand for the Americas")
        _refuse_patches(proxy)
        _cycle(workspace, proxy, expect=1)
        _, sent = _cycle(workspace, proxy)
        assert sent.get("PATCH", 0) == 0
        hostile.set_mode("honest")
        workspace.run("test-connection")  # what an admin runs after changing the target
        _, sent = _cycle(workspace, proxy, expect=1)
        assert sent.get("PATCH") == 1
