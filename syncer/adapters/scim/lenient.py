"""JSON fields read as real SCIM targets send them: booleans as strings, counts as text, lists bare.

RFC 7644 §4's discovery answers are where targets stray most, and a stray field must read as
*unknown* (``None``), never as "unsupported" or an error: the job's settings then stand.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

E = TypeVar("E", bound=enum.Enum)


def resources_of(data: Any) -> list[Mapping[str, Any]]:
    if isinstance(data, Mapping):
        listed = data.get("Resources")
        items = listed if isinstance(listed, list) else ([] if "totalResults" in data else [data])
    elif isinstance(data, list):
        items = data
    else:
        items = []
    return [i for i in items if isinstance(i, Mapping)]


def section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def flag(data: Mapping[str, Any], key: str) -> bool | None:
    return boolean(section(data, key).get("supported"))


def boolean(value: Any) -> bool | None:
    """A JSON boolean, or the strings ``"true"``/``"false"`` some servers send; else unknown."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def positive(value: Any) -> int | None:
    """A count that must be above zero (a ``maxPageSize`` of 0 would stop every listing)."""
    number = count(value)
    return number if number else None


def member_of(kind: type[E], value: Any, default: E) -> E:
    for member in kind:
        if isinstance(value, str) and member.value.lower() == value.lower():
            return member
    return default
