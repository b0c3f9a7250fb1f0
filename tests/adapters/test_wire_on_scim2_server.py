"""Create bodies and PATCH operations applied to a real scim2-server, in process, then read back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from scim2_server.applications.wsgi import WSGIApplication
from scim2_server.memory import InMemoryStorage
from scim2_server.utils import load_default_provider

from syncer.adapters.scim.protocol import build_patch_operations, build_resource, patch_body
from syncer.core.scimpath import CORE_GROUP, CORE_USER, ENTERPRISE_USER, equality_filter, flatten, parse_path
from syncer.types import AttributeChange

E = ENTERPRISE_USER
WORK_EMAIL = 'emails[type eq "work"].value'
COUNTRY = 'addresses[type eq "work"].country'
REGION = 'addresses[type eq "work"].region'
LOCALITY = 'addresses[type eq "work"].locality'
PHONE = 'phoneNumbers[type eq "work"].value'
MANAGER = f"{E}:manager"
PATHS = [
    "userName", "active", "title", "name.formatted", "name.givenName", WORK_EMAIL, COUNTRY, REGION, LOCALITY,
    PHONE, MANAGER, f"{E}:department", f"{E}:employeeNumber",
]  # fmt: skip


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    app = WSGIApplication(InMemoryStorage(), load_default_provider())
    transport = httpx.WSGITransport(app=app)
    headers = {"Content-Type": "application/scim+json"}
    with httpx.Client(transport=transport, base_url="http://scim.test/v2", headers=headers) as http:
        yield http


def create(client: httpx.Client, values: dict[str, Any], schema: str = CORE_USER) -> str:
    endpoint = "/Users" if schema == CORE_USER else "/Groups"
    response = client.post(endpoint, json=build_resource(schema, values))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def read(client: httpx.Client, user_id: str) -> dict[str, Any]:
    response = client.get(f"/Users/{user_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[AttributeChange]:
    return [AttributeChange(p, before.get(p), after.get(p)) for p in PATHS if before.get(p) != after.get(p)]


def patch(client: httpx.Client, user_id: str, operations: list[dict[str, Any]]) -> httpx.Response:
    return client.patch(f"/Users/{user_id}", json=patch_body(operations))


BASE = {"userName": "alice", "active": True}
FULL = {
    **BASE,
    "title": "Engineer",
    "name.formatted": "Alice Liddell",
    "name.givenName": "Alice",
    WORK_EMAIL: "alice@work.example",
    COUNTRY: "DE",
    REGION: "BY",
    LOCALITY: "Munich",
    PHONE: "+49 89 1",
    f"{E}:department": "R&D",
    f"{E}:employeeNumber": "42",
}


def test_create_round_trips_every_mapped_path(client: httpx.Client) -> None:
    """A created user reads back, path by path, exactly as the values it was built from."""
    manager_id = create(client, {"userName": "boss"})
    values = {**FULL, MANAGER: manager_id, "title": None}
    user = read(client, create(client, values))
    assert flatten(user, [parse_path(p) for p in PATHS]) == {p: values.get(p) for p in PATHS}
    assert user[E]["manager"]["value"] == manager_id
    assert len(user["addresses"]) == 1


SCENARIOS = [
    ("set a first work email", BASE, {**BASE, WORK_EMAIL: "a@x"}),
    ("create the work address from three sub-attributes", BASE,
     {**BASE, COUNTRY: "DE", REGION: "BY", LOCALITY: "M"}),
    ("add a sub-attribute to an existing entry", {**BASE, REGION: "BY"},
     {**BASE, REGION: "BY", COUNTRY: "DE"}),
    ("change one sub-attribute and add another", {**BASE, COUNTRY: "DE"},
     {**BASE, COUNTRY: "FR", LOCALITY: "Paris"}),
    ("clear one sub-attribute, keep its sibling", {**BASE, COUNTRY: "DE", REGION: "BY"},
     {**BASE, REGION: "BY"}),
    ("clear a whole entry", {**BASE, COUNTRY: "DE", REGION: "BY"}, BASE),
    ("clear the work email", {**BASE, WORK_EMAIL: "a@x"}, BASE),
    ("set, change and clear simple and complex attributes", FULL,
     {**FULL, "title": None, "active": False, "name.givenName": None, "name.formatted": "A. L."}),
    ("set and clear enterprise attributes", {**BASE, f"{E}:department": "R&D"},
     {**BASE, f"{E}:employeeNumber": "7"}),
    ("set the manager", BASE, {**BASE, MANAGER: "mgr-1"}),
    ("change the manager", {**BASE, MANAGER: "mgr-1"}, {**BASE, MANAGER: "mgr-2"}),
    ("clear the manager, keep the department", {**BASE, MANAGER: "mgr-1", f"{E}:department": "R&D"},
     {**BASE, f"{E}:department": "R&D"}),
    ("clear everything optional", FULL, BASE),
    ("set everything at once", BASE, {**FULL, MANAGER: "mgr-1"}),
]  # fmt: skip


@pytest.mark.parametrize(("before", "after"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_patch_reaches_the_desired_state(
    client: httpx.Client, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """Operations built from a diff, given what was exported, take the real server from before to after."""
    user_id = create(client, before)
    operations = build_patch_operations(diff(before, after), current=before)
    response = patch(client, user_id, operations)
    assert response.status_code in (200, 204), (operations, response.text)
    user = read(client, user_id)
    assert flatten(user, [parse_path(p) for p in PATHS]) == {p: after.get(p) for p in PATHS}
    for attribute in ("emails", "addresses", "phoneNumbers"):
        assert len(user.get(attribute, [])) <= 1, f"duplicate {attribute} entry: {user[attribute]}"


def test_replace_through_an_unmatched_filter_is_refused(client: httpx.Client) -> None:
    """The server refuses `replace` through a filter matching nothing, so a new entry goes as `add`."""
    user_id = create(client, BASE)
    response = patch(client, user_id, [{"op": "replace", "path": WORK_EMAIL, "value": "a@x"}])
    assert response.status_code == 400
    assert response.json()["scimType"] == "noTarget"
    operations = build_patch_operations([AttributeChange(WORK_EMAIL, None, "a@x")])
    assert operations[0]["op"] == "add"
    assert patch(client, user_id, operations).status_code == 204
    assert read(client, user_id)["emails"] == [{"type": "work", "value": "a@x"}]


def test_without_current_a_new_sibling_duplicates_the_entry(client: httpx.Client) -> None:
    """Without `current` an entry that exists but has only new sub-attributes in the diff is added again."""
    user_id = create(client, {**BASE, REGION: "BY"})
    operations = build_patch_operations([AttributeChange(COUNTRY, None, "DE")])
    assert patch(client, user_id, operations).status_code == 204
    assert len(read(client, user_id)["addresses"]) == 2


def test_manager_as_bare_string_is_refused(client: httpx.Client) -> None:
    """The server needs the manager as {"value": id}, which is why the builders wrap it."""
    user_id = create(client, BASE)
    response = patch(client, user_id, [{"op": "replace", "path": MANAGER, "value": "mgr-1"}])
    assert response.status_code == 400


def test_group_create_body_is_accepted(client: httpx.Client) -> None:
    """A group body built from displayName and externalId is created as given."""
    group_id = create(client, {"displayName": "engineers", "externalId": "g-1"}, schema=CORE_GROUP)
    group = client.get(f"/Groups/{group_id}").json()
    assert (group["displayName"], group["externalId"], group["schemas"]) == ("engineers", "g-1", [CORE_GROUP])


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("userName", 'tricky "quoted" \\ name'),
        (WORK_EMAIL, "alice@work.example"),
        (COUNTRY, "DE"),
        (MANAGER, "mgr-1"),
        (f"{E}:employeeNumber", "42"),
        ("active", True),
    ],
)
def test_equality_filter_finds_exactly_the_user(client: httpx.Client, path: str, value: Any) -> None:
    """Each equality filter, escaping included, is accepted and matches only the user holding that value."""
    wanted = create(client, {**FULL, "userName": 'tricky "quoted" \\ name', MANAGER: "mgr-1"})
    create(client, {"userName": "other", "active": False, WORK_EMAIL: "o@x", COUNTRY: "FR", MANAGER: "m2"})
    response = client.get("/Users", params={"filter": equality_filter(path, value)})
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["Resources"]] == [wanted]
