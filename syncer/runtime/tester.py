"""The expression tester behind ``syncer expression``: Entra's expression builder, offline.

It evaluates one expression against sample attributes exactly as a mapping would (the same
compiled tree, the same computed ``IsSoftDeleted``, the same null normalisation), so what it
prints is what would flow. ``syncer.cli`` only parses options and prints what this module returns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from syncer.core.expressions import NO_FLOW, EvaluationContext, Expression, compile_expression, explain
from syncer.core.functions import to_text
from syncer.core.mapping import source_view
from syncer.errors import ConfigError, ExpressionError
from syncer.types import Candidates, ObjectKind, SourceObject, freeze, thaw

NO_VALUE = "no value: the attribute will not flow"


@dataclass(frozen=True)
class Outcome:
    """One evaluation: the compiled expression, its raw value, and the line that says what flows."""

    expression: Expression
    value: object
    line: str

    @property
    def flows(self) -> bool:
        return self.line != NO_VALUE

    @property
    def tree(self) -> str:
        """The parse tree, one node per line (``--explain``)."""
        return explain(self.expression)


def describe_error(text: str, error: ExpressionError) -> list[str]:
    """``EXPR — message at column N``, as a mapping file reports it, plus a caret under the column."""
    lines = [f"{text} — {error.message}"]
    if error.column is not None and "\n" not in text and error.column <= len(text) + 1:
        lines += [f"  {text}", "  " + " " * (error.column - 1) + "^"]
    return lines


def attributes_from(pairs: Sequence[str], object_file: Path | None) -> dict[str, object]:
    """Sample attributes: ``--object`` JSON first, then each ``--attr NAME=VALUE`` on top of it.

    A name given twice with ``--attr`` becomes a multi-valued attribute, as in the object file
    where a list is a multi-valued attribute.
    """
    attributes: dict[str, object] = dict(_object(object_file)) if object_file is not None else {}
    given: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--attr {pair!r}: expected NAME=VALUE")
        given.setdefault(name.strip(), []).append(value)
    for name, values in given.items():
        attributes[name] = values[0] if len(values) == 1 else values
    return attributes


def _object(path: Path) -> Mapping[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read --object: {exc.strerror or exc}", str(path)) from exc
    except ValueError as exc:
        raise ConfigError(f"--object is not valid JSON: {exc}", str(path)) from exc
    if not isinstance(data, dict):
        raise ConfigError("--object must hold a JSON object of source attributes", str(path))
    return data


def parse_now(text: str | None) -> datetime:
    """``--now`` as an aware datetime (ISO 8601; no offset means UTC); the real clock without it."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ConfigError(
            f"--now {text!r}: expected an ISO 8601 date/time such as 2024-06-01T09:00:00Z"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def evaluate(
    text: str, attributes: Mapping[str, object], *, now: datetime, default_domain: str | None = None
) -> Outcome:
    """Compile and evaluate ``text`` like a mapping would; raises ``ExpressionError`` for bad text or data."""
    expression = compile_expression(text)
    frozen = freeze(dict(attributes))
    source_id = to_text(attributes.get("id")) if not isinstance(attributes.get("id"), list) else None
    obj = SourceObject(ObjectKind.USER, source_id or "expression-tester", MappingProxyType(dict(frozen)))
    context = EvaluationContext(now=now, default_domain=default_domain)
    value = expression.evaluate(source_view(obj), context)
    return Outcome(expression, value, render(value))


def render(value: object) -> str:
    """The value as one line: text as is, a multi-valued or complex value as JSON, null as "no value"."""
    if value is NO_FLOW or value is None or value == "" or value == ():
        return NO_VALUE
    if isinstance(value, Candidates):  # which one is free only the target can say, when creating
        return str(value)
    if isinstance(value, tuple | Mapping):
        return json.dumps(thaw(value), ensure_ascii=False)
    return to_text(value) or ""
