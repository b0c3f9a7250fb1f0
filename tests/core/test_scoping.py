"""Table-driven tests for scoping: Entra's filter operators, filter groups, assignment and a job's scope."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest

from syncer.core.scoping import (
    OPERATORS,
    AssignedScope,
    Assignment,
    Clause,
    JobScope,
    ScopingFilter,
    compile_clause,
    compile_filter,
    resolve_assignment,
)
from syncer.errors import ConfigError
from syncer.types import ObjectKind, SourceObject

U = ObjectKind.USER
G = ObjectKind.GROUP
NOT_ASSIGNED = "not assigned (not a member of an assigned group)"


def clause(operator: str, value: Any = None, attribute: str = "a") -> Clause:
    """A compiled clause ``attribute operator value`` (no value for the unary operators)."""
    raw: dict[str, Any] = {"attribute": attribute, "operator": operator}
    if value is not None:
        raw["value"] = value
    return compile_clause(raw, "scope.yaml:1")


def where(group: int, index: int) -> str:
    """A fake ``file:line`` for clause ``index`` of filter group ``group`` (both 0-based)."""
    return f"scope.yaml:{(group + 1) * 10 + index}"


def scoping(*groups: list[dict[str, Any]], label: str = "users scoping filter") -> ScopingFilter:
    return compile_filter(list(groups), label=label, where=where)


def eq(attribute: str, value: Any) -> dict[str, Any]:
    return {"attribute": attribute, "operator": "EQUALS", "value": value}


def source_user(sid: str, **attributes: Any) -> SourceObject:
    return SourceObject(U, sid, MappingProxyType(attributes))


def source_group(sid: str, display: str | None, *members: str) -> SourceObject:
    attributes = {"displayName": display} if display is not None else {}
    return SourceObject(G, sid, MappingProxyType(attributes), members)


# --- one clause, every operator -----------------------------------------------------------------

MULTI = ("sales", "eng")

OPERATOR_TABLE = [
    # EQUALS: exact and case-sensitive, compared as text
    ("EQUALS", "sales", "sales", True, "equal"),
    ("EQUALS", "sales", "Sales", False, "case-differs"),
    ("EQUALS", "sales", "sales ", False, "trailing-space"),
    ("EQUALS", "sales", None, False, "null"),
    ("EQUALS", "", "", False, "empty-equals-empty-is-false"),
    ("EQUALS", "42", 42, True, "integer-attribute-as-text"),
    ("EQUALS", "True", True, True, "bool-attribute-as-True"),
    ("EQUALS", "true", True, False, "bool-attribute-case-sensitive"),
    ("EQUALS", True, "True", True, "bool-clause-value"),
    ("EQUALS", "sales", ("sales",), True, "multi-valued-one-value"),
    ("EQUALS", "sales", MULTI, True, "multi-valued-any-value"),
    ("EQUALS", "hr", MULTI, False, "multi-valued-no-value"),
    ("EQUALS", "sales", ("", None), False, "multi-valued-only-empty-values"),
    # NOT EQUALS: the negation, but false on null and empty
    ("NOT EQUALS", "sales", "eng", True, "differs"),
    ("NOT EQUALS", "sales", "sales", False, "equal"),
    ("NOT EQUALS", "sales", "Sales", True, "case-differs"),
    ("NOT EQUALS", "sales", None, False, "null"),
    ("NOT EQUALS", "sales", "", False, "empty"),
    ("NOT EQUALS", "sales", MULTI, False, "multi-valued-one-value-equals"),
    ("NOT EQUALS", "hr", MULTI, True, "multi-valued-no-value-equals"),
    ("NOT EQUALS", "hr", (), False, "multi-valued-empty"),
    # IS TRUE / IS FALSE: booleans, or their text in any case
    ("IS TRUE", None, True, True, "true"),
    ("IS TRUE", None, False, False, "false"),
    ("IS TRUE", None, "True", True, "text-True"),
    ("IS TRUE", None, "true", True, "text-true"),
    ("IS TRUE", None, " TRUE ", True, "text-padded"),
    ("IS TRUE", None, "false", False, "text-false"),
    ("IS TRUE", None, "yes", False, "text-not-a-boolean"),
    ("IS TRUE", None, 1, False, "integer-one"),
    ("IS TRUE", None, None, False, "null"),
    ("IS TRUE", None, "", False, "empty"),
    ("IS TRUE", None, (True,), True, "multi-valued"),
    ("IS TRUE", None, (False, False), False, "multi-valued-all-false"),
    ("IS FALSE", None, False, True, "false"),
    ("IS FALSE", None, True, False, "true"),
    ("IS FALSE", None, "false", True, "text-false"),
    ("IS FALSE", None, "False", True, "text-False"),
    ("IS FALSE", None, "True", False, "text-True"),
    ("IS FALSE", None, 0, False, "integer-zero"),
    ("IS FALSE", None, None, False, "null"),
    ("IS FALSE", None, "", False, "empty"),
    ("IS FALSE", None, (False,), True, "multi-valued"),
    # IS NULL / IS NOT NULL: null, empty string and empty multi-value are null
    ("IS NULL", None, None, True, "null"),
    ("IS NULL", None, "", True, "empty"),
    ("IS NULL", None, (), True, "empty-multi-valued"),
    ("IS NULL", None, "x", False, "value"),
    ("IS NULL", None, " ", False, "space-is-a-value"),
    ("IS NULL", None, False, False, "false-is-a-value"),
    ("IS NULL", None, 0, False, "zero-is-a-value"),
    ("IS NULL", None, MULTI, False, "multi-valued"),
    ("IS NOT NULL", None, None, False, "null"),
    ("IS NOT NULL", None, "", False, "empty"),
    ("IS NOT NULL", None, (), False, "empty-multi-valued"),
    ("IS NOT NULL", None, "x", True, "value"),
    ("IS NOT NULL", None, False, True, "false-is-a-value"),
    ("IS NOT NULL", None, 0, True, "zero-is-a-value"),
    ("IS NOT NULL", None, MULTI, True, "multi-valued"),
    # REGEX MATCH: a search, anchored only by the pattern; case-sensitive
    ("REGEX MATCH", "^E1", "E123", True, "anchored-at-start"),
    ("REGEX MATCH", "^E1", "XE1", False, "anchored-not-at-start"),
    ("REGEX MATCH", "E1", "XE1", True, "search-not-fullmatch"),
    ("REGEX MATCH", "E1$", "XE1", True, "anchored-at-end"),
    ("REGEX MATCH", "E1", "e1", False, "case-sensitive"),
    ("REGEX MATCH", "(1[0-9]{6})", "W1234567", True, "entra-workerID-example"),
    ("REGEX MATCH", r".*\@contoso.com", "ann@contoso.com", True, "entra-upn-example"),
    ("REGEX MATCH", "^12", 1234, True, "integer-attribute"),
    ("REGEX MATCH", ".*", None, False, "null"),
    ("REGEX MATCH", ".*", "", False, "empty"),
    ("REGEX MATCH", "^sal", MULTI, True, "multi-valued-any-value"),
    ("REGEX MATCH", "^hr", MULTI, False, "multi-valued-no-value"),
    ("NOT REGEX MATCH", "^E1", "XE1", True, "anchored-not-at-start"),
    ("NOT REGEX MATCH", "^E1", "E12", False, "anchored-at-start"),
    ("NOT REGEX MATCH", "E1", "XE1", False, "search-not-fullmatch"),
    ("NOT REGEX MATCH", "E1", "e1", True, "case-sensitive"),
    ("NOT REGEX MATCH", "x", None, False, "null"),
    ("NOT REGEX MATCH", "x", "", False, "empty"),
    ("NOT REGEX MATCH", "x", MULTI, True, "multi-valued-no-value-matches"),
    ("NOT REGEX MATCH", "^eng$", MULTI, False, "multi-valued-one-value-matches"),
    # the integer comparisons: both sides integers, text with spaces allowed
    ("Greater_Than", 10, "11", True, "greater"),
    ("Greater_Than", 10, "10", False, "equal"),
    ("Greater_Than", 10, " 42", True, "padded-text"),
    ("Greater_Than", 10, 42, True, "integer"),
    ("Greater_Than", 10, -1, False, "negative"),
    ("Greater_Than", " 42", 43, True, "padded-clause-value"),
    ("Greater_Than", " 42", "42", False, "padded-clause-value-equal"),
    ("Greater_Than", 10, "10.5", False, "decimal-text"),
    ("Greater_Than", 10, 10.5, False, "float"),
    ("Greater_Than", 10, "eleven", False, "not-a-number"),
    ("Greater_Than", 0, True, False, "bool-is-not-an-integer"),
    ("Greater_Than", 10, None, False, "null"),
    ("Greater_Than", 10, "", False, "empty"),
    ("Greater_Than", 10, (11,), True, "multi-valued"),
    ("Greater_Than", 10, (5, 9), False, "multi-valued-none-greater"),
    ("Greater_Than_OR_EQUALS", 10, "10", True, "equal"),
    ("Greater_Than_OR_EQUALS", 10, 11, True, "greater"),
    ("Greater_Than_OR_EQUALS", 10, "9", False, "less"),
    ("Greater_Than_OR_EQUALS", 10, " 10 ", True, "padded-text"),
    ("Greater_Than_OR_EQUALS", "10", 10, True, "text-clause-value"),
    ("Greater_Than_OR_EQUALS", 10, "ten", False, "not-a-number"),
    ("Greater_Than_OR_EQUALS", 10, 10.0, False, "float"),
    ("Greater_Than_OR_EQUALS", 10, None, False, "null"),
    ("Greater_Than_OR_EQUALS", 10, (10,), True, "multi-valued"),
    ("Less_Than", 10, "9", True, "less"),
    ("Less_Than", 10, "10", False, "equal"),
    ("Less_Than", 10, "-3", True, "negative-text"),
    ("Less_Than", 10, " 7", True, "padded-text"),
    ("Less_Than", 10, "1e1", False, "not-an-integer"),
    ("Less_Than", 10, None, False, "null"),
    ("Less_Than", 10, "", False, "empty"),
    ("Less_Than", 10, (5,), True, "multi-valued"),
    ("Less_Than_OR_EQUALS", 10, "10", True, "equal"),
    ("Less_Than_OR_EQUALS", 10, "11", False, "greater"),
    ("Less_Than_OR_EQUALS", 10, " 7", True, "padded-text"),
    ("Less_Than_OR_EQUALS", 10, False, False, "bool-is-not-an-integer"),
    ("Less_Than_OR_EQUALS", 10, "x", False, "not-a-number"),
    ("Less_Than_OR_EQUALS", 10, None, False, "null"),
    ("Less_Than_OR_EQUALS", 10, "", False, "empty"),
    ("Less_Than_OR_EQUALS", 10, (5,), True, "multi-valued"),
    # Includes: the attribute contains the given string, case-sensitive
    ("Includes", "ale", "sales", True, "substring"),
    ("Includes", "ale", "SALES", False, "case-differs"),
    ("Includes", "sales", "ale", False, "only-the-other-way-round"),
    ("Includes", 2, 123, True, "integers-as-text"),
    ("Includes", "ale", None, False, "null"),
    ("Includes", "ale", "", False, "empty"),
    ("Includes", "ale", MULTI, True, "multi-valued"),
    ("Includes", "xyz", MULTI, False, "multi-valued-no-value"),
    # ENDS_WITH: case-sensitive suffix
    ("ENDS_WITH", "@contoso.com", "ann@contoso.com", True, "suffix"),
    ("ENDS_WITH", "@contoso.com", "ann@Contoso.com", False, "case-differs"),
    ("ENDS_WITH", "@contoso.com", "ann@contoso.com.evil", False, "not-at-the-end"),
    ("ENDS_WITH", "@contoso.com", None, False, "null"),
    ("ENDS_WITH", "@contoso.com", "", False, "empty"),
    ("ENDS_WITH", "@contoso.com", ("ann@contoso.com",), True, "multi-valued"),
    # &: the attribute's value occurs in the given string; !& the opposite
    ("&", "sales,marketing", "sales", True, "value-in-string"),
    ("&", "sales,marketing", "market", True, "part-of-string"),
    ("&", "sales,marketing", "Sales", False, "case-differs"),
    ("&", "sales", "sales,marketing", False, "not-the-other-way-round"),
    ("&", "sales,marketing", "eng", False, "absent"),
    ("&", "sales,marketing", None, False, "null"),
    ("&", "sales,marketing", "", False, "empty-occurs-everywhere-but-is-false"),
    ("&", "sales,marketing", ("sales",), True, "multi-valued"),
    ("&", "sales,marketing", ("eng",), False, "multi-valued-no-value"),
    ("!&", "sales,marketing", "eng", True, "absent"),
    ("!&", "sales,marketing", "sales", False, "value-in-string"),
    ("!&", "sales,marketing", "Sales", True, "case-differs"),
    ("!&", "sales", "sales,marketing", True, "not-the-other-way-round"),
    ("!&", "sales,marketing", None, False, "null"),
    ("!&", "sales,marketing", "", False, "empty"),
    ("!&", "sales,marketing", ("eng",), True, "multi-valued-no-value-in"),
    ("!&", "sales,marketing", MULTI, False, "multi-valued-one-value-in"),
]


@pytest.mark.parametrize(
    ("operator", "value", "actual", "expected"),
    [pytest.param(op, v, a, e, id=f"{op}-{i}") for op, v, a, e, i in OPERATOR_TABLE],
)
def test_operator(operator: str, value: Any, actual: Any, expected: bool) -> None:
    """Each operator is case-sensitive, false on null or empty (but IS NULL); multi-values: any/none."""
    assert clause(operator, value).test(actual) is expected


def test_the_table_covers_every_operator() -> None:
    """The operator table exercises every operator syncer accepts, each on null and on a multi-value."""
    assert {row[0] for row in OPERATOR_TABLE} == set(OPERATORS)
    for operator in OPERATORS:
        actuals = [row[2] for row in OPERATOR_TABLE if row[0] == operator]
        assert None in actuals
        assert any(isinstance(a, tuple) and a for a in actuals)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ({"attribute": "department", "operator": "EQUALS", "value": "sales"}, "department EQUALS 'sales'"),
        ({"attribute": "age", "operator": "Greater_Than", "value": " 42"}, "age Greater_Than ' 42'"),
        ({"attribute": "accountEnabled", "operator": "IS TRUE"}, "accountEnabled IS TRUE"),
    ],
)
def test_clause_str(raw: dict[str, Any], text: str) -> None:
    """A clause prints as ``attribute OPERATOR value``, with no value for a unary operator."""
    assert str(compile_clause(raw, "scope.yaml:1")) == text


# --- filter groups --------------------------------------------------------------------------------

SALES_NL_OR_CEO = (
    [eq("department", "sales"), eq("country", "NL")],
    [eq("title", "CEO")],
)


@pytest.mark.parametrize(
    ("attributes", "passes"),
    [
        pytest.param({"department": "sales", "country": "NL"}, True, id="first-group-all-true"),
        pytest.param({"department": "sales", "country": "DE"}, False, id="first-group-one-false"),
        pytest.param({"country": "NL"}, False, id="first-group-one-null"),
        pytest.param({"title": "CEO"}, True, id="second-group-true"),
        pytest.param({"department": "sales", "country": "NL", "title": "CEO"}, True, id="both-groups-true"),
        pytest.param({"title": "ceo"}, False, id="second-group-case-differs"),
        pytest.param({}, False, id="no-attributes"),
    ],
)
def test_and_within_a_group_or_across_groups(attributes: dict[str, Any], passes: bool) -> None:
    """A filter passes when every clause of at least one group is true."""
    scoping_filter = scoping(*SALES_NL_OR_CEO)
    assert scoping_filter.evaluate(attributes)[0] is passes
    assert (scoping_filter.failure(attributes) is None) is passes


@pytest.mark.parametrize("attributes", [{}, {"department": None}, {"department": "anything"}])
def test_an_empty_filter_passes_everyone(attributes: dict[str, Any]) -> None:
    """A filter with no groups passes every object, with an empty trace and no failure."""
    empty = scoping()
    assert empty == ScopingFilter(groups=(), label="users scoping filter")
    assert empty.evaluate(attributes) == (True, [])
    assert empty.failure(attributes) is None


@pytest.mark.parametrize(
    ("attributes", "failure"),
    [
        pytest.param(
            {"department": "sales", "country": "DE", "title": "CTO"},
            "users scoping filter: group 1: country EQUALS 'NL' (value 'DE'): false; "
            "group 2: title EQUALS 'CEO' (value 'CTO'): false",
            id="second-clause-fails",
        ),
        pytest.param(
            {"department": "Sales", "country": "DE"},
            "users scoping filter: group 1: department EQUALS 'sales' (value 'Sales'): false; "
            "group 2: title EQUALS 'CEO' (value None): false",
            id="first-failing-clause-only",
        ),
        pytest.param({"title": "CEO"}, None, id="passes"),
    ],
)
def test_failure_names_the_first_failing_clause_of_each_group(
    attributes: dict[str, Any], failure: str | None
) -> None:
    """failure() names the label and, per group, the first false clause with the value it saw."""
    assert scoping(*SALES_NL_OR_CEO).failure(attributes) == failure


def test_evaluate_traces_every_clause() -> None:
    """evaluate() returns every clause's result, group by group, for ``plan --why``."""
    passed, trace = scoping(*SALES_NL_OR_CEO).evaluate({"department": "sales", "country": "DE"})
    assert passed is False
    assert [[str(r) for r in group] for group in trace] == [
        ["department EQUALS 'sales' (value 'sales'): true", "country EQUALS 'NL' (value 'DE'): false"],
        ["title EQUALS 'CEO' (value None): false"],
    ]


# --- compile errors -------------------------------------------------------------------------------

COMPILE_ERRORS = [
    pytest.param(
        [[{"operator": "EQUALS", "value": "x"}]],
        "scope.yaml:10",
        "a scoping clause needs an attribute",
        id="no-attribute",
    ),
    pytest.param(
        [[eq("a", "x")], [eq("a", "x"), {"attribute": "department", "operator": "CONTAINS", "value": "x"}]],
        "scope.yaml:21",
        "unknown scoping operator 'CONTAINS' on department (known: !&, &, ENDS_WITH, EQUALS, "
        "Greater_Than, Greater_Than_OR_EQUALS, IS FALSE, IS NOT NULL, IS NULL, IS TRUE, Includes, "
        "Less_Than, Less_Than_OR_EQUALS, NOT EQUALS, NOT REGEX MATCH, REGEX MATCH)",
        id="unknown-operator",
    ),
    pytest.param(
        [[{"attribute": "department", "operator": "equals", "value": "x"}]],
        "scope.yaml:10",
        "unknown scoping operator 'equals' on department",
        id="operator-names-are-case-sensitive",
    ),
    pytest.param(
        [[{"attribute": "accountEnabled", "operator": "IS TRUE", "value": "True"}]],
        "scope.yaml:10",
        "accountEnabled IS TRUE takes no value",
        id="unary-with-value",
    ),
    pytest.param(
        [[eq("a", "x"), {"attribute": "department", "operator": "EQUALS"}]],
        "scope.yaml:11",
        "department EQUALS needs a single value",
        id="binary-without-value",
    ),
    pytest.param(
        [[{"attribute": "department", "operator": "Includes", "value": ["a", "b"]}]],
        "scope.yaml:10",
        "department Includes needs a single value",
        id="binary-with-a-list",
    ),
    pytest.param(
        [[{"attribute": "age", "operator": "Greater_Than", "value": "ten"}]],
        "scope.yaml:10",
        "age Greater_Than compares integers; 'ten' is not one",
        id="comparison-not-an-integer",
    ),
    pytest.param(
        [[{"attribute": "age", "operator": "Less_Than_OR_EQUALS", "value": "4.5"}]],
        "scope.yaml:10",
        "age Less_Than_OR_EQUALS compares integers; '4.5' is not one",
        id="comparison-decimal",
    ),
    pytest.param(
        [[{"attribute": "age", "operator": "Less_Than", "value": True}]],
        "scope.yaml:10",
        "age Less_Than compares integers; True is not one",
        id="comparison-bool",
    ),
    pytest.param(
        [[{"attribute": "employeeId", "operator": "REGEX MATCH", "value": "ab(c"}]],
        "scope.yaml:10",
        "employeeId REGEX MATCH: invalid regular expression at column 3: missing ), unterminated subpattern",
        id="bad-regex-column",
    ),
    pytest.param(
        [[eq("a", "x")], [{"attribute": "employeeId", "operator": "NOT REGEX MATCH", "value": "*E"}]],
        "scope.yaml:20",
        "employeeId NOT REGEX MATCH: invalid regular expression at column 1: nothing to repeat",
        id="bad-negated-regex-column",
    ),
    pytest.param(
        [[eq("a", "x")], []],
        "scope.yaml:20",
        "users scoping filter: filter group 2 is empty",
        id="empty-group",
    ),
]


@pytest.mark.parametrize(("groups", "location", "message"), COMPILE_ERRORS)
def test_compile_errors_name_the_location(groups: list[Any], location: str, message: str) -> None:
    """A bad clause refuses the filter with the location where() gives for that clause, and what is wrong."""
    with pytest.raises(ConfigError) as caught:
        compile_filter(groups, label="users scoping filter", where=where)
    assert caught.value.location == location
    assert caught.value.message.startswith(message)
    assert str(caught.value) == f"{location}: {caught.value.message}"


# --- assignment -----------------------------------------------------------------------------------

SALES = source_group("g-sales", "Sales", "u1", "u2", "g-eng")
ENG = source_group("g-eng", "Engineering", "u3", "g-sales")  # nested both ways: a cycle
OPS = source_group("g-ops", "Ops", "u2", "u4")
NAMELESS = source_group("g-x", None, "u5")
GROUPS = (SALES, ENG, OPS, NAMELESS)


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        pytest.param(Assignment(), AssignedScope(None, None, {}), id="everyone"),
        pytest.param(
            Assignment(("g-sales",)),
            AssignedScope(frozenset({"u1", "u2"}), frozenset({"g-sales"}), {"u1": "Sales", "u2": "Sales"}),
            id="by-id-direct-only",
        ),
        pytest.param(
            Assignment(("Sales",)),
            AssignedScope(frozenset({"u1", "u2"}), frozenset({"g-sales"}), {"u1": "Sales", "u2": "Sales"}),
            id="by-display-name",
        ),
        pytest.param(
            Assignment(("Sales",), nested=True),
            AssignedScope(
                frozenset({"u1", "u2", "u3"}),
                frozenset({"g-sales"}),
                {"u1": "Sales", "u2": "Sales", "u3": "Sales"},
            ),
            id="nested-cycle-safe",
        ),
        pytest.param(
            Assignment(("g-eng",), nested=True),
            AssignedScope(
                frozenset({"u1", "u2", "u3"}),
                frozenset({"g-eng"}),
                {"u1": "Engineering", "u2": "Engineering", "u3": "Engineering"},
            ),
            id="nested-cycle-from-the-other-side",
        ),
        pytest.param(
            Assignment(("Ops", "Sales")),
            AssignedScope(
                frozenset({"u1", "u2", "u4"}),
                frozenset({"g-ops", "g-sales"}),
                {"u2": "Ops", "u4": "Ops", "u1": "Sales"},
            ),
            id="via-the-first-assigned-group",
        ),
        pytest.param(
            Assignment(("g-x",)),
            AssignedScope(frozenset({"u5"}), frozenset({"g-x"}), {"u5": "g-x"}),
            id="via-the-id-when-no-name",
        ),
    ],
)
def test_resolve_assignment(assignment: Assignment, expected: AssignedScope) -> None:
    """Assigned groups are named by id or displayName; members are direct unless nested, cycles are safe."""
    assert resolve_assignment(assignment, GROUPS) == expected


def test_two_groups_with_the_same_name_are_both_assigned() -> None:
    """An assigned displayName shared by two groups assigns both of them."""
    twins = (source_group("g1", "Team", "u1"), source_group("g2", "Team", "u2"))
    assert resolve_assignment(Assignment(("Team",)), twins) == AssignedScope(
        frozenset({"u1", "u2"}), frozenset({"g1", "g2"}), {"u1": "Team", "u2": "Team"}
    )


@pytest.mark.parametrize("name", ["Nope", "sales", "G-SALES"])
def test_an_unknown_assigned_group_is_an_error(name: str) -> None:
    """An assigned group matching no id or displayName (case-sensitive) raises instead of selecting nobody."""
    with pytest.raises(ValueError, match=f"assigned group '{name}' is not in the source"):
        resolve_assignment(Assignment(("Sales", name)), GROUPS)


# --- a job's scope --------------------------------------------------------------------------------

CONFIG_FILTER = scoping([eq("country", "NL")], label="config scoping filter")
MAPPING_FILTER = scoping([eq("department", "sales")], label="mapping scoping filter")
GROUP_FILTER = scoping(
    [{"attribute": "displayName", "operator": "ENDS_WITH", "value": "-app"}], label="groups"
)
ASSIGNED = resolve_assignment(Assignment(("Sales",)), GROUPS)
EVERYONE = resolve_assignment(Assignment(), GROUPS)
BOTH = JobScope(users=(CONFIG_FILTER, MAPPING_FILTER), groups=(GROUP_FILTER,))


def attributes_of(obj: SourceObject) -> Mapping[str, Any]:
    return obj.attributes


OUT_OF_SCOPE_TABLE = [
    pytest.param(JobScope(), source_user("u9"), EVERYONE, None, id="everyone-no-filters"),
    pytest.param(JobScope(), source_user("u1"), ASSIGNED, None, id="assigned"),
    pytest.param(JobScope(), source_user("u9"), ASSIGNED, NOT_ASSIGNED, id="user-not-assigned"),
    pytest.param(JobScope(), source_user("u3"), ASSIGNED, NOT_ASSIGNED, id="nested-member-not-assigned"),
    pytest.param(JobScope(), SALES, ASSIGNED, None, id="assigned-group"),
    pytest.param(JobScope(), OPS, ASSIGNED, "not an assigned group", id="group-not-assigned"),
    pytest.param(
        BOTH,
        source_user("u9", country="NL", department="sales"),
        ASSIGNED,
        NOT_ASSIGNED,
        id="assignment-before-filters",
    ),
    pytest.param(BOTH, source_user("u1", country="NL", department="sales"), ASSIGNED, None, id="both-pass"),
    pytest.param(
        BOTH,
        source_user("u1", country="NL", department="eng"),
        ASSIGNED,
        "mapping scoping filter: group 1: department EQUALS 'sales' (value 'eng'): false",
        id="mapping-filter-fails",
    ),
    pytest.param(
        BOTH,
        source_user("u1", country="DE", department="sales"),
        ASSIGNED,
        "config scoping filter: group 1: country EQUALS 'NL' (value 'DE'): false",
        id="config-filter-fails",
    ),
    pytest.param(
        BOTH,
        source_user("u1", department="eng"),
        ASSIGNED,
        "config scoping filter: group 1: country EQUALS 'NL' (value None): false",
        id="both-fail-config-first",
    ),
    pytest.param(
        BOTH,
        source_group("g-app", "x-app"),
        EVERYONE,
        None,
        id="group-filters-only-for-groups",
    ),
    pytest.param(
        BOTH,
        source_group("g-other", "other"),
        EVERYONE,
        "groups: group 1: displayName ENDS_WITH '-app' (value 'other'): false",
        id="group-filter-fails",
    ),
]


@pytest.mark.parametrize(("scope", "obj", "assigned", "reason"), OUT_OF_SCOPE_TABLE)
def test_out_of_scope(
    scope: JobScope, obj: SourceObject, assigned: AssignedScope, reason: str | None
) -> None:
    """An object is in scope when assigned and every filter of its kind (config AND mapping) passes."""
    assert scope.out_of_scope(obj, attributes_of(obj), assigned) == reason


@pytest.mark.parametrize(
    ("scope", "obj", "assigned", "lines"),
    [
        pytest.param(
            JobScope(),
            source_user("u9"),
            EVERYONE,
            [
                "assignment: every user and group is assigned (assigned_groups is empty)",
                "scoping filters: none (every object passes)",
                "result: IN SCOPE",
            ],
            id="everyone",
        ),
        pytest.param(
            JobScope(),
            source_user("u9"),
            ASSIGNED,
            [
                "assignment: NOT assigned: out of scope",
                "scoping filters: none (every object passes)",
                f"result: OUT OF SCOPE ({NOT_ASSIGNED})",
            ],
            id="not-assigned",
        ),
        pytest.param(
            JobScope(),
            SALES,
            ASSIGNED,
            [
                "assignment: assigned",
                "scoping filters: none (every object passes)",
                "result: IN SCOPE",
            ],
            id="assigned-group-has-no-via",
        ),
        pytest.param(
            BOTH,
            source_user("u1", country="NL", department="eng"),
            ASSIGNED,
            [
                "assignment: assigned via group Sales",
                "config scoping filter: passes",
                "  group 1 (all must be true): true",
                "    country EQUALS 'NL' (value 'NL'): true",
                "mapping scoping filter: FAILS",
                "  group 1 (all must be true): false",
                "    department EQUALS 'sales' (value 'eng'): false",
                "result: OUT OF SCOPE (mapping scoping filter: group 1: department EQUALS 'sales' "
                "(value 'eng'): false)",
            ],
            id="mapping-filter-fails",
        ),
        pytest.param(
            JobScope(users=(scoping(*SALES_NL_OR_CEO),)),
            source_user("u1", title="CEO", country="DE"),
            ASSIGNED,
            [
                "assignment: assigned via group Sales",
                "users scoping filter: passes",
                "  group 1 (all must be true): false",
                "    department EQUALS 'sales' (value None): false",
                "    country EQUALS 'NL' (value 'DE'): false",
                "  group 2 (all must be true): true",
                "    title EQUALS 'CEO' (value 'CEO'): true",
                "result: IN SCOPE",
            ],
            id="or-across-groups",
        ),
    ],
)
def test_explain(scope: JobScope, obj: SourceObject, assigned: AssignedScope, lines: list[str]) -> None:
    """explain() gives assignment, every filter's clauses with their values, and ends with the verdict."""
    assert scope.explain(obj, attributes_of(obj), assigned) == lines


def test_a_multi_valued_ldap_attribute_scopes_by_any_value() -> None:
    """inetOrgPerson's departmentNumber is multi-valued: the obvious department clause must still select.

    A positive clause passes when any value does; a negated one only when no value matches, so
    "NOT EQUALS Sales" keeps out a person who is in Sales and Engineering.
    """
    sales = scoping([{"attribute": "departmentNumber", "operator": "EQUALS", "value": "Sales"}])
    not_sales = scoping([{"attribute": "departmentNumber", "operator": "NOT EQUALS", "value": "Sales"}])
    member = scoping(
        [{"attribute": "memberOf", "operator": "REGEX MATCH", "value": "^cn=staff,"}],
    )
    both = {"departmentNumber": ("Engineering", "Sales"), "memberOf": ("cn=staff,ou=groups,dc=x",)}
    engineering = {"departmentNumber": ("Engineering",), "memberOf": ("cn=admins,ou=groups,dc=x",)}
    assert sales.failure(both) is None
    assert sales.failure(engineering) is not None
    assert not_sales.failure(both) is not None
    assert not_sales.failure(engineering) is None
    assert member.failure(both) is None
    assert member.failure(engineering) is not None
