"""Listings by cursor only (RFC 9865), as AWS IAM Identity Center and Entra ID page.

Sources: docs.aws.amazon.com/singlesignon/latest/developerguide/listusers.html (``startIndex``
refused, 100 a page) and Entra's SCIM API reference. The paging itself is
:mod:`tests.support.cursor_bends`, shared with the hostile proxy; this is it as a
:class:`~tests.support.quirk_target.Behaviour`.
"""

from __future__ import annotations

from dataclasses import replace

from tests.support import cursor_bends
from tests.support.quirk_target import Behaviour, QuirkTarget, Request, Response


def _listing(request: Request) -> bool:
    return (
        request.method == "GET"
        and request.id is None
        and request.resource in ("Users", "Groups")
        and request.param("filter") is None
    )


class CursorPages(Behaviour):
    """400 to a listing with ``startIndex``; pages by an opaque cursor; announced in discovery."""

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        if not _listing(request):
            return None
        served = cursor_bends.serve(list(request.query))
        if isinstance(served, cursor_bends.Refused):
            return Response(served.status, served.body)
        return None

    def rewrite(self, request: Request, target: QuirkTarget) -> Request:
        if not _listing(request):
            return request
        served = cursor_bends.serve(list(request.query))
        assert isinstance(served, cursor_bends.Served)
        return replace(request, query=tuple(served.query))

    def bend(self, request: Request, response: Response, target: QuirkTarget) -> Response:
        if response.status != 200 or not response.body:
            return response
        if request.resource == "ServiceProviderConfig":
            return replace(response, body=cursor_bends.announce(response.body))
        if not _listing(request):
            return response
        offset = int(request.param("startIndex") or 1)
        served = cursor_bends.Served(list(request.query), "", offset)
        return replace(response, body=cursor_bends.bend("cursor_only", served, response.body))
