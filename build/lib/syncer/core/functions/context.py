"""Functions that read the evaluation context rather than the object: DefaultDomain, Guid, RandomString."""

from __future__ import annotations

import uuid
from random import SystemRandom
from typing import Final

from syncer.core.functions.registry import (
    Args,
    EvaluationContext,
    fail,
    function,
    to_text,
    whole,
)


@function("DefaultDomain", 0, 0)
def _default_domain(args: Args, ctx: EvaluationContext) -> object:
    if ctx.default_domain is None:
        fail("no default domain is configured")
    return ctx.default_domain


@function("Guid", 0, 0)
def _guid(args: Args, ctx: EvaluationContext) -> object:
    return str(uuid.UUID(int=(ctx.rng or SystemRandom()).getrandbits(128), version=4))


_SPECIALS: Final = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/"
_DIGITS, _UPPER, _LOWER = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"


@function("RandomString", 5, 6)
def _random_string(args: Args, ctx: EvaluationContext) -> object:
    length = whole(args[0], "Length")
    minimums = [whole(a, "a minimum") for a in args[1:5]]
    avoid = set(to_text(args[5]) or "") if len(args) > 5 else set()
    if not 0 < length <= 256 or min(minimums) < 0 or sum(minimums) > length:
        fail("Length must be 1 to 256 and at least the sum of the minimums")
    pools = ["".join(c for c in pool if c not in avoid) for pool in (_DIGITS, _SPECIALS, _UPPER, _LOWER)]
    if any(count and not pool for count, pool in zip(minimums, pools, strict=True)):
        fail("CharactersToAvoid excludes a whole required character class")
    rng = ctx.rng or SystemRandom()
    chars = [rng.choice(pool) for count, pool in zip(minimums, pools, strict=True) for _ in range(count)]
    chars += [rng.choice("".join(pools)) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)
