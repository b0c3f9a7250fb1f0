"""The README's function reference is true: each row gives the value it shows, each function has a row."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncer.core.functions import FUNCTIONS
from syncer.runtime.tester import evaluate

README = Path(__file__).resolve().parents[1] / "README.md"
NOW = datetime(2021, 7, 2, 15, 33, 38, tzinfo=UTC)


def _rows() -> list[tuple[str, str, str, str]]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("<!-- functions:start") : text.index("<!-- functions:end -->")]
    rows = []
    for line in table.splitlines()[3:]:
        name, example, attributes, value = (cell.strip() for cell in line.strip()[1:-1].split("|"))
        rows.append((name, example, attributes, value))
    return rows


ROWS = _rows()


def test_every_function_has_exactly_one_row() -> None:
    """The reference table names each registered function once, in alphabetical order."""
    names = [name.split("(", 1)[0] for name, *_ in ROWS]
    assert names == sorted(FUNCTIONS, key=str.lower)


@pytest.mark.parametrize(
    ("name", "example", "attributes", "value"), ROWS, ids=[r[0].split("(")[0] for r in ROWS]
)
def test_example_gives_the_value_shown(name: str, example: str, attributes: str, value: str) -> None:
    """Each example, evaluated by the expression tester with its sample attributes, prints the value shown."""
    expression = example.strip("`")
    sample = json.loads(attributes.strip("`")) if attributes else {}
    outcome = evaluate(expression, sample, now=NOW, default_domain="contoso.com")
    if value.startswith("*"):  # a random value: check its shape instead
        assert re.fullmatch(r"[0-9a-f-]{36}" if name.startswith("Guid") else r"[a-z0-9]{6}", outcome.line)
    else:
        assert outcome.line == re.match(r"`([^`]*)`", value).group(1)  # type: ignore[union-attr]
