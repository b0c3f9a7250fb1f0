"""SelectUniqueValue end to end: the real CLI picks free userNames on the real scim2-server.

The target already holds ``jsmith``; two new Smiths would both be ``jsmith``: the first gets
the next free candidate, the second the one after, and someone whose every candidate is taken
fails alone, named with the candidates, while everyone else syncs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import Workspace
from tests.support.fault_proxy import FaultProxy, Rule
from tests.support.scim_server import ScimTestServer

RULES = (
    'SelectUniqueValue(ToLower(Join("", Left([givenName], 1), [surname])), '
    'ToLower(Join(".", Left([givenName], 1), [surname])), '
    'ToLower(Join("", Left([givenName], 1), [surname], "1")))'
)
MAPPING = f"""users:
  - target: externalId
    source: employeeId
    match: 1
  - target: userName
    expression: '{RULES}'
    apply: on_create
  - target: active
    expression: Not([IsSoftDeleted])
  - target: title
    source: jobTitle
"""


def _person(sid: str, given: str, surname: str, employee_id: str) -> dict[str, Any]:
    return {
        "id": sid,
        "givenName": given,
        "surname": surname,
        "employeeId": employee_id,
        "jobTitle": "Engineer",
        "accountEnabled": True,
    }


@pytest.fixture
def smiths(workspace: Workspace) -> Workspace:
    """John and Jane Smith (both ``jsmith`` first), Ada whose candidates are all taken, Bob, Eve."""
    workspace.mapping = workspace.root / "mapping.yaml"
    workspace.mapping.write_text(MAPPING, "utf-8")
    workspace.write_config()
    workspace.save(
        {
            "users": [
                _person("s-john", "John", "Smith", "E1"),
                _person("s-jane", "Jane", "Smith", "E2"),
                _person("s-ada", "Ada", "Lovelace", "E3"),
                _person("s-bob", "Bob", "Jones", "E4"),
                _person("s-eve", "Eve", "Smith", "E5"),
            ],
            "groups": [],
        }
    )
    for taken in ("jsmith", "alovelace", "a.lovelace", "alovelace1"):
        workspace.server.seed_user(
            schemas=["urn:ietf:params:scim:schemas:core:2.0:User"], userName=taken, externalId=f"x-{taken}"
        )
    workspace.server.seed_user(  # Eve is on the target already: found by matching, never renamed
        schemas=["urn:ietf:params:scim:schemas:core:2.0:User"], userName="eve.smith", externalId="E5"
    )
    return workspace


def test_plan_shows_the_candidates_without_asking_the_target(smiths: Workspace) -> None:
    """A dry run does not choose: the plan lists the candidates in the order they are tried.

    The saved plan carries them too, and its apply chooses as a sync does.
    """
    plan = smiths.run("plan", "--out", "plan.json")
    assert (
        "+ create user E1 (userName: SelectUniqueValue → first free of [jsmith, j.smith, jsmith1])"
        in plan.stdout
    ), plan.stdout
    assert smiths.server.writes() == 0
    saved = json.loads((smiths.root / "plan.json").read_text("utf-8"))
    john = next(c for c in saved["changes"] if c["source_id"] == "s-john")
    assert john["attributes"]["userName"] == {"$firstFree": ["jsmith", "j.smith", "jsmith1"]}

    smiths.run("apply", "plan.json", expect=1)  # Ada fails, as in a sync
    by_external = {u.get("externalId"): name for name, u in smiths.users().items()}
    assert (by_external["E1"], by_external["E2"]) == ("j.smith", "jsmith1")


def test_each_new_user_gets_the_first_free_candidate_and_a_hopeless_one_fails_alone(
    smiths: Workspace,
) -> None:
    result = smiths.run("sync", expect=1)
    users = smiths.users()
    by_external = {u.get("externalId"): name for name, u in users.items()}
    assert by_external["E1"] == "j.smith"  # jsmith is held: the next candidate
    assert by_external["E2"] == "jsmith1"  # j.smith went to John in this very cycle
    assert by_external["E4"] == "bjones"
    assert by_external["E5"] == "eve.smith"  # matched, linked, and its userName left as it is
    assert "E3" not in by_external
    assert sorted(users) == sorted(
        ["jsmith", "j.smith", "jsmith1", "bjones", "alovelace", "a.lovelace", "alovelace1", "eve.smith"]
    )
    assert "3 created" in result.stdout and "1 linked" in result.stdout, result.stdout
    assert "1 failed" in result.stdout, result.stdout

    failures = [
        json.loads(line)
        for line in smiths.run("logs", "--status", "failure", "--format", "json").stdout.splitlines()
        if line.strip()
    ]
    assert [f["sourceIdentity"]["id"] for f in failures] == ["s-ada"]
    error = failures[0]["provisioningStatusInfo"]["errorInformation"]
    assert error["errorCode"] == "NoUniqueValue"
    reason = error["reason"]
    assert "userName: no SelectUniqueValue candidate is free" in reason
    for candidate in ("alovelace", "a.lovelace", "alovelace1"):
        assert candidate in reason

    (jane,) = [
        json.loads(line)
        for line in smiths.run("logs", "--id", "s-jane", "--format", "json").stdout.splitlines()
        if line.strip()
    ]
    (chose,) = [s["description"] for s in jane["provisioningSteps"] if s["name"] == "processing"]
    assert chose.startswith("userName: SelectUniqueValue chose jsmith1 (taken: jsmith (held by ")
    assert chose.endswith(", j.smith (given to another object in this cycle))")
    # the chosen value is what the state remembers: the next cycle sends nothing to the Smiths
    smiths.server.reset_counts()
    smiths.run("sync", expect=None)  # Ada waits for her escrow retry; nobody else moves
    assert sorted(smiths.users()) == sorted(users)
    assert smiths.server.writes() == 0, smiths.server.counts()


def test_a_create_whose_answer_is_lost_links_the_created_user_with_the_chosen_value(
    smiths: Workspace, scim: ScimTestServer
) -> None:
    """The first POST happens but its answer never comes: the user is found by its externalId and
    linked; the chosen userName stays, and the next cycle sends nothing more to it."""
    with FaultProxy(scim.base_url, seed=7) as proxy:
        smiths.write_config(url=proxy.base_url)
        proxy.set_rules(Rule("lost_response", first=1, methods={"POST"}))
        result = smiths.run("sync", expect=1)  # Ada still fails
        assert proxy.stats().injected == {"lost_response": 1}
    assert "3 created" in result.stdout and "1 linked" in result.stdout and "1 failed" in result.stdout, (
        result.stdout
    )
    logged = smiths.run("logs", "--id", "s-john", "--format", "json").stdout.splitlines()
    (john,) = [json.loads(line) for line in logged if line.strip()]
    assert john["provisioningStatusInfo"]["status"] == "success"
    steps = [s["description"] for s in john["provisioningSteps"]]
    assert steps[:3] == [
        steps[0],
        "create not confirmed (Transient); matching",
        "matched on externalId",
    ] and steps[0].startswith("userName: SelectUniqueValue chose j.smith"), steps
    by_external = {u.get("externalId"): name for name, u in smiths.users().items()}
    assert (by_external["E1"], by_external["E2"]) == ("j.smith", "jsmith1")
    smiths.write_config()
    smiths.server.reset_counts()
    smiths.run("sync", expect=None)  # Ada waits for her escrow retry
    assert smiths.server.writes() == 0, smiths.server.counts()
