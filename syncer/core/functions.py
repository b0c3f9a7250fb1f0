"""Entra's expression functions, as a registry the parser checks calls against.

Each function is one ``FunctionSpec`` entry, so a mapping is checked for unknown names and wrong
argument counts when it loads, and adding a function is adding an entry. A function receives
its arguments already evaluated (an omitted argument, a missing attribute and ``NO_FLOW`` all
arrive as ``None``) and raises ``ExpressionError`` without a column: the evaluator adds the
column of the call. Messages never quote attribute values, which may be personal data.

Dates travel as strings in Entra's ``M/d/yyyy h:mm:ss tt`` form (UTC), because values stay
JSON-like; the date functions parse that form and ISO 8601.
"""

from __future__ import annotations

import base64
import calendar
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from random import Random, SystemRandom
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


@dataclass(frozen=True)
class FunctionSpec:
    """One function: its name, how many arguments it takes (``max_args=None``: any number), its code.

    ``even_args`` is for Switch, whose key/value pairs make the count even.
    """

    name: str
    min_args: int
    max_args: int | None
    impl: Impl = field(repr=False)
    even_args: bool = False

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
"""Every function the language knows, by its case-sensitive name."""

CONSTANTS: Final[Mapping[str, object]] = MappingProxyType({"vbBinaryCompare": 0, "vbTextCompare": 1})
"""Bare names an argument may be (InStr's compare type), with VBA's values."""


def _function(
    name: str, min_args: int, max_args: int | None, *, even: bool = False
) -> Callable[[Impl], Impl]:
    def register(impl: Impl) -> Impl:
        _REGISTRY[name] = FunctionSpec(name, min_args, max_args, impl, even)
        return impl

    return register


# --- value coercions, shared with the evaluator's comparisons ----------------------------------


def _fail(message: str) -> NoReturn:
    raise ExpressionError(message)


def scalar(value: object) -> object:
    """One value from a possibly multi-valued one; an empty multi-value is null."""
    if isinstance(value, tuple):
        if len(value) > 1:
            _fail(f"expects a single value, got {len(value)} values")
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


def _int(value: object, what: str) -> int:
    number = to_number(value)
    if number is None or not float(number).is_integer():
        _fail(f"{what} must be a whole number")
    return int(number)


def _empty(value: object) -> bool:
    return value is None or value == "" or value == ()


def _values(value: object) -> tuple[object, ...]:
    if value is None:
        return ()
    return value if isinstance(value, tuple) else (value,)


def _each(value: object, change: Callable[[str], object]) -> object:
    """Apply a string transformation to every value, so ToLower([proxyAddresses]) works too."""
    if isinstance(value, tuple):
        return tuple(change(t) for t in map(to_text, value) if t is not None)
    text = to_text(value)
    return None if text is None else change(text)


# --- strings ------------------------------------------------------------------------------------


@_function("Append", 2, 2)
def _append(args: Args, ctx: EvaluationContext) -> object:
    # A null source stays null: flowing the suffix alone (".test") would invent a value.
    suffix = to_text(args[1]) or ""
    return _each(args[0], lambda text: text + suffix)


@_function("Join", 2, None)
def _join(args: Args, ctx: EvaluationContext) -> object:
    # Empty strings are skipped like nulls: Entra's Join(", ", "", [surname], [givenName]) gives "Doe, John".
    parts = [t for source in args[1:] for t in map(to_text, _values(source)) if t]
    return (to_text(args[0]) or "").join(parts) if parts else None


@_function("ToLower", 1, 2)
def _to_lower(args: Args, ctx: EvaluationContext) -> object:
    return _each(args[0], str.lower)


@_function("ToUpper", 1, 2)
def _to_upper(args: Args, ctx: EvaluationContext) -> object:
    return _each(args[0], str.upper)


@_function("StripSpaces", 1, 1)
def _strip_spaces(args: Args, ctx: EvaluationContext) -> object:
    return _each(args[0], lambda text: text.replace(" ", ""))


@_function("Left", 2, 2)
def _left(args: Args, ctx: EvaluationContext) -> object:
    text, count = to_text(args[0]) or "", _int(args[1], "NumChars")
    return text if count < 0 else text[:count]


@_function("Mid", 3, 3)
def _mid(args: Args, ctx: EvaluationContext) -> object:
    text, start, length = to_text(args[0]), _int(args[1], "start"), _int(args[2], "length")
    if start < 1 or length < 0:
        _fail("start must be 1 or more and length 0 or more")
    return None if text is None else text[start - 1 : start - 1 + length]


@_function("Len", 1, 1)
def _len(args: Args, ctx: EvaluationContext) -> object:
    text = to_text(args[0])
    return None if text is None else len(text)


@_function("InStr", 2, 4)
def _instr(args: Args, ctx: EvaluationContext) -> object:
    text, sought = to_text(args[0]), to_text(args[1])
    start = 1 if args[2:3] in ((), (None,)) else _int(args[2], "start")
    if start < 1:
        _fail("start must be 1 or more")
    if text is None or sought is None:
        return None
    if len(args) > 3 and _int(args[3], "compareType") == CONSTANTS["vbTextCompare"]:
        text, sought = text.casefold(), sought.casefold()
    return text.find(sought, start - 1) + 1


@_function("Word", 3, 3)
def _word(args: Args, ctx: EvaluationContext) -> object:
    text, number, delimiters = to_text(args[0]), _int(args[1], "WordNumber"), to_text(args[2]) or ""
    if text is None or number < 1:
        return ""
    words = [w for w in re.split(f"[{re.escape(delimiters)}]", text) if w] if delimiters else [text]
    return words[number - 1] if number <= len(words) else ""


def _proper(text: str, separators: str | None) -> str:
    out, start = [], True
    for char in text:
        out.append(char.upper() if start else char.lower())
        if separators is not None:
            start = char in separators
        else:  # .NET ToTitleCase: letters, digits and marks continue a word, and so does an apostrophe
            start = not (char.isalnum() or char == "'" or unicodedata.category(char).startswith("M"))
    return "".join(out)


@_function("PCase", 1, 2)
def _pcase(args: Args, ctx: EvaluationContext) -> object:
    separators = to_text(args[1]) if len(args) > 1 else None
    return _each(args[0], lambda text: _proper(text, separators))


# Letters NFD cannot take apart, spelled the way Entra's table normalizes them.
_UNDECOMPOSABLE = str.maketrans(
    {"æ": "ae", "Æ": "AE", "ø": "oe", "Ø": "OE", "œ": "oe", "Œ": "OE", "ß": "ss", "ł": "l", "Ł": "L"}
    | {"ı": "i", "đ": "d", "Đ": "D"}
)


@_function("NormalizeDiacritics", 1, 1)
def _normalize_diacritics(args: Args, ctx: EvaluationContext) -> object:
    def strip(text: str) -> str:
        bare = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
        return unicodedata.normalize("NFC", bare.translate(_UNDECOMPOSABLE))

    return _each(args[0], strip)


@_function("ConvertToBase64", 1, 1)
def _to_base64(args: Args, ctx: EvaluationContext) -> object:
    text = to_text(args[0])  # .NET's "Unicode" is UTF-16LE
    return None if text is None else base64.b64encode(text.encode("utf-16-le")).decode("ascii")


@_function("ConvertToUTF8Hex", 1, 1)
def _to_utf8_hex(args: Args, ctx: EvaluationContext) -> object:
    text = to_text(args[0])
    return None if text is None else text.encode("utf-8").hex().upper()


@_function("Split", 2, 2)
def _split(args: Args, ctx: EvaluationContext) -> object:
    # Pieces are trimmed, as Entra's example "PermissionSetOne, PermissionSetTwo" shows.
    text, delimiter = to_text(args[0]), to_text(args[1]) or ""
    if text is None:
        return None
    return tuple(p.strip() for p in text.split(delimiter)) if delimiter else (text,)


# .NET regex syntax differs from Python's in named groups and replacement references.
_NET_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")
_NET_SUBSTITUTION = re.compile(r"\$(?:\$|\{(\w+)\}|(\d+)|&)")


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(_NET_GROUP.sub("(?P<", pattern))
    except re.error as exc:
        raise ExpressionError(f"invalid regexPattern: {exc.msg}") from None


def _substitute(template: str, match: re.Match[str]) -> str:
    def one(ref: re.Match[str]) -> str:
        if ref.group(0) == "$$":
            return "$"
        group = ref.group(1) or (int(ref.group(2)) if ref.group(2) else 0)
        try:
            return match.group(group) or ""
        except (IndexError, re.error):
            return ref.group(0)  # .NET leaves a reference to a missing group as written

    return _NET_SUBSTITUTION.sub(one, template)


@_function("Replace", 7, 7)
def _replace(args: Args, ctx: EvaluationContext) -> object:
    source, old, pattern, group, new, fallback, template = map(to_text, args)
    if pattern is not None:
        regex = _regex(pattern)
        if group is not None and new is None:  # fill an empty source from another attribute
            if source:
                return source
            found = regex.search(fallback or "")
            return found.group(group) if found and group in regex.groupindex else None
        if source is None or new is None:
            return source
        if group is None:
            return regex.sub(lambda m: _substitute(new, m), source)
        if group not in regex.groupindex:
            _fail("regexGroupName is not a group of regexPattern")
        out, last = [], 0
        for m in regex.finditer(source):
            if m.start(group) >= 0:
                out += [source[last : m.start(group)], new]
                last = m.end(group)
        return "".join(out) + source[last:]
    if old is None or source is None:
        return source
    if template is not None:
        return template.replace(old, source)
    return source if new is None or old == "" else source.replace(old, new)


# --- conditions, null handling, conversion ------------------------------------------------------


@_function("Not", 1, 1)
def _not(args: Args, ctx: EvaluationContext) -> object:
    return not truth(args[0])  # Entra: True gives False, anything else (null too) gives True


@_function("IIF", 3, 3)
def _iif(args: Args, ctx: EvaluationContext) -> object:
    return args[1] if truth(args[0]) else args[2]


@_function("Switch", 4, None, even=True)
def _switch(args: Args, ctx: EvaluationContext) -> object:
    # Case-sensitive text comparison; a null source matches the key "", Entra's documented null test.
    source = to_text(args[0]) or ""
    for key, value in zip(args[2::2], args[3::2], strict=True):
        if (to_text(key) or "") == source:
            return value
    return args[1]


@_function("Coalesce", 1, None)
def _coalesce(args: Args, ctx: EvaluationContext) -> object:
    # Empty values are skipped too, but an explicit "" still serves as the documented default.
    found = next((a for a in args if not _empty(a)), None)
    return "" if found is None and "" in args else found


@_function("IgnoreFlowIfNullOrEmpty", 1, 1)
def _ignore_flow(args: Args, ctx: EvaluationContext) -> object:
    return NO_FLOW if _empty(args[0]) else args[0]


@_function("IsNull", 1, 1)
def _is_null(args: Args, ctx: EvaluationContext) -> object:
    return args[0] is None


@_function("IsNullOrEmpty", 1, 1)
def _is_null_or_empty(args: Args, ctx: EvaluationContext) -> object:
    return _empty(args[0])


@_function("IsPresent", 1, 1)
def _is_present(args: Args, ctx: EvaluationContext) -> object:
    return not _empty(args[0])


@_function("IsString", 1, 1)
def _is_string(args: Args, ctx: EvaluationContext) -> object:
    return isinstance(args[0], str)


@_function("CStr", 1, 1)
def _cstr(args: Args, ctx: EvaluationContext) -> object:
    return _each(args[0], str)


@_function("CBool", 1, 1)
def _cbool(args: Args, ctx: EvaluationContext) -> object:
    return truth(args[0])


@_function("BitAnd", 2, 2)
def _bit_and(args: Args, ctx: EvaluationContext) -> object:
    if args[0] is None or args[1] is None:
        return None
    return _int(args[0], "value1") & _int(args[1], "value2")


@_function("Redact", 1, 1)
def _redact(args: Args, ctx: EvaluationContext) -> object:
    return args[0]  # the value flows; Expression.redacted tells the provisioning log to hide it


# --- multi-valued attributes --------------------------------------------------------------------


@_function("Count", 1, 1)
def _count(args: Args, ctx: EvaluationContext) -> object:
    return len(_values(args[0]))


@_function("Item", 2, 2)
def _item(args: Args, ctx: EvaluationContext) -> object:
    values, index = _values(args[0]), _int(args[1], "index")
    return values[index - 1] if 1 <= index <= len(values) else None


@_function("RemoveDuplicates", 1, 1)
def _remove_duplicates(args: Args, ctx: EvaluationContext) -> object:
    return tuple(dict.fromkeys(args[0])) if isinstance(args[0], tuple) else args[0]


# --- context: time, domain, randomness ----------------------------------------------------------


@_function("DefaultDomain", 0, 0)
def _default_domain(args: Args, ctx: EvaluationContext) -> object:
    if ctx.default_domain is None:
        _fail("no default domain is configured")
    return ctx.default_domain


@_function("Guid", 0, 0)
def _guid(args: Args, ctx: EvaluationContext) -> object:
    return str(uuid.UUID(int=(ctx.rng or SystemRandom()).getrandbits(128), version=4))


_SPECIALS: Final = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/"
_DIGITS, _UPPER, _LOWER = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"


@_function("RandomString", 5, 6)
def _random_string(args: Args, ctx: EvaluationContext) -> object:
    length = _int(args[0], "Length")
    minimums = [_int(a, "a minimum") for a in args[1:5]]
    avoid = set(to_text(args[5]) or "") if len(args) > 5 else set()
    if not 0 < length <= 256 or min(minimums) < 0 or sum(minimums) > length:
        _fail("Length must be 1 to 256 and at least the sum of the minimums")
    pools = ["".join(c for c in pool if c not in avoid) for pool in (_DIGITS, _SPECIALS, _UPPER, _LOWER)]
    if any(count and not pool for count, pool in zip(minimums, pools, strict=True)):
        _fail("CharactersToAvoid excludes a whole required character class")
    rng = ctx.rng or SystemRandom()
    chars = [rng.choice(pool) for count, pool in zip(minimums, pools, strict=True) for _ in range(count)]
    chars += [rng.choice("".join(pools)) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d\d:?\d\d)?",
    re.IGNORECASE,
)
_US = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)?)?\s*(Z|[+-]\d\d:?\d\d)?",
    re.IGNORECASE,
)


def _offset(text: str | None) -> timezone:
    if not text or text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[-2:])))


def parse_datetime(value: object) -> datetime | None:
    """A UTC datetime from ISO 8601 or Entra's ``M/d/yyyy h:mm:ss tt``; no offset means UTC."""
    text = to_text(value)
    if text is None:
        return None
    if m := _ISO.fullmatch(text.strip()):
        y, mo, d, h, mi, s, frac, tz = m.groups()
        micro = int((frac or "0").ljust(7, "0")[:6])
    elif m := _US.fullmatch(text.strip()):
        mo, d, y, h, mi, s, half, tz = m.groups()
        micro = 0
        if half and int(h) == 12:
            h = "0"
        if half and half.upper() == "PM":
            h = str(int(h) + 12)
    else:
        _fail("expects a date/time (ISO 8601 or M/d/yyyy h:mm:ss tt)")
    parts = (int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro)
    return datetime(*parts, tzinfo=_offset(tz)).astimezone(UTC)


def format_datetime(moment: datetime) -> str:
    """A datetime in Entra's output form, ``M/d/yyyy h:mm:ss tt``."""
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {moment.hour % 12 or 12}:{moment:%M:%S} {half}"


def _add_months(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = year + moment.year, month + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


_INTERVALS: Final = ("yyyy", "m", "d", "ww", "h", "n", "s")
_STEPS: Final = {"d": timedelta(days=1), "ww": timedelta(weeks=1), "h": timedelta(hours=1)} | {
    "n": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
_EPOCH: Final = datetime(1601, 1, 1, tzinfo=UTC)  # Active Directory's FILETIME epoch


def _interval(value: object) -> str:
    interval = to_text(value)
    if interval not in _INTERVALS:
        _fail(f"interval must be one of {', '.join(_INTERVALS)}")
    return interval


@_function("Now", 0, 0)
def _now(args: Args, ctx: EvaluationContext) -> object:
    if ctx.now is None:
        _fail("the evaluation context has no time (EvaluationContext.now)")
    now = ctx.now if ctx.now.tzinfo else ctx.now.replace(tzinfo=UTC)
    return format_datetime(now.astimezone(UTC))


@_function("CDate", 1, 1)
def _cdate(args: Args, ctx: EvaluationContext) -> object:
    moment = parse_datetime(args[0])
    return None if moment is None else format_datetime(moment)


@_function("DateAdd", 3, 3)
def _date_add(args: Args, ctx: EvaluationContext) -> object:
    interval, count, moment = _interval(args[0]), _int(args[1], "value"), parse_datetime(args[2])
    if moment is None:
        return None
    if interval in ("yyyy", "m"):
        return format_datetime(_add_months(moment, count * (12 if interval == "yyyy" else 1)))
    return format_datetime(moment + count * _STEPS[interval])


@_function("DateDiff", 3, 3)
def _date_diff(args: Args, ctx: EvaluationContext) -> object:
    # VB's DateDiff: the count of interval boundaries crossed (weeks start on Sunday).
    interval, first, second = _interval(args[0]), parse_datetime(args[1]), parse_datetime(args[2])
    if first is None or second is None:
        return None
    if interval == "yyyy":
        return second.year - first.year
    if interval == "m":
        return (second.year - first.year) * 12 + second.month - first.month
    if interval in ("d", "ww"):
        a, b = first.date().toordinal(), second.date().toordinal()
        return b - a if interval == "d" else (b - b % 7 - (a - a % 7)) // 7
    return (second - _EPOCH) // _STEPS[interval] - (first - _EPOCH) // _STEPS[interval]


@_function("NumFromDate", 1, 1)
def _num_from_date(args: Args, ctx: EvaluationContext) -> object:
    moment = parse_datetime(args[0])
    return None if moment is None else (moment - _EPOCH) // timedelta(microseconds=1) * 10


@_function("DateFromNum", 1, 1)
def _date_from_num(args: Args, ctx: EvaluationContext) -> object:
    if args[0] is None:
        return None
    return format_datetime(_EPOCH + timedelta(microseconds=_int(args[0], "value") // 10))


# .NET custom date and time format strings: runs of one specifier letter, quoted literals, escapes.
_FORMAT_TOKEN = re.compile(r"(y+|M+|d+|H+|h+|m+|s+|f+|F+|t+|z+|K|'[^']*'|\"[^\"]*\"|\\.|.)", re.DOTALL)
_MONTHS = tuple(calendar.month_name)[1:]
_DAYS = tuple(calendar.day_name)


def _pattern_for(token: str) -> str | None:
    """The regex one format token matches, ``None`` for a literal."""
    kind, size = token[0], len(token)
    if kind in "Md" and size > 2:
        return "|".join(name[:3] if size == 3 else name for name in (_MONTHS if kind == "M" else _DAYS))
    if kind in "MdHhms":
        return r"\d{2}" if size > 1 else r"\d{1,2}"
    patterns = {
        "y": r"\d{4}" if size > 2 else r"\d{2}" if size == 2 else r"\d{1,2}",
        "f": rf"\d{{{size}}}",
        "F": rf"\d{{0,{size}}}",
        "t": "[AP]M" if size > 1 else "[AP]",
        "z": r"[+-]\d\d:\d\d" if size > 2 else r"[+-]\d{1,2}",
        "K": r"Z|[+-]\d\d:\d\d|",
    }
    return patterns.get(kind)


def _literal(token: str) -> str:
    return token[1:-1] if token[0] in "'\"" and len(token) > 1 else token[-1]


def _parse_with(text: str, fmt: str) -> datetime:
    tokens = _FORMAT_TOKEN.findall(fmt)
    parts = [f"({p})" if (p := _pattern_for(t)) is not None else re.escape(_literal(t)) for t in tokens]
    match = re.fullmatch("".join(parts), text.strip(), re.IGNORECASE)
    if match is None:
        _fail("source does not match inputFormat")
    fields: dict[str, Any] = {"y": 1, "M": 1, "d": 1, "H": 0, "m": 0, "s": 0, "f": 0, "t": None, "z": None}
    captured = iter(match.groups())
    for token in (t for t in tokens if _pattern_for(t) is not None):
        value, kind = next(captured), token[0]
        if kind == "M" and len(token) > 2:
            fields["M"] = 1 + [m[:3].lower() for m in _MONTHS].index(value[:3].lower())
        elif kind in "yMdHhms" and not (kind == "d" and len(token) > 2):
            century = 2000 if kind == "y" and len(token) <= 2 else 0
            fields["H" if kind == "h" else kind] = int(value) + century
        elif kind in "fF":
            fields["f"] = int(value.ljust(6, "0")[:6]) if value else 0
        elif kind in "tzK":
            fields["z" if kind in "zK" else "t"] = value
    hour = fields["H"]
    if fields["t"]:  # a 12-hour clock
        hour = hour % 12 + (12 if fields["t"].upper().startswith("P") else 0)
    zone = fields["z"]
    if zone and len(zone) <= 3:
        zone = f"{zone[0]}{int(zone[1:]):02d}:00"
    moment = datetime(fields["y"], fields["M"], fields["d"], hour, fields["m"], fields["s"], fields["f"])
    return moment.replace(tzinfo=_offset(zone)).astimezone(UTC)


def _format_with(moment: datetime, fmt: str) -> str:
    out = []
    fields = {"M": moment.month, "d": moment.day, "H": moment.hour, "h": moment.hour % 12 or 12}
    fields |= {"m": moment.minute, "s": moment.second}
    for token in _FORMAT_TOKEN.findall(fmt):
        kind, size = token[0], len(token)
        if kind == "y":
            out.append(f"{moment.year:04d}" if size > 2 else f"{moment.year % 100:0{size}d}")
        elif kind == "M" and size > 2:
            out.append(_MONTHS[moment.month - 1][: 3 if size == 3 else None])
        elif kind == "d" and size > 2:
            out.append(_DAYS[moment.weekday()][: 3 if size == 3 else None])
        elif kind in fields:
            out.append(f"{fields[kind]:0{min(size, 2)}d}")
        elif kind in "fF":
            digits = f"{moment.microsecond:06d}0"[:size]
            out.append(digits.rstrip("0") if kind == "F" else digits)
        elif kind == "t":
            out.append(("AM" if moment.hour < 12 else "PM")[:size])
        elif kind == "z":
            out.append("+00:00" if size > 2 else "+00" if size == 2 else "+0")
        elif kind == "K":
            out.append("Z")
        else:
            out.append(_literal(token))
    return "".join(out)


@_function("FormatDateTime", 4, 4)
def _format_date_time(args: Args, ctx: EvaluationContext) -> object:
    # dateTimeStyles (args[1]) is accepted and ignored: parsing always allows surrounding spaces
    # and converts an offset to UTC, which is what Entra's default styles do on its UTC hosts.
    source, in_format, out_format = to_text(args[0]), to_text(args[2]), to_text(args[3])
    if not in_format or not out_format:
        _fail("inputFormat and outputFormat are required")
    return None if source is None else _format_with(_parse_with(source, in_format), out_format)
