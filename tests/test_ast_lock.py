"""The test servers' threads never run ``ast.parse`` at once (CPython 3.11's shared AST state)."""

from __future__ import annotations

import ast
import threading

from tests.support import AST_LOCK


def test_ast_parse_waits_for_another_thread_inside_it() -> None:
    parsed: list[ast.Module] = []
    worker = threading.Thread(target=lambda: parsed.append(ast.parse("x = 1")))
    with AST_LOCK:  # as if another thread were inside ast.parse
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive() and not parsed  # it waits: no two AST constructions at once
    worker.join(timeout=10)
    assert not worker.is_alive() and isinstance(parsed[0], ast.Module)
