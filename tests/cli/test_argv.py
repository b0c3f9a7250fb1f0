"""Global options may follow the subcommand; everything else stays where it was typed."""

from __future__ import annotations

import pytest

from syncer.cli.argv import hoist_global_options


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        (["plan", "-c", "x.yaml"], ["-c", "x.yaml", "plan"]),
        (["plan", "--job", "a", "--config=x.yaml"], ["--config=x.yaml", "plan", "--job", "a"]),
        (["sync", "-cx.yaml", "--log-level", "debug"], ["-cx.yaml", "--log-level", "debug", "sync"]),
        (["-c", "a.yaml", "logs", "--no-color"], ["-c", "a.yaml", "--no-color", "logs"]),
        (["logs", "--log-json", "--limit", "3"], ["--log-json", "logs", "--limit", "3"]),
        (["expression", "-e", "x", "--", "-c", "y"], ["expression", "-e", "x", "--", "-c", "y"]),
        (["--log-level", "info", "plan"], ["--log-level", "info", "plan"]),
        (["--version"], ["--version"]),
        ([], []),
    ],
)
def test_root_options_move_in_front_of_the_subcommand(typed: list[str], seen: list[str]) -> None:
    assert hoist_global_options(typed) == seen


def test_a_trailing_option_without_its_value_is_left_for_click_to_refuse() -> None:
    assert hoist_global_options(["plan", "-c"]) == ["-c", "plan"]
