"""Table-driven tests for planning one cycle: desired objects + state + match answers -> exact changes."""

from __future__ import annotations

import dataclasses
import random
from types import MappingProxyType
from typing import Any

import pytest

from syncer.core.changes import (
    ChangeMembers,
    CreateObject,
    DeleteObject,
    DisableUser,
    Phase,
    Skip,
    UpdateObject,
)
from syncer.core.planning import PlanRequest, diff_values, plan_cycle, values_hash
from syncer.types import AttributeChange, Desired, Link, Reference, Status, TargetObject
from tests.builders import (
    MANAGER,
    G,
    U,
    ch,
    group,
    hits,
    link,
    make_request,
    name,
    plan,
    redundant,
    update,
    user,
)

FAIL = Status.FAILURE


# --- creating --------------------------------------------------------------------------------


def test_initial_cycle_orders_users_references_groups_members() -> None:
    """An initial cycle creates users, then sets unlinked managers, then creates groups, then adds members."""
    carol, dan = user("carol", manager="dan"), user("dan", manager="carol")
    sales = group("Sales", "carol", "dan")
    result = plan([dan, carol], [sales])
    assert list(result.changes) == [
        CreateObject(U, "carol", name("carol"), {"userName": name("carol"), "active": True}),
        CreateObject(U, "dan", name("dan"), {"userName": name("dan"), "active": True}),
        update(carol, ch(MANAGER, None, Reference("dan")), target_id=None, phase=Phase.REFERENCES),
        update(dan, ch(MANAGER, None, Reference("carol")), target_id=None, phase=Phase.REFERENCES),
        CreateObject(G, "sales", "Sales", {"displayName": "Sales"}),
        ChangeMembers("sales", "Sales", None, add=("carol", "dan")),
    ]
    assert [c.phase for c in result.changes] == [
        Phase.USERS,
        Phase.USERS,
        Phase.REFERENCES,
        Phase.REFERENCES,
        Phase.GROUPS,
        Phase.MEMBERS,
    ]
    assert result.skips == ()
    assert result.initial is True


def test_manager_created_in_the_same_cycle_is_created_first() -> None:
    """A user whose manager is created in the same cycle is created in a later wave, manager in the body."""
    alice, bob, zoe = user("alice", manager="bob"), user("bob", manager="zoe"), user("zoe")
    result = plan([alice, bob, zoe])
    assert list(result.changes) == [
        CreateObject(U, "zoe", name("zoe"), {"userName": name("zoe"), "active": True}, 0),
        CreateObject(
            U, "bob", name("bob"), {"userName": name("bob"), "active": True, MANAGER: Reference("zoe")}, 1
        ),
        CreateObject(
            U,
            "alice",
            name("alice"),
            {"userName": name("alice"), "active": True, MANAGER: Reference("bob")},
            2,
        ),
    ]


def test_manager_linked_at_plan_time_goes_into_the_create_body() -> None:
    """A manager who is already linked is sent with the create, with no separate reference update."""
    alice, bob = user("alice", manager="bob"), user("bob")
    result = plan([alice, bob], links=[link(bob)])
    assert list(result.changes) == [
        CreateObject(
            U, "alice", name("alice"), {"userName": name("alice"), "active": True, MANAGER: Reference("bob")}
        ),
    ]
    assert result.skips == (redundant(bob),)


@pytest.mark.parametrize(
    ("obj", "body"),
    [
        pytest.param(
            user("alice", title=None), {"userName": name("alice"), "active": True}, id="null-not-sent"
        ),
        pytest.param(
            user("alice", title="Lead", on_create=["title"]),
            {"userName": name("alice"), "active": True, "title": "Lead"},
            id="on-create-sent",
        ),
    ],
)
def test_create_body(obj: Desired, body: dict[str, Any]) -> None:
    """A create sends non-null values, on_create paths included, and nothing for null values."""
    assert list(plan([obj]).changes) == [CreateObject(U, obj.source_id, obj.display, body)]


def test_default_fills_a_null_value_on_create() -> None:
    """A default is used on create when the value is null."""
    base = user("alice", title=None)
    obj = Desired(
        U,
        "alice",
        base.display,
        base.attributes,
        base.matching,
        defaults=MappingProxyType({"title": "Staff"}),
    )
    assert list(plan([obj]).changes) == [
        CreateObject(
            U, "alice", name("alice"), {"userName": name("alice"), "active": True, "title": "Staff"}
        ),
    ]


# --- linked objects --------------------------------------------------------------------------


def test_linked_and_unchanged_is_a_redundant_export() -> None:
    """A linked user equal to what was exported costs no change and is skipped as RedundantExport."""
    alice = user("alice", title="Engineer")
    result = plan([alice], links=[link(alice)])
    assert result.changes == ()
    assert result.empty
    assert result.skips == (redundant(alice),)


LINKED_DIFFS = [
    pytest.param(
        user("bob", title="Lead"), {"title": "Engineer"}, [ch("title", "Engineer", "Lead")], id="one-changed"
    ),
    pytest.param(
        user("bob", title=None), {"title": "Engineer"}, [ch("title", "Engineer", None)], id="became-null"
    ),
    pytest.param(user("bob", title=None), {}, [], id="null-never-exported"),
    pytest.param(user("bob"), {"title": "Engineer"}, [], id="path-not-mapped-any-more"),
    pytest.param(
        user("bob", externalId="E2", on_create=["externalId"]),
        {"externalId": "E1"},
        [],
        id="on-create-never-updated",
    ),
    pytest.param(
        user("bob", user_name="Bob@contoso.com"),
        {"userName": "bob@contoso.com"},
        [ch("userName", "bob@contoso.com", "Bob@contoso.com")],
        id="case-only-userName-change",
    ),
    pytest.param(
        user("bob", employeeNumber=5),
        {"employeeNumber": "5"},
        [ch("employeeNumber", "5", 5)],
        id="type-change",
    ),
    pytest.param(user("bob", emails=("a", "b")), {"emails": ("a", "b")}, [], id="equal-tuples"),
    pytest.param(user("bob", emails=("a", "b")), {"emails": ["a", "b"]}, [], id="tuple-equals-list"),
    pytest.param(
        user("bob", title="Lead", nickName="B"),
        {"title": "Engineer", "nickName": "Bobby"},
        [ch("nickName", "Bobby", "B"), ch("title", "Engineer", "Lead")],
        id="two-changed-sorted",
    ),
]


@pytest.mark.parametrize(("obj", "exported", "changes"), LINKED_DIFFS)
def test_linked_user_diff_against_exported(
    obj: Desired, exported: dict[str, Any], changes: list[AttributeChange]
) -> None:
    """A linked user is updated with exactly the attributes that differ from what syncer last exported."""
    previous = link(obj, **exported)
    result = plan([obj], links=[previous])
    if changes:
        assert list(result.changes) == [update(obj, *changes)]
        assert result.skips == ()
    else:
        assert result.changes == ()
        assert result.skips == (redundant(obj),)


def test_changed_manager_and_attribute_split_by_phase() -> None:
    """A changed manager goes in a REFERENCES update, other changed attributes in the USERS update."""
    alice = user("alice", title="Lead", manager="carol")
    bob, carol = user("bob"), user("carol")
    previous = link(alice, title="Engineer", **{MANAGER: Reference("bob")})
    result = plan([alice, bob, carol], links=[previous, link(bob), link(carol)])
    assert list(result.changes) == [
        update(alice, ch("title", "Engineer", "Lead")),
        update(alice, ch(MANAGER, Reference("bob"), Reference("carol")), phase=Phase.REFERENCES),
    ]


def test_changed_group_display_name_is_a_groups_phase_update() -> None:
    """A renamed linked group is updated in the GROUPS phase."""
    team = group("Team", sid="g1")
    result = plan(groups=[team], links=[link(team, displayName="Old")])
    assert list(result.changes) == [update(team, ch("displayName", "Old", "Team"), phase=Phase.GROUPS)]


# --- disabling and re-enabling ---------------------------------------------------------------


def test_soft_deleted_linked_user_is_disabled_and_nothing_else() -> None:
    """A linked user disabled in the source gets one DisableUser (DEPROVISION phase) and no update."""
    was = user("carol", title="Engineer")
    now = user("carol", title="Lead", soft_deleted=True)
    result = plan([now], links=[link(was)])
    assert list(result.changes) == [DisableUser("carol", name("carol"), "t-carol", "disabled in the source")]
    assert result.changes[0].phase is Phase.DEPROVISION
    assert result.skips == ()


def test_soft_deleted_and_already_disabled_is_no_change() -> None:
    """A soft-deleted user whose link is already disabled needs no change."""
    carol = user("carol", soft_deleted=True)
    result = plan([carol], links=[link(carol, disabled=True)])
    assert result.changes == ()
    assert result.skips == (redundant(carol),)


@pytest.mark.parametrize(
    ("obj", "exported", "changes"),
    [
        pytest.param(user("dan"), {"active": False}, [ch("active", False, True)], id="active-exported-false"),
        pytest.param(user("dan", active=None), {}, [ch("active", False, True)], id="active-not-mapped"),
        pytest.param(
            user("dan", title="Lead"),
            {"active": False, "title": "Engineer"},
            [ch("active", False, True), ch("title", "Engineer", "Lead")],
            id="with-other-change",
        ),
    ],
)
def test_re_enabled_user_is_updated_with_active_true(
    obj: Desired, exported: dict[str, Any], changes: list[AttributeChange]
) -> None:
    """A user enabled again in the source after syncer disabled it is re-activated (enable=True)."""
    result = plan([obj], links=[link(obj, disabled=True, **exported)])
    assert list(result.changes) == [update(obj, *changes, enable=True)]


def test_soft_deleted_never_provisioned_is_not_effectively_entitled() -> None:
    """A disabled user that was never provisioned is skipped, not created, and not added to groups."""
    erin = user("erin", soft_deleted=True)
    result = plan([erin], [group("Sales", "erin")])
    assert list(result.changes) == [CreateObject(G, "sales", "Sales", {"displayName": "Sales"})]
    assert result.skips == (
        Skip(
            U,
            "erin",
            name("erin"),
            "NotEffectivelyEntitled",
            detail="disabled in the source and never provisioned",
        ),
    )


@pytest.mark.parametrize(
    ("previous", "options", "changes"),
    [
        pytest.param(
            link(user("frank")),
            {},
            [DisableUser("frank", name("frank"), "t-frank", "gone from the source", gone=True)],
            id="user-gone",
        ),
        pytest.param(link(user("frank"), disabled=True), {}, [], id="user-gone-already-disabled"),
        pytest.param(link(user("frank")), {"protected": frozenset({(U, "frank")})}, [], id="user-protected"),
        pytest.param(
            link(group("Sales")),
            {},
            [DeleteObject(G, "sales", "Sales", "t-sales", "gone from the source")],
            id="group-gone",
        ),
        pytest.param(link(group("Sales")), {"group_deletes": False}, [], id="group-deletes-off"),
        pytest.param(
            link(group("Sales")), {"protected": frozenset({(G, "sales")})}, [], id="group-protected"
        ),
        pytest.param(
            link(user("sales")),
            {"protected": frozenset({(G, "sales")})},
            [DisableUser("sales", name("sales"), "t-sales", "gone from the source", gone=True)],
            id="protection-is-per-kind",
        ),
    ],
)
def test_objects_gone_from_the_source(previous: Link, options: dict[str, Any], changes: list[Any]) -> None:
    """A linked object gone from the source is disabled (user) or deleted (group), unless protected or off."""
    result = plan(links=[previous], **options)
    assert list(result.changes) == changes
    assert all(c.phase is Phase.DEPROVISION for c in result.changes)


# --- matching --------------------------------------------------------------------------------


def test_single_hit_links_and_diffs_against_the_target() -> None:
    """One hit is linked by an UpdateObject with matched_on, changing only what differs on the target."""
    alice, bob = user("alice", title="Lead", manager="bob"), user("bob")
    found = TargetObject(
        U, "t9", {"userName": name("alice"), "active": True, "title": "Engineer", MANAGER: "t-bob"}
    )
    result = plan([alice, bob], links=[link(bob)], matches=hits(alice, found))
    assert list(result.changes) == [
        update(alice, ch("title", "Engineer", "Lead"), target_id="t9", matched_on="userName"),
    ]


def test_single_hit_with_nothing_to_change_is_still_linked() -> None:
    """A hit equal to the desired values still yields an UpdateObject so the link is recorded."""
    alice = user("alice")
    found = TargetObject(U, "t9", {"userName": name("alice"), "active": True})
    result = plan([alice], matches=hits(alice, found))
    assert list(result.changes) == [update(alice, target_id="t9", matched_on="userName")]


def test_single_hit_keeps_references_as_source_ids() -> None:
    """A differing manager on a hit is planned as a Reference in a REFERENCES update, old value as found."""
    alice, bob = user("alice", manager="bob"), user("bob")
    found = TargetObject(U, "t9", {"userName": name("alice"), "active": True, MANAGER: "t-someone"})
    result = plan([alice, bob], links=[link(bob)], matches=hits(alice, found))
    assert list(result.changes) == [
        update(alice, target_id="t9", matched_on="userName"),
        update(alice, ch(MANAGER, "t-someone", Reference("bob")), target_id="t9", phase=Phase.REFERENCES),
    ]


def test_single_hit_ignores_on_create_paths() -> None:
    """An on_create path that differs on the matched target object is not updated."""
    alice = user("alice", externalId="E1", on_create=["externalId"])
    found = TargetObject(U, "t9", {"userName": name("alice"), "active": True, "externalId": "X"})
    assert list(plan([alice], matches=hits(alice, found)).changes) == [
        update(alice, target_id="t9", matched_on="userName"),
    ]


def test_several_hits_fail_with_duplicate_target_entries() -> None:
    """Several target objects for one matching value fail the object with DuplicateTargetEntries."""
    alice = user("alice")
    found = [TargetObject(U, tid, {"userName": name("alice")}) for tid in ("t2", "t1")]
    result = plan([alice], [group("Sales", "alice")], matches=hits(alice, *found))
    assert list(result.changes) == [CreateObject(G, "sales", "Sales", {"displayName": "Sales"})]
    assert result.skips == (
        Skip(
            U,
            "alice",
            name("alice"),
            "DuplicateTargetEntries",
            FAIL,
            "userName matches target objects t1, t2",
        ),
    )


def test_a_user_failing_matching_is_no_reference_target() -> None:
    """A manager failing with DuplicateTargetEntries is not linked, so reports are created without it."""
    alice, bob = user("alice", manager="bob"), user("bob")
    found = [TargetObject(U, tid, {"userName": name("bob")}) for tid in ("t1", "t2")]
    result = plan([alice, bob], matches=hits(bob, *found))
    assert list(result.changes) == [
        CreateObject(U, "alice", name("alice"), {"userName": name("alice"), "active": True}),
    ]
    assert [(s.source_id, s.reason) for s in result.skips] == [("bob", "DuplicateTargetEntries")]


def test_hit_linked_to_another_source_object_fails() -> None:
    """A hit that syncer already links to another source object fails with DuplicateTargetEntries."""
    alice, bob = user("alice"), user("bob")
    found = TargetObject(U, "t-bob", {"userName": name("bob")})
    result = plan([alice, bob], links=[link(bob)], matches=hits(alice, found))
    assert result.changes == ()
    assert result.skips == (
        Skip(
            U,
            "alice",
            name("alice"),
            "DuplicateTargetEntries",
            FAIL,
            "target object t-bob is already linked to source object bob",
            "t-bob",
        ),
        redundant(bob),
    )


def test_duplicate_source_entries_fail_both() -> None:
    """Two source users with the same userName (ignoring case) both fail with DuplicateSourceEntries."""
    one, two = user("a1", user_name="Alice@contoso.com"), user("a2", user_name="alice@contoso.com")
    result = plan([two, one], [group("Sales", "a1", "a2")])
    assert list(result.changes) == [CreateObject(G, "sales", "Sales", {"displayName": "Sales"})]
    detail = "is shared by source objects a1, a2"
    assert [(s.source_id, s.reason, s.status) for s in result.skips] == [
        ("a1", "DuplicateSourceEntries", FAIL),
        ("a2", "DuplicateSourceEntries", FAIL),
    ]
    assert all(detail in s.detail for s in result.skips)


def test_an_unlinked_object_without_a_match_answer_is_refused() -> None:
    """An unlinked entitled object without a match answer is a programming error, not a silent create."""
    request = make_request([user("alice")])
    request = PlanRequest(
        **{**{f: getattr(request, f) for f in PlanRequest.__dataclass_fields__}, "matches": {}}
    )
    with pytest.raises(ValueError, match="no match answer for user alice"):
        plan_cycle(request)


def test_no_matching_value_is_import_skipped() -> None:
    """A user without any matching value is skipped with ImportSkipped."""
    base = user("alice")
    obj = Desired(U, "alice", "alice", base.attributes, ())
    result = plan([obj])
    assert result.changes == ()
    assert [(s.source_id, s.reason, s.status) for s in result.skips] == [
        ("alice", "ImportSkipped", Status.SKIPPED)
    ]


def test_a_user_without_a_matching_value_is_named_and_is_no_member_nor_manager() -> None:
    """The skip names the matching attribute; the skipped user is added to no group, managed by none."""
    base = user("alice")
    alice = Desired(U, "alice", "alice", base.attributes, ())
    bob = user("bob", manager="alice")
    sales = group("Sales", "alice", "bob")
    names = MappingProxyType({U: "userName (mapped from userPrincipalName)"})
    result = plan([alice, bob], [sales], matching=names)
    assert [(s.source_id, s.detail) for s in result.skips] == [
        ("alice", "no value for matching attribute userName (mapped from userPrincipalName)")
    ]
    assert ChangeMembers("sales", "Sales", None, add=("bob",)) in result.changes
    assert not any(isinstance(c, ChangeMembers) and "alice" in c.add for c in result.changes)
    assert CreateObject(U, "bob", name("bob"), {"userName": name("bob"), "active": True}) in result.changes


def test_a_linked_user_without_a_matching_value_keeps_its_memberships() -> None:
    """Linked already, a user whose matching value went empty is still planned and stays a member."""
    base = user("alice")
    alice = Desired(U, "alice", "alice", base.attributes, ())
    sales = group("Sales", "alice")
    result = plan([alice], [sales], links=[link(alice), link(sales, members=["alice"])])
    assert not any(isinstance(c, ChangeMembers) for c in result.changes)


# --- members ---------------------------------------------------------------------------------

PEOPLE = {sid: user(sid) for sid in ("a", "b", "c", "d", "e")}


@pytest.mark.parametrize(
    ("members", "exported", "batch", "expected"),
    [
        pytest.param(("b", "c"), ("a", "b"), 100, [("add", ("c",)), ("remove", ("a",))], id="add-and-remove"),
        pytest.param(("a", "b"), ("a", "b"), 100, [], id="unchanged"),
        pytest.param(
            ("a", "b", "c", "d", "e"),
            (),
            2,
            [("add", ("a", "b")), ("add", ("c", "d")), ("add", ("e",))],
            id="add-batches",
        ),
        pytest.param(
            (),
            ("e", "d", "c", "b", "a"),
            2,
            [("remove", ("a", "b")), ("remove", ("c", "d")), ("remove", ("e",))],
            id="remove-batches",
        ),
        pytest.param(("a", "ghost"), ("a",), 100, [], id="member-not-in-source"),
    ],
)
def test_member_changes_diff_against_the_link(
    members: tuple[str, ...],
    exported: tuple[str, ...],
    batch: int,
    expected: list[tuple[str, tuple[str, ...]]],
) -> None:
    """Members are added and removed against link.members, sorted, in batches of member_batch_size."""
    sales = group("Sales", *members)
    users = list(PEOPLE.values())
    result = plan(
        users,
        [sales],
        links=[*(link(u) for u in users), link(sales, members=exported)],
        member_batch_size=batch,
    )
    assert list(result.changes) == [
        ChangeMembers("sales", "Sales", "t-sales", **{verb: ids}) for verb, ids in expected
    ]
    if not expected:
        assert redundant(sales) in result.skips


def test_members_that_are_not_entitled_are_not_added() -> None:
    """Members not in the source, soft-deleted and never provisioned, or duplicated are not added."""
    users = [
        user("ok"),
        user("off", soft_deleted=True),
        user("d1", user_name="x@contoso.com"),
        user("d2", user_name="X@contoso.com"),
    ]
    sales = group("Sales", "ok", "off", "d1", "d2", "ghost")
    result = plan(users, [sales])
    assert result.of_phase(Phase.MEMBERS) == (ChangeMembers("sales", "Sales", None, add=("ok",)),)


def test_a_soft_deleted_linked_member_is_disabled_and_loses_its_memberships() -> None:
    """A linked member who is disabled in the source is disabled and loses the memberships syncer gave it."""
    gina = user("gina", soft_deleted=True)
    sales = group("Sales", "gina")
    result = plan([gina], [sales], links=[link(user("gina")), link(sales, members=["gina"])])
    assert list(result.changes) == [
        ChangeMembers("sales", "Sales", "t-sales", remove=("gina",)),
        DisableUser("gina", name("gina"), "t-gina", "disabled in the source"),
    ]


def test_a_re_enabled_member_gets_its_memberships_back() -> None:
    """A disabled user enabled again in the source is re-activated and re-added to its groups."""
    gina = user("gina")
    sales = group("Sales", "gina")
    result = plan([gina], [sales], links=[link(user("gina"), disabled=True), link(sales, members=[])])
    kinds = [type(c).__name__ for c in result.changes]
    assert kinds == ["UpdateObject", "ChangeMembers"]
    assert result.changes[1] == ChangeMembers("sales", "Sales", "t-sales", add=("gina",))


def test_members_are_removed_when_the_user_leaves_the_source() -> None:
    """A member gone from the source is disabled and removed from the groups syncer gave them."""
    alice, bob = user("alice"), user("bob")
    sales = group("Sales", "alice", "bob")
    result = plan([alice], [sales], links=[link(alice), link(bob), link(sales, members=["alice", "bob"])])
    assert list(result.changes) == [
        ChangeMembers("sales", "Sales", "t-sales", remove=("bob",)),
        DisableUser("bob", name("bob"), "t-bob", "gone from the source", gone=True),
    ]


def test_manage_members_off_plans_no_member_changes() -> None:
    """With manage_members=False no member is added or removed."""
    alice = user("alice")
    sales = group("Sales", "alice")
    result = plan([alice], [sales], links=[link(alice), link(sales, members=["bob"])], manage_members=False)
    assert result.changes == ()
    assert redundant(sales) in result.skips


def test_new_group_members_wait_for_the_group() -> None:
    """A group created this cycle gets its members in the MEMBERS phase with no target id yet."""
    alice = user("alice")
    result = plan([alice], [group("Sales", "alice")], links=[link(alice)])
    assert list(result.changes) == [
        CreateObject(G, "sales", "Sales", {"displayName": "Sales"}),
        ChangeMembers("sales", "Sales", None, add=("alice",)),
    ]


def test_protected_user_keeps_memberships_and_references() -> None:
    """A linked user whose record failed to import keeps its memberships and its reports' manager."""
    alice, bob = user("alice", manager="bob"), user("bob")
    sales = group("Sales", "alice", "bob")
    links = [link(alice), link(bob), link(sales, members=["alice", "bob"])]
    result = plan([alice], [sales], links=links, protected=frozenset({(U, "bob")}))
    assert result.changes == ()


# --- references ------------------------------------------------------------------------------


def test_reference_to_a_user_not_in_the_source_is_no_value_on_create() -> None:
    """A manager who is not in the source is left out of the create, with no later reference update."""
    alice = user("alice", manager="zed")
    assert list(plan([alice]).changes) == [
        CreateObject(U, "alice", name("alice"), {"userName": name("alice"), "active": True}),
    ]


@pytest.mark.parametrize(
    ("others", "other_links", "changes"),
    [
        pytest.param([], [], [ch(MANAGER, Reference("zed"), None)], id="manager-gone"),
        pytest.param(
            [user("zed", soft_deleted=True)],
            [],
            [ch(MANAGER, Reference("zed"), None)],
            id="manager-never-provisioned",
        ),
        pytest.param(
            [user("zed", soft_deleted=True)], [link(user("zed"))], [], id="manager-disabled-but-linked"
        ),
    ],
)
def test_reference_to_a_non_entitled_user_is_removed_if_exported(
    others: list[Desired], other_links: list[Link], changes: list[AttributeChange]
) -> None:
    """An exported manager who will not be linked this cycle is removed from the report."""
    alice = user("alice", manager="zed")
    result = plan([alice, *others], links=[link(alice), *other_links])
    assert result.of_phase(Phase.USERS) == ((update(alice, *changes),) if changes else ())


# --- determinism -----------------------------------------------------------------------------


def scenario() -> tuple[list[Desired], list[Desired], list[Link]]:
    users = [
        user("alice", manager="bob", title="Lead"),
        user("bob"),
        user("carol", soft_deleted=True),
        user("dan", manager="erin"),
        user("erin"),
        user("fay"),
    ]
    groups = [group("Sales", "alice", "bob", "dan"), group("Eng", "erin", "fay"), group("Ops", "alice")]
    links = [
        link(user("alice", manager="bob", title="Engineer")),
        link(user("carol")),
        link(user("gone")),
        link(user("fay")),
        link(group("Eng"), members=["erin", "gone"]),
        link(group("Old")),
    ]
    return users, groups, links


def test_same_request_gives_the_same_plan() -> None:
    """Planning the same request twice gives equal plans."""
    users, groups, links = scenario()
    request = make_request(users, groups, links)
    assert plan_cycle(request) == plan_cycle(request)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_input_order_does_not_change_the_plan(seed: int) -> None:
    """Shuffling the order of users, groups and links gives the same plan."""
    users, groups, links = scenario()
    expected = plan(users, groups, links)
    rng = random.Random(seed)
    for items in (users, groups, links):
        rng.shuffle(items)
    assert plan(users, groups, links) == expected
    assert [(type(c).__name__, c.source_id) for c in expected.changes] == [
        ("UpdateObject", "alice"),
        ("CreateObject", "bob"),
        ("CreateObject", "erin"),
        ("CreateObject", "dan"),
        ("CreateObject", "ops"),
        ("CreateObject", "sales"),
        ("ChangeMembers", "eng"),
        ("ChangeMembers", "eng"),
        ("ChangeMembers", "ops"),
        ("ChangeMembers", "sales"),
        ("DeleteObject", "old"),
        ("DisableUser", "carol"),
        ("DisableUser", "gone"),
    ]


@pytest.mark.parametrize(
    ("exported", "wanted", "same"),
    [
        ({"a": "x", "b": 1}, {"b": 1, "a": "x"}, True),
        ({"a": "x"}, {"a": "x", "b": None}, True),
        ({"a": 1}, {"a": 1.0}, False),
        ({"a": 1}, {"a": True}, False),
        ({"a": "1"}, {"a": 1}, False),
        ({"m": Reference("u1")}, {"m": "u1"}, False),
        ({"m": Reference("u1")}, {"m": Reference("u1")}, True),
        ({"l": ("a", "b")}, {"l": ["a", "b"]}, True),
        ({"l": ("a", "b")}, {"l": ("b", "a")}, False),
    ],
)
def test_values_hash_equal_only_when_the_diff_is_empty(
    exported: dict[str, Any], wanted: dict[str, Any], same: bool
) -> None:
    """Equal digests of exported and desired values mean diff_values would find no change."""
    assert (values_hash(exported) == values_hash(wanted)) is same
    if same:
        assert diff_values(wanted, exported) == ()


def test_values_hash_leaves_out_create_only_paths() -> None:
    """A path sent only on create never makes an object look changed."""
    assert values_hash({"a": "x", "p": "secret1"}, {"p"}) == values_hash({"a": "x", "p": "other"}, {"p"})


def test_a_matching_digest_skips_the_comparison() -> None:
    """A link whose exported_hash equals the desired digest is unchanged without reading its values."""
    alice = user("alice", title="Engineer")
    stale = dataclasses.replace(link(alice), exported=MappingProxyType({}))
    hashed = dataclasses.replace(stale, exported_hash=values_hash(alice.attributes))
    assert plan([alice], links=[hashed]).changes == ()
    assert plan([alice], links=[stale]).changes != ()  # without the digest, the values are compared


def test_a_changed_object_fails_the_digest_and_is_diffed() -> None:
    """A changed value makes the digests differ; the diff against the exported values says what changed."""
    alice = user("alice", title="Lead")
    before = link(user("alice", title="Engineer"))
    hashed = dataclasses.replace(before, exported_hash=values_hash(before.exported))
    (update,) = plan([alice], links=[hashed]).changes
    assert isinstance(update, UpdateObject) and update.changes == (ch("title", "Engineer", "Lead"),)
