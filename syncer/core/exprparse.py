"""The expression language's tree and its parser: text in, frozen nodes out, or a column-precise error.

Split from :mod:`syncer.core.expressions` (which compiles and evaluates) so the grammar can be
read on its own; the grammar itself is documented there.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final, NoReturn, TypeAlias

from syncer.core.functions import CONSTANTS, FUNCTIONS, FunctionSpec, function_named
from syncer.errors import ExpressionError

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


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Comparison):
        return (node.left, node.right)
    return ()


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in children(node):
        yield from walk(child)


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
            token, i = _scan_attribute(text, i)
            tokens.append(token)
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
            token, i = _scan_hex(text, i)
            tokens.append(token)
            continue
        if char.isdigit() or (char == "-" and text[i + 1 : i + 2].isdigit()):
            token, i = _scan_decimal(text, i)
            tokens.append(token)
            continue
        if char.isalpha() or char == "_":
            while i < end and (text[i].isalnum() or text[i] == "_"):
                i += 1
            tokens.append(_Token("name", text[start:i], text[start:i], start + 1))
            continue
        raise ExpressionError(f"unexpected character {char!r}", i + 1, text)
    tokens.append(_Token("end", "", None, end + 1))
    return tokens


def _scan_attribute(text: str, i: int) -> tuple[_Token, int]:
    """The ``[name]`` opening at ``i``, and the index just past it."""
    close = text.find("]", i + 1)
    if close < 0:
        raise ExpressionError("unterminated attribute name, expected ']'", i + 1, text)
    if not text[i + 1 : close].strip():
        raise ExpressionError("empty attribute name '[]'", i + 1, text)
    return _Token("attr", text[i : close + 1], text[i + 1 : close], i + 1), close + 1


def _scan_hex(text: str, start: int) -> tuple[_Token, int]:
    """The ``&Hhex`` number opening at ``start``, and the index just past it."""
    i, end = start + 2, len(text)
    while i < end and text[i] in "0123456789abcdefABCDEF":
        i += 1
    if i == start + 2:
        raise ExpressionError("expected hex digits after '&H'", start + 1, text)
    return _Token("number", text[start:i], int(text[start + 2 : i], 16), start + 1), i


def _scan_decimal(text: str, start: int) -> tuple[_Token, int]:
    """The decimal number (``42``, ``-1.5``) opening at ``start``, and the index just past it."""
    i, end = start + 1, len(text)
    while i < end and (text[i].isdigit() or (text[i] == "." and text[i + 1 : i + 2].isdigit())):
        i += 1
    literal = text[start:i]
    number = float(literal) if "." in literal else int(literal)
    return _Token("number", literal, number, start + 1), i


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
            if function_named(token.text) is not None:
                self.fail(f"expected '(' after {token.text}, found {self.peek.describe()}", self.peek)
            self.fail(f"unknown name {token.text!r}", token)
        where = f" after '{after}'" if after else ""
        self.fail(f"expected {_OPERAND}{where}, found {token.describe()}", token)

    def call(self, name: _Token) -> Call:
        spec = function_named(name.text)
        if spec is None:
            folded = {n.casefold(): n for n in FUNCTIONS}
            near = difflib.get_close_matches(name.text.casefold(), list(folded), n=1)
            hint = f"; did you mean {folded[near[0]]}?" if near else ""
            self.fail(f'unknown function "{name.text}"{hint}', name)
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
        return Call(spec.name, tuple(args), name.column, spec)  # the documented spelling


TOP_LEVEL_ONLY: Final = frozenset({"SelectUniqueValue"})
"""Functions that must be the whole expression: Entra says SelectUniqueValue "can't be nested"."""


def parse(text: str) -> Node:
    """The tree of ``text``; raises ``ExpressionError`` with a 1-based column."""
    root = _Parser(text).parse()
    for node in walk(root):
        if node is not root and isinstance(node, Call) and node.name in TOP_LEVEL_ONLY:
            message = f"{node.name} must be the whole expression: it cannot be nested in another call"
            raise ExpressionError(message, node.column, text)
    return root
