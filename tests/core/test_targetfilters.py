"""Which filters a target's profile takes: filterable matching attributes, and a filter's nodes."""

from __future__ import annotations

import pytest

from syncer.core.scimpath import equality_filter
from syncer.core.targetfilters import FilterTooLarge, check_filter, filter_nodes, filterable, listed_kinds
from syncer.settings.profiles import PROFILES, TargetProfile
from syncer.types import ObjectKind

AWS = PROFILES[TargetProfile.AWS_IDENTITY_CENTER]
ASANA = PROFILES[TargetProfile.ASANA]
ENTRA = PROFILES[TargetProfile.ENTRA]
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("userName", True),
        ("USERNAME", True),
        ("externalId", True),
        ('emails[type eq "work"].value', False),
        ("displayName", False),
        (f"{ENTERPRISE}:employeeNumber", False),
        ("name.givenName", False),
    ],
)
def test_aws_filters_users_on_username_and_externalid_only(path: str, expected: bool) -> None:
    assert AWS.filter_attributes is not None
    assert filterable(path, AWS.filter_attributes[ObjectKind.USER]) is expected


def test_any_attribute_is_filterable_where_the_profile_names_none() -> None:
    assert filterable('emails[type eq "work"].value', None)


def test_asana_groups_and_aws_email_matching_are_listed_users_by_username_queried() -> None:
    matching = {ObjectKind.USER: ["userName"], ObjectKind.GROUP: ["displayName"]}
    assert listed_kinds(matching, ASANA) == {ObjectKind.GROUP}
    assert listed_kinds(matching, AWS) == frozenset()
    assert listed_kinds(matching, ENTRA) == frozenset()
    by_email = {ObjectKind.USER: ["userName", 'emails[type eq "work"].value'], ObjectKind.GROUP: ["id"]}
    assert listed_kinds(by_email, AWS) == {ObjectKind.USER}
    assert listed_kinds(by_email, PROFILES[TargetProfile.GENERIC]) == frozenset()


@pytest.mark.parametrize(
    ("text", "nodes"),
    [
        ('userName eq "a"', 1),
        ('id eq "g" and members eq "u"', 3),
        ('emails[type eq "work" and value eq "x"]', 3),
        ('userName eq "a and b or not c eq d"', 1),  # a literal's words are not nodes
        ('not (title pr) or userName sw "x"', 4),
        (equality_filter('emails[type eq "work"].value', "a@b.c"), 3),
    ],
)
def test_filter_nodes_count_comparisons_and_logical_operators(text: str, nodes: int) -> None:
    assert filter_nodes(text) == nodes


def test_a_filter_past_the_node_limit_is_refused_and_one_at_it_passes() -> None:
    def ors(n: int) -> str:  # n comparisons, n - 1 operators
        return " or ".join(f'userName eq "u{i}"' for i in range(n))

    check_filter(f"not ({ors(100)})", 200)  # 100 + 99 + 1: at the limit
    with pytest.raises(FilterTooLarge, match="201 nodes; the target takes at most 200"):
        check_filter(ors(101), 200)
    check_filter(ors(1000), None)


def test_every_filter_syncer_builds_is_far_below_databricks_limit() -> None:
    """The biggest is a value-filtered matching attribute (3 nodes) or the membership check (3)."""
    limit = PROFILES[TargetProfile.DATABRICKS].max_filter_nodes
    assert limit == 200
    built = [
        equality_filter("userName", "x"),
        equality_filter('emails[type eq "work"].value', "x"),
        equality_filter(f"{ENTERPRISE}:manager", "x"),
        'id eq "g" and members eq "u"',
    ]
    assert max(filter_nodes(f) for f in built) <= 3
