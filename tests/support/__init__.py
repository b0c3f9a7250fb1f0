"""Real servers for the tests (and ``make demo``), started on 127.0.0.1.

Importing this package serialises :func:`ast.parse`. CPython 3.11 keeps one AST-construction
state per interpreter, so two threads turning a parse into Python objects at once can fail with
``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905, fixed in 3.12).
Our threaded servers hit it: scim2-models builds its pydantic models with
``use_attribute_docstrings=True``, and pydantic ``ast.parse``s a class's source whenever a
parametrised model (``User[EnterpriseUser]``) is first built, which happens on request threads.
One lock around every AST construction in the process makes that impossible instead of rare:
``ast.parse`` (pydantic, ``traceback``'s carets, ``inspect``, ``ast.literal_eval``), and
``compile()`` asked for an AST (``ast.PyCF_ONLY_AST``: anyio builds its lazy-import map so) or
given one (pytest's assertion rewriting), which bypass ``ast.parse``. The ``compile`` wrapper
passes its caller's ``from __future__`` flags on, so the code it compiles means what it did.
"""

from __future__ import annotations
import __future__

import ast
import builtins
import functools
import sys
import threading
from typing import Any

AST_LOCK = threading.RLock()
"""Held while any thread of this process is inside :func:`ast.parse`."""


def _serialise_ast_parse() -> None:
    if getattr(ast.parse, "_serialised", False):
        return
    original = ast.parse

    @functools.wraps(original)
    def parse(*args: Any, **kwargs: Any) -> Any:
        with AST_LOCK:
            return original(*args, **kwargs)

    parse._serialised = True  # type: ignore[attr-defined]
    ast.parse = parse  # type: ignore[assignment]


_FUTURE_FLAGS = functools.reduce(
    lambda flags, name: flags | getattr(__future__, name).compiler_flag,
    [n for n in __future__.all_feature_names if n not in ("nested_scopes", "generators")],
    0,
)
"""The ``from __future__`` flags ``compile()`` inherits from its caller (CPython's PyCF_MASK)."""


def _serialise_ast_compile() -> None:
    if getattr(builtins.compile, "_serialised", False):
        return
    original = builtins.compile

    @functools.wraps(original)
    def compile(
        source: Any,
        filename: Any,
        mode: str,
        flags: int = 0,
        dont_inherit: bool = False,
        optimize: int = -1,
        *,
        _feature_version: int = -1,
    ) -> Any:
        if not dont_inherit:  # the future statements of the caller, not of this wrapper
            flags |= sys._getframe(1).f_code.co_flags & _FUTURE_FLAGS
        call = functools.partial(
            original, source, filename, mode, flags, True, optimize, _feature_version=_feature_version
        )
        if flags & ast.PyCF_ONLY_AST or isinstance(source, ast.AST):
            with AST_LOCK:
                return call()
        return call()

    compile._serialised = True  # type: ignore[attr-defined]
    builtins.compile = compile


_serialise_ast_parse()
_serialise_ast_compile()
