"""The default guards stop a half-written export in a 900-person and in a 90-person company (issue 11).

A CSV or YAML file cut mid-write loses about half its records. The shrink guard refuses the read
(strictly: a loss that reaches ``max_source_shrink`` is refused), and the deletion threshold, the
lower of a count and a percentage of the managed objects, holds what would be disabled. Deleting a
group counts its managed members too: each of them loses that access.
"""

from __future__ import annotations

from types import MappingProxyType

import pytest

from syncer.core.changes import DeleteObject, DisableUser, Plan, PlanInputs
from syncer.core.safety import hold_deprovisioning, removal_weight, shrink_refusal, threshold_limit
from syncer.settings import DeprovisionSettings
from syncer.types import JobState, Link, ObjectKind

U = ObjectKind.USER
G = ObjectKind.GROUP
DEFAULTS = DeprovisionSettings()


def leavers(count: int) -> Plan:
    changes = tuple(DisableUser(f"u{i}", f"u{i}", f"t{i}", "gone from the source") for i in range(count))
    return Plan("job", False, changes, (), PlanInputs("c", "s", "t"))


@pytest.mark.parametrize("company", [900, 90])
@pytest.mark.parametrize("lost", [0.10, 0.44, 0.50, 0.56, 1.0])
def test_default_shrink_guard_refuses_a_file_cut_at_any_of_these_points(company: int, lost: float) -> None:
    """A directory of 900 or 90 people that lost 10% to 100% of its records is refused by default."""
    kept = company - round(company * lost)
    assert shrink_refusal(company, kept, DEFAULTS.max_source_shrink) is not None


@pytest.mark.parametrize(("company", "gone"), [(900, 391), (900, 440), (900, 91), (90, 45), (90, 10)])
def test_default_threshold_holds_the_disables_of_a_half_written_export(company: int, gone: int) -> None:
    """391-440 disables of 900 (the trial's figures), or 45 of 90, are held by the default threshold."""
    plan = hold_deprovisioning(
        leavers(gone),
        DEFAULTS.deletion_threshold,
        company,
        percent=DEFAULTS.deletion_threshold_percent,
    )
    assert plan.changes == () and len(plan.held) == gone


@pytest.mark.parametrize(("company", "gone"), [(900, 90), (90, 9), (12, 1), (4, 1)])
def test_default_threshold_lets_ordinary_departures_through(company: int, gone: int) -> None:
    """Up to 10% of the managed objects (at least one) may leave in one cycle without an approval."""
    plan = leavers(gone)
    held = hold_deprovisioning(
        plan, DEFAULTS.deletion_threshold, company, percent=DEFAULTS.deletion_threshold_percent
    )
    assert held is plan


@pytest.mark.parametrize(
    ("count", "percent", "managed", "limit"),
    [
        (500, "10%", 900, 90),
        (500, "10%", 90, 9),
        (500, "10%", 100_000, 500),
        (500, "10%", 5, 1),
        (500, "0%", 5, 0),
        ("20%", "10%", 100, 10),
        (3, "10%", 100, 3),
        (500, None, 900, 500),
    ],
)
def test_the_lower_of_count_and_percentage_wins(
    count: int | str, percent: str | None, managed: int, limit: int
) -> None:
    """The effective threshold is the lower of ``deletion_threshold`` and ``deletion_threshold_percent``."""
    assert threshold_limit(count, managed, percent) == limit


@pytest.mark.parametrize(
    ("previous", "current", "refused"),
    [(100, 90, True), (100, 91, False), (900, 810, True), (900, 811, False), (10, 9, True), (20, 19, False)],
)
def test_shrink_at_the_limit_is_refused(previous: int, current: int, refused: bool) -> None:
    """Strict: a source that lost exactly ``max_source_shrink`` (10% by default) is refused."""
    assert (shrink_refusal(previous, current, DEFAULTS.max_source_shrink) is not None) is refused


def _group_with_members(count: int) -> JobState:
    members = frozenset(f"u{i}" for i in range(count))
    links = {(U, f"u{i}"): Link(U, f"u{i}", f"t{i}", f"u{i}", MappingProxyType({})) for i in range(count)}
    links[(G, "g1")] = Link(G, "g1", "t-g1", "All staff", MappingProxyType({}), members=members)
    return JobState(links=links)


def test_deleting_a_group_counts_its_members_removals() -> None:
    """Deleting a group of 1,980 members counts 1,981 against the threshold, and is held."""
    state = _group_with_members(1980)
    delete = DeleteObject(G, "g1", "All staff", "t-g1", "gone from the source")
    assert removal_weight(delete, state) == 1981
    plan = Plan("job", False, (delete,), (), PlanInputs("c", "s", "t"))
    held = hold_deprovisioning(plan, 500, len(state.links), state=state)
    assert held.held == (delete,)
    assert held.held_reason is not None and "1981 removals" in held.held_reason
    assert "1 group deleted with 1980 memberships" in held.held_reason
