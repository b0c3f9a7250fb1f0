"""What a value in a source file may be: JSON-like, not too long, no control characters.

Split from :mod:`.files` (reading the files) so the rules for one value stand on their own.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from typing import Any

_SCALARS = (str, bool, int, float, type(None))

MAX_VALUE = 131_072
"""The longest text one attribute value may hold, in characters (Python's own CSV cell limit)."""

# A cell past MAX_VALUE skips its record instead of failing the whole CSV read: the parser may
# take far longer cells, and the record check below refuses them one by one.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))

_CONTROL = frozenset(chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))) - {"\t", "\n", "\r"}
"""Never in a directory value: NUL, escape sequences and the other C0/C1 controls (tab and line ends
are allowed in free text; identity values refuse them too, in ``core.intake``)."""


def controls(text: str) -> bool:
    return not _CONTROL.isdisjoint(text)


def text_problem(value: Any) -> str | None:
    """Why a plain value cannot be imported: too long, or a control character in it."""
    if not isinstance(value, str):
        return None
    if len(value) > MAX_VALUE:
        return f"is {len(value)} characters long, more than {MAX_VALUE}"
    if controls(value):
        return "holds a control character (NUL, escape or another C0/C1 control)"
    return None


def value_problem(value: Any) -> str | None:
    """Why a value is not JSON-like (scalar or list of scalars) or not importable, or ``None``."""
    if isinstance(value, _SCALARS):
        return text_problem(value)
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if not isinstance(item, _SCALARS):
                return f"holds {type_name(item)} at [{index}]; a list may hold only plain values"
            problem = text_problem(item)
            if problem:
                return f"[{index}] {problem}"
        return None
    if isinstance(value, Mapping):
        return "is a nested mapping; attributes must be plain values or lists of them"
    return f"is {type_name(value)}, not a JSON value"


APP_ROLES = "appRoleAssignments"
"""The one attribute whose values may be objects: ``{id, value, displayName}`` per assigned app role."""


def roles_problem(value: Any) -> str | None:
    """Why an appRoleAssignments value is not a list of roles (flat objects or plain values)."""
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        return f"is {type_name(value)}; expected a list of app role assignments"
    for index, item in enumerate(value):
        if isinstance(item, Mapping):
            bad = next((k for k, v in item.items() if not isinstance(v, _SCALARS)), None)
            if bad is not None:
                return f"holds a nested value under {bad!r} at [{index}]; expected {{id, value, displayName}}"
        elif not isinstance(item, _SCALARS):
            return f"holds {type_name(item)} at [{index}]; expected {{id, value, displayName}} or a value"
    return None


def type_name(value: Any) -> str:
    """The JSON word for a value's type, since the person reading the reason wrote JSON or YAML."""
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"
