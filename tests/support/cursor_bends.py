"""How :mod:`tests.support.hostile` makes scim2-server a cursor-only target (RFC 9865), as AWS IAM
Identity Center and Entra ID acting as a SCIM server are.

``cursor_only``
    A listing with ``startIndex`` answers 400, as AWS does. One with ``cursor`` (empty for the
    first page) or with neither is served from the upstream's index pages: the cursor is the
    upstream ``startIndex``, encoded opaquely (URL-safe base64); ``count`` is capped at
    :data:`MAX_PAGE`; the answer carries ``nextCursor`` while resources are left and no
    ``startIndex``. A cursor that does not decode answers 400 ``invalidCursor``.
    ``/ServiceProviderConfig`` announces ``pagination`` with ``cursor: true, index: false``.
``repeat_cursor``
    The same, except that every page past the first answers, as its ``nextCursor``, the cursor it
    was asked with: a client that follows it asks for the same page forever.

Filtered queries (a lookup's ``filter``, ``count=2``) are not listings and pass unchanged.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

MODES = ("cursor_only", "repeat_cursor")
MAX_PAGE = 100
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@dataclass(frozen=True, slots=True)
class Served:
    """How one cursor request is asked upstream: its query, and where its page starts."""

    query: list[tuple[str, str]]
    cursor: str
    offset: int


@dataclass(frozen=True, slots=True)
class Refused:
    status: int
    body: bytes


def encode(offset: int) -> str:
    """An opaque cursor for a 1-based upstream offset (only RFC 3986 unreserved characters)."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, _, number = text.partition(":")
    return int(number) if kind == "offset" and number.isdigit() and int(number) >= 1 else None


def serve(query: list[tuple[str, str]]) -> Served | Refused:
    """The upstream query for a listing request, or the 400 a cursor-only target answers."""
    params = dict(query)
    if "startIndex" in params:
        return _refused("invalidValue", "startIndex is not supported: page with cursor")
    cursor = params.get("cursor", "")
    offset = decode(cursor) if cursor else 1
    if offset is None:
        return _refused("invalidCursor", "the cursor is not one this service provider issued")
    try:
        count = min(int(params.get("count", MAX_PAGE)), MAX_PAGE)
    except ValueError:
        return _refused("invalidCount", "count is not a number")
    kept = [(k, v) for k, v in query if k not in ("cursor", "count")]
    return Served([*kept, ("startIndex", str(offset)), ("count", str(count))], cursor, offset)


def answer(mode: str, served: Served | None, endpoint: str | None, content: bytes) -> bytes:
    """The answer of a GET as the cursor-only target gives it (``served``: it was a listing)."""
    if served is not None:
        return bend(mode, served, content)
    if endpoint == "ServiceProviderConfig":
        return announce(content)
    return content


def bend(mode: str, served: Served, content: bytes) -> bytes:
    """The upstream index page as a cursor page: ``nextCursor`` while resources are left."""
    data: Any = json.loads(content)
    resources = data.get("Resources") or []
    data.pop("startIndex", None)
    following = served.offset + len(resources)
    if resources and following <= int(data.get("totalResults", 0)):
        data["nextCursor"] = served.cursor if mode == "repeat_cursor" and served.cursor else encode(following)
    return json.dumps(data).encode()


def announce(content: bytes) -> bytes:
    """``/ServiceProviderConfig`` with RFC 9865's ``pagination`` section of a cursor-only target."""
    data: Any = json.loads(content)
    data["pagination"] = {
        "cursor": True,
        "index": False,
        "defaultPaginationMethod": "cursor",
        "defaultPageSize": MAX_PAGE,
        "maxPageSize": MAX_PAGE,
        "cursorTimeout": 600,
    }
    return json.dumps(data).encode()


def _refused(scim_type: str, detail: str) -> Refused:
    body = {"schemas": [ERROR], "status": "400", "scimType": scim_type, "detail": detail}
    return Refused(400, json.dumps(body).encode())
