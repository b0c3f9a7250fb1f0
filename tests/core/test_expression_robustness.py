"""Hypothesis: random, mutated and generated expressions, and random values, never escape as crashes.

The only exception compiling may raise is ExpressionError (a mapping error with a column), and
evaluating a compiled expression raises at most EvaluationError; neither hangs, because nesting
depth, expression length, regex shapes and regex input are bounded (core/expressions.py,
core/functions/regex.py).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.core.expressions import EvaluationContext, EvaluationError, Expression, compile_expression
from syncer.core.functions import FUNCTIONS
from syncer.errors import ExpressionError
from tests.core.test_expressions import DOCUMENTED

CONTEXT = EvaluationContext(now=None, default_domain="contoso.com")
SLOW = 1.0  # seconds: any single evaluation slower than this counts as a hang
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOKENS = [*FUNCTIONS, "(", ")", ",", " ", "[a]", "[b]", '"x"', '"\\\\"', '"', "[", "]", "1", "-2.5", "&HF"]
TOKENS += ["=", "<>", ">=", "<", "vbTextCompare", "\\", "$", "\n", '"(a+)+$"', '"[a-"']
NAMES = ["a", "b", "c"]

scalars = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(["2021-08-31+08:00", "8/25/2021 5:41:18 PM", "True", "false", "12", " 7 ", "a" * 600]),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4).map(tuple))
attributes = st.dictionaries(st.sampled_from(NAMES), values, max_size=3)


def _compile(text: str) -> Expression | None:
    try:
        return compile_expression(text)
    except ExpressionError as exc:
        assert exc.column is not None and 1 <= exc.column <= len(text) + 1
        return None


def _evaluate(expr: Expression, attrs: dict[str, Any]) -> None:
    started = time.perf_counter()
    with contextlib.suppress(EvaluationError):
        expr.evaluate(attrs, CONTEXT)
    assert time.perf_counter() - started < SLOW, expr.text


@FAST
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join), attributes)
def test_random_token_soup_compiles_or_fails_cleanly(text: str, attrs: dict[str, Any]) -> None:
    """Any sequence of the language's tokens compiles or raises ExpressionError with a column."""
    expr = _compile(text)
    if expr is not None:
        _evaluate(expr, attrs)


@FAST
@given(
    st.sampled_from([row[0] for row in DOCUMENTED]),
    st.lists(
        st.tuples(st.integers(0, 400), st.sampled_from(["", "(", ")", ",", '"', "[", "]", "x", " "])),
        max_size=4,
    ),
    attributes,
)
def test_mutated_documented_expressions_fail_cleanly(
    text: str, edits: list[tuple[int, str]], attrs: dict[str, Any]
) -> None:
    """Microsoft's examples with characters replaced, dropped or added compile or fail with a column."""
    for position, replacement in edits:
        at = position % (len(text) + 1)
        text = text[:at] + replacement + text[at + 1 :]
    expr = _compile(text)
    if expr is not None:
        _evaluate(expr, attrs)


def _call(name: str, args: list[str]) -> str:
    spec = FUNCTIONS[name]
    count = max(spec.min_args, min(len(args), spec.max_args if spec.max_args is not None else len(args)))
    if spec.even_args and count % 2:
        count += 1
    padded = (args * (count // max(len(args), 1) + 1))[:count] if args else ['""'] * count
    return f"{name}({', '.join(padded)})"


leaves = st.one_of(
    st.sampled_from(NAMES).map(lambda n: f"[{n}]"),
    st.text(alphabet="ab(+)*|?.$ \\-", max_size=8).map(
        lambda t: '"' + t.replace("\\", "\\\\").replace('"', "") + '"'
    ),
    st.integers(-5, 5).map(str),
    st.sampled_from(['"d"', '"yyyy"', '"2021-01-01"', '"(?<g>a)"', '"${g}"', "vbTextCompare"]),
)
generated = st.recursive(
    leaves,
    lambda inner: st.tuples(st.sampled_from(sorted(FUNCTIONS)), st.lists(inner, max_size=4)).map(
        lambda call: _call(*call)
    ),
    max_leaves=12,
)


@FAST
@given(generated, attributes)
def test_generated_calls_evaluate_or_fail_cleanly(text: str, attrs: dict[str, Any]) -> None:
    """Well-formed calls of every function on random values return a value or raise EvaluationError, fast."""
    expr = _compile(text)
    if expr is not None:
        _evaluate(expr, attrs)


@FAST
@given(st.text(alphabet="ab()[]{}|*+?.^$\\-,0123", max_size=14), st.integers(1, 4096), st.sampled_from("ab!"))
def test_random_regex_patterns_never_hang(pattern: str, length: int, tail: str) -> None:
    """Any pattern from an attribute, run on long worst-case text, answers or is refused within a second."""
    expr = compile_expression('Replace([s], , [p], , "", , )')
    _evaluate(expr, {"s": "a" * length + tail, "p": pattern})
