"""A filter past the target's node limit is refused before it is sent; the membership check."""

from __future__ import annotations

import pytest

from syncer.adapters.scim.client import ScimClient
from syncer.errors import FilterNotSent, PermanentTargetError
from syncer.settings.profiles import TargetProfile
from syncer.types import ObjectKind
from tests.support.quirk_target import QuirkTarget
from tests.support.quirks import EMULATIONS
from tests.support.scim_server import ScimTestServer

pytestmark = pytest.mark.anyio


def ors(n: int) -> str:
    return " or ".join(f'userName eq "u{i}"' for i in range(n))


async def test_a_filter_past_databricks_limit_is_not_sent(scim: ScimTestServer) -> None:
    with QuirkTarget(scim.base_url, EMULATIONS[TargetProfile.DATABRICKS]()) as databricks:
        async with ScimClient(databricks.base_url, None, max_filter_nodes=200) as client:
            with pytest.raises(FilterNotSent, match="201 nodes; the target takes at most 200"):
                await client.find(ObjectKind.USER, ors(101))
            assert databricks.seen() == []
            assert await client.find(ObjectKind.USER, ors(100)) == []  # 199 nodes: sent and answered
        async with ScimClient(databricks.base_url, None) as careless:  # without the limit: a 400
            with pytest.raises(PermanentTargetError, match="400 invalidFilter"):
                await careless.find(ObjectKind.USER, ors(101))
        assert len(databricks.refused()) == 1


async def test_the_membership_filter_says_who_is_in_an_aws_group(scim: ScimTestServer) -> None:
    member = scim.seed_user(schemas=["urn:ietf:params:scim:schemas:core:2.0:User"], userName="a@x")
    group = scim.seed_group(
        schemas=["urn:ietf:params:scim:schemas:core:2.0:Group"],
        displayName="G",
        members=[{"value": member["id"]}],
    )
    with QuirkTarget(scim.base_url, EMULATIONS[TargetProfile.AWS_IDENTITY_CENTER]()) as aws:
        async with ScimClient(aws.base_url, None) as client:
            assert await client.member_ids(group["id"]) == frozenset()  # what a GET says on AWS
            assert await client.has_member(group["id"], member["id"])
            assert not await client.has_member(group["id"], "someone-else")
