"""SelectUniqueValue in the pure core: parsed, checked where it may go, evaluated to its candidates.

Which candidate is free is the target's to say (tests/e2e/test_select_unique_value.py); the
core's part is the ordered list, carried by the plan and shown by it.
"""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

import pytest

from syncer.core.changes import CreateObject
from syncer.core.expressions import compile_expression
from syncer.core.mapping import compile_mapping, map_object
from syncer.core.rendering import change_line, render_json
from syncer.errors import ConfigError, ExpressionError
from syncer.settings import MappingFileSettings
from syncer.types import Candidates, Link, ObjectKind, SourceObject
from tests.builders import link, plan

RULES = (
    'SelectUniqueValue(ToLower(Join("", Left([givenName], 1), [surname])), '
    'ToLower(Join(".", Left([givenName], 1), [surname])), '
    'ToLower(Join("", Left([givenName], 1), [surname], "1")))'
)
EXTERNAL_ID = {"target": "externalId", "source": "employeeId", "match": 1}
UNIQUE_USER_NAME = {"target": "userName", "expression": RULES, "apply": "on_create"}
JOHN = {"givenName": "John", "surname": "Smith", "employeeId": "E1"}


def compiled(*entries: dict[str, Any]) -> Any:
    settings = MappingFileSettings.model_validate({"users": list(entries)})
    lines = {("users",): 2, **{("users", i): 10 + i for i in range(len(entries))}}
    return compile_mapping(settings, file="m.yaml", lines=lines)


def mapped(attributes: dict[str, Any], sid: str = "u1") -> Any:
    obj = SourceObject(ObjectKind.USER, sid, MappingProxyType(attributes))
    return map_object(compiled(EXTERNAL_ID, UNIQUE_USER_NAME).users, obj)


# --- parsing ---------------------------------------------------------------------------------


def test_evaluates_to_the_rules_values_in_order() -> None:
    """Each rule is evaluated; the value is their list, in order, for the target to choose from."""
    value = compile_expression(RULES).evaluate(JOHN)
    assert value == Candidates(("jsmith", "j.smith", "jsmith1"))
    assert str(value) == "first free of [jsmith, j.smith, jsmith1]"


def test_any_case_calls_the_function_and_the_tree_keeps_its_spelling() -> None:
    expression = compile_expression('selectuniquevalue([a], "b")')
    assert expression.selects_unique
    assert expression.evaluate({"a": "x"}) == Candidates(("x", "b"))


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"a": "x", "b": None, "c": "z"}, Candidates(("x", "z"))),  # a rule without a value offers none
        ({"a": "x", "b": "x", "c": "y"}, Candidates(("x", "y"))),  # the same value is tried once
        ({"a": "", "b": None}, None),  # no rule gives a value: no value, as any null result
    ],
)
def test_rules_without_a_value_offer_nothing(attributes: dict[str, Any], expected: object) -> None:
    assert compile_expression("SelectUniqueValue([a], [b], [c])").evaluate(attributes) == expected


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("SelectUniqueValue([a])", "SelectUniqueValue expects at least 2 arguments, got 1", 1),
        ("SelectUniqueValue()", "SelectUniqueValue expects at least 2 arguments, got 0", 1),
        (
            "ToLower(SelectUniqueValue([a], [b]))",
            "SelectUniqueValue must be the whole expression: it cannot be nested in another call",
            9,
        ),
        (
            "SelectUniqueValue([a], SelectUniqueValue([b], [c]))",
            "SelectUniqueValue must be the whole expression: it cannot be nested in another call",
            24,
        ),
        (
            'SelectUniqueValue([a], [b]) = "x"',
            "SelectUniqueValue must be the whole expression: it cannot be nested in another call",
            1,
        ),
    ],
)
def test_refused_when_compiled(text: str, message: str, column: int) -> None:
    """Fewer than two rules, or the call inside another (Entra: "can't be nested"), never loads."""
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text)
    assert str(caught.value) == f"{message} at column {column}"
    assert caught.value.column == column


def test_a_multi_valued_rule_fails_that_object() -> None:
    with pytest.raises(ValueError, match="SelectUniqueValue: expects a single value, got 2 values"):
        compile_expression("SelectUniqueValue([a], [b])").evaluate({"a": ("x", "y"), "b": "z"})


# --- where a mapping may use it ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"target": "userName", "expression": "SelectUniqueValue([a], [b])"},
            "m.yaml:11 users.userName: SelectUniqueValue([a], [b]) — SelectUniqueValue picks a value "
            "when the object is created: set apply: on_create",
        ),
        (
            {"target": "userName", "expression": "SelectUniqueValue([a], [b])", "apply": "always"},
            "m.yaml:11 users.userName: SelectUniqueValue([a], [b]) — SelectUniqueValue picks a value "
            "when the object is created: set apply: on_create",
        ),
        (
            {
                "target": "userName",
                "expression": "SelectUniqueValue([a], [b])",
                "apply": "on_create",
                "match": 2,
            },
            "m.yaml:11 users.userName: SelectUniqueValue([a], [b]) — SelectUniqueValue cannot be a "
            "matching attribute (remove match:)",
        ),
        (
            {"target": "userName", "expression": "SelectUniqueValue([a])", "apply": "on_create"},
            "m.yaml:11 users.userName: SelectUniqueValue([a]) — SelectUniqueValue expects at least 2 "
            "arguments, got 1 at column 1",
        ),
        (
            {
                "target": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                "expression": "SelectUniqueValue([a], [b])",
                "apply": "on_create",
            },
            "m.yaml:11 users.urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager: "
            "SelectUniqueValue([a], [b]) — SelectUniqueValue cannot feed a reference",
        ),
    ],
)
def test_a_mapping_is_refused_at_load_with_file_and_line(entry: dict[str, Any], message: str) -> None:
    """Only on a create-only, non-matching attribute, as Entra requires; else file:line says why."""
    with pytest.raises(ConfigError) as caught:
        compiled(EXTERNAL_ID, entry)
    assert str(caught.value) == message


def test_the_mapped_object_carries_the_candidates_and_is_named_by_its_matching_value() -> None:
    desired = mapped(JOHN)
    assert desired.attributes["userName"] == Candidates(("jsmith", "j.smith", "jsmith1"))
    assert "userName" in desired.on_create_only
    assert desired.display == "E1"  # no userName yet: the matching value names it


# --- the plan ----------------------------------------------------------------------------------


def test_a_create_carries_the_candidates_and_the_plan_shows_them() -> None:
    """A dry run cannot know which is free without asking the target: it shows the candidates."""
    desired = mapped(JOHN)
    result = plan([desired])
    (create,) = result.changes
    assert isinstance(create, CreateObject)
    assert create.attributes["userName"] == Candidates(("jsmith", "j.smith", "jsmith1"))
    assert change_line(create, result) == (
        "+ create user E1 (userName: SelectUniqueValue → first free of [jsmith, j.smith, jsmith1])"
    )
    (body,) = json.loads(render_json(result))["changes"]
    assert body["attributes"]["userName"] == {"$firstFree": ["jsmith", "j.smith", "jsmith1"]}


def test_a_linked_object_never_changes_the_chosen_value() -> None:
    """Chosen once, on create: later cycles neither compare nor send it (nor a new choice)."""
    desired = mapped(JOHN)
    chosen: Link = link(desired, userName="j.smith")
    assert plan([desired], links=[chosen]).changes == ()
