"""Every pattern from config, mapping or source runs in bounded time (issue 11, "a regex cannot stall").

Patterns RE2 can take run on it, in time linear in the text; the few it cannot (backreferences,
lookarounds, atomic groups) run on the ``regex`` engine under a per-evaluation time limit.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from syncer.core.expressions import EvaluationContext, EvaluationError, compile_expression
from syncer.core.functions.regex import Engine, compile_pattern
from syncer.core.scoping import compile_filter
from syncer.types import ObjectKind, SourceObject, freeze

CONTEXT = EvaluationContext()


def run(text: str, attrs: dict[str, Any]) -> object:
    return compile_expression(text).evaluate(attrs, CONTEXT)


def elapsed(call: Any) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def test_scoping_regex_match_on_a_hostile_value_answers_at_once() -> None:
    """`REGEX MATCH ^(a+)+$` against 100,000 a's and a '!' answers (no match) in well under a second."""
    scope = compile_filter(
        [[{"attribute": "employeeId", "operator": "REGEX MATCH", "value": "^(a+)+$"}]],
        label="users",
        where=lambda g, c: "config.yaml:1",
    )
    user = SourceObject(ObjectKind.USER, "u1", freeze({"id": "u1", "employeeId": "a" * 100_000 + "!"}))
    assert elapsed(lambda: scope.evaluate(user.attributes)) < 0.5
    assert scope.evaluate(user.attributes)[0] is False


def test_bounded_nested_repeat_in_replace_is_linear() -> None:
    """`Replace` with `^(a{0,16}){0,16}b` (which the old shape guard let through) answers at once."""
    text = 'Replace([s], , "^(a{0,16}){0,16}b", , "x", , )'
    value = "a" * 5000
    assert elapsed(lambda: run(text, {"s": value})) < 0.5
    assert run(text, {"s": value}) == value


def test_pattern_from_a_source_attribute_is_linear_too() -> None:
    """A catastrophic pattern from an attribute runs on RE2 and answers, on a 100,000-character value."""
    attrs = {"s": "a" * 100_000 + "!", "p": "(a+)+$"}
    assert elapsed(lambda: run('Replace([s], , [p], , "", , )', attrs)) < 0.5
    assert run('Replace([s], , [p], , "", , )', {"s": "aaa!", "p": "(a+)+!$"}) == ""


@pytest.mark.parametrize(
    ("pattern", "engine"),
    [
        ("^(a+)+$", Engine.RE2),
        ("(?<Suffix>@(.)*)", Engine.RE2),
        ("\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", Engine.RE2),
        ("(a)\\1", Engine.BACKTRACKING),
        ("foo(?=bar)", Engine.BACKTRACKING),
        ("(?>a+)b", Engine.BACKTRACKING),
        ("a++b", Engine.BACKTRACKING),
        ("\\bword\\b", Engine.BACKTRACKING),
    ],
)
def test_engine_choice(pattern: str, engine: Engine) -> None:
    """RE2 takes what it can; backreferences, lookarounds, atomic groups and \\b go to the timed engine."""
    assert compile_pattern(pattern).engine is engine


def test_backtracking_fallback_stops_at_its_time_limit() -> None:
    """A catastrophic pattern RE2 cannot take fails that evaluation at the time limit, not after minutes."""
    attrs = {"s": "a" * 40 + "!", "p": "^(a|aa)+\\1$"}
    started = time.perf_counter()
    with pytest.raises(EvaluationError, match="time limit"):
        run('Replace([s], , [p], , "", , )', attrs)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("pattern", "value", "found"),
    [
        ("^\\w+$", "José", True),  # .NET's \w is Unicode, and so was Python's
        ("^\\d+$", "١٢٣", True),
        ("^\\s$", "\u00a0", True),
        ("^[\\w.-]+$", "Zoë.ann-x", True),
        ("^\\W$", "é", False),
        ("^\\D+$", "abc", True),
        ("^\\S+$", "a b", False),
        ("end\\Z", "the end", True),
    ],
)
def test_perl_classes_keep_their_unicode_meaning(pattern: str, value: str, found: bool) -> None:
    """\\w, \\d and \\s mean what they meant under Python's engine, on RE2 too."""
    assert (compile_pattern(pattern).search(value) is not None) is found


def test_group_by_name_and_replacement_references_work_on_re2() -> None:
    """Microsoft's Replace examples with named groups still give their documented results."""
    assert run('Replace([s], , "(?<Suffix>@(.)*)", "Suffix", "", , )', {"s": "john.doe@contoso.com"}) == (
        "john.doe"
    )
    assert run('Replace([s], , "(\\\\w+)@(\\\\w+)", , "$2:$1", , )', {"s": "ann@contoso"}) == "contoso:ann"


def test_plan_why_says_undecided_when_a_clause_passes_its_time_limit() -> None:
    """`plan --why` on an object whose regex clause timed out says so instead of crashing."""
    from syncer.core.scoping import AssignedScope, JobScope

    scope = JobScope(
        users=(
            compile_filter(
                [[{"attribute": "e", "operator": "REGEX MATCH", "value": "^(a|aa)+\\1$"}]],
                label="users scoping filter",
                where=lambda g, c: "config.yaml:1",
            ),
        )
    )
    user = SourceObject(ObjectKind.USER, "u1", freeze({"id": "u1", "e": "a" * 40 + "!"}))
    lines = scope.explain(user, user.attributes, AssignedScope(None, None, {}))
    assert lines[-1].startswith("result: UNDECIDED") and "time limit" in lines[-1]
