"""Real servers for the tests (and ``make demo``), started on 127.0.0.1.

Importing this package serialises :func:`ast.parse`. CPython 3.11 keeps one AST-construction
state per interpreter, so two threads turning a parse into Python objects at once can fail with
``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905, fixed in 3.12).
Our threaded servers hit it: scim2-models builds its pydantic models with
``use_attribute_docstrings=True``, and pydantic ``ast.parse``s a class's source whenever a
parametrised model (``User[EnterpriseUser]``) is first built, which happens on request threads.
One lock around every ``ast.parse`` in the process makes that impossible instead of rare.
"""

from __future__ import annotations

import ast
import functools
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


_serialise_ast_parse()
