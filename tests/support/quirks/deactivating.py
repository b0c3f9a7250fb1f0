"""Targets where ``DELETE /Users/{id}`` deactivates: the account stays, with ``active: false``.

Slack (docs.slack.dev/reference/scim-api: "DELETE /Users/{id}" sets the user inactive) and Asana
(developers.asana.com/docs/scim: a DELETE deprovisions the user as ``active: false`` does) keep
the account, so a client creating it again for a returner gets 409 (its userName is taken).
Shared by tests/support/quirks/slack.py and asana.py.
"""

from __future__ import annotations

import json
from dataclasses import replace

from tests.support.quirk_target import Behaviour, QuirkTarget, Request, Response

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class DeleteDeactivates(Behaviour):
    """A DELETE of a user is performed upstream as a PATCH ``active: false``, answered 204."""

    def __init__(self) -> None:
        self._deactivations: set[int] = set()

    def rewrite(self, request: Request, target: QuirkTarget) -> Request:
        if request.method != "DELETE" or request.resource != "Users" or request.id is None:
            return request
        body = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": False}]}
        headers = {**request.headers, "Content-Type": "application/scim+json"}
        performed = replace(request, method="PATCH", headers=headers, body=json.dumps(body).encode())
        with target.lock:
            self._deactivations.add(id(performed))
        return performed

    def bend(self, request: Request, response: Response, target: QuirkTarget) -> Response:
        with target.lock:
            if id(request) not in self._deactivations:
                return response
            self._deactivations.discard(id(request))
        if response.status != 200:
            return response
        return Response(204, b"", {})
