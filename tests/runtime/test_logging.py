"""Crash tracebacks in the log: never the locals (they hold the expanded config), always the stack."""

from __future__ import annotations

import io
import json

import pytest
import structlog

from syncer.runtime import logging as runtime_logging

CANARY = "canary-token-7f3a9c"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _crash() -> None:
    config_document = {"target": {"token": CANARY}}  # a local, as in run_cycle
    size = len(config_document)
    raise RuntimeError(f"boom with {size} key")


def _log_a_crash(json_mode: bool | None, stream: io.StringIO) -> str:
    runtime_logging.configure(json=json_mode, level="info", stream=stream)
    log = structlog.get_logger("syncer.test")
    try:
        _crash()
    except RuntimeError:
        log.exception("cycle_crashed")
    return stream.getvalue()


@pytest.mark.parametrize("json_mode", [False, None])
def test_a_console_traceback_shows_no_locals(json_mode: bool | None) -> None:
    text = _log_a_crash(json_mode, _Terminal())
    assert "cycle_crashed" in text and "RuntimeError: boom with 1 key" in text
    assert "_crash" in text  # the stack is there
    assert CANARY not in text and "config_document" not in text


def test_a_json_log_line_keeps_the_traceback_text_without_locals() -> None:
    text = _log_a_crash(True, io.StringIO())
    [line] = text.splitlines()
    record = json.loads(line)
    assert record["event"] == "cycle_crashed"
    assert "Traceback (most recent call last)" in record["exception"]
    assert "RuntimeError: boom with 1 key" in record["exception"] and "_crash" in record["exception"]
    assert CANARY not in line and "config_document" not in line
