"""The test servers' threads never run ``ast.parse`` at once (CPython 3.11's shared AST state)."""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable

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


def _waits_for_the_lock(construct: Callable[[], object]) -> None:
    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(construct()))
    with AST_LOCK:  # as if another thread were constructing an AST
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive() and not done
    worker.join(timeout=10)
    assert not worker.is_alive() and done


def test_compile_asked_for_an_ast_waits_too() -> None:
    """anyio's lazy-import map: ``compile(source, ..., ast.PyCF_ONLY_AST)``, not ``ast.parse``."""
    _waits_for_the_lock(lambda: compile("x = 1", "<test>", "exec", ast.PyCF_ONLY_AST))


def test_compile_of_an_ast_waits_too() -> None:
    """pytest's assertion rewriting compiles the tree it rewrote."""
    tree = ast.parse("x = 1")
    _waits_for_the_lock(lambda: compile(tree, "<test>", "exec"))


def test_compile_keeps_the_callers_future_statements() -> None:
    """This module has ``from __future__ import annotations``: what it compiles does too."""
    namespace: dict[str, object] = {}
    exec(compile("def f(x: NotDefinedAnywhere) -> None: pass", "<test>", "exec"), namespace)
    assert namespace["f"].__annotations__ == {"x": "NotDefinedAnywhere", "return": "None"}  # type: ignore[attr-defined]
    plain = compile("def f(x: NotDefinedAnywhere) -> None: pass", "<test>", "exec", dont_inherit=True)
    try:
        exec(plain, {})
    except NameError:
        pass
    else:
        raise AssertionError("dont_inherit=True must not take this module's future statements")
