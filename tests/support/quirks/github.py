"""GitHub Enterprise Managed Users: one writer at a time, a ``User-Agent``, 1,000 user writes an hour.

Source: docs.github.com/en/enterprise-cloud@latest/admin/managing-iam/provisioning-user-accounts-with-scim/
provisioning-users-and-groups-with-scim-using-the-rest-api ("send requests one at a time": parallel
provisioning requests are refused; every REST request needs a ``User-Agent``; at most 1,000 user
writes an hour).
"""

from __future__ import annotations

from collections.abc import Sequence

from tests.support.quirk_target import Behaviour, QuirkTarget, Request, Response, scim_error
from tests.support.quirks.budgets import WriteWindow


class OneWriterAtATime(Behaviour):
    """429 to a request arriving while another is in flight; :attr:`max_in_flight` is the most seen."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.max_in_flight = 0
        self._admitted: set[int] = set()

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        with target.lock:
            if self.in_flight:
                return scim_error(
                    429, "Too many concurrent requests: send provisioning requests one at a time"
                )
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._admitted.add(id(request))
        return None

    def done(self, request: Request, target: QuirkTarget) -> None:
        with target.lock:
            if id(request) in self._admitted:
                self._admitted.discard(id(request))
                self.in_flight -= 1


class RequireUserAgent(Behaviour):
    """403 to a request without a ``User-Agent`` header, as GitHub's REST API answers it."""

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        if not (request.header("User-Agent") or "").strip():
            return scim_error(
                403,
                "Request forbidden by administrative rules: send a User-Agent header",
            )
        return None


def emulation() -> Sequence[Behaviour]:
    return [OneWriterAtATime(), RequireUserAgent(), WriteWindow(1000, 3600.0, users_only=True)]
