"""Who is in scope: assignment to groups, and Entra's attribute-based scoping filters.

A scoping filter is a list of filter groups; the clauses of a group are ANDed, the groups are
ORed, and no filter means everyone. Operators keep Entra's semantics: case-sensitive, a clause
on a null or empty value is false (``NOT EQUALS`` and ``NOT REGEX MATCH`` included; only
``IS NULL`` is true there), integers for the comparisons. A multi-valued attribute (LDAP's
``departmentNumber`` or ``memberOf``) passes a positive operator when ANY of its values does, and a
negated one (``NOT EQUALS``, ``NOT REGEX MATCH``, ``!&``) only when NO value matches, as an admin
reads "department equals Sales"; an empty list is null. Filters compile when the config loads,
so a bad regex refuses to start instead of putting everybody out of scope. A regex runs on a
linear-time engine (``core/functions/regex.py``); one that RE2 cannot take runs under a time limit,
and a clause that passes it raises :class:`ScopeUndecided`: that object is neither in nor out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncer.core.functions.regex import PatternSyntaxError, SafePattern, compile_pattern
from syncer.errors import ConfigError, ExpressionError
from syncer.types import SourceObject, Value

UNARY = frozenset({"IS TRUE", "IS FALSE", "IS NULL", "IS NOT NULL"})
INTEGER = frozenset({"Greater_Than", "Greater_Than_OR_EQUALS", "Less_Than", "Less_Than_OR_EQUALS"})
REGEX = frozenset({"REGEX MATCH", "NOT REGEX MATCH"})
STRING = frozenset({"EQUALS", "NOT EQUALS", "Includes", "ENDS_WITH", "&", "!&"})
OPERATORS = UNARY | INTEGER | REGEX | STRING
NEGATED = frozenset({"NOT EQUALS", "NOT REGEX MATCH", "!&"})
"""On a multi-valued attribute these pass only when every value passes (no value matches)."""


class ScopeUndecided(Exception):
    """A clause could not be evaluated (a regex passed its time limit): the object is left alone."""


def _empty(value: Value) -> bool:
    return value is None or value == "" or value == ()


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _integer(value: Value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _boolean(value: Value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


@dataclass(frozen=True, slots=True)
class Clause:
    """One compiled clause: ``attribute OPERATOR value``."""

    attribute: str
    operator: str
    value: Value
    pattern: SafePattern | None = None
    number: int | None = None
    where: str = ""
    """The clause's ``file:line``, for the check of its attribute name against the source."""

    def __str__(self) -> str:
        if self.operator in UNARY:
            return f"{self.attribute} {self.operator}"
        return f"{self.attribute} {self.operator} {self.value!r}"

    def test(self, actual: Value) -> bool:
        """Entra's semantics for one value; a multi-valued one is tested value by value (module docstring)."""
        op = self.operator
        if op == "IS NULL":
            return _empty(actual)
        if op == "IS NOT NULL":
            return not _empty(actual)
        if _empty(actual):
            return False
        if isinstance(actual, tuple):
            values = [value for value in actual if not _empty(value)]
            if not values:
                return False
            if op in NEGATED:
                return all(self._test_one(value) for value in values)
            return any(self._test_one(value) for value in values)
        return self._test_one(actual)

    def _test_one(self, actual: Value) -> bool:
        """One non-empty, single value."""
        op = self.operator
        if op in ("IS TRUE", "IS FALSE"):
            flag = _boolean(actual)
            return flag is not None and flag is (op == "IS TRUE")
        if op in INTEGER:
            left = _integer(actual)
            if left is None or self.number is None:
                return False
            return _COMPARE[op](left, self.number)
        text = _text(actual)
        if op in REGEX:
            assert self.pattern is not None
            try:
                found = self.pattern.search(text) is not None
            except ExpressionError as exc:
                raise ScopeUndecided(f"{self}: {exc.message}") from None
            return found if op == "REGEX MATCH" else not found
        expected = _text(self.value)
        return _STRING_TESTS[op](text, expected)


_COMPARE: Mapping[str, Callable[[int, int], bool]] = {
    "Greater_Than": lambda a, b: a > b,
    "Greater_Than_OR_EQUALS": lambda a, b: a >= b,
    "Less_Than": lambda a, b: a < b,
    "Less_Than_OR_EQUALS": lambda a, b: a <= b,
}
_STRING_TESTS: Mapping[str, Callable[[str, str], bool]] = {
    "EQUALS": lambda a, b: a == b,
    "NOT EQUALS": lambda a, b: a != b,
    "Includes": lambda a, b: b in a,
    "ENDS_WITH": lambda a, b: a.endswith(b),
    "&": lambda a, b: a in b,
    "!&": lambda a, b: a not in b,
}


@dataclass(frozen=True, slots=True)
class ClauseResult:
    clause: Clause
    actual: Value
    passed: bool

    def __str__(self) -> str:
        return f"{self.clause} (value {self.actual!r}): {'true' if self.passed else 'false'}"


@dataclass(frozen=True, slots=True)
class ScopingFilter:
    """Filter groups: OR across groups, AND within one. Empty means every object is in scope."""

    groups: tuple[tuple[Clause, ...], ...] = ()
    label: str = "scoping filter"

    def evaluate(self, attributes: Mapping[str, Value]) -> tuple[bool, list[list[ClauseResult]]]:
        """Whether the object passes, with every clause's result for ``plan --why``."""
        if not self.groups:
            return True, []
        trace: list[list[ClauseResult]] = []
        passed = False
        for group in self.groups:
            results = [
                ClauseResult(c, attributes.get(c.attribute), c.test(attributes.get(c.attribute)))
                for c in group
            ]
            trace.append(results)
            passed = passed or all(r.passed for r in results)
        return passed, trace

    def failure(self, attributes: Mapping[str, Value]) -> str | None:
        """Why the object is out of scope (the first failing clause of each group), or ``None``."""
        passed, trace = self.evaluate(attributes)
        if passed:
            return None
        reasons = []
        for index, results in enumerate(trace, start=1):
            failed = next(r for r in results if not r.passed)
            reasons.append(f"group {index}: {failed}")
        return f"{self.label}: " + "; ".join(reasons)


def compile_clause(raw: Mapping[str, Any], where: str) -> Clause:
    """One clause from settings; errors name the location, the operator and what is wrong."""
    attribute, operator, value = raw.get("attribute"), raw.get("operator"), raw.get("value")
    if not isinstance(attribute, str) or not attribute:
        raise ConfigError("a scoping clause needs an attribute", where)
    if operator not in OPERATORS:
        known = ", ".join(sorted(OPERATORS))
        raise ConfigError(f"unknown scoping operator {operator!r} on {attribute} (known: {known})", where)
    if operator in UNARY:
        if value is not None:
            raise ConfigError(f"{attribute} {operator} takes no value", where)
        return Clause(attribute, operator, None, where=where)
    if value is None or isinstance(value, list | dict):
        raise ConfigError(f"{attribute} {operator} needs a single value", where)
    if operator in INTEGER:
        number = _integer(value)
        if number is None:
            raise ConfigError(f"{attribute} {operator} compares integers; {value!r} is not one", where)
        return Clause(attribute, operator, value, number=number, where=where)
    if operator in REGEX:
        try:
            pattern = compile_pattern(_text(value))
        except PatternSyntaxError as exc:
            column = f" at column {exc.position + 1}" if exc.position is not None else ""
            detail = exc.message.removeprefix("invalid regexPattern: ")
            raise ConfigError(
                f"{attribute} {operator}: invalid regular expression{column}: {detail}", where
            ) from exc
        return Clause(attribute, operator, value, pattern=pattern, where=where)
    return Clause(attribute, operator, value, where=where)


def compile_filter(
    groups: Sequence[Sequence[Mapping[str, Any]]],
    *,
    label: str,
    where: Callable[[int, int], str],
) -> ScopingFilter:
    """Compile filter groups; ``where(group, clause)`` gives the ``file:line`` of a clause."""
    compiled = []
    for g, group in enumerate(groups):
        if not group:
            raise ConfigError(f"{label}: filter group {g + 1} is empty", where(g, 0))
        compiled.append(tuple(compile_clause(clause, where(g, c)) for c, clause in enumerate(group)))
    return ScopingFilter(groups=tuple(compiled), label=label)


@dataclass(frozen=True, slots=True)
class Assignment:
    """Assignment scope: the users in the assigned groups (direct, or nested when asked)."""

    groups: tuple[str, ...] = ()
    nested: bool = False

    @property
    def everyone(self) -> bool:
        return not self.groups


@dataclass(frozen=True, slots=True)
class AssignedScope:
    """The result of resolving assignment against one snapshot."""

    users: frozenset[str] | None
    groups: frozenset[str] | None
    via: Mapping[str, str]


def resolve_assignment(assignment: Assignment, groups: Iterable[SourceObject]) -> AssignedScope:
    """Which users and groups are assigned; ``None`` means everyone (no assignment configured).

    Assigned groups are named by source id or display name; a name that matches no group raises
    :class:`ValueError`, because an assignment that silently selects nobody would unassign everyone.
    """
    if assignment.everyone:
        return AssignedScope(users=None, groups=None, via={})
    by_id = {g.id: g for g in groups}
    assigned = _assigned_groups(assignment.groups, by_id)
    users: set[str] = set()
    via: dict[str, str] = {}
    for group in assigned:
        label = str(group.get("displayName") or group.id)
        seen: set[str] = set()
        stack = [group]
        while stack:
            current = stack.pop()
            if current.id in seen:
                continue  # a membership cycle: each group is expanded once
            seen.add(current.id)
            for member in current.members:
                if member in by_id:
                    if assignment.nested:
                        stack.append(by_id[member])
                    continue
                users.add(member)
                via.setdefault(member, label)
    return AssignedScope(users=frozenset(users), groups=frozenset(g.id for g in assigned), via=via)


def _assigned_groups(names: Iterable[str], by_id: Mapping[str, SourceObject]) -> list[SourceObject]:
    """The groups an assignment names, by source id first, then every group of that display name."""
    by_name: dict[str, list[SourceObject]] = {}
    for group in by_id.values():
        name = group.get("displayName")
        if isinstance(name, str):
            by_name.setdefault(name, []).append(group)
    assigned: list[SourceObject] = []
    for name in names:
        if name in by_id:
            assigned.append(by_id[name])
        elif name in by_name:
            assigned.extend(by_name[name])
        else:
            raise ValueError(f"assigned group {name!r} is not in the source (by id or displayName)")
    return assigned


@dataclass(frozen=True, slots=True)
class JobScope:
    """A job's whole scope: assignment plus the scoping filters of the config and the mapping file.

    Every filter given must pass (the config's and the mapping file's are ANDed); within one
    filter, Entra's OR-of-ANDs applies.
    """

    assignment: Assignment = Assignment()
    users: tuple[ScopingFilter, ...] = ()
    groups: tuple[ScopingFilter, ...] = ()

    def filters(self, obj: SourceObject) -> tuple[ScopingFilter, ...]:
        return self.users if obj.kind.value == "user" else self.groups

    def out_of_scope(
        self, obj: SourceObject, attributes: Mapping[str, Value], assigned: AssignedScope
    ) -> str | None:
        """Why ``obj`` is out of scope, or ``None`` when it is in scope."""
        chosen = assigned.users if obj.kind.value == "user" else assigned.groups
        if chosen is not None and obj.id not in chosen:
            return (
                "not assigned (not a member of an assigned group)"
                if obj.kind.value == "user"
                else ("not an assigned group")
            )
        for scoping_filter in self.filters(obj):
            failure = scoping_filter.failure(attributes)
            if failure is not None:
                return failure
        return None

    def explain(
        self, obj: SourceObject, attributes: Mapping[str, Value], assigned: AssignedScope
    ) -> list[str]:
        """The full scope evaluation of one object, a line per step, for ``syncer plan --why``."""
        lines = []
        chosen = assigned.users if obj.kind.value == "user" else assigned.groups
        if chosen is None:
            lines.append("assignment: every user and group is assigned (assigned_groups is empty)")
        elif obj.id in chosen:
            via = assigned.via.get(obj.id)
            lines.append(f"assignment: assigned{f' via group {via}' if via else ''}")
        else:
            lines.append("assignment: NOT assigned: out of scope")
        try:
            lines.extend(self._explain_filters(obj, attributes))
            verdict = self.out_of_scope(obj, attributes, assigned)
        except ScopeUndecided as exc:
            lines.append(f"result: UNDECIDED ({exc}): the object is left as it is")
            return lines
        lines.append("result: IN SCOPE" if verdict is None else f"result: OUT OF SCOPE ({verdict})")
        return lines

    def _explain_filters(self, obj: SourceObject, attributes: Mapping[str, Value]) -> list[str]:
        lines: list[str] = []
        for scoping_filter in self.filters(obj):
            passed, trace = scoping_filter.evaluate(attributes)
            lines.append(f"{scoping_filter.label}: {'passes' if passed else 'FAILS'}")
            for index, group in enumerate(trace, start=1):
                group_passed = all(r.passed for r in group)
                lines.append(f"  group {index} (all must be true): {'true' if group_passed else 'false'}")
                lines.extend(f"    {result}" for result in group)
        if not self.filters(obj):
            lines.append("scoping filters: none (every object passes)")
        return lines
