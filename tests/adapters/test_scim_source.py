"""The SCIM source: resources flattened to source attributes; paginated reads of a real scim2-server."""

from __future__ import annotations

from typing import Any

import pytest

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.sources.scim import ScimSource, build_snapshot, to_source_object
from syncer.errors import SourceError
from syncer.types import ObjectKind
from tests.support.scim_server import ENTERPRISE, ScimTestServer
from tests.support.slapd import free_port


def test_a_user_resource_flattens_to_scim_paths() -> None:
    """Complex, typed multi-valued and extension attributes get the paths a mapping writes."""
    user = to_source_object(
        ObjectKind.USER,
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "u1",
            "meta": {"resourceType": "User"},
            "userName": "ada@example.org",
            "active": False,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [
                {"type": "work", "value": "ada@example.org", "primary": True},
                {"type": "home", "value": "ada@home.example"},
            ],
            ENTERPRISE: {"department": "R&D", "manager": {"value": "u0", "displayName": "Boss"}},
        },
    )
    assert user.id == "u1"
    expected: dict[str, Any] = {
        "id": "u1",
        "userName": "ada@example.org",
        "active": False,
        "accountEnabled": False,
        "name.givenName": "Ada",
        "name.familyName": "Lovelace",
        'emails[type eq "work"].value': "ada@example.org",
        'emails[type eq "home"].value': "ada@home.example",
        "emails[primary eq true].value": "ada@example.org",
        "emails.value": ("ada@example.org", "ada@home.example"),
        f"{ENTERPRISE}:department": "R&D",
        f"{ENTERPRISE}:manager": "u0",
    }
    assert {k: user.get(k) for k in expected} == expected
    assert "meta.resourceType" not in user.attributes and "schemas" not in user.attributes


def test_a_group_resource_keeps_member_ids_as_members() -> None:
    """Group members (users or nested groups) become member source ids, not an attribute."""
    group = to_source_object(
        ObjectKind.GROUP,
        {"id": "g1", "displayName": "Ops", "members": [{"value": "u1"}, {"value": "g2", "type": "Group"}]},
    )
    assert group.members == ("u1", "g2") and "members" not in group.attributes
    assert group.get("displayName") == "Ops"


def test_resources_without_an_id_are_skipped_with_a_location() -> None:
    """A listed resource without an id is skipped (location named); the rest are read."""
    snapshot = build_snapshot(
        [{"userName": "x"}, {"id": "u1", "userName": "y"}], [], where="https://src/scim"
    )
    assert [u.id for u in snapshot.users] == ["u1"]
    assert [(s.location, s.reason) for s in snapshot.skipped] == [
        ("https://src/scim/Users[0]", "resource has no id")
    ]


def _seed(server: ScimTestServer, users: int) -> list[dict[str, Any]]:
    seeded = [server.seed_user(userName=f"u{n:02d}@example.org", title=f"T{n}") for n in range(users)]
    server.seed_group(displayName="Team", members=[{"value": u["id"]} for u in seeded[:3]])
    return seeded


def _source(url: str, page_size: int = 100) -> ScimSource:
    return ScimSource(lambda: ScimClient(url, None, retries=1, timeout=5), url=url, page_size=page_size)


def test_a_scim_server_is_read_whole_across_pages(scim: ScimTestServer) -> None:
    """Every user and group is listed page by page, with the server's ids as source ids."""
    seeded = _seed(scim, 7)
    snapshot = _source(scim.base_url, page_size=3).read()
    assert sorted(u.id for u in snapshot.users) == sorted(u["id"] for u in seeded)
    [team] = snapshot.groups
    assert set(team.members) == {u["id"] for u in seeded[:3]}
    # users in pages of 3, groups in one, each listing then one page past its end
    assert scim.counts() == {"GET": 3 + 1 + 2}


def test_an_unreachable_scim_source_fails_the_read() -> None:
    """A source that does not answer is a SourceError, never an empty directory."""
    with pytest.raises(SourceError, match="could not be listed"):
        _source(f"http://127.0.0.1:{free_port()}/v2").read()


def test_a_duplicate_id_in_a_listing_fails_the_read() -> None:
    """Two resources with one id: the listing is not to be trusted, so nothing is read (never a skip)."""
    with pytest.raises(SourceError, match=r"https://src/scim/Users\[2\].*'u1'.*listed twice"):
        build_snapshot(
            [{"id": "u1", "userName": "a"}, {"id": "u2", "userName": "b"}, {"id": "u1", "userName": "c"}],
            [],
            where="https://src/scim",
        )
