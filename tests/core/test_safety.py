"""Table-driven tests for the guards against an empty source read and against mass deprovisioning."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from syncer.core.changes import (
    Change,
    ChangeMembers,
    CreateObject,
    DeleteObject,
    DisableUser,
    Plan,
    PlanInputs,
)
from syncer.core.safety import empty_source_refusal, hold_deprovisioning, threshold_limit
from syncer.types import JobState, Link, ObjectKind, SkippedRecord, SourceObject, SourceSnapshot

U = ObjectKind.USER
G = ObjectKind.GROUP


def state(count: int, kind: ObjectKind = U) -> JobState:
    return JobState(
        links={
            (kind, f"s{i}"): Link(kind, f"s{i}", f"t{i}", f"s{i}", MappingProxyType({})) for i in range(count)
        }
    )


def snapshot(users: int = 0, groups: int = 0, skipped: int = 0) -> SourceSnapshot:
    return SourceSnapshot(
        users=tuple(SourceObject(U, f"u{i}", MappingProxyType({})) for i in range(users)),
        groups=tuple(SourceObject(G, f"g{i}", MappingProxyType({})) for i in range(groups)),
        skipped=tuple(SkippedRecord(U, f"f:{i}", "bad") for i in range(skipped)),
    )


@pytest.mark.parametrize(
    ("source", "links", "number"),
    [
        (snapshot(), state(1), 1),
        (snapshot(), state(612), 612),
        (snapshot(), state(3, G), 3),
        (snapshot(skipped=4), state(7), 7),
    ],
)
def test_empty_source_with_links_is_refused_with_the_number(
    source: SourceSnapshot, links: JobState, number: int
) -> None:
    """A source that returns nobody while objects are provisioned is refused, naming how many."""
    refusal = empty_source_refusal(source, links)
    assert refusal is not None
    assert f"while {number} objects are provisioned" in refusal
    assert "nothing was changed" in refusal


@pytest.mark.parametrize(
    ("source", "links"),
    [
        (snapshot(), state(0)),
        (snapshot(users=1), state(0)),
        (snapshot(users=1), state(5)),
        (snapshot(groups=1), state(5)),
    ],
)
def test_a_source_with_objects_or_no_links_is_allowed(source: SourceSnapshot, links: JobState) -> None:
    """An empty source with no links (a first run) or any non-empty source may run."""
    assert empty_source_refusal(source, links) is None


# --- the deletion threshold ---------------------------------------------------------------------

CREATE = CreateObject(U, "n1", "new@contoso.com", MappingProxyType({"userName": "new@contoso.com"}))
LEAVERS = tuple(DisableUser(f"u{i}", f"u{i}@contoso.com", f"t{i}", "gone from the source") for i in range(3))
OLD_GROUP = DeleteObject(G, "g9", "Old", "t-g9", "gone from the source")
REMOVE_MIXED = ChangeMembers("g1", "Sales", "t-g1", remove=("u0", "stay"))
REMOVE_HELD = ChangeMembers("g2", "Eng", "t-g2", remove=("u1", "u2"))
ADD = ChangeMembers("g1", "Sales", "t-g1", add=("u0",))


def plan_of(*changes: Change) -> Plan:
    return Plan("asana", False, changes, (), PlanInputs("c", "s", "t"))


@pytest.mark.parametrize(
    ("threshold", "managed", "limit"),
    [(500, 10_000, 500), (0, 10, 0), ("10%", 612, 61), ("12.5%", 8, 1), ("0%", 50, 0), ("100%", 7, 7)],
)
def test_threshold_limit(threshold: int | str, managed: int, limit: int) -> None:
    """A threshold is a count of disables plus deletes, or a percentage of managed objects rounded down."""
    assert threshold_limit(threshold, managed) == limit


@pytest.mark.parametrize(
    ("threshold", "managed", "approved"),
    [(4, 100, False), (500, 100, False), ("4%", 100, False), (3, 100, True), (0, 100, True)],
)
def test_removals_within_the_threshold_or_approved_are_sent(
    threshold: int | str, managed: int, approved: bool
) -> None:
    """At or under the threshold, or approved, the plan is returned unchanged."""
    plan = plan_of(CREATE, ADD, REMOVE_MIXED, *LEAVERS, OLD_GROUP)
    assert hold_deprovisioning(plan, threshold, managed, approved) is plan


@pytest.mark.parametrize(
    ("threshold", "managed", "reason"),
    [
        (3, 100, "4 objects would be disabled or deleted, threshold 3: none of them was sent"),
        (0, 100, "4 objects would be disabled or deleted, threshold 0: none of them was sent"),
        (
            "3%",
            100,
            "4 objects would be disabled or deleted, threshold 3% (3 of 100 managed): none of them was sent",
        ),
    ],
)
def test_over_the_threshold_every_removal_is_held(threshold: int | str, managed: int, reason: str) -> None:
    """Over the threshold every disable and delete is held, with a reason in numbers; the rest is sent."""
    plan = plan_of(CREATE, ADD, REMOVE_MIXED, REMOVE_HELD, *LEAVERS, OLD_GROUP)
    held = hold_deprovisioning(plan, threshold, managed)
    assert held.held == (*LEAVERS, OLD_GROUP)
    assert held.held_reason == reason
    # held leavers keep their memberships; a batch of only held leavers is dropped
    assert held.changes == (CREATE, ADD, ChangeMembers("g1", "Sales", "t-g1", remove=("stay",)))
