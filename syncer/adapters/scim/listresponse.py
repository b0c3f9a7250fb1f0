"""A ListResponse read as RFC 7644 §3.4.2 (index pages) and RFC 9865 §2 (cursor pages) define it.

A page is checked for shape here; whether the pages add up to the whole listing is
:class:`~.listing.ListingCheck`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncer.errors import MalformedResponseError


def parse_list(data: Any) -> tuple[list[dict[str, Any]], int, int, int]:
    """``(resources, totalResults, itemsPerPage, startIndex)`` of a ListResponse (RFC 7644 §3.4.2).

    ``Resources`` may be left out of an empty page (a ``count=0`` page, or one past the end);
    telling a truncated listing from a finished one is the paginating caller's job.
    """
    if not isinstance(data, Mapping):
        raise MalformedResponseError("expected a SCIM ListResponse, got " + type(data).__name__)
    total = data.get("totalResults")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise MalformedResponseError("SCIM ListResponse without a valid totalResults")
    resources = data.get("Resources", [])
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        raise MalformedResponseError("SCIM ListResponse whose Resources is not a list of objects")
    per_page = _int_or(data.get("itemsPerPage"), len(resources))
    start = _int_or(data.get("startIndex"), 1)
    return resources, total, per_page, start


def _int_or(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@dataclass(frozen=True, slots=True)
class CursorPage:
    """One cursor page: ``next_cursor`` is ``None`` on the last page, ``total`` when the target says."""

    resources: list[dict[str, Any]]
    total: int | None
    next_cursor: str | None


def parse_cursor_page(data: Any) -> CursorPage:
    """A cursor page of a ListResponse (RFC 9865 §2); ``totalResults`` may be left out.

    A ``nextCursor`` that is there but not a string (or empty) is refused: it cannot be sent back,
    and reading it as "no more pages" would pass the first pages off as the whole listing.
    """
    if not isinstance(data, Mapping):
        raise MalformedResponseError("expected a SCIM ListResponse, got " + type(data).__name__)
    total = data.get("totalResults")
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
        raise MalformedResponseError("SCIM ListResponse with an invalid totalResults")
    resources = data.get("Resources", [])
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        raise MalformedResponseError("SCIM ListResponse whose Resources is not a list of objects")
    next_cursor = data.get("nextCursor")
    if next_cursor is not None and not (isinstance(next_cursor, str) and next_cursor):
        raise MalformedResponseError("SCIM ListResponse whose nextCursor is not a non-empty string")
    return CursorPage(resources, total, next_cursor)
