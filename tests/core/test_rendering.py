"""Table-driven tests for rendering a plan as text and JSON, and for its fingerprint."""

from __future__ import annotations

import dataclasses
import json
from types import MappingProxyType
from typing import Any

import pytest

from syncer.core.changes import (
    ChangeMembers,
    CreateObject,
    DeleteObject,
    DisableUser,
    Phase,
    Plan,
    PlanInputs,
    Skip,
    UpdateObject,
)
from syncer.core.rendering import change_line, fingerprint, render_json, render_text, summary, verify_saved
from syncer.core.scimpath import ENTERPRISE_USER
from syncer.types import AttributeChange, ObjectKind, Reference, Status

U = ObjectKind.USER
G = ObjectKind.GROUP
MANAGER = f"{ENTERPRISE_USER}:manager"
INPUTS = PlanInputs(config="sha256:c", source="sha256:s", state="sha256:t")

CREATE_ALICE = CreateObject(
    U,
    "a1",
    "alice@contoso.com",
    MappingProxyType(
        {"userName": "alice@contoso.com", "active": True, MANAGER: Reference("b1"), "emails": ("a@x", "b@x")}
    ),
)
UPDATE_BOB = UpdateObject(U, "b1", "bob@contoso.com", "t-b1", (AttributeChange("title", "Engineer", "Lead"),))
DISABLE_CAROL = DisableUser("c1", "carol@contoso.com", "t-c1", "disabled in the source")
ADD_SALES = ChangeMembers("g1", "Sales", "t-g1", add=("a1", "b1", "d1"))
FAILED_DAN = Skip(
    U, "d1", "dan@contoso.com", "DuplicateTargetEntries", Status.FAILURE, "userName matches t1, t2"
)
REDUNDANT_ERIN = Skip(U, "e1", "erin@contoso.com", "RedundantExport", target_id="t-e1")


def make_plan(*changes: Any, skips: tuple[Skip, ...] = (), names: dict[str, str] | None = None) -> Plan:
    return Plan(
        job="asana",
        initial=False,
        changes=tuple(changes),
        skips=skips,
        inputs=INPUTS,
        names=MappingProxyType(names or {}),
    )


@pytest.mark.parametrize(
    ("change", "names", "line"),
    [
        (CREATE_ALICE, {}, "+ create user alice@contoso.com"),
        (CreateObject(G, "g1", "Sales", {"displayName": "Sales"}), {}, "+ create group Sales"),
        (UPDATE_BOB, {}, '~ update user bob@contoso.com title: "Engineer" -> "Lead"'),
        (
            UpdateObject(
                U,
                "b1",
                "bob@contoso.com",
                "t-b1",
                (AttributeChange("active", False, True), AttributeChange("title", "Lead", None)),
            ),
            {},
            '~ update user bob@contoso.com active: false -> true, title: "Lead" -> (none)',
        ),
        (
            UpdateObject(
                U,
                "b1",
                "bob@contoso.com",
                "t-b1",
                (AttributeChange(MANAGER, None, Reference("a1")),),
                phase_=Phase.REFERENCES,
            ),
            {"a1": "alice@contoso.com"},
            f"~ update user bob@contoso.com {MANAGER}: (none) -> alice@contoso.com",
        ),
        (
            UpdateObject(
                U, "b1", "bob@contoso.com", "t-b1", (AttributeChange(MANAGER, Reference("x9"), None),)
            ),
            {},
            f"~ update user bob@contoso.com {MANAGER}: source:x9 -> (none)",
        ),
        (
            UpdateObject(
                U, "b1", "bob@contoso.com", "t-b1", (AttributeChange("emails", ("a", "b"), ("ü",)),)
            ),
            {},
            '~ update user bob@contoso.com emails: ["a", "b"] -> ["ü"]',
        ),
        (
            UpdateObject(U, "b1", "bob@contoso.com", "t9", (), matched_on="userName"),
            {},
            "= link user bob@contoso.com (matched on userName)",
        ),
        (
            UpdateObject(
                U, "b1", "bob@contoso.com", "t9", (AttributeChange("title", "A", "B"),), matched_on="userName"
            ),
            {},
            '= link user bob@contoso.com (matched on userName); update title: "A" -> "B"',
        ),
        (DISABLE_CAROL, {}, "- disable user carol@contoso.com (disabled in the source)"),
        (
            DisableUser("c1", "carol@contoso.com", "t-c1", "gone from the source"),
            {},
            "- disable user carol@contoso.com (gone from the source)",
        ),
        (
            DeleteObject(G, "g1", "Sales", "t-g1", "gone from the source"),
            {},
            "- delete group Sales (gone from the source)",
        ),
        (ADD_SALES, {"a1": "alice", "b1": "bob"}, "+ add 3 members to group Sales: alice, bob, source:d1"),
        (
            ChangeMembers("g1", "Sales", "t-g1", add=("a1",)),
            {"a1": "alice"},
            "+ add 1 member to group Sales: alice",
        ),
        (
            ChangeMembers("g1", "Sales", "t-g1", remove=("a1", "b1")),
            {},
            "- remove 2 members from group Sales: source:a1, source:b1",
        ),
    ],
)
def test_change_lines(change: Any, names: dict[str, str], line: str) -> None:
    """Each change renders as one line in the documented form."""
    assert change_line(change, make_plan(change, names=names)) == line


def test_change_line_refuses_a_non_change() -> None:
    """Rendering something that is not a change is a TypeError, not a silent blank line."""
    with pytest.raises(TypeError):
        change_line("nope", make_plan())


def test_render_text_lists_changes_failures_and_summary() -> None:
    """The text plan is the change lines, the failures, then a summary line with counts."""
    plan = make_plan(CREATE_ALICE, UPDATE_BOB, ADD_SALES, DISABLE_CAROL, skips=(FAILED_DAN, REDUNDANT_ERIN))
    assert render_text(plan) == (
        "+ create user alice@contoso.com\n"
        '~ update user bob@contoso.com title: "Engineer" -> "Lead"\n'
        "+ add 3 members to group Sales: source:a1, source:b1, source:d1\n"
        "- disable user carol@contoso.com (disabled in the source)\n"
        "! DuplicateTargetEntries user dan@contoso.com: userName matches t1, t2\n"
        "Plan: 1 to create, 1 to update, 0 to link, 1 to disable, 0 to delete, "
        "3 members to add, 0 to remove; 1 unchanged or skipped, 1 failing.\n"
    )
    assert "!" not in render_text(plan, show_failures=False)


def test_render_text_of_an_empty_plan() -> None:
    """A plan without changes says the target is up to date."""
    assert render_text(make_plan(skips=(REDUNDANT_ERIN,))) == (
        "No changes. The target is up to date.\n"
        "Plan: 0 to create, 0 to update, 0 to link, 0 to disable, 0 to delete, "
        "0 members to add, 0 to remove; 1 unchanged or skipped, 0 failing.\n"
    )


def test_summary_counts() -> None:
    """The summary counts changes by kind, members by id, and skips by status."""
    plan = make_plan(
        CREATE_ALICE,
        UPDATE_BOB,
        UpdateObject(U, "x", "x", "t", (), matched_on="userName"),
        ADD_SALES,
        ChangeMembers("g1", "Sales", "t-g1", remove=("a1", "b1")),
        DISABLE_CAROL,
        DeleteObject(G, "g2", "Old", "t-g2", "gone from the source"),
        skips=(FAILED_DAN, REDUNDANT_ERIN, REDUNDANT_ERIN),
    )
    assert summary(plan) == {
        "create": 1,
        "update": 1,
        "link": 1,
        "disable": 1,
        "delete": 1,
        "members_added": 3,
        "members_removed": 2,
        "skipped": 2,
        "failed": 1,
        "held": 0,
    }


PLANS = [
    make_plan(),
    make_plan(
        CREATE_ALICE,
        UPDATE_BOB,
        ADD_SALES,
        DISABLE_CAROL,
        skips=(FAILED_DAN, REDUNDANT_ERIN),
        names={"b1": "bob@contoso.com"},
    ),
]


@pytest.mark.parametrize("plan", PLANS)
def test_json_round_trips_through_verify_saved(plan: Plan) -> None:
    """A plan rendered as JSON and parsed back passes verify_saved with the plan's fingerprint."""
    data = json.loads(render_json(plan))
    assert verify_saved(data) == fingerprint(plan)
    assert data["fingerprint"].startswith("sha256:")
    assert data["job"] == "asana"
    assert data["summary"] == summary(plan)


def test_json_shows_references_and_tuples() -> None:
    """References are {"$ref": source_id} and multi-valued attributes JSON lists in the plan JSON."""
    data = json.loads(render_json(make_plan(CREATE_ALICE)))
    assert data["changes"][0]["attributes"][MANAGER] == {"$ref": "b1"}
    assert data["changes"][0]["attributes"]["emails"] == ["a@x", "b@x"]


@pytest.mark.parametrize("plan", PLANS)
def test_rendering_twice_is_byte_identical(plan: Plan) -> None:
    """The same plan renders byte-identically twice, as text and as JSON."""
    assert render_json(plan).encode() == render_json(plan).encode()
    assert render_text(plan).encode() == render_text(plan).encode()


def test_equal_plans_have_equal_fingerprints() -> None:
    """Two plans built separately from equal values have the same fingerprint."""
    again = make_plan(
        CreateObject(
            U,
            "a1",
            "alice@contoso.com",
            {
                "emails": ("a@x", "b@x"),
                MANAGER: Reference("b1"),
                "active": True,
                "userName": "alice@contoso.com",
            },
        ),
        UPDATE_BOB,
        ADD_SALES,
        DISABLE_CAROL,
        skips=(FAILED_DAN, REDUNDANT_ERIN),
    )
    assert fingerprint(again) == fingerprint(PLANS[1])


@pytest.mark.parametrize(
    "other",
    [
        make_plan(
            CREATE_ALICE,
            UpdateObject(U, "b1", "bob@contoso.com", "t-b1", (AttributeChange("title", "Engineer", "Boss"),)),
            ADD_SALES,
            DISABLE_CAROL,
            skips=(FAILED_DAN, REDUNDANT_ERIN),
        ),
        make_plan(
            CREATE_ALICE,
            UPDATE_BOB,
            ChangeMembers("g1", "Sales", "t-g1", add=("a1", "b1")),
            DISABLE_CAROL,
            skips=(FAILED_DAN, REDUNDANT_ERIN),
        ),
        make_plan(CREATE_ALICE, UPDATE_BOB, ADD_SALES, skips=(FAILED_DAN, REDUNDANT_ERIN)),
        make_plan(CREATE_ALICE, UPDATE_BOB, ADD_SALES, DISABLE_CAROL, skips=(FAILED_DAN,)),
        Plan(
            "asana", False, PLANS[1].changes, PLANS[1].skips, PlanInputs("sha256:c", "sha256:s2", "sha256:t")
        ),
        Plan("other", False, PLANS[1].changes, PLANS[1].skips, INPUTS),
    ],
    ids=["changed-value", "changed-members", "missing-change", "missing-skip", "other-inputs", "other-job"],
)
def test_a_different_plan_has_a_different_fingerprint(other: Plan) -> None:
    """Changing any change, skip, input or the job changes the fingerprint."""
    assert fingerprint(other) != fingerprint(PLANS[1])


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["changes"][1]["changes"][0].update(new="CEO"),
        lambda d: d["changes"].pop(),
        lambda d: d["changes"][2]["members"].append("x1"),
        lambda d: d["skips"].clear(),
        lambda d: d["inputs"].update(state="sha256:other"),
        lambda d: d.update(job="other"),
        lambda d: d.update(initial=True),
    ],
    ids=["value", "drop-change", "add-member", "drop-skips", "inputs", "job", "initial"],
)
def test_an_edited_saved_plan_is_refused(edit: Any) -> None:
    """A saved plan whose body was edited after rendering fails verify_saved."""
    data = json.loads(render_json(PLANS[1]))
    edit(data)
    with pytest.raises(ValueError, match="edited"):
        verify_saved(data)


@pytest.mark.parametrize(
    "data",
    [None, [], {}, {"format": 2, "fingerprint": "x"}, {"format": 1}],
)
def test_something_else_is_not_a_plan_file(data: Any) -> None:
    """A document that is not a format-1 plan with a fingerprint is refused as not a plan file."""
    with pytest.raises(ValueError, match="not a syncer plan file"):
        verify_saved(data)


HELD_PLAN = Plan(
    job="asana",
    initial=False,
    changes=(UPDATE_BOB,),
    skips=(),
    inputs=INPUTS,
    held=(DISABLE_CAROL,),
    held_reason="1 objects would be disabled or deleted, threshold 0: none of them was sent",
)


def test_held_changes_are_shown_and_counted_as_held() -> None:
    """Held disables are listed as comments with the reason, counted as held, not as changes."""
    assert render_text(HELD_PLAN) == (
        '~ update user bob@contoso.com title: "Engineer" -> "Lead"\n'
        "# held: - disable user carol@contoso.com (disabled in the source)\n"
        "HELD: 1 objects would be disabled or deleted, threshold 0: none of them was sent. Check the source "
        "and the scope; to release exactly these, run `syncer approve-deletions --job asana`.\n"
        "Plan: 0 to create, 1 to update, 0 to link, 0 to disable, 0 to delete, "
        "0 members to add, 0 to remove; 0 unchanged or skipped, 0 failing, 1 disables/deletes held.\n"
    )
    assert summary(HELD_PLAN)["held"] == 1


def test_a_plan_with_only_held_removals_is_not_up_to_date() -> None:
    """Held work is pending work: a plan that holds removals and sends nothing never says up to date."""
    only_held = dataclasses.replace(HELD_PLAN, changes=())
    text = render_text(only_held)
    assert "No changes" not in text and "up to date" not in text
    assert text.endswith("0 unchanged or skipped, 0 failing, 1 disables/deletes held.\n")
    assert only_held.pending and not dataclasses.replace(only_held, held=()).pending


def test_held_changes_are_part_of_the_fingerprint() -> None:
    """A saved plan whose held changes were edited is refused, and held changes move the fingerprint."""
    data = json.loads(render_json(HELD_PLAN))
    assert verify_saved(data) == fingerprint(HELD_PLAN)
    assert fingerprint(HELD_PLAN) != fingerprint(make_plan(UPDATE_BOB))
    data["held"].clear()
    with pytest.raises(ValueError, match="edited"):
        verify_saved(data)


def _out_of_scope(n: int) -> tuple[Skip, ...]:
    return tuple(
        Skip(
            ObjectKind.USER,
            f"u{i}",
            f"user{i}@contoso.com",
            "NotEffectivelyEntitled",
            detail="users scoping filter: group 1: department EQUALS 'Sales' (value 'Legal'): false",
        )
        for i in range(n)
    )


def test_out_of_scope_objects_are_one_line_by_default() -> None:
    """Thousands of users out of scope make one line after the changes, not a line each (issue 14)."""
    plan = Plan(job="asana", initial=False, changes=(CREATE_ALICE,), skips=_out_of_scope(3352), inputs=INPUTS)
    lines = render_text(plan).splitlines()
    assert lines[0] == "+ create user alice@contoso.com"
    assert lines[1] == "# 3,352 not in scope: --show-skipped to list them"
    assert not any(line.startswith("# not in scope:") for line in lines)


def test_show_skipped_lists_every_out_of_scope_object_with_its_clause() -> None:
    """With ``show_skipped`` each object left out by scope is listed with the clause that failed."""
    plan = Plan(job="asana", initial=False, changes=(), skips=_out_of_scope(52), inputs=INPUTS)
    text = render_text(plan, show_skipped=True)
    assert (
        "# not in scope: user user0@contoso.com: users scoping filter: group 1: department EQUALS 'Sales' "
        "(value 'Legal'): false"
    ) in text
    assert text.count("# not in scope:") == 52
    assert "--show-skipped" not in text


def test_json_keeps_every_out_of_scope_skip() -> None:
    """The JSON plan carries every skip whatever the text shows."""
    plan = Plan(job="asana", initial=False, changes=(), skips=_out_of_scope(60), inputs=INPUTS)
    data = json.loads(render_json(plan))
    assert len(data["skips"]) == 60


def test_member_changes_name_the_members_up_to_a_bound() -> None:
    """A member change names its members (display names where known), the rest as a count."""
    names = {f"m{i}": f"user{i}@contoso.com" for i in range(12)}
    few = ChangeMembers("g1", "Sales", "t-g1", remove=("m0", "zz"))
    assert change_line(few, make_plan(few, names=names)) == (
        "- remove 2 members from group Sales: user0@contoso.com, source:zz"
    )
    many = ChangeMembers("g1", "Sales", "t-g1", add=tuple(f"m{i}" for i in range(12)))
    line = change_line(many, make_plan(many, names=names))
    assert line == (
        "+ add 12 members to group Sales: "
        + ", ".join(f"user{i}@contoso.com" for i in range(10))
        + " … and 2 more"
    )


def test_skips_that_are_not_routine_are_summarised_with_their_reason() -> None:
    """Users skipped for one reason make one line with the count; unchanged and out of scope make none."""
    missing = "no value for matching attribute userName (mapped from userPrincipalName)"
    skips = (
        *(Skip(U, f"u{i}", f"u{i}", "ImportSkipped", Status.SKIPPED, missing) for i in range(12)),
        Skip(U, "f1", "fay", "ImportSkipped", Status.SKIPPED, "users.csv:7: row has 3 cells, header has 4"),
        REDUNDANT_ERIN,
        Skip(U, "o1", "olga", "NotEffectivelyEntitled", detail="not assigned"),
    )
    text = render_text(make_plan(skips=skips))
    assert text.splitlines()[:2] == [
        f"# 12 users skipped: {missing}",
        "# skipped user fay: users.csv:7: row has 3 cells, header has 4",
    ]
    assert "erin" not in text and "# 1 not in scope: --show-skipped to list them" in text
