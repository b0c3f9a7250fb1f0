"""How far a running cycle is: phase, objects done of total, requests per second, errors.

One tracker per cycle, fed by the executor's progress callback and by every SCIM request (the
client's request observer); the CLI draws it as a bar, the daemon logs it as ``cycle_progress``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from syncer.adapters.scim.client import RequestObserver, request_observer


@dataclass(frozen=True)
class ProgressView:
    """A snapshot of a cycle's progress."""

    phase: str
    done: int
    total: int | None
    requests: int
    errors: int
    elapsed: float

    @property
    def rate(self) -> float:
        """Requests per second since the cycle started."""
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0


class ProgressTracker:
    """Counts what a cycle did so far; ``on_update`` is called after every change and request."""

    def __init__(
        self,
        on_update: Callable[[ProgressView], None] | None = None,
        also: RequestObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._started = clock()
        self._on_update = on_update
        self._also = also
        self.phase = "reading and matching"
        self.done = 0
        self.total: int | None = None
        self.requests = 0
        self.errors = 0

    def view(self) -> ProgressView:
        return ProgressView(
            self.phase, self.done, self.total, self.requests, self.errors, self._clock() - self._started
        )

    def on_progress(self, done: int, total: int) -> None:
        """The executor's callback: ``done`` of ``total`` changes sent."""
        self.phase = "applying changes"
        self.done, self.total = done, total
        if self._on_update:
            self._on_update(self.view())

    def on_request(self, method: str, status: int | None, seconds: float) -> None:
        """The SCIM client's observer: one attempt of one request."""
        self.requests += 1
        if status is None or status >= 400:
            self.errors += 1
        if self._also is not None:
            self._also(method, status, seconds)
        if self._on_update:
            self._on_update(self.view())

    @contextlib.contextmanager
    def observing(self) -> Iterator[ProgressTracker]:
        """Count every request sent from this context (and the tasks it starts)."""
        token = request_observer.set(self.on_request)
        try:
            yield self
        finally:
            request_observer.reset(token)


class Throttle:
    """Call ``emit`` at most once per ``every`` seconds (the daemon's periodic progress events)."""

    def __init__(
        self, every: float, emit: Callable[[ProgressView], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._every, self._emit, self._clock = every, emit, clock
        self._last = clock()

    def __call__(self, view: ProgressView) -> None:
        now = self._clock()
        if now - self._last >= self._every:
            self._last = now
            self._emit(view)
