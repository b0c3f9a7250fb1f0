"""Conditions, null handling and conversions.

Not, IIF, Switch, Coalesce, IgnoreFlowIfNullOrEmpty, IsNull, IsNullOrEmpty, IsPresent, IsString,
CStr, CBool, BitAnd and Redact.
"""

from __future__ import annotations

from syncer.core.functions.registry import (
    NO_FLOW,
    Args,
    EvaluationContext,
    each,
    function,
    is_empty,
    to_text,
    truth,
    whole,
)


@function("Not", 1, 1)
def _not(args: Args, ctx: EvaluationContext) -> object:
    return not truth(args[0])  # Entra: True gives False, anything else (null too) gives True


@function("IIF", 3, 3)
def _iif(args: Args, ctx: EvaluationContext) -> object:
    return args[1] if truth(args[0]) else args[2]


@function("Switch", 4, None, even=True)
def _switch(args: Args, ctx: EvaluationContext) -> object:
    # Case-sensitive text comparison; a null source matches the key "", Entra's documented null test.
    source = to_text(args[0]) or ""
    for key, value in zip(args[2::2], args[3::2], strict=True):
        if (to_text(key) or "") == source:
            return value
    return args[1]


@function("Coalesce", 1, None)
def _coalesce(args: Args, ctx: EvaluationContext) -> object:
    # Empty values are skipped too, but an explicit "" still serves as the documented default.
    found = next((a for a in args if not is_empty(a)), None)
    return "" if found is None and "" in args else found


@function("IgnoreFlowIfNullOrEmpty", 1, 1)
def _ignore_flow(args: Args, ctx: EvaluationContext) -> object:
    return NO_FLOW if is_empty(args[0]) else args[0]


@function("IsNull", 1, 1)
def _is_null(args: Args, ctx: EvaluationContext) -> object:
    return args[0] is None


@function("IsNullOrEmpty", 1, 1)
def _is_null_or_empty(args: Args, ctx: EvaluationContext) -> object:
    return is_empty(args[0])


@function("IsPresent", 1, 1)
def _is_present(args: Args, ctx: EvaluationContext) -> object:
    return not is_empty(args[0])


@function("IsString", 1, 1)
def _is_string(args: Args, ctx: EvaluationContext) -> object:
    return isinstance(args[0], str)


@function("CStr", 1, 1)
def _cstr(args: Args, ctx: EvaluationContext) -> object:
    return each(args[0], str)


@function("CBool", 1, 1)
def _cbool(args: Args, ctx: EvaluationContext) -> object:
    return truth(args[0])


@function("BitAnd", 2, 2)
def _bit_and(args: Args, ctx: EvaluationContext) -> object:
    if args[0] is None or args[1] is None:
        return None
    return whole(args[0], "value1") & whole(args[1], "value2")


@function("Redact", 1, 1)
def _redact(args: Args, ctx: EvaluationContext) -> object:
    return args[0]  # the value flows; Expression.redacted tells the provisioning log to hide it
