"""Tests for the function families beyond Microsoft's examples: app roles, nulls, the regex guard."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from syncer.core.expressions import NO_FLOW, EvaluationContext, EvaluationError, compile_expression
from syncer.core.functions import FUNCTIONS
from syncer.core.functions.regex import pattern_problem
from syncer.errors import ExpressionError
from syncer.types import Candidates

CTX = EvaluationContext(default_domain="contoso.com")
ADMIN = {"id": "a1", "value": "admin", "displayName": "Administrator"}
READER = {"id": "a2", "value": "reader", "displayName": "Reader"}


def run(text: str, attributes: dict[str, object] | None = None) -> object:
    return compile_expression(text).evaluate(attributes or {}, CTX)


def role(value: str, display: str) -> MappingProxyType[str, object]:
    return MappingProxyType(
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": display, "value": value}
    )


@pytest.mark.parametrize(
    ("text", "assignments", "expected"),
    [
        ("SingleAppRoleAssignment([appRoleAssignments])", [ADMIN], "Administrator"),
        ("SingleAppRoleAssignment([appRoleAssignments])", [ADMIN, READER], "Administrator"),
        ("SingleAppRoleAssignment([appRoleAssignments])", ["admin"], "admin"),
        ("SingleAppRoleAssignment([appRoleAssignments])", [{"value": "admin"}], "admin"),
        ("SingleAppRoleAssignment([appRoleAssignments])", [], None),
        ("SingleAppRoleAssignment([appRoleAssignments])", None, None),
        ("AppRoleAssignmentsComplex([appRoleAssignments])", [ADMIN], (role("admin", "Administrator"),)),
        (
            "AppRoleAssignmentsComplex([appRoleAssignments])",
            [ADMIN, READER, ADMIN],
            (role("admin", "Administrator"), role("reader", "Reader")),
        ),
        ("AssertiveAppRoleAssignmentsComplex([appRoleAssignments])", ["x"], (role("x", "x"),)),
        ("AppRoleAssignmentsComplex([appRoleAssignments])", [], None),
        (
            'Switch(SingleAppRoleAssignment([appRoleAssignments]), "user", "Administrator", "owner")',
            [ADMIN],
            "owner",
        ),
        ("Count([appRoleAssignments])", [ADMIN, READER], 2),
    ],
)
def test_app_role_functions(text: str, assignments: list[object] | None, expected: object) -> None:
    """The role functions read appRoleAssignments ({id, value, displayName} or a bare value) as Entra does."""
    attributes = {} if assignments is None else {"appRoleAssignments": assignments}
    assert run(text, attributes) == expected


def test_a_role_object_is_not_text() -> None:
    """An app role object given to a string function fails that object instead of flowing its repr."""
    with pytest.raises(EvaluationError, match="expects a plain value, got an object"):
        run("ToLower(Item([appRoleAssignments], 1))", {"appRoleAssignments": [ADMIN]})


def test_a_role_without_value_or_name_fails_the_object() -> None:
    """An assignment with neither value nor displayName is bad data, reported without quoting it."""
    with pytest.raises(EvaluationError, match="needs a value or a displayName"):
        run("SingleAppRoleAssignment([r])", {"r": [{"id": "a1"}]})


# Entra's null semantics: a null (absent) attribute flows as null, except where Microsoft's page
# documents a value (Left, Word, Not, Switch, Coalesce, Count, the Is* tests, IgnoreFlow...).
NULL_SEMANTICS = [
    ('Append([x], ".test")', None),
    ('Join(" ", [x], [y])', None),
    ('Join(" ", [x], "b")', "b"),
    ("ToLower([x])", None),
    ("ToUpper([x])", None),
    ("StripSpaces([x])", None),
    ("Left([x], 2)", ""),
    ("Mid([x], 1, 2)", None),
    ("Len([x])", None),
    ('InStr([x], "a")', None),
    ('Word([x], 1, " ")', ""),
    ("PCase([x])", None),
    ("NormalizeDiacritics([x])", None),
    ("ConvertToBase64([x])", None),
    ("ConvertToUTF8Hex([x])", None),
    ('Split([x], ",")', None),
    ('Replace([x], "a", , , "b", , )', None),
    ('Replace([x], , "a", , "b", , )', None),
    ('Replace([x], "<u>", , , , , "<u>@contoso.com")', None),
    ("Not([x])", True),
    ('IIF([x], "t", "f")', "f"),
    ('IIF([x] = "a", "t", "f")', "f"),
    ('IIF([x] <> "a", "t", "f")', "f"),
    ('Switch([x], "default", "", "empty", "a", "A")', "empty"),
    ('Switch([x], "default", "a", "A")', "default"),
    ('Coalesce([x], [y], "fallback")', "fallback"),
    ("Coalesce([x], [y])", None),
    ("IgnoreFlowIfNullOrEmpty([x])", NO_FLOW),
    ("IsNull([x])", True),
    ("IsNullOrEmpty([x])", True),
    ("IsPresent([x])", False),
    ("IsString([x])", False),
    ("CStr([x])", None),
    ("CBool([x])", False),
    ("BitAnd([x], 1)", None),
    ("Redact([x])", None),
    ("Count([x])", 0),
    ("Item([x], 1)", None),
    ("RemoveDuplicates([x])", None),
    ("CDate([x])", None),
    ('DateAdd("d", 1, [x])', None),
    ('DateDiff("d", [x], "2021-01-01")', None),
    ("NumFromDate([x])", None),
    ("DateFromNum([x])", None),
    ('FormatDateTime([x], , "yyyy", "yyyy")', None),
    ("SingleAppRoleAssignment([x])", None),
    ("AppRoleAssignmentsComplex([x])", None),
    ("AssertiveAppRoleAssignmentsComplex([x])", None),
    ("SelectUniqueValue([x], [y])", None),
    ('SelectUniqueValue([x], "fallback")', Candidates(("fallback",))),
]


@pytest.mark.parametrize(("text", "expected"), NULL_SEMANTICS)
def test_null_semantics(text: str, expected: object) -> None:
    """A null attribute gives null, or the value Entra documents for that function."""
    assert run(text) == expected


def test_null_table_covers_every_function_that_takes_an_argument() -> None:
    """Every registered function that takes arguments has a row in the null-semantics table."""
    covered = {text.split("(", 1)[0] for text, _ in NULL_SEMANTICS} | {"RandomString"}  # numbers only
    assert {name for name, spec in FUNCTIONS.items() if spec.min_args > 0} - covered == set()


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(a+)+$", None),  # catastrophic for a backtracking engine, linear on RE2
        ("(\\w*)*x", None),
        ("(a{1,3})+", None),
        ("(?:x(a|ab))*c", None),
        ("(\\w|\\d)+", None),
        ("(", "invalid regexPattern"),
        ("x" * 1001, "longer than 1000 characters"),
        ("(?<Suffix>@(.)*)", None),
        ("\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", None),
        ("[()\\s-]+", None),
        ("(?>(a+))+", None),
        ("(a++)+", None),
        ("(a)\\1", None),
    ],
)
def test_regex_patterns_accepted_and_refused(pattern: str, problem: str | None) -> None:
    """Any valid pattern is accepted (no engine can stall on it); invalid and overlong ones are refused."""
    found = pattern_problem(pattern)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_regex_runs_on_long_values() -> None:
    """A long value is no longer refused: the pattern runs on it in linear time."""
    text = 'Replace([s], , "a", , "b", , )'
    assert run(text, {"s": "a" * 100_000}) == "b" * 100_000


def test_invalid_pattern_from_an_attribute_fails_only_that_object() -> None:
    """A pattern that comes from the data is compiled on use and, when invalid, fails only that object."""
    with pytest.raises(EvaluationError, match="invalid regexPattern"):
        run('Replace([s], , [p], , "", , )', {"s": "aaaa", "p": "(a+"})


def test_literal_pattern_is_checked_at_compile_time() -> None:
    """A literal regexPattern is checked when the expression compiles, and the error points at it."""
    with pytest.raises(ExpressionError) as caught:
        compile_expression('Replace([s], , "[a-", , "", , )')
    assert caught.value.column == 16
    assert "invalid regexPattern" in caught.value.message
