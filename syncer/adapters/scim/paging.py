"""Reading a whole listing, page by page: by ``startIndex`` (RFC 7644 §3.4.2.4) or by cursor (RFC 9865).

Each page is sent through the client's ``send`` (retries, pacing, auth); :class:`~.listing.ListingCheck`
holds the pages to what they announce, so a listing can neither stop short nor run on. A 400 to a
page says which ``pagination`` setting would help: most such 400s are the wrong method.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from syncer.errors import PermanentTargetError
from syncer.types import ObjectKind, Pagination

from . import protocol
from .listing import ListingCheck
from .protocol import ScimRequest

Send = Callable[[ScimRequest], Awaitable[Any]]
CURSOR_REFUSED = frozenset({"invalidCursor", "expiredCursor"})
"""RFC 9865 §2.1: the target no longer takes the cursor it handed out (too slow, or restarted)."""


async def index_listing(
    send: Send,
    kind: ObjectKind,
    page_size: int,
    attributes: Sequence[str] | None,
    excluded_attributes: Sequence[str] | None,
) -> AsyncIterator[dict[str, Any]]:
    """Every resource of a kind by ``startIndex``, then one one-item page past the end.

    The next page starts after what the server actually returned, not after the ``count`` asked
    for: scim2-server caps ``count`` at 1000 without saying so.
    """
    start = 1
    check = ListingCheck(str(protocol.prepare_list(kind, start, page_size)))
    while True:
        request = protocol.prepare_list(kind, start, page_size, attributes, excluded_attributes)
        resources, total, _, _ = protocol.parse_list(await _page(send, request, Pagination.INDEX))
        check.page(start, resources, total)
        for resource in resources:
            yield resource
        start += len(resources)
        if check.complete:
            break
    if start > 1:
        request = protocol.prepare_list(kind, start, 1, attributes=["id"])
        resources, total, _, _ = protocol.parse_list(await send(request))
        check.end(start, resources, total)


async def cursor_listing(
    send: Send,
    kind: ObjectKind,
    page_size: int,
    attributes: Sequence[str] | None,
    excluded_attributes: Sequence[str] | None,
) -> AsyncIterator[dict[str, Any]]:
    """Every resource of a kind by cursor: an empty ``cursor`` first, then each ``nextCursor``
    until a page carries none. A repeated id, a changing or unmet ``totalResults`` and a
    ``nextCursor`` answered twice (a loop) fail the listing.
    """
    cursor = ""
    check = ListingCheck(str(protocol.prepare_cursor_page(kind, cursor, page_size)))
    while True:
        request = protocol.prepare_cursor_page(kind, cursor, page_size, attributes, excluded_attributes)
        page = protocol.parse_cursor_page(await _page(send, request, Pagination.CURSOR))
        check.cursor_page(page.resources, page.total, page.next_cursor)
        for resource in page.resources:
            yield resource
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def _page(send: Send, request: ScimRequest, pagination: Pagination) -> Any:
    try:
        return await send(request)
    except PermanentTargetError as exc:
        if exc.status != 400:
            raise
        raise _listing_hint(exc, pagination) from None


def _listing_hint(exc: PermanentTargetError, pagination: Pagination) -> PermanentTargetError:
    """A 400 to a page, with what to change: most such 400s are the wrong pagination method."""
    if exc.scim_type in CURSOR_REFUSED:
        hint = (
            "the target no longer takes the cursor it answered (a listing slower than its "
            "cursorTimeout loses it); the next cycle lists again from the start"
        )
    elif pagination is Pagination.INDEX:
        hint = (
            "if it pages only by cursor (RFC 9865), as AWS IAM Identity Center does, set `pagination: cursor`"
        )
    else:
        hint = "if it does not page by cursor (RFC 9865), set `pagination: index`"
    return PermanentTargetError(
        f"{exc}; {hint}",
        status=exc.status,
        scim_type=exc.scim_type,
        detail=exc.detail,
        scim_error=exc.scim_error,
    )
