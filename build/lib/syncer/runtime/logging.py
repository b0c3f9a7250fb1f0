"""structlog, configured once: console lines on a terminal, JSON lines otherwise.

Secrets never reach a log line: any field whose name says it holds a credential is replaced
before rendering, whatever code logged it. Tracebacks never show local variables (a cycle's
locals hold the config with its expanded tokens); in JSON mode the traceback is kept as text.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_WORDS = ("token", "password", "secret", "authorization", "credential")


def redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(word in key.lower() for word in _SECRET_WORDS):
            event[key] = "[Redact]"
    return event


def configure(*, json: bool | None = None, level: str = "info", stream: Any = None) -> None:
    """Set up structlog for the process; ``json=None`` picks by whether stderr is a terminal."""
    out = stream or sys.stderr
    use_json = (not out.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    # JSON: the traceback as text in "exception" (without this, the line said only "exc_info": true)
    tracebacks: list[Any] = [structlog.processors.format_exc_info] if use_json else []
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            *tracebacks,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
