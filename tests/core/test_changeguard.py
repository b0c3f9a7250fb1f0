"""The change threshold: mass changes to one attribute are held per attribute; approvals release them."""

from __future__ import annotations

import json
from types import MappingProxyType

import pytest

from syncer.core.changeguard import ChangeGuard, held_count, held_keys, hold_changes
from syncer.core.changes import Change, CreateObject, Phase, Plan, PlanInputs, UpdateObject, change_key
from syncer.core.rendering import held_update_lines, render_json, render_text, verify_saved
from syncer.settings import SafetySettings
from syncer.types import AttributeChange, ObjectKind, Reference

U = ObjectKind.USER


def update(i: int, *changes: AttributeChange, **kw: object) -> UpdateObject:
    return UpdateObject(U, f"s{i}", f"user{i}", f"t{i}", tuple(changes), **kw)  # type: ignore[arg-type]


def cleared(path: str = "title") -> AttributeChange:
    return AttributeChange(path, "Engineer", None)


def plan(*changes: Change) -> Plan:
    return Plan("J", False, tuple(changes), (), PlanInputs("c", "s", "t"))


def test_clearing_title_on_most_users_holds_only_title_and_keeps_other_attributes() -> None:
    renamed = [AttributeChange("displayName", f"a{i}", f"b{i}") for i in range(3)]
    changes = [update(i, cleared(), *renamed[i : i + 1]) for i in range(20)]
    held = hold_changes(plan(*changes), ChangeGuard("50%", 10), linked=25)
    # the three renames still go out, without the title; the other updates had nothing else
    assert [(c.source_id, c.changes) for c in held.changes] == [(f"s{i}", (renamed[i],)) for i in range(3)]
    [attribute] = held.held_updates
    assert (attribute.path, attribute.users, attribute.linked, attribute.cleared) == ("title", 20, 25, True)
    assert (
        attribute.reason() == "title would be cleared on 20 of 25 linked users (80% > change_threshold 50%)"
    )
    assert held_count(held) == 20
    assert held_update_lines(held) == [
        "~ held: title would be cleared on 20 of 25 linked users (80% > change_threshold 50%): "
        "syncer approve-changes --job J"
    ]


def test_an_update_with_only_held_attributes_is_not_sent_at_all() -> None:
    held = hold_changes(plan(*(update(i, cleared()) for i in range(12))), ChangeGuard("50%", 10), 12)
    assert held.changes == ()
    assert len(held.held_updates[0].changes) == 12


@pytest.mark.parametrize(
    ("threshold", "affected", "linked", "held"),
    [
        ("50%", 501, 1000, True),
        ("50%", 500, 1000, False),  # exactly the threshold passes: "more than" holds
        (100, 101, 1000, True),
        (100, 100, 1000, False),
        ("50%", 9, 9, False),  # fewer than min_users affected: a test tenant is never held
        ("50%", 10, 10, True),
        ("0%", 10, 1000, True),
        (None, 1000, 1000, False),  # change_threshold: none
    ],
)
def test_threshold_count_percent_minimum_and_off(
    threshold: int | str | None, affected: int, linked: int, held: bool
) -> None:
    out = hold_changes(
        plan(*(update(i, cleared()) for i in range(affected))), ChangeGuard(threshold, 10), linked
    )
    assert bool(out.held_updates) is held
    assert len(out.changes) == (0 if held else affected)


def test_a_change_to_one_of_many_users_passes() -> None:
    p = plan(update(1, AttributeChange("title", "Engineer", "Manager")))
    assert hold_changes(p, ChangeGuard(), linked=1000) == p


def test_creates_links_by_matching_active_and_groups_are_not_counted() -> None:
    changes: list[Change] = []
    for i in range(30):
        changes.append(CreateObject(U, f"n{i}", f"new{i}", MappingProxyType({"title": "x"})))
        changes.append(update(100 + i, AttributeChange("title", None, "x"), matched_on="userName"))
        changes.append(update(200 + i, AttributeChange("active", False, True), enable=True))
        changes.append(UpdateObject(ObjectKind.GROUP, f"g{i}", f"g{i}", f"tg{i}", (cleared("displayName"),)))
        # a reference update of a user created in this cycle has no target id yet
        changes.append(
            UpdateObject(U, f"n{i}", f"new{i}", None, (cleared("manager"),), phase_=Phase.REFERENCES)
        )
    p = plan(*changes)
    assert hold_changes(p, ChangeGuard("10%", 10), linked=100) == p


def test_each_attribute_is_counted_apart() -> None:
    changes = [update(i, cleared("title"), *([cleared("department")] if i < 3 else [])) for i in range(20)]
    held = hold_changes(plan(*changes), ChangeGuard("50%", 10), 20)
    assert [a.path for a in held.held_updates] == ["title"]
    assert sum(1 for c in held.changes if c.changes == (cleared("department"),)) == 3


def test_a_manager_reference_cleared_for_everyone_is_held_in_its_own_phase() -> None:
    refs = [
        UpdateObject(
            U,
            f"s{i}",
            f"u{i}",
            f"t{i}",
            (AttributeChange("manager", Reference("m"), None),),
            None,
            Phase.REFERENCES,
        )
        for i in range(15)
    ]
    held = hold_changes(plan(*refs), ChangeGuard("50%", 10), 15)
    assert held.changes == () and held.held_updates[0].path == "manager"
    assert {c.phase for c in held.held_updates[0].changes} == {Phase.REFERENCES}


def test_an_approval_releases_exactly_the_held_changes_and_nothing_that_moved() -> None:
    p = plan(*(update(i, cleared()) for i in range(20)))
    guard = ChangeGuard("50%", 10)
    keys = held_keys(hold_changes(p, guard, 20))
    assert len(keys) == 20 and keys[0].startswith("user:s")
    assert hold_changes(p, guard, 20, frozenset(keys)) == p
    # the source moved: the same users now get a different title; the approval does not cover it
    moved = plan(*(update(i, AttributeChange("title", "Engineer", "Typo")) for i in range(20)))
    assert hold_changes(moved, guard, 20, frozenset(keys)).changes == ()
    # half approved: the other half is 10 of 20 users, not more than 50%: it passes too
    assert hold_changes(p, guard, 20, frozenset(keys[:10])) == p


def test_change_key_names_user_path_and_new_value() -> None:
    assert change_key("s1", cleared()) != change_key("s1", AttributeChange("title", "Engineer", "x"))
    assert change_key("s1", cleared()) == change_key("s1", AttributeChange("title", "Other", None))
    assert change_key("s1", cleared()).startswith("user:s1:title:")


def test_plan_text_and_json_show_the_held_attribute_and_a_saved_plan_still_verifies() -> None:
    held = hold_changes(plan(*(update(i, cleared()) for i in range(1000))), ChangeGuard("50%", 10), 1000)
    text = render_text(held)
    assert (
        "~ held: title would be cleared on 1,000 of 1,000 linked users (100% > change_threshold 50%): "
        "syncer approve-changes --job J" in text
    )
    assert "No changes. The target is up to date." not in text
    rendered = render_json(held)
    assert '"held_updates"' in rendered
    data = json.loads(rendered)
    verify_saved(data)
    data["held_updates"][0]["users"] = 1
    with pytest.raises(ValueError, match="edited"):
        verify_saved(data)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("50%", "50%"), (" 25% ", "25%"), (200, 200), ("200", 200), ("none", None), (None, None), ("off", None)],
)
def test_settings_accept_percent_count_and_none(value: object, parsed: object) -> None:
    assert SafetySettings(change_threshold=value).change_threshold == parsed  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["fifty", "150%", -1, True, "5 %x"])
def test_settings_refuse_other_values(value: object) -> None:
    with pytest.raises(ValueError, match=r"change_threshold|expected"):
        SafetySettings(change_threshold=value)  # type: ignore[arg-type]


def test_an_initial_cycle_holds_nothing_it_has_no_exported_values_to_compare() -> None:
    """The first cycle, or the one after `syncer restart`: every value looks new, none is a change."""
    initial = Plan("J", True, tuple(update(i, cleared()) for i in range(20)), (), PlanInputs("c", "s", "t"))
    assert hold_changes(initial, ChangeGuard("50%", 10), linked=20) == initial


def test_users_created_or_matched_this_cycle_are_not_counted_in_their_second_phase() -> None:
    """The manager set after creating (or matching) 19 users is no mass change of linked users."""
    created = [CreateObject(U, f"s{i}", f"user{i}", {"userName": f"user{i}"}) for i in range(12)]
    matched = [update(i, AttributeChange("title", None, "x"), matched_on="userName") for i in range(12, 19)]
    managers = [update(i, AttributeChange("manager", None, "m"), phase_=Phase.REFERENCES) for i in range(19)]
    cycle = plan(*created, *matched, *managers)
    assert hold_changes(cycle, ChangeGuard("50%", 10), linked=1) == cycle
