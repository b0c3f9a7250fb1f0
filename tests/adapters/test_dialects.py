"""Golden tests: the exact PATCH request bodies each wire dialect (rfc, entra) sends."""

from __future__ import annotations

from typing import Any

import pytest

from syncer.adapters.scim.protocol import build_patch_operations, member_operations, patch_body, prepare_patch
from syncer.types import AttributeChange, ObjectKind

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
HEAD = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":'


def wire(ops: list[dict[str, Any]], kind: ObjectKind = ObjectKind.USER) -> str:
    """The body bytes the client puts on the wire for these operations."""
    content = prepare_patch(kind, "id-1", patch_body(ops)).content()
    assert content is not None
    return content.decode()


def change(path: str, old: Any, new: Any) -> AttributeChange:
    return AttributeChange(path, old, new)


@pytest.mark.parametrize(
    ("dialect", "body"),
    [
        ("rfc", HEAD + '[{"op":"replace","path":"title","value":"Engineer"}]}'),
        ("entra", HEAD + '[{"op":"Replace","path":"title","value":"Engineer"}]}'),
    ],
)
def test_replace_string(dialect: str, body: str) -> None:
    """A changed string is one replace, lowercase in rfc and capitalised in entra."""
    ops = build_patch_operations([change("title", "Analyst", "Engineer")], dialect=dialect)
    assert wire(ops) == body


@pytest.mark.parametrize(
    ("dialect", "body"),
    [
        ("rfc", HEAD + '[{"op":"replace","path":"active","value":false}]}'),
        ("entra", HEAD + '[{"op":"Replace","path":"active","value":"False"}]}'),
    ],
)
def test_replace_boolean_false(dialect: str, body: str) -> None:
    """``active`` false is a JSON false in rfc and the string "False" in entra."""
    ops = build_patch_operations([change("active", True, False)], dialect=dialect)
    assert wire(ops) == body


@pytest.mark.parametrize(
    ("dialect", "body"),
    [
        ("rfc", HEAD + '[{"op":"replace","path":"active","value":true}]}'),
        ("entra", HEAD + '[{"op":"Replace","path":"active","value":"True"}]}'),
    ],
)
def test_replace_boolean_true(dialect: str, body: str) -> None:
    """``active`` true is a JSON true in rfc and the string "True" in entra."""
    ops = build_patch_operations([change("active", False, True)], dialect=dialect)
    assert wire(ops) == body


@pytest.mark.parametrize(
    ("dialect", "body"),
    [
        ("rfc", HEAD + f'[{{"op":"remove","path":"{ENTERPRISE}:department"}}]}}'),
        ("entra", HEAD + f'[{{"op":"Remove","path":"{ENTERPRISE}:department"}}]}}'),
    ],
)
def test_remove(dialect: str, body: str) -> None:
    """A cleared value is a remove with no value."""
    ops = build_patch_operations([change(f"{ENTERPRISE}:department", "Sales", None)], dialect=dialect)
    assert wire(ops) == body


@pytest.mark.parametrize(
    ("dialect", "body"),
    [
        (
            "rfc",
            HEAD + '[{"op":"add","path":"emails",'
            '"value":[{"type":"work","primary":true,"value":"a@b.example"}]}]}',
        ),
        (
            "entra",
            HEAD + '[{"op":"Add","path":"emails",'
            '"value":[{"type":"work","primary":"True","value":"a@b.example"}]}]}',
        ),
    ],
)
def test_new_filtered_entry_is_added_whole(dialect: str, body: str) -> None:
    """A filtered entry with no values before is one add of the whole entry, booleans encoded per dialect."""
    ops = build_patch_operations(
        [
            change('emails[type eq "work"].value', None, "a@b.example"),
            change('emails[type eq "work"].primary', None, True),
        ],
        dialect=dialect,
    )
    assert wire(ops) == body


def test_mixed_changes_sorted_and_cased() -> None:
    """Removes first, then by path, every op renamed for the dialect, the same paths in both.

    Removes first: a target that holds one email only (AWS) refuses the new one while the old is held.
    """
    changes = [
        change("title", "a", "b"),
        change("active", True, False),
        change("nickName", "x", None),
        change('addresses[type eq "work"].country', None, "DE"),
    ]
    rfc = build_patch_operations(changes, dialect="rfc")
    entra = build_patch_operations(changes, dialect="entra")
    assert [(o["op"], o["path"]) for o in rfc] == [
        ("remove", "nickName"),
        ("replace", "active"),
        ("add", "addresses"),
        ("replace", "title"),
    ]
    assert [(o["op"], o["path"]) for o in entra] == [
        ("Remove", "nickName"),
        ("Replace", "active"),
        ("Add", "addresses"),
        ("Replace", "title"),
    ]


def test_default_dialect_is_rfc() -> None:
    """Without a dialect, operations are the RFC's lowercase ones with JSON booleans."""
    assert build_patch_operations([change("active", True, False)]) == [
        {"op": "replace", "path": "active", "value": False}
    ]
    assert member_operations(["a"], ["b"]) == member_operations(["a"], ["b"], dialect="rfc")


def test_rfc_members() -> None:
    """rfc: one add with every new member, one remove per member through a value filter, no value."""
    ops = member_operations(["u1", "u2"], ["u3", "u4"], dialect="rfc")
    assert wire(ops, ObjectKind.GROUP) == HEAD + (
        '[{"op":"add","path":"members","value":[{"value":"u1"},{"value":"u2"}]},'
        '{"op":"remove","path":"members[value eq \\"u3\\"]"},'
        '{"op":"remove","path":"members[value eq \\"u4\\"]"}]}'
    )


def test_rfc_member_removal_escapes_the_id() -> None:
    """An id with a quote or backslash is a JSON string literal inside the filter."""
    ops = member_operations([], ['we"ird\\id'], dialect="rfc")
    assert ops == [{"op": "remove", "path": 'members[value eq "we\\"ird\\\\id"]'}]


def test_entra_members() -> None:
    """entra: Add and Remove with the members as a value list, one op each."""
    ops = member_operations(["u1", "u2"], ["u3", 'we"ird'], dialect="entra")
    assert wire(ops, ObjectKind.GROUP) == HEAD + (
        '[{"op":"Add","path":"members","value":[{"value":"u1"},{"value":"u2"}]},'
        '{"op":"Remove","path":"members","value":[{"value":"u3"},{"value":"we\\"ird"}]}]}'
    )


@pytest.mark.parametrize("dialect", ["rfc", "entra"])
def test_members_nothing_to_do(dialect: str) -> None:
    """No adds and no removes is no operation at all; adds only or removes only is one kind."""
    assert member_operations([], [], dialect=dialect) == []
    assert [o["op"].lower() for o in member_operations(["a"], [], dialect=dialect)] == ["add"]
    assert [o["op"].lower() for o in member_operations([], ["a"], dialect=dialect)] == ["remove"]


@pytest.mark.parametrize("dialect", ["RFC", "Entra", "azure", ""])
def test_unknown_dialect_raises(dialect: str) -> None:
    """An unknown dialect is a ValueError for attribute and member operations alike."""
    with pytest.raises(ValueError, match="unknown PATCH dialect"):
        build_patch_operations([change("title", "a", "b")], dialect=dialect)
    with pytest.raises(ValueError, match="unknown PATCH dialect"):
        member_operations(["a"], [], dialect=dialect)
