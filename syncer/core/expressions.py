"""Entra's attribute-mapping expression language, compiled once when a mapping loads.

Compiling up front means a typo, an unknown function or a wrong argument count refuses the
mapping with a column, instead of failing on some object in the third scheduled cycle. The
parser is a hand-written recursive descent into frozen nodes; nothing is ever given to ``eval``.

Grammar (Entra's, plus the comparison its IIF conditions use)::

    expression := argument END
    argument   := operand [ ("=" | "<>" | ">" | ">=" | "<" | "<=") operand ]
    operand    := "[" name "]" | string | number | &Hhex | Name "(" [ slot { "," slot } ] ")" | Constant
    slot       := argument | (nothing: an omitted argument, as in Replace([mail], "x", , , "", , ))
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from syncer.core.exprparse import MAX_DEPTH as MAX_DEPTH
from syncer.core.exprparse import MAX_LENGTH as MAX_LENGTH
from syncer.core.exprparse import (
    AttributeRef,
    Call,
    Comparison,
    NamedConstant,
    Node,
    NumberLiteral,
    Omitted,
    StringLiteral,
    children,
    parse,
    walk,
)
from syncer.core.functions import (
    NO_FLOW,
    EvaluationContext,
    scalar,
    to_number,
    to_text,
)
from syncer.core.functions import _NoFlow as _NoFlow
from syncer.errors import ExpressionError

__all__ = [
    "NO_FLOW",
    "AttributeRef",
    "Call",
    "Comparison",
    "EvaluationContext",
    "EvaluationError",
    "Expression",
    "NamedConstant",
    "Node",
    "NumberLiteral",
    "Omitted",
    "StringLiteral",
    "compile_expression",
    "explain",
]


class EvaluationError(ExpressionError, ValueError):
    """A compiled expression that cannot work with one object's values (a word where a number goes).

    The mapping is fine, the data is not, so this is also a ``ValueError``: per-object handlers
    fail that object and go on, instead of treating it as a config error that stops the job.
    """


_DEFAULT_CONTEXT: Final = EvaluationContext()


@dataclass(frozen=True)
class Expression:
    """A compiled expression: its text, its tree, and the source attributes it reads."""

    text: str
    root: Node
    attributes: frozenset[str]

    def evaluate(
        self, attributes: Mapping[str, object], context: EvaluationContext = _DEFAULT_CONTEXT
    ) -> object:
        """The value for one object; ``NO_FLOW`` when the attribute should be left out of the flow.

        Raises ``EvaluationError`` (with the column of the failing call) when a function cannot
        work with the values it gets, e.g. a non-number where a number is needed.
        """
        return _evaluate(self.root, attributes, context, self.text)

    @property
    def references(self) -> tuple[AttributeRef, ...]:
        """Every ``[attribute]`` in the expression, with its column, in reading order."""
        return tuple(node for node in walk(self.root) if isinstance(node, AttributeRef))

    @property
    def calls(self) -> tuple[Call, ...]:
        """Every function call in the expression, outermost first."""
        return tuple(node for node in walk(self.root) if isinstance(node, Call))

    @property
    def selects_unique(self) -> bool:
        """Whether this is a SelectUniqueValue call, whose value the target decides when creating."""
        return isinstance(self.root, Call) and self.root.name == "SelectUniqueValue"

    @property
    def redacted(self) -> bool:
        """Whether Redact() appears, so the provisioning log shows ``[Redact]`` instead of the value."""
        return any(isinstance(node, Call) and node.name == "Redact" for node in walk(self.root))


def compile_expression(text: str) -> Expression:
    """Parse and check an expression; raises ``ExpressionError`` with a 1-based column."""
    root = parse(text)
    names = frozenset(node.name for node in walk(root) if isinstance(node, AttributeRef))
    return Expression(text, root, names)


def explain(expr: Expression) -> str:
    """The parse tree, one node per line, children indented two spaces (for ``--explain``)."""
    lines: list[str] = []

    def visit(node: Node, depth: int) -> None:
        pad = "  " * depth
        if isinstance(node, Call):
            lines.append(f"{pad}Call {node.name}")
        elif isinstance(node, Comparison):
            lines.append(f"{pad}Comparison {node.op}")
        elif isinstance(node, AttributeRef):
            lines.append(f"{pad}Attribute [{node.name}]")
        elif isinstance(node, StringLiteral):
            escaped = node.value.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{pad}String "{escaped}"')
        elif isinstance(node, NumberLiteral):
            lines.append(f"{pad}Number {node.value}")
        elif isinstance(node, NamedConstant):
            lines.append(f"{pad}Constant {node.name} = {node.value!r}")
        else:
            lines.append(f"{pad}Omitted")
        for child in children(node):
            visit(child, depth + 1)

    visit(expr.root, 0)
    return "\n".join(lines)


# --- evaluation ---------------------------------------------------------------------------------

_COMPARE: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    "=": operator.eq,
    "<>": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def _lookup(attributes: Mapping[str, object], name: str) -> object:
    """Exact name first, then case-insensitively, since directories disagree on attribute case."""
    if name in attributes:
        value = attributes[name]
    else:
        folded = name.casefold()
        value = next((v for k, v in attributes.items() if k.casefold() == folded), None)
    return tuple(value) if isinstance(value, list) else value


def _compare(op: str, left: object, right: object) -> bool:
    """Numbers compare as numbers, anything else as case-sensitive text.

    A null side makes the comparison false, for every operator: Entra documents that an IIF
    condition on an empty or null attribute "fails", and false is the failure that flows.
    """
    left, right = scalar(left), scalar(right)
    if left is None or right is None:
        return False
    a: object = to_number(left)
    b: object = to_number(right)
    if a is None or b is None or (isinstance(left, str) and isinstance(right, str)):
        a, b = to_text(left), to_text(right)
    return bool(_COMPARE[op](a, b))


def _evaluate(node: Node, attributes: Mapping[str, object], context: EvaluationContext, text: str) -> object:
    if isinstance(node, Call):
        args = tuple(_evaluate(arg, attributes, context, text) for arg in node.args)
        # NO_FLOW only means something as the whole result; inside a call it is just null.
        args = tuple(None if arg is NO_FLOW else arg for arg in args)
        try:
            return node.spec.impl(args, context)
        except ExpressionError as exc:
            if exc.column is not None:
                raise
            raise EvaluationError(f"{node.name}: {exc.message}", node.column, text) from exc
        except (
            ValueError,
            ArithmeticError,
            TypeError,
            LookupError,
        ) as exc:  # may quote a value: leave it out
            raise EvaluationError(f"{node.name}: {type(exc).__name__}", node.column, text) from exc
    if isinstance(node, AttributeRef):
        return _lookup(attributes, node.name)
    if isinstance(node, Comparison):
        left = _evaluate(node.left, attributes, context, text)
        right = _evaluate(node.right, attributes, context, text)
        try:
            return _compare(node.op, None if left is NO_FLOW else left, None if right is NO_FLOW else right)
        except ExpressionError as exc:
            raise EvaluationError(f"comparison: {exc.message}", node.column, text) from exc
    if isinstance(node, StringLiteral | NumberLiteral | NamedConstant):
        return node.value
    return None  # Omitted
