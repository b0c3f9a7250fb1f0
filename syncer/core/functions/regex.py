"""Entra's .NET regular expressions on Python's engine, with a bound on what one evaluation may cost.

Python's ``re`` backtracks and has no timeout, so a pattern such as ``(a+)+$`` against thirty
characters can run for minutes, and an evaluation that never returns stops every cycle of the job.
Two guards keep evaluation finite, deterministically (no timer, the core reads no clock):

- a pattern of the catastrophic shapes is refused: a variable-length quantifier nested inside an
  unbounded one (``(a+)+``, ``(\\w*)*``, ``(a{1,3})+``), or an unbounded repetition of an
  alternation whose branches can start alike (``(a|ab)+``, ``(\\w|\\d)+``). A literal pattern is
  checked when the mapping loads, with its column; a pattern that comes from an attribute is
  checked when it is used. Rewrite such a pattern with a character class, a possessive
  quantifier (``a++``) or an atomic group (``(?>...)``), which do not backtrack. The check is
  conservative: it also refuses some unambiguous patterns such as ``([A-Z][a-z]*)+``, which
  ``([A-Z][a-z]*+)+`` expresses without the risk;
- the text a pattern runs against is bounded by what the pattern could cost on it. Sequential
  unbounded quantifiers that can match the same characters (``\\d*\\d*x``) backtrack in
  polynomial time: a search with k of them costs up to n^(k+1)/k! steps on n characters, so the
  pattern runs on at most the n that keeps this under ``STEP_BUDGET`` (and never more than
  ``MAX_INPUT``): 4096 characters for one quantifier, 584 for two, 156 for three, 75 for four.
  Possessive quantifiers do not count. A longer value fails that object with a message saying so.
"""

from __future__ import annotations

import math
import re
import re._parser as _sre  # type: ignore[import-not-found]  # the stdlib's own parser, unstubbed
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from syncer.errors import ExpressionError

MAX_INPUT: Final = 4096
"""The longest text any regex is run against, in characters."""

STEP_BUDGET: Final = 1e8
"""Backtracking steps a search may take in the worst case (a few tenths of a second, measured)."""

MAX_PATTERN: Final = 1000
"""The longest pattern accepted, in characters."""

# .NET regex syntax differs from Python's in named groups and replacement references.
_NET_GROUP: Final = re.compile(r"\(\?<(?=[A-Za-z_])")
_NET_SUBSTITUTION: Final = re.compile(r"\$(?:\$|\{(\w+)\}|(\d+)|&)")


@dataclass(frozen=True)
class Guarded:
    """A compiled pattern and the longest text it may run on (see the module docstring)."""

    regex: re.Pattern[str]
    max_input: int

    def text(self, value: str) -> str:
        """``value`` itself, or an ``ExpressionError`` when it is too long for this pattern."""
        if len(value) > self.max_input:
            raise ExpressionError(
                f"this regexPattern runs on at most {self.max_input} characters, got {len(value)}"
            )
        return value


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is refused (invalid, too long or catastrophic), or ``None`` when it may run."""
    try:
        compile_pattern(pattern)
    except ExpressionError as exc:
        return exc.message
    return None


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Guarded:
    """The guarded pattern; raises ``ExpressionError`` (no column) when it is refused."""
    if len(pattern) > MAX_PATTERN:
        raise ExpressionError(f"regexPattern is longer than {MAX_PATTERN} characters")
    translated = _NET_GROUP.sub("(?P<", pattern)
    try:
        with warnings.catch_warnings():  # "possible nested set" hints about future syntax, not errors
            warnings.simplefilter("ignore", FutureWarning)
            parsed = _sre.parse(translated)
            compiled = re.compile(translated)
    except re.error as exc:
        raise ExpressionError(f"invalid regexPattern: {exc.msg}") from None
    hazard = _hazard(parsed, inside_unbounded=False)
    if hazard is not None:
        raise ExpressionError(
            f"regexPattern has {hazard}, which can backtrack for minutes; use a character class, "
            "a possessive quantifier (a++) or an atomic group (?>...)"
        )
    return Guarded(compiled, _max_input(_count_unbounded(parsed)))


def _max_input(quantifiers: int) -> int:
    # A search tries every start position, so k quantifiers cost up to n^(k+1)/k! steps.
    longest = (STEP_BUDGET * math.factorial(quantifiers)) ** (1 / (quantifiers + 1))
    return min(MAX_INPUT, int(longest))


def substitute(template: str, match: re.Match[str]) -> str:
    """.NET's replacement syntax: ``$1``, ``${name}``, ``$&`` and ``$$``."""

    def one(ref: re.Match[str]) -> str:
        if ref.group(0) == "$$":
            return "$"
        group = ref.group(1) or (int(ref.group(2)) if ref.group(2) else 0)
        try:
            return match.group(group) or ""
        except (IndexError, re.error):
            return ref.group(0)  # .NET leaves a reference to a missing group as written

    return _NET_SUBSTITUTION.sub(one, template)


# --- the checks over the stdlib's parse tree -----------------------------------------------

_REPEATS: Final = (_sre.MAX_REPEAT, _sre.MIN_REPEAT)
_WIDE: Final = 16  # a bounded repeat this wide backtracks like an unbounded one


def _hazard(items: Iterable[tuple[Any, Any]], *, inside_unbounded: bool) -> str | None:
    for op, av in items:
        if op in _REPEATS:
            low, high, body = av
            if inside_unbounded and low != high:
                return "a quantifier nested inside an unbounded quantifier"
            wide = high == _sre.MAXREPEAT or high - low > _WIDE
            found = _hazard(body, inside_unbounded=inside_unbounded or wide)
        elif op is _sre.POSSESSIVE_REPEAT or op is _sre.ATOMIC_GROUP:
            body = av[2] if op is _sre.POSSESSIVE_REPEAT else av
            found = _hazard(body, inside_unbounded=False)  # no backtracking into them from outside
        elif op is _sre.BRANCH:
            branches = av[1]
            if inside_unbounded and _overlapping(branches):
                return "an alternation whose branches start alike inside an unbounded quantifier"
            found = next((h for b in branches if (h := _hazard(b, inside_unbounded=inside_unbounded))), None)
        elif op is _sre.SUBPATTERN:
            found = _hazard(av[3], inside_unbounded=inside_unbounded)
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            found = _hazard(av[1], inside_unbounded=inside_unbounded)
        elif op is _sre.GROUPREF_EXISTS:
            parts = [p for p in av[1:] if p is not None]
            found = next((h for p in parts if (h := _hazard(p, inside_unbounded=inside_unbounded))), None)
        else:
            found = None
        if found is not None:
            return found
    return None


def _count_unbounded(items: Iterable[tuple[Any, Any]]) -> int:
    """How many quantifiers can each take many characters (the degree of the worst backtracking)."""
    count = 0
    for op, av in items:
        if op in _REPEATS or op is _sre.POSSESSIVE_REPEAT:
            low, high, body = av
            wide = high == _sre.MAXREPEAT or high - low > _WIDE
            count += (wide and op is not _sre.POSSESSIVE_REPEAT) + _count_unbounded(body)
        elif op is _sre.SUBPATTERN:
            count += _count_unbounded(av[3])
        elif op is _sre.ATOMIC_GROUP:
            count += _count_unbounded(av)
        elif op is _sre.BRANCH:
            count += max((_count_unbounded(b) for b in av[1]), default=0)
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            count += _count_unbounded(av[1])
        elif op is _sre.GROUPREF_EXISTS:
            count += max((_count_unbounded(p) for p in av[1:] if p is not None), default=0)
    return count


def _first(items: Any) -> object:
    """The literal an alternative must start with, or ``None`` when it may start with many characters."""
    if not len(items):
        return None
    op, av = items[0]
    if op is _sre.LITERAL:
        return av
    if op is _sre.SUBPATTERN:
        return _first(av[3])
    return None


def _overlapping(branches: list[Any]) -> bool:
    firsts = [_first(b) for b in branches]
    return None in firsts or len(set(firsts)) < len(firsts)
