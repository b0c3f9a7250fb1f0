"""The function registry and the value coercions every function family shares.

Each function is one ``FunctionSpec`` entry, so a mapping is checked for unknown names and wrong
argument counts when it loads, and adding a function is adding an entry. A function receives
its arguments already evaluated (an omitted argument, a missing attribute and ``NO_FLOW`` all
arrive as ``None``) and raises ``ExpressionError`` without a column: the evaluator adds the
column of the call. Messages never quote attribute values, which may be personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from random import Random
from types import MappingProxyType
from typing import Any, Final, NoReturn

from syncer.errors import ExpressionError


class _NoFlow:
    """The type of ``NO_FLOW``: one instance, which survives copy and pickle as itself."""

    __slots__ = ()
    _instance: _NoFlow | None = None

    def __new__(cls) -> _NoFlow:
        if _NoFlow._instance is None:
            _NoFlow._instance = super().__new__(cls)
        return _NoFlow._instance

    def __repr__(self) -> str:
        return "NO_FLOW"

    def __reduce__(self) -> str:
        return "NO_FLOW"


NO_FLOW: Final[_NoFlow] = _NoFlow()
"""An expression result meaning "leave this attribute out of the flow" (IgnoreFlowIfNullOrEmpty)."""


@dataclass(frozen=True)
class EvaluationContext:
    """What an expression may know beyond the object's attributes; the core reads no clock itself.

    ``rng`` feeds Guid() and RandomString(); tests seed it, and ``None`` means the OS source.
    """

    now: datetime | None = None
    default_domain: str | None = None
    rng: Random | None = field(default=None, compare=False)


Args = tuple[Any, ...]
Impl = Callable[[Args, EvaluationContext], object]
LiteralCheck = Callable[[str], "str | None"]


@dataclass(frozen=True)
class FunctionSpec:
    """One function: its name, how many arguments it takes (``max_args=None``: any number), its code.

    ``even_args`` is for Switch, whose key/value pairs make the count even. ``literal_checks``
    maps an argument's position to a check the parser runs when that argument is a string
    literal (Replace's regexPattern), so a bad literal refuses the mapping at load, with its column.
    """

    name: str
    min_args: int
    max_args: int | None
    impl: Impl = field(repr=False)
    even_args: bool = False
    literal_checks: Mapping[int, LiteralCheck] = field(default_factory=dict, repr=False)

    def arity_problem(self, count: int) -> str | None:
        """Why a call with ``count`` arguments is refused, or ``None``; the parser adds the column."""
        low, high = self.min_args, self.max_args
        plural = "" if (high if high is not None else low) == 1 else "s"
        if high is None and count < low:
            return f"{self.name} expects at least {low} argument{plural}, got {count}"
        if high is not None and not low <= count <= high:
            span = str(low) if low == high else f"{low} to {high}"
            return f"{self.name} expects {span} argument{plural}, got {count}"
        if self.even_args and count % 2:
            return f"{self.name} expects an even number of arguments, got {count}"
        return None


_REGISTRY: dict[str, FunctionSpec] = {}
FUNCTIONS: Final[Mapping[str, FunctionSpec]] = MappingProxyType(_REGISTRY)
"""Every function the language knows, by its documented name (``Switch``, ``NormalizeDiacritics``)."""


def function_named(name: str) -> FunctionSpec | None:
    """The function ``name`` calls, whatever its case: Entra accepts ``switch(...)`` and
    Microsoft's own examples write it so; the documented spelling is :attr:`FunctionSpec.name`."""
    return _BY_FOLDED.get(name.casefold())


_BY_FOLDED: dict[str, FunctionSpec] = {}

CONSTANTS: Final[Mapping[str, object]] = MappingProxyType({"vbBinaryCompare": 0, "vbTextCompare": 1})
"""Bare names an argument may be (InStr's compare type), with VBA's values."""


def function(
    name: str,
    min_args: int,
    max_args: int | None,
    *,
    even: bool = False,
    literal_checks: Mapping[int, LiteralCheck] | None = None,
) -> Callable[[Impl], Impl]:
    """Register the decorated implementation under ``name``; a name registered twice is a bug."""

    def register(impl: Impl) -> Impl:
        assert name.casefold() not in _BY_FOLDED, f"function {name} registered twice"
        spec = FunctionSpec(name, min_args, max_args, impl, even, dict(literal_checks or {}))
        _REGISTRY[name] = _BY_FOLDED[name.casefold()] = spec
        return impl

    return register


# --- value coercions, shared with the evaluator's comparisons ----------------------------------


def fail(message: str) -> NoReturn:
    """Refuse the values a function got; the evaluator adds the function's name and column."""
    raise ExpressionError(message)


def scalar(value: object) -> object:
    """One value from a possibly multi-valued one; an empty multi-value is null."""
    if isinstance(value, tuple):
        if len(value) > 1:
            fail(f"expects a single value, got {len(value)} values")
        return value[0] if value else None
    return value


def to_text(value: object) -> str | None:
    """A value as Entra prints it: booleans as True/False, whole floats without a decimal point."""
    value = scalar(value)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping):
        fail("expects a plain value, got an object (app role assignments go through the role functions)")
    return str(value)


_DECIMAL: Final = re.compile(r"[+-]?\d+(?:\.\d+)?")  # not Python's "nan", "inf" or "1_000"


def to_number(value: object) -> int | float | None:
    """A value as a number when it is one or spells one (booleans are not numbers), else ``None``."""
    value = scalar(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        return float(value) if "." in value else int(value)
    return None


def truth(value: object) -> bool:
    """A condition's value: True, "True" (any case) or a non-zero number; null and anything else false."""
    value = scalar(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    number = to_number(value)
    return number is not None and number != 0


def whole(value: object, what: str) -> int:
    number = to_number(value)
    if number is None or not float(number).is_integer():
        fail(f"{what} must be a whole number")
    return int(number)


def is_empty(value: object) -> bool:
    return value is None or value == "" or value == ()


def values_of(value: object) -> tuple[object, ...]:
    if value is None:
        return ()
    return value if isinstance(value, tuple) else (value,)


def each(value: object, change: Callable[[str], object]) -> object:
    """Apply a string transformation to every value, so ToLower([proxyAddresses]) works too."""
    if isinstance(value, tuple):
        return tuple(change(t) for t in map(to_text, value) if t is not None)
    text = to_text(value)
    return None if text is None else change(text)
