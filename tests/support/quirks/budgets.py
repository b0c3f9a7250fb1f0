"""A write budget counted as a target counts it: writes in the last ``window`` seconds, 429 past ``limit``.

GitHub EMU (1,000 user writes an hour) and Slack (600 writes and 180 user writes a minute, per
organisation) both refuse writes past a count; the emulation counts arrivals in a sliding window,
the strictest way a target can count, so a client paced to the budget passes any target's way.
"""

from __future__ import annotations

import collections
import time

from tests.support.quirk_target import Behaviour, QuirkTarget, Request, Response, scim_error


class WriteWindow(Behaviour):
    """429 (``Retry-After: 1``) to a write past ``limit`` in the last ``window`` seconds."""

    def __init__(self, limit: int, window: float, *, users_only: bool = False) -> None:
        self.limit, self.window, self.users_only = limit, window, users_only
        self._arrivals: collections.deque[float] = collections.deque()

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        if not request.is_write or (self.users_only and request.resource != "Users"):
            return None
        now = time.monotonic()
        with target.lock:
            while self._arrivals and self._arrivals[0] <= now - self.window:
                self._arrivals.popleft()
            if len(self._arrivals) >= self.limit:
                answer = scim_error(429, f"rate limited: more than {self.limit} writes in {self.window:g}s")
                answer.headers["Retry-After"] = "1"
                return answer
            self._arrivals.append(now)
        return None
