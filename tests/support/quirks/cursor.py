"""Listings by cursor only (RFC 9865), as AWS IAM Identity Center and Entra ID as a target page.

Sources: docs.aws.amazon.com/singlesignon/latest/developerguide/listusers.html ("ListUsers ...
cursor-based pagination; startIndex is not supported", 100 a page) and learn.microsoft.com
entra-id-scim-api-reference (cursor pagination, page size up to 100). The serving is
:mod:`tests.support.cursor_bends`' (the hostile proxy's ``cursor_only`` mode); a target that does
not announce it (``announce=False``) is what a profile must know about without discovery.
"""

from __future__ import annotations

from dataclasses import replace

from tests.support import cursor_bends
from tests.support.quirk_target import Behaviour, QuirkTarget, Request, Response


def is_listing(request: Request) -> bool:
    return (
        request.method == "GET"
        and request.resource in ("Users", "Groups")
        and request.id is None
        and request.param("filter") is None
    )


class CursorOnly(Behaviour):
    """400 to ``startIndex``; ``cursor`` served from the server's index pages, 100 at most."""

    def __init__(self, *, announce: bool = False) -> None:
        self.announce = announce

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        if not is_listing(request):
            return None
        served = cursor_bends.serve(list(request.query))
        if isinstance(served, cursor_bends.Refused):
            return Response(served.status, served.body)
        return None

    def rewrite(self, request: Request, target: QuirkTarget) -> Request:
        if not is_listing(request):
            return request
        served = cursor_bends.serve(list(request.query))
        assert isinstance(served, cursor_bends.Served)  # refused ones never get here
        return replace(request, query=tuple(served.query))

    def bend(self, request: Request, response: Response, target: QuirkTarget) -> Response:
        if response.status != 200:
            return response
        if is_listing(request):
            offset = int(request.param("startIndex") or 1)
            served = cursor_bends.Served(list(request.query), cursor_bends.encode(offset), offset)
            return replace(response, body=cursor_bends.bend("cursor_only", served, response.body))
        if self.announce and request.resource == "ServiceProviderConfig":
            return replace(response, body=cursor_bends.announce(response.body))
        return response
