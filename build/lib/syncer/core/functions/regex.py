"""Entra's .NET regular expressions, run so that no pattern can stall a cycle.

Python's ``re`` backtracks and has no time limit: ``^(a+)+$`` against thirty characters runs for
minutes, and an evaluation that never returns stops every cycle of the job. A guard over the
pattern's shape cannot be complete (``^(a{0,16}){0,16}b`` passed the old one and hung), so the
pattern decides the *engine* instead:

- a pattern RE2 can take runs on RE2 (google-re2), which matches in time linear in the text, for
  any pattern and any value. ``\\w``, ``\\d`` and ``\\s`` keep their Unicode meaning (as in .NET and
  Python: RE2's own are ASCII-only), and ``\\Z`` is the end of the text;
- a pattern RE2 cannot take (backreferences, lookarounds, atomic groups, possessive quantifiers,
  word boundaries ``\\b``, which are ASCII-only in RE2) runs on the ``regex`` engine, which
  backtracks, with a time limit on every evaluation (``TIME_LIMIT``). An evaluation that passes it
  fails that one object with a message saying so; the cycle goes on.

The same rule holds wherever a pattern comes from: a scoping clause, a mapping literal (checked
when the mapping loads) or a source attribute (compiled when used). Patterns are compiled once
and cached. One difference from Python's engine remains on RE2: ``$`` without ``(?m)`` matches at
the very end only, not also before a final newline.
"""

from __future__ import annotations

import enum
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Protocol

import re2
import regex as backtracking

from syncer.errors import ExpressionError

MAX_PATTERN: Final = 1000
"""The longest pattern accepted, in characters."""

TIME_LIMIT: Final = 0.1
"""Seconds one evaluation of a pattern RE2 cannot take may run before it fails that object."""

# .NET regex syntax differs from Python's in named groups and replacement references.
_NET_GROUP: Final = re.compile(r"\(\?<(?=[A-Za-z_])")
_NET_SUBSTITUTION: Final = re.compile(r"\$(?:\$|\{(\w+)\}|(\d+)|&)")

# Python's (and .NET's) Unicode meaning of the Perl classes, in RE2's syntax (inside a class).
_CLASSES: Final = {
    "w": r"\p{L}\p{Mn}\p{Nd}\p{Pc}",
    "d": r"\p{Nd}",
    "s": r"\t\n\v\f\r\x1c-\x1f\x85\p{Z}",
}


class PatternSyntaxError(ExpressionError):
    """An invalid pattern; ``position`` is the 0-based offset Python's parser points at, if any."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.position = position
        super().__init__(message)


class Engine(enum.Enum):
    RE2 = "re2"
    """Linear time in the text, whatever the pattern."""
    BACKTRACKING = "backtracking"
    """The ``regex`` engine, for what RE2 lacks, under ``TIME_LIMIT`` per evaluation."""


class Match(Protocol):
    """What both engines' matches offer, groups named or numbered."""

    def group(self, group: int | str = 0, /) -> str | None: ...
    def start(self, group: int | str = 0, /) -> int: ...
    def end(self, group: int | str = 0, /) -> int: ...


class _Re2Match:
    """An RE2 match that also takes group names in ``start``/``end`` (RE2's own takes numbers only)."""

    __slots__ = ("_match", "_names")

    def __init__(self, match: Any, names: Mapping[str, int]) -> None:
        self._match = match
        self._names = names

    def _index(self, group: int | str) -> int:
        return self._names[group] if isinstance(group, str) else group

    def group(self, group: int | str = 0, /) -> str | None:
        found: str | None = self._match.group(self._index(group))
        return found

    def start(self, group: int | str = 0, /) -> int:
        return int(self._match.start(self._index(group)))

    def end(self, group: int | str = 0, /) -> int:
        return int(self._match.end(self._index(group)))


@dataclass(frozen=True)
class SafePattern:
    """A compiled pattern that answers in bounded time, on whichever engine can guarantee it."""

    pattern: str
    engine: Engine
    groupindex: Mapping[str, int]
    compiled: Any

    def search(self, text: str) -> Match | None:
        if self.engine is Engine.RE2:
            found = self.compiled.search(text)
            return None if found is None else _Re2Match(found, self.groupindex)
        result: Match | None = self._timed(text, lambda: self.compiled.search(text, timeout=TIME_LIMIT))
        return result

    def finditer(self, text: str) -> Iterator[Match]:
        if self.engine is Engine.RE2:
            return (_Re2Match(m, self.groupindex) for m in self.compiled.finditer(text))
        matches: list[Match] = self._timed(
            text, lambda: list(self.compiled.finditer(text, timeout=TIME_LIMIT))
        )
        return iter(matches)

    def sub(self, replace: Callable[[Match], str], text: str) -> str:
        if self.engine is Engine.RE2:
            result: str = self.compiled.sub(lambda m: replace(_Re2Match(m, self.groupindex)), text)
            return result
        timed: str = self._timed(text, lambda: self.compiled.sub(replace, text, timeout=TIME_LIMIT))
        return timed

    def _timed(self, text: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except TimeoutError:
            raise ExpressionError(
                f"regexPattern passed its time limit ({TIME_LIMIT:g}s) on a value of {len(text)} "
                "characters; without backreferences, lookarounds, atomic groups, possessive "
                "quantifiers and \\b it would run on RE2, in linear time"
            ) from None


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is refused (invalid or too long), or ``None`` when it may run."""
    try:
        compile_pattern(pattern)
    except ExpressionError as exc:
        return exc.message
    return None


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> SafePattern:
    """The pattern on RE2 when RE2 can take it, else on the timed engine; ``ExpressionError`` if invalid."""
    if len(pattern) > MAX_PATTERN:
        raise ExpressionError(f"regexPattern is longer than {MAX_PATTERN} characters")
    translated = _for_re2(pattern)
    if translated is not None:
        try:
            compiled = re2.compile(translated, _RE2_OPTIONS)
        except re2.error:
            pass  # a construct RE2 lacks (or a syntax error, reported below)
        else:
            return SafePattern(pattern, Engine.RE2, dict(compiled.groupindex), compiled)
    try:
        fallback = backtracking.compile(pattern)
    except backtracking.error as exc:
        raise syntax_error(pattern, exc) from None
    return SafePattern(pattern, Engine.BACKTRACKING, dict(fallback.groupindex), fallback)


def syntax_error(pattern: str, exc: Exception) -> PatternSyntaxError:
    """The error of an invalid pattern, in Python's words and with its position where Python has one.

    Compiling with Python's ``re`` only parses: nothing runs, so this cannot hang.
    """
    try:
        with warnings.catch_warnings():  # "possible nested set" hints about future syntax, not errors
            warnings.simplefilter("ignore", FutureWarning)
            re.compile(_NET_GROUP.sub("(?P<", pattern))
    except re.error as error:
        return PatternSyntaxError(f"invalid regexPattern: {error.msg}", error.pos)
    return PatternSyntaxError(f"invalid regexPattern: {exc}")


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every pattern it cannot take to stderr
    return options


_RE2_OPTIONS: Final = _re2_options()


def _for_re2(pattern: str) -> str | None:
    """``pattern`` in RE2 syntax with Python's Unicode classes, or ``None`` if only backtracking has it."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            i += 2
            if escaped in _CLASSES:
                out.append(_CLASSES[escaped] if in_class else f"[{_CLASSES[escaped]}]")
            elif escaped.lower() in _CLASSES:
                if in_class:
                    return None  # a negated class inside a class: RE2 has no way to say it
                out.append(f"[^{_CLASSES[escaped.lower()]}]")
            elif escaped in "bB":
                return None  # RE2's word boundary is ASCII-only
            else:
                out.append(r"\z" if escaped == "Z" else char + escaped)
            continue
        out.append(char)
        i += 1
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            for opener in ("^", "]"):  # "[^]...]" and "[]...]": a leading ']' is a literal
                if pattern.startswith(opener, i):
                    out.append(opener)
                    i += 1
    return "".join(out)


def substitute(template: str, match: Match) -> str:
    """.NET's replacement syntax: ``$1``, ``${name}``, ``$&`` and ``$$``."""

    def one(ref: re.Match[str]) -> str:
        if ref.group(0) == "$$":
            return "$"
        group: int | str = ref.group(1) or (int(ref.group(2)) if ref.group(2) else 0)
        try:
            return match.group(group) or ""
        except (IndexError, KeyError, re.error, backtracking.error):
            return ref.group(0)  # .NET leaves a reference to a missing group as written

    return _NET_SUBSTITUTION.sub(one, template)
