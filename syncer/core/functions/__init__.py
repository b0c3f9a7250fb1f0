"""Entra's expression functions: one registry, filled by one module per family.

The registry (``registry.py``) holds every function's name, argument count and code, so the
parser checks each call when a mapping loads. The families register themselves on import:
``text`` (strings and Replace), ``logic`` (conditions, nulls, conversions), ``multivalued``
(Count, Item, RemoveDuplicates, app roles), ``dates``, ``context`` (DefaultDomain, Guid,
RandomString) and ``unique`` (SelectUniqueValue). ``regex`` runs Entra's .NET patterns on
Python's engine, within a cost bound.
"""

from __future__ import annotations

from syncer.core.functions import context, dates, logic, multivalued, text, unique
from syncer.core.functions.registry import (
    CONSTANTS,
    FUNCTIONS,
    NO_FLOW,
    Args,
    EvaluationContext,
    FunctionSpec,
    _NoFlow,
    function_named,
    scalar,
    to_number,
    to_text,
    truth,
)

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "NO_FLOW",
    "Args",
    "EvaluationContext",
    "FunctionSpec",
    "_NoFlow",
    "context",
    "dates",
    "function_named",
    "logic",
    "multivalued",
    "scalar",
    "text",
    "to_number",
    "to_text",
    "truth",
    "unique",
]
