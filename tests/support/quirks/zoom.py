"""Zoom's SCIM API refuses a request that does not accept ``application/scim+json``.

Source: developers.zoom.us/docs/api/rest/reference/scim-api (every request: ``Accept:
application/scim+json``; ``Content-Type: application/scim+json`` on writes).
"""

from __future__ import annotations

from collections.abc import Sequence

from tests.support.quirk_target import Behaviour, QuirkTarget, Request, Response, scim_error

SCIM_JSON = "application/scim+json"


class RequireScimAccept(Behaviour):
    """406 to a request whose ``Accept`` lacks ``application/scim+json``; 415 to a write without it."""

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        if SCIM_JSON not in (request.header("Accept") or ""):
            return scim_error(406, "Accept must be application/scim+json")
        if request.body and SCIM_JSON not in (request.header("Content-Type") or ""):
            return scim_error(415, "Content-Type must be application/scim+json")
        return None


def emulation() -> Sequence[Behaviour]:
    return [RequireScimAccept()]
