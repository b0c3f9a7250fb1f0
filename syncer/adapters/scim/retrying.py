"""When a SCIM request is tried again, and how each retry is logged.

GET, PATCH and DELETE are idempotent here (PATCH replaces values and adds members as a set), so
every transient failure and every malformed answer is retried. A POST is only retried when the
target certainly did not act on it (no connection, 429, 503): otherwise the caller gets the
error and looks the object up before creating it again.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from syncer.errors import MalformedResponseError, TransientTargetError

from .pacing import Backoff
from .protocol import ScimRequest

log = structlog.get_logger("syncer.scim")


def retrying(request: ScimRequest, attempts: int, wait: Backoff) -> AsyncRetrying:
    """Up to ``attempts`` tries of ``request``, ``wait`` apart; the last error is raised as it is."""
    return AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait,
        retry=retry_if_exception(partial(_worth_retrying, request.method)),
        before_sleep=_log_retry(request),
        reraise=True,
    )


def _worth_retrying(method: str, exc: BaseException) -> bool:
    if method != "POST":
        return isinstance(exc, TransientTargetError | MalformedResponseError)
    return isinstance(exc, TransientTargetError) and not exc.maybe_processed


def _log_retry(request: ScimRequest) -> Any:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "scim.retry",
            method=request.method,
            path=request.path,
            attempt=state.attempt_number,
            status=getattr(exc, "status", None),
            error=type(exc).__name__,
            wait_s=round(state.upcoming_sleep, 3),
        )

    return before_sleep
