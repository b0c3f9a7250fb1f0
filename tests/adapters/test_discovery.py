"""Discovery against the real scim2-server, and against a proxy that bends what it announces."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.scim.discovery import (
    Mutability,
    TargetCapabilities,
    Uniqueness,
    capabilities_from,
    discover,
    parse_resource_types,
    parse_schemas,
    parse_service_provider_config,
)
from syncer.errors import UnauthorizedError
from tests.support.hostile import HostileTarget
from tests.support.scim_server import ENTERPRISE, ScimTestServer

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def _discover(base_url: str, token: str | None = None) -> TargetCapabilities:
    async def run() -> TargetCapabilities:
        async with ScimClient(base_url, token, retries=1) as client:
            return await discover(client)

    return asyncio.run(run())


@pytest.fixture
def hostile(scim: ScimTestServer) -> Iterator[HostileTarget]:
    with HostileTarget(scim.base_url) as target:
        yield target


def test_the_real_server_announces_its_features_types_and_schemas(scim: ScimTestServer) -> None:
    found = _discover(scim.base_url)
    assert found.patch.supported is True
    assert (found.filter.supported, found.filter.max_results) == (True, 1000)
    assert (found.bulk.supported, found.bulk.max_operations) == (True, 1000)
    assert found.etag.supported is True and found.sort.supported is True
    assert found.change_password.supported is True
    user = found.resource_type("User")
    assert user is not None and user.schema == CORE_USER and user.endpoint == "/Users"
    assert [e.schema for e in user.extensions] == [ENTERPRISE] and user.offers(ENTERPRISE)
    assert found.resource_type("/Groups") is not None
    schema = found.schema(CORE_USER)
    assert schema is not None
    user_name = schema.attribute("username")
    assert user_name is not None
    assert (user_name.case_exact, user_name.uniqueness) == (False, Uniqueness.SERVER)
    groups = schema.attribute("groups")
    assert groups is not None and groups.multi_valued and groups.mutability is Mutability.READ_ONLY
    name = schema.attribute("name")
    assert name is not None and name.type == "complex"
    assert name.sub("givenName") is not None
    assert found.schema(ENTERPRISE) is not None
    assert found.notes == ()


def test_a_target_without_the_enterprise_extension_says_so(hostile: HostileTarget) -> None:
    hostile.set_mode("no_enterprise")  # and /Schemas as a bare JSON array
    found = _discover(hostile.base_url)
    user = found.resource_type("User")
    assert user is not None and user.extensions == () and not user.offers(ENTERPRISE)
    assert found.schema(ENTERPRISE) is None
    assert found.schema(CORE_USER) is not None


def test_a_target_that_cannot_filter_says_so(hostile: HostileTarget) -> None:
    hostile.set_mode("no_filter")
    found = _discover(hostile.base_url)
    assert found.filter.supported is False
    assert found.patch.supported is False
    assert found.resource_type("User") is not None


def test_missing_endpoints_are_unknown_not_fatal(hostile: HostileTarget) -> None:
    hostile.set_mode("no_discovery")
    found = _discover(hostile.base_url)
    assert found.patch.supported is None and found.filter.supported is None
    assert found.resource_types is None and found.schemas is None
    assert len(found.notes) == 3 and "/Schemas is not offered (404)" in found.notes


def test_wrong_credentials_still_fail() -> None:
    with ScimTestServer(token="right") as server, pytest.raises(UnauthorizedError):
        _discover(server.base_url, token="wrong")


# --- parsing, no server ------------------------------------------------------------------------


def test_shapes_real_servers_answer() -> None:
    one_schema = {"id": CORE_USER, "attributes": [{"name": "userName", "caseExact": "true"}]}
    parsed = parse_schemas(one_schema)
    attribute = parsed[CORE_USER.lower()].attribute("userName")
    assert attribute is not None and attribute.case_exact is True
    assert attribute.mutability is Mutability.READ_WRITE  # RFC 7643 §2.2 default
    assert list(parse_schemas([one_schema, {"no": "id"}, 3])) == [CORE_USER.lower()]
    assert parse_schemas({"totalResults": 0}) == {}
    types = parse_resource_types([{"id": "User", "schema": CORE_USER}, {"name": "Broken"}])
    assert [(t.name, t.endpoint, t.extensions) for t in types] == [("User", "/Users", ())]
    config = parse_service_provider_config(
        {"filter": {"supported": "false", "maxResults": "200"}, "patch": {}, "bulk": "yes"}
    )
    assert (config["filter"].supported, config["filter"].max_results) == (False, 200)
    assert config["patch"].supported is None and config["bulk"].supported is None
    assert capabilities_from(None, None, None).filter.supported is None
    assert parse_service_provider_config("not an object") == {}
