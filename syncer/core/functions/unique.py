"""SelectUniqueValue: the rules' values in order, for the runtime to try against the target.

Entra evaluates each rule and keeps the first value the target directory does not hold yet.
Holding is a question only the target can answer, so the pure evaluation stops at the ordered
list (a :class:`~syncer.types.Candidates`); the runtime asks the target just before the create.
The parser keeps the call at the top of its expression (Entra: it "can't be nested"), and
compiling a mapping keeps it on create-only, non-matching attributes.
"""

from __future__ import annotations

from typing import Final

from syncer.core.functions.registry import Args, EvaluationContext, function, to_text
from syncer.types import Candidates

SELECT_UNIQUE_VALUE: Final = "SelectUniqueValue"


@function(SELECT_UNIQUE_VALUE, 2, None)
def _select_unique_value(args: Args, ctx: EvaluationContext) -> object:
    # A rule without a value (a missing middle name) offers nothing; a value offered twice is
    # tried once. No rule with a value: no value at all, as for any null result.
    values: list[str] = []
    for arg in args:
        text = to_text(arg)
        if text and text not in values:
            values.append(text)
    return Candidates(tuple(values)) if values else None
