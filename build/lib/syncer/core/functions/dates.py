"""Date functions: Now, CDate, DateAdd, DateDiff, NumFromDate, DateFromNum, FormatDateTime.

Dates travel as strings in Entra's ``M/d/yyyy h:mm:ss tt`` form (UTC), because values stay
JSON-like; the date functions parse that form and ISO 8601.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from syncer.core.functions.registry import (
    Args,
    EvaluationContext,
    fail,
    function,
    to_text,
    whole,
)

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
        fail("expects a date/time (ISO 8601 or M/d/yyyy h:mm:ss tt)")
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
        fail(f"interval must be one of {', '.join(_INTERVALS)}")
    return interval


@function("Now", 0, 0)
def _now(args: Args, ctx: EvaluationContext) -> object:
    if ctx.now is None:
        fail("the evaluation context has no time (EvaluationContext.now)")
    now = ctx.now if ctx.now.tzinfo else ctx.now.replace(tzinfo=UTC)
    return format_datetime(now.astimezone(UTC))


@function("CDate", 1, 1)
def _cdate(args: Args, ctx: EvaluationContext) -> object:
    moment = parse_datetime(args[0])
    return None if moment is None else format_datetime(moment)


@function("DateAdd", 3, 3)
def _date_add(args: Args, ctx: EvaluationContext) -> object:
    interval, count, moment = _interval(args[0]), whole(args[1], "value"), parse_datetime(args[2])
    if moment is None:
        return None
    if interval in ("yyyy", "m"):
        return format_datetime(_add_months(moment, count * (12 if interval == "yyyy" else 1)))
    return format_datetime(moment + count * _STEPS[interval])


@function("DateDiff", 3, 3)
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


@function("NumFromDate", 1, 1)
def _num_from_date(args: Args, ctx: EvaluationContext) -> object:
    moment = parse_datetime(args[0])
    return None if moment is None else (moment - _EPOCH) // timedelta(microseconds=1) * 10


@function("DateFromNum", 1, 1)
def _date_from_num(args: Args, ctx: EvaluationContext) -> object:
    if args[0] is None:
        return None
    return format_datetime(_EPOCH + timedelta(microseconds=whole(args[0], "value") // 10))


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
        fail("source does not match inputFormat")
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


@function("FormatDateTime", 4, 4)
def _format_date_time(args: Args, ctx: EvaluationContext) -> object:
    # dateTimeStyles (args[1]) is accepted and ignored: parsing always allows surrounding spaces
    # and converts an offset to UTC, which is what Entra's default styles do on its UTC hosts.
    source, in_format, out_format = to_text(args[0]), to_text(args[2]), to_text(args[3])
    if not in_format or not out_format:
        fail("inputFormat and outputFormat are required")
    return None if source is None else _format_with(_parse_with(source, in_format), out_format)
