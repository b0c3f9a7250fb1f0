"""Slack's SCIM API: per-organisation write budgets, deactivating deletes, SCIM 1.1's discovery name.

Sources: docs.slack.dev/reference/scim-api/rate-limits (600 writes a minute and 180 user writes a
minute per organisation, shared by every SCIM app); docs.slack.dev/reference/scim-api (``DELETE
/Users/{id}`` deactivates); ``/ServiceProviderConfigs`` (plural, SCIM 1.1's name) rather than RFC
7644's singular (goauthentik.io's Slack compatibility mode notes it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tests.support.quirk_target import Behaviour, QuirkTarget, Request, Response, scim_error
from tests.support.quirks.budgets import WriteWindow
from tests.support.quirks.deactivating import DeleteDeactivates

SINGULAR, PLURAL = "ServiceProviderConfig", "ServiceProviderConfigs"


class PluralDiscovery(Behaviour):
    """404 at ``/ServiceProviderConfig``; ``/ServiceProviderConfigs`` serves upstream's singular."""

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        if request.resource == SINGULAR:
            return scim_error(404, "Resource ServiceProviderConfig not found")
        return None

    def rewrite(self, request: Request, target: QuirkTarget) -> Request:
        if request.resource == PLURAL:
            return replace(request, path=f"/{SINGULAR}")
        return request


def emulation() -> Sequence[Behaviour]:
    return [
        WriteWindow(600, 60.0),
        WriteWindow(180, 60.0, users_only=True),
        DeleteDeactivates(),
        PluralDiscovery(),
    ]
