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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn, TypeAlias

from syncer.core.functions import (
    CONSTANTS,
    FUNCTIONS,
    NO_FLOW,
    EvaluationContext,
    FunctionSpec,
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


MAX_DEPTH: Final = 64
"""Calls nested deeper than this are refused, long before Python's own recursion limit."""

MAX_LENGTH: Final = 10_000
"""Entra's limit on an expression's length, in characters."""


@dataclass(frozen=True, slots=True)
class AttributeRef:
    """``[name]``: a source attribute, null when the object does not have it."""

    name: str
    column: int


@dataclass(frozen=True, slots=True)
class StringLiteral:
    """``"text"``, with its escapes already resolved."""

    value: str
    column: int


@dataclass(frozen=True, slots=True)
class NumberLiteral:
    """``42``, ``-1.5`` or ``&HF7``."""

    value: int | float
    column: int


@dataclass(frozen=True, slots=True)
class NamedConstant:
    """A bare name standing for a value, such as InStr's ``vbTextCompare``."""

    name: str
    value: object
    column: int


@dataclass(frozen=True, slots=True)
class Omitted:
    """An argument left empty between commas; Entra's way of skipping an optional parameter."""

    column: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """``left OP right``, the condition form IIF and CBool take."""

    op: str
    left: Node
    right: Node
    column: int


@dataclass(frozen=True, slots=True)
class Call:
    """``Name(args)``; ``spec`` is resolved at parse time so evaluation does no lookup."""

    name: str
    args: tuple[Node, ...]
    column: int
    spec: FunctionSpec = field(compare=False, repr=False)


Node: TypeAlias = AttributeRef | StringLiteral | NumberLiteral | NamedConstant | Omitted | Comparison | Call

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
        return tuple(node for node in _walk(self.root) if isinstance(node, AttributeRef))

    @property
    def calls(self) -> tuple[Call, ...]:
        """Every function call in the expression, outermost first."""
        return tuple(node for node in _walk(self.root) if isinstance(node, Call))

    @property
    def redacted(self) -> bool:
        """Whether Redact() appears, so the provisioning log shows ``[Redact]`` instead of the value."""
        return any(isinstance(node, Call) and node.name == "Redact" for node in _walk(self.root))


def compile_expression(text: str) -> Expression:
    """Parse and check an expression; raises ``ExpressionError`` with a 1-based column."""
    root = _Parser(text).parse()
    names = frozenset(node.name for node in _walk(root) if isinstance(node, AttributeRef))
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
        for child in _children(node):
            visit(child, depth + 1)

    visit(expr.root, 0)
    return "\n".join(lines)


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Comparison):
        return (node.left, node.right)
    return ()


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in _children(node):
        yield from _walk(child)


# --- tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # name, attr, string, number, op, "(", ")", ",", end
    text: str
    value: object
    column: int

    def describe(self) -> str:
        if self.kind == "end":
            return "end of expression"
        return repr(self.text if len(self.text) <= 24 else self.text[:21] + "...")


_OPERATORS: Final = ("<>", ">=", "<=", "=", "<", ">")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, end = 0, len(text)
    while i < end:
        char, start = text[i], i
        if char.isspace():
            i += 1
            continue
        if char in "(),":
            tokens.append(_Token(char, char, None, i + 1))
            i += 1
            continue
        if char == "[":
            close = text.find("]", i + 1)
            if close < 0:
                raise ExpressionError("unterminated attribute name, expected ']'", i + 1, text)
            if not text[i + 1 : close].strip():
                raise ExpressionError("empty attribute name '[]'", i + 1, text)
            tokens.append(_Token("attr", text[i : close + 1], text[i + 1 : close], i + 1))
            i = close + 1
            continue
        if char == '"':
            value, i = _scan_string(text, i)
            tokens.append(_Token("string", text[start:i], value, start + 1))
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None:
            tokens.append(_Token("op", op, op, i + 1))
            i += len(op)
            continue
        if char == "&" and text[i + 1 : i + 2] in ("H", "h"):
            i += 2
            while i < end and text[i] in "0123456789abcdefABCDEF":
                i += 1
            if i == start + 2:
                raise ExpressionError("expected hex digits after '&H'", start + 1, text)
            tokens.append(_Token("number", text[start:i], int(text[start + 2 : i], 16), start + 1))
            continue
        if char.isdigit() or (char == "-" and text[i + 1 : i + 2].isdigit()):
            i += 1
            while i < end and (text[i].isdigit() or (text[i] == "." and text[i + 1 : i + 2].isdigit())):
                i += 1
            literal = text[start:i]
            number = float(literal) if "." in literal else int(literal)
            tokens.append(_Token("number", literal, number, start + 1))
            continue
        if char.isalpha() or char == "_":
            while i < end and (text[i].isalnum() or text[i] == "_"):
                i += 1
            tokens.append(_Token("name", text[start:i], text[start:i], start + 1))
            continue
        raise ExpressionError(f"unexpected character {char!r}", i + 1, text)
    tokens.append(_Token("end", "", None, end + 1))
    return tokens


def _scan_string(text: str, start: int) -> tuple[str, int]:
    """The value of the string literal opening at ``start``, and the index just past it."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == '"':
            return "".join(out), i + 1
        if char == "\\":
            escaped = text[i + 1 : i + 2]
            if escaped not in ('"', "\\"):
                message = 'invalid escape in string: write \\\\ for a backslash and \\" for a quote'
                raise ExpressionError(message, i + 1, text)
            out.append(escaped)
            i += 2
            continue
        out.append(char)
        i += 1
    raise ExpressionError("unterminated string, expected a closing '\"'", start + 1, text)


# --- parser -------------------------------------------------------------------------------------

_OPERAND: Final = '[attribute], "string", number or function call'


class _Parser:
    """Recursive descent over the token list; every error names what was expected and where."""

    def __init__(self, text: str) -> None:
        if len(text) > MAX_LENGTH:
            raise ExpressionError(f"expression longer than {MAX_LENGTH} characters", MAX_LENGTH + 1, text)
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0

    def parse(self) -> Node:
        if self.peek.kind == "end":
            raise ExpressionError("empty expression", 1, self.text)
        node = self.argument()
        if self.peek.kind != "end":
            self.fail(f"expected end of expression, found {self.peek.describe()}", self.peek)
        return node

    @property
    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += token.kind != "end"
        return token

    def fail(self, message: str, token: _Token) -> NoReturn:
        raise ExpressionError(message, token.column, self.text)

    def argument(self) -> Node:
        left = self.operand()
        if self.peek.kind != "op":
            return left
        op = self.take()
        return Comparison(op.text, left, self.operand(after=op.text), op.column)

    def operand(self, after: str | None = None) -> Node:
        token = self.take()
        if token.kind == "attr":
            return AttributeRef(str(token.value), token.column)
        if token.kind == "string":
            return StringLiteral(str(token.value), token.column)
        if token.kind == "number":
            value = token.value
            assert isinstance(value, int | float)
            return NumberLiteral(value, token.column)
        if token.kind == "name":
            if self.peek.kind == "(":
                return self.call(token)
            if token.text in CONSTANTS:
                return NamedConstant(token.text, CONSTANTS[token.text], token.column)
            if token.text in FUNCTIONS:
                self.fail(f"expected '(' after {token.text}, found {self.peek.describe()}", self.peek)
            self.fail(f"unknown name {token.text!r}", token)
        where = f" after '{after}'" if after else ""
        self.fail(f"expected {_OPERAND}{where}, found {token.describe()}", token)

    def call(self, name: _Token) -> Call:
        spec = FUNCTIONS.get(name.text)
        if spec is None:
            self.fail(f'unknown function "{name.text}"', name)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"expression nested more than {MAX_DEPTH} calls deep", name)
        self.take()  # "("
        args: list[Node] = []
        if self.peek.kind == ")":
            self.take()
        else:
            while True:
                if self.peek.kind in (",", ")"):
                    args.append(Omitted(self.peek.column))
                else:
                    args.append(self.argument())
                separator = self.take()
                if separator.kind == ")":
                    break
                if separator.kind != ",":
                    self.fail(f"expected ',' or ')', found {separator.describe()}", separator)
        self.depth -= 1
        problem = spec.arity_problem(len(args))
        if problem is not None:
            self.fail(problem, name)
        for index, check in spec.literal_checks.items():
            arg = args[index] if index < len(args) else None
            if isinstance(arg, StringLiteral) and (problem := check(arg.value)) is not None:
                raise ExpressionError(f"{spec.name}: {problem}", arg.column, self.text)
        return Call(name.text, tuple(args), name.column, spec)


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
