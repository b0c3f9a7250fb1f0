"""Table-driven tests for deprovisioning: leaving scope or the source, re-enabling, and the safety guards."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest

from syncer.core.changes import (
    Change,
    ChangeMembers,
    CreateObject,
    DeleteObject,
    DisableUser,
    Plan,
    Skip,
    UpdateObject,
)
from syncer.core.planning import OutOfScope
from syncer.core.rendering import change_line
from syncer.core.safety import hold_deprovisioning, removal_key, shrink_refusal
from syncer.types import AttributeChange, Desired, Link, ObjectKind, Reference
from tests.builders import (
    INPUTS,
    MANAGER,
    NOT_ASSIGNED,
    G,
    U,
    enable,
    group,
    link,
    name,
    plan,
    redundant,
    user,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAYS_30 = timedelta(days=30)
LEFT = f"out of scope: {NOT_ASSIGNED}"
GONE = "gone from the source"


def outside(*keys: tuple[ObjectKind, str], reason: str = NOT_ASSIGNED) -> dict[Any, OutOfScope]:
    """Out-of-scope entries for ``keys``, displayed as intake would (userName or displayName)."""
    return {(k, s): OutOfScope(name(s) if k is U else s.title(), reason) for k, s in keys}


ANN, BOB, ZOE = user("ann"), user("bob"), user("zoe")


# --- leaving scope --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "changes", "skips"),
    [
        pytest.param(
            "disable",
            [
                ChangeMembers("sales", "Sales", "t-sales", remove=("bob",)),
                DisableUser("bob", name("bob"), "t-bob", LEFT),
            ],
            [redundant(ANN)],
            id="disable",
        ),
        pytest.param(
            "delete",
            [
                ChangeMembers("sales", "Sales", "t-sales", remove=("bob",)),
                DeleteObject(U, "bob", name("bob"), "t-bob", LEFT),
            ],
            [redundant(ANN)],
            id="delete",
        ),
        pytest.param(
            "skip",
            [],
            [
                redundant(group("Sales")),
                redundant(ANN),
                Skip(U, "bob", name("bob"), "SkipOutOfScopeDeletions", detail=LEFT, target_id="t-bob"),
            ],
            id="skip",
        ),
    ],
)
def test_linked_user_leaving_scope(policy: str, changes: list[Change], skips: list[Skip]) -> None:
    """A linked user leaving scope is disabled, deleted, or left exactly as it is, per out_of_scope."""
    sales = group("Sales", "ann", "bob")
    result = plan(
        [ANN],
        [sales],
        [link(ANN), link(BOB), link(sales, members=["ann", "bob"])],
        out_of_scope=outside((U, "bob")),
        out_of_scope_policy=policy,
    )
    assert list(result.changes) == changes
    assert list(result.skips) == skips


def test_skip_policy_adds_no_membership_either() -> None:
    """Under out_of_scope: skip an out-of-scope user is not added to a group it is a source member of."""
    sales = group("Sales", "ann", "bob")
    result = plan(
        [ANN],
        [sales],
        [link(ANN), link(BOB), link(sales, members=["ann"])],
        out_of_scope=outside((U, "bob")),
        out_of_scope_policy="skip",
    )
    assert result.changes == ()


@pytest.mark.parametrize(
    ("policy", "changes", "skips"),
    [
        pytest.param("disable", [], [redundant(BOB, LEFT)], id="disable-is-redundant"),
        pytest.param(
            "delete", [DeleteObject(U, "bob", name("bob"), "t-bob", LEFT)], [], id="delete-still-deletes"
        ),
        pytest.param(
            "skip",
            [],
            [Skip(U, "bob", name("bob"), "SkipOutOfScopeDeletions", detail=LEFT, target_id="t-bob")],
            id="skip",
        ),
    ],
)
def test_already_disabled_user_leaving_scope(policy: str, changes: list[Change], skips: list[Skip]) -> None:
    """A linked user already disabled needs no second disable when it is out of scope."""
    result = plan(
        links=[link(BOB, disabled=True)], out_of_scope=outside((U, "bob")), out_of_scope_policy=policy
    )
    assert list(result.changes) == changes
    assert list(result.skips) == skips


@pytest.mark.parametrize("policy", ["disable", "delete", "skip"])
@pytest.mark.parametrize(
    "reason",
    [NOT_ASSIGNED, "users scoping filter: group 1: department EQUALS 'sales' (value 'eng'): false"],
)
def test_unlinked_out_of_scope_is_not_effectively_entitled(policy: str, reason: str) -> None:
    """An out-of-scope user never provisioned is skipped as NotEffectivelyEntitled, naming the clause."""
    sales = group("Sales", "ann", "zoe")
    result = plan(
        [ANN],
        [sales],
        [link(ANN), link(sales, members=["ann"])],
        out_of_scope=outside((U, "zoe"), reason=reason),
        out_of_scope_policy=policy,
    )
    assert result.changes == ()
    assert list(result.skips) == [
        redundant(sales),
        redundant(ANN),
        Skip(U, "zoe", name("zoe"), "NotEffectivelyEntitled", detail=reason),
    ]


@pytest.mark.parametrize(
    ("options", "changes", "skips"),
    [
        pytest.param(
            {},
            [DeleteObject(G, "ops", "Ops", "t-ops", "out of scope: not an assigned group")],
            [],
            id="deleted",
        ),
        pytest.param(
            {"out_of_scope_policy": "skip"},
            [DeleteObject(G, "ops", "Ops", "t-ops", "out of scope: not an assigned group")],
            [],
            id="user-policy-does-not-apply-to-groups",
        ),
        pytest.param(
            {"group_deletes": False},
            [],
            [
                Skip(
                    G,
                    "ops",
                    "Ops",
                    "SkipOutOfScopeDeletions",
                    detail="out of scope: not an assigned group",
                    target_id="t-ops",
                )
            ],
            id="group-deletes-off",
        ),
    ],
)
def test_linked_group_leaving_scope(
    options: dict[str, Any], changes: list[Change], skips: list[Skip]
) -> None:
    """A linked group leaving scope is deleted unless group deletes are off; its members are not touched."""
    ops = group("Ops", "ann")
    result = plan(
        [ANN],
        links=[link(ANN), link(ops, members=["ann"])],
        out_of_scope=outside((G, "ops"), reason="not an assigned group"),
        **options,
    )
    assert list(result.changes) == changes
    assert list(result.skips) == [*skips, redundant(ANN)]


def test_unlinked_out_of_scope_group_is_not_effectively_entitled() -> None:
    """An out-of-scope group syncer never provisioned is skipped, not deleted."""
    result = plan(out_of_scope=outside((G, "ops"), reason="not an assigned group"))
    assert result.changes == ()
    assert list(result.skips) == [
        Skip(G, "ops", "Ops", "NotEffectivelyEntitled", detail="not an assigned group")
    ]


@pytest.mark.parametrize(
    ("policy", "changes"),
    [
        pytest.param(
            "disable", [DisableUser("bob", name("bob"), "t-bob", LEFT)], id="disabled-manager-stays"
        ),
        pytest.param("skip", [], id="untouched-manager-stays"),
        pytest.param(
            "delete",
            [
                UpdateObject(
                    U, "ann", name("ann"), "t-ann", (AttributeChange(MANAGER, Reference("bob"), None),)
                ),
                DeleteObject(U, "bob", name("bob"), "t-bob", LEFT),
            ],
            id="deleted-manager-is-removed",
        ),
    ],
)
def test_reports_of_a_manager_leaving_scope(policy: str, changes: list[Change]) -> None:
    """A report keeps a manager who left scope while its account stays, and drops one that is deleted."""
    ann = user("ann", manager="bob")
    result = plan(
        [ann], links=[link(ann), link(BOB)], out_of_scope=outside((U, "bob")), out_of_scope_policy=policy
    )
    assert list(result.changes) == changes


def test_new_report_of_a_deleted_manager_is_created_without_it() -> None:
    """A user created with a manager who is deleted in the same cycle is created without the manager."""
    ann = user("ann", manager="bob")
    result = plan([ann], links=[link(BOB)], out_of_scope=outside((U, "bob")), out_of_scope_policy="delete")
    assert list(result.changes) == [
        CreateObject(U, "ann", name("ann"), {"userName": name("ann"), "active": True}),
        DeleteObject(U, "bob", name("bob"), "t-bob", LEFT),
    ]


# --- leaving the source ---------------------------------------------------------------------------

FRANK = user("frank")
DISABLE_GONE = DisableUser("frank", name("frank"), "t-frank", GONE, gone=True)
DELETE_NOW = DeleteObject(U, "frank", name("frank"), "t-frank", GONE)


def delete_after(days: int) -> DeleteObject:
    since = NOW - timedelta(days=days)
    return DeleteObject(
        U,
        "frank",
        name("frank"),
        "t-frank",
        f"gone from the source since {since:%Y-%m-%d %H:%M} UTC (hard_delete_after 30 days, 0:00:00)",
    )


@pytest.mark.parametrize(
    ("after", "disabled", "gone_days", "now", "changes"),
    [
        pytest.param(None, False, None, NOW, [DISABLE_GONE], id="never-delete-disables"),
        pytest.param(None, True, None, NOW, [], id="never-delete-then-nothing"),
        pytest.param(None, True, 400, NOW, [], id="never-delete-even-after-a-year"),
        pytest.param(timedelta(0), False, None, NOW, [DELETE_NOW], id="zero-deletes-at-once"),
        pytest.param(timedelta(0), True, 3, NOW, [DELETE_NOW], id="zero-deletes-a-disabled-user"),
        pytest.param(DAYS_30, False, None, NOW, [DISABLE_GONE], id="grace-disables-first"),
        pytest.param(DAYS_30, True, None, NOW, [DISABLE_GONE], id="grace-already-disabled-starts-the-clock"),
        pytest.param(DAYS_30, True, 10, NOW, [], id="grace-10-days-waits"),
        pytest.param(DAYS_30, False, 10, NOW, [DISABLE_GONE], id="grace-10-days-not-disabled-disables-again"),
        pytest.param(DAYS_30, True, 30, NOW, [delete_after(30)], id="grace-exactly-30-days-deletes"),
        pytest.param(DAYS_30, True, 31, NOW, [delete_after(31)], id="grace-31-days-deletes"),
        pytest.param(DAYS_30, True, 31, None, [], id="no-clock-never-deletes"),
    ],
)
def test_user_gone_from_the_source(
    after: timedelta | None,
    disabled: bool,
    gone_days: int | None,
    now: datetime | None,
    changes: list[Change],
) -> None:
    """A user gone from the source is disabled first and deleted once gone for hard_delete_after."""
    gone_since = NOW - timedelta(days=gone_days) if gone_days is not None else None
    previous = link(FRANK, disabled=disabled, gone_since=gone_since)
    result = plan(links=[previous], hard_delete_after=after, now=now)
    assert list(result.changes) == changes
    assert result.skips == ()


@pytest.mark.parametrize(
    ("gone_days", "changes"),
    [
        pytest.param(None, [enable(FRANK)], id="disabled-not-yet-counting"),
        pytest.param(10, [enable(FRANK)], id="back-within-the-grace"),
        pytest.param(31, [enable(FRANK)], id="back-after-the-grace"),
    ],
)
def test_user_back_in_the_source_is_enabled(gone_days: int | None, changes: list[Change]) -> None:
    """A user back in the source after syncer disabled it as gone is re-activated, never deleted."""
    gone_since = NOW - timedelta(days=gone_days) if gone_days is not None else None
    previous = link(FRANK, disabled=True, gone_since=gone_since)
    result = plan([FRANK], links=[previous], hard_delete_after=DAYS_30, now=NOW)
    assert list(result.changes) == changes
    assert result.skips == ()


# --- memberships of disabled and re-enabled users -------------------------------------------------


@pytest.mark.parametrize(
    ("gina", "previous", "exported", "changes"),
    [
        pytest.param(
            user("gina", soft_deleted=True),
            link(user("gina")),
            ["ann", "gina"],
            [
                ChangeMembers("sales", "Sales", "t-sales", remove=("gina",)),
                DisableUser("gina", name("gina"), "t-gina", "disabled in the source"),
            ],
            id="soft-deleted-loses-memberships",
        ),
        pytest.param(
            user("gina", soft_deleted=True),
            link(user("gina"), disabled=True),
            ["ann", "gina"],
            [ChangeMembers("sales", "Sales", "t-sales", remove=("gina",))],
            id="already-disabled-still-loses-memberships",
        ),
        pytest.param(
            user("gina", soft_deleted=True),
            link(user("gina"), disabled=True),
            ["ann"],
            [],
            id="disabled-is-not-added",
        ),
        pytest.param(
            None,
            link(user("gina")),
            ["ann", "gina"],
            [
                ChangeMembers("sales", "Sales", "t-sales", remove=("gina",)),
                DisableUser("gina", name("gina"), "t-gina", GONE, gone=True),
            ],
            id="gone-loses-memberships",
        ),
        pytest.param(
            user("gina"),
            link(user("gina"), disabled=True),
            ["ann"],
            [
                enable(user("gina")),
                ChangeMembers("sales", "Sales", "t-sales", add=("gina",)),
            ],
            id="re-enabled-gets-memberships-back",
        ),
        pytest.param(
            user("gina"),
            link(user("gina"), disabled=True, gone_since=NOW - timedelta(days=3)),
            ["ann"],
            [
                enable(user("gina")),
                ChangeMembers("sales", "Sales", "t-sales", add=("gina",)),
            ],
            id="back-from-gone-gets-memberships-back",
        ),
    ],
)
def test_memberships_follow_enabled_state(
    gina: Desired | None, previous: Link, exported: list[str], changes: list[Change]
) -> None:
    """Disabled and gone users lose the memberships syncer gave them; re-enabled ones get them back."""
    sales = group("Sales", "ann", "gina")
    users = [ANN] if gina is None else [ANN, gina]
    result = plan(users, [sales], [link(ANN), previous, link(sales, members=exported)], now=NOW)
    assert list(result.changes) == changes


def test_user_back_in_scope_is_enabled_with_its_memberships() -> None:
    """A user disabled for leaving scope is re-activated and re-added to its groups when back in scope."""
    sales = group("Sales", "ann", "bob")
    result = plan([ANN, BOB], [sales], [link(ANN), link(BOB, disabled=True), link(sales, members=["ann"])])
    assert list(result.changes) == [enable(BOB), ChangeMembers("sales", "Sales", "t-sales", add=("bob",))]


# --- holding removals -----------------------------------------------------------------------------

LEAVERS = tuple(DisableUser(f"u{i}", name(f"u{i}"), f"t{i}", GONE, gone=True) for i in range(3))
OLD_GROUP = DeleteObject(G, "g9", "Old", "t-g9", GONE)
CREATE = CreateObject(U, "n1", name("n1"), MappingProxyType({"userName": name("n1")}))
REMOVE = ChangeMembers("g1", "Sales", "t-g1", remove=("u0", "u1", "stay"))
ADD = ChangeMembers("g1", "Sales", "t-g1", add=("n1",))


def plan_of(*changes: Change) -> Plan:
    return Plan("asana", False, changes, (), INPUTS)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (LEAVERS[0], "user:u0:disable"),
        (DeleteObject(U, "u0", "u0", "t0", GONE), "user:u0:delete"),
        (OLD_GROUP, "group:g9:delete"),
    ],
)
def test_removal_key(change: DisableUser | DeleteObject, key: str) -> None:
    """An approval names a removal by kind, source id and verb."""
    assert removal_key(change) == key


@pytest.mark.parametrize(
    ("approved", "held", "changes", "reason"),
    [
        pytest.param(
            frozenset(),
            (*LEAVERS, OLD_GROUP),
            (CREATE, ADD, ChangeMembers("g1", "Sales", "t-g1", remove=("stay",))),
            "4 objects would be disabled or deleted, threshold 2: none of them was sent",
            id="none-approved",
        ),
        pytest.param(
            frozenset({"user:u0:disable"}),
            (LEAVERS[1], LEAVERS[2], OLD_GROUP),
            (CREATE, ADD, ChangeMembers("g1", "Sales", "t-g1", remove=("u0", "stay")), LEAVERS[0]),
            "3 objects would be disabled or deleted, threshold 2: none of them was sent",
            id="one-approved-released-others-held",
        ),
        pytest.param(
            frozenset({"user:u0:delete", "group:g9:disable", "user:u9:disable"}),
            (*LEAVERS, OLD_GROUP),
            (CREATE, ADD, ChangeMembers("g1", "Sales", "t-g1", remove=("stay",))),
            "4 objects would be disabled or deleted, threshold 2: none of them was sent",
            id="keys-of-another-verb-or-object-release-nothing",
        ),
        pytest.param(
            frozenset({"group:g9:delete"}),
            LEAVERS,
            (CREATE, ADD, ChangeMembers("g1", "Sales", "t-g1", remove=("stay",)), OLD_GROUP),
            "3 objects would be disabled or deleted, threshold 2: none of them was sent",
            id="group-delete-approved",
        ),
    ],
)
def test_approved_removals_are_released(
    approved: frozenset[str], held: tuple[Change, ...], changes: tuple[Change, ...], reason: str
) -> None:
    """Approved keys release exactly those removals; the rest still count and are held, memberships too."""
    result = hold_deprovisioning(plan_of(CREATE, ADD, REMOVE, *LEAVERS, OLD_GROUP), 2, 100, approved)
    assert result.held == held
    assert result.changes == changes
    assert result.held_reason == reason


@pytest.mark.parametrize(
    ("threshold", "managed", "approved"),
    [
        pytest.param(2, 100, {"user:u0:disable", "user:u1:disable"}, id="remainder-at-threshold"),
        pytest.param(3, 100, {"group:g9:delete"}, id="remainder-at-threshold-group-approved"),
        pytest.param("50%", 4, {"user:u0:disable", "user:u1:disable"}, id="remainder-at-percentage"),
        pytest.param(
            0, 100, {"user:u0:disable", "user:u1:disable", "user:u2:disable", "group:g9:delete"}, id="all"
        ),
        pytest.param(0, 100, True, id="approved-true"),
    ],
)
def test_unapproved_remainder_within_the_threshold_holds_nothing(
    threshold: int | str, managed: int, approved: bool | set[str]
) -> None:
    """When the removals left after approvals are within the threshold the plan is sent as it is."""
    original = plan_of(CREATE, ADD, REMOVE, *LEAVERS, OLD_GROUP)
    assert hold_deprovisioning(original, threshold, managed, approved) is original


@pytest.mark.parametrize(
    ("threshold", "managed", "approved", "reason"),
    [
        pytest.param(
            "50%",
            4,
            {"user:u0:disable"},
            "3 objects would be disabled or deleted, threshold 50% (2 of 4 managed): none of them was sent",
            id="percentage-with-approval",
        ),
        pytest.param(
            "10%",
            25,
            set(),
            "4 objects would be disabled or deleted, threshold 10% (2 of 25 managed): none of them was sent",
            id="percentage-rounds-down",
        ),
        pytest.param(
            "0%",
            1000,
            {"user:u0:disable", "user:u1:disable", "group:g9:delete"},
            "1 object would be disabled or deleted, threshold 0% (0 of 1000 managed): none of them was sent",
            id="percentage-zero-singular",
        ),
    ],
)
def test_percentage_thresholds(threshold: str, managed: int, approved: set[str], reason: str) -> None:
    """A percentage threshold is taken of the managed objects, and the reason gives both numbers."""
    result = hold_deprovisioning(plan_of(*LEAVERS, OLD_GROUP), threshold, managed, approved)
    assert result.held_reason == reason
    assert len(result.held) + len(result.changes) == 4
    assert {removal_key(c) for c in result.changes} == approved  # type: ignore[arg-type]


def test_held_leavers_keep_their_memberships_in_a_planned_cycle() -> None:
    """Holding a planned cycle's removals also keeps the held users' membership removals out of the plan."""
    sales = group("Sales", "ann")
    links = [link(ANN), link(BOB), link(user("cy")), link(sales, members=["ann", "bob", "cy"])]
    planned = plan([ANN], [sales], links, out_of_scope=outside((U, "cy")))
    assert list(planned.changes) == [
        ChangeMembers("sales", "Sales", "t-sales", remove=("bob", "cy")),
        DisableUser("bob", name("bob"), "t-bob", GONE, gone=True),
        DisableUser("cy", name("cy"), "t-cy", f"out of scope: {NOT_ASSIGNED}"),
    ]
    held = hold_deprovisioning(planned, 0, 4)
    assert held.changes == ()
    assert held.held == planned.changes[1:]
    released = hold_deprovisioning(planned, 0, 4, {"user:cy:disable"})
    assert released.changes == (
        ChangeMembers("sales", "Sales", "t-sales", remove=("cy",)),
        DisableUser("cy", name("cy"), "t-cy", f"out of scope: {NOT_ASSIGNED}"),
    )
    assert released.held == (planned.changes[1],)


# --- a shrinking source ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "current", "max_shrink", "refusal"),
    [
        pytest.param(None, 0, "10%", None, id="no-previous-cycle"),
        pytest.param(0, 0, "10%", None, id="previous-empty"),
        pytest.param(100, 150, "10%", None, id="growth"),
        pytest.param(100, 100, "0%", None, id="same"),
        pytest.param(100, 91, "10%", None, id="under-the-limit"),
        pytest.param(
            100,
            90,
            "10%",
            "the source holds 90 objects, 10 fewer than the 100 of the last cycle "
            "(10%, at or over max_source_shrink 10%): nothing was changed",
            id="at-the-limit-is-refused",
        ),
        pytest.param(9, 8, "12.5%", None, id="fractional-limit"),
        pytest.param(
            100,
            89,
            "10%",
            "the source holds 89 objects, 11 fewer than the 100 of the last cycle "
            "(11%, at or over max_source_shrink 10%): nothing was changed",
            id="over-the-limit",
        ),
        pytest.param(
            3,
            1,
            "50%",
            "the source holds 1 objects, 2 fewer than the 3 of the last cycle "
            "(67%, at or over max_source_shrink 50%): nothing was changed",
            id="percentage-rounded",
        ),
        pytest.param(
            612,
            0,
            "0%",
            "the source holds 0 objects, 612 fewer than the 612 of the last cycle "
            "(100%, at or over max_source_shrink 0%): nothing was changed",
            id="everyone-gone",
        ),
    ],
)
def test_shrink_refusal(previous: int | None, current: int, max_shrink: str, refusal: str | None) -> None:
    """A source that lost at or over max_source_shrink of last cycle's objects is refused, in numbers."""
    assert shrink_refusal(previous, current, max_shrink) == refusal


# --- targets where a delete deactivates (Slack, Asana) ---------------------------------------------


def test_a_delete_on_a_deactivating_target_says_the_account_stays() -> None:
    previous = link(FRANK, disabled=True, gone_since=NOW - timedelta(days=31))
    result = plan(links=[previous], hard_delete_after=DAYS_30, now=NOW, delete_deactivates=True)
    (delete,) = result.changes
    assert isinstance(delete, DeleteObject) and delete.deactivates
    assert "the target keeps it deactivated" in change_line(delete, result)


@pytest.mark.parametrize("after", [timedelta(0), DAYS_30], ids=["at-once", "after-the-grace"])
def test_a_user_deleted_on_a_deactivating_target_is_not_deleted_again(after: timedelta) -> None:
    """The kept link (``deleted_at``) has nothing more to send, whatever the grace period."""
    previous = replace(
        link(FRANK, disabled=True, gone_since=NOW - timedelta(days=60)), deleted_at=NOW.isoformat()
    )
    result = plan(links=[previous], hard_delete_after=after, now=NOW, delete_deactivates=True)
    assert result.changes == ()


def test_a_user_deleted_on_a_deactivating_target_and_back_is_enabled_on_the_same_id() -> None:
    previous = replace(link(FRANK, disabled=True), deleted_at=NOW.isoformat())
    result = plan([FRANK], links=[previous], hard_delete_after=DAYS_30, now=NOW, delete_deactivates=True)
    assert list(result.changes) == [enable(FRANK)]
