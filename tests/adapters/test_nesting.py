"""The shared depth check: the line where a JSON or YAML text nests too deep, without recursing."""

from __future__ import annotations

import json

import pytest

from syncer.adapters.nesting import MAX_DEPTH, json_too_deep, yaml_too_deep


@pytest.mark.parametrize("check", [json_too_deep, yaml_too_deep])
def test_nesting_within_the_limit_passes(check: object) -> None:
    text = json.dumps({"users": [{"id": "u1", "tags": ["a", {"b": [1, 2]}]}]}, indent=2)
    assert check(text) is None  # type: ignore[operator]
    assert check("[" * MAX_DEPTH + "]" * MAX_DEPTH) is None  # type: ignore[operator]


@pytest.mark.parametrize("check", [json_too_deep, yaml_too_deep])
def test_nesting_100_000_deep_is_found_at_its_line(check: object) -> None:
    text = '{"users": [\n  {"id": "u1"},\n  ' + "[" * 100_000 + "]" * 100_000 + "\n]}"
    assert check(text) == 3  # type: ignore[operator]


def test_brackets_in_json_strings_do_not_count() -> None:
    text = json.dumps({"title": "[" * 500 + '"\\' + "{" * 500})
    assert json_too_deep(text) is None
    assert json_too_deep(text, limit=0) == 1


def test_a_yaml_block_document_is_measured_too() -> None:
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(150)) + f"{'  ' * 150}leaf: 1\n"
    assert yaml_too_deep(text) == MAX_DEPTH + 1
