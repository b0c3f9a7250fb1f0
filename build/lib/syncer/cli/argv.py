"""The command line as admins type it: global options anywhere, readable help.

Click reads a group's options only before the subcommand, so ``syncer plan -c prod.yaml`` was
"No such option: -c". kubectl, az and terraform accept global options anywhere; the options of
the root are moved in front of the subcommand before Click sees them. Nothing else is touched,
and everything after ``--`` is left as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer
import typer.core

GLOBAL_VALUED = frozenset({"-c", "--config", "--log-level"})
"""Root options that take a value (``-c x.yaml``, ``--config=x.yaml``, ``-cx.yaml``)."""
GLOBAL_FLAGS = frozenset({"--log-json", "--log-console", "--no-color"})


def _global_at(args: Sequence[str], index: int) -> int:
    """How many tokens the global option at ``index`` spans (0: not a global option)."""
    token = args[index]
    if token in GLOBAL_FLAGS:
        return 1
    if token in GLOBAL_VALUED:
        return 2 if index + 1 < len(args) else 1
    name = token.split("=", 1)[0]
    if token.startswith("--") and "=" in token and name in GLOBAL_VALUED:
        return 1
    if token.startswith("-c") and not token.startswith("--") and len(token) > 2:
        return 1  # -cprod.yaml
    return 0


def _subcommand_index(args: Sequence[str]) -> int | None:
    """Where the first subcommand word sits, skipping the root options before it."""
    index = 0
    while index < len(args):
        token = args[index]
        if token == "--" or not token.startswith("-"):
            return index if token != "--" else None
        index += _global_at(args, index) or 1
    return None


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """``args`` with every root option found after the subcommand moved in front of it."""
    start = _subcommand_index(args)
    if start is None:
        return list(args)
    hoisted: list[str] = []
    rest: list[str] = []
    index = start
    while index < len(args):
        token = args[index]
        if token == "--":
            rest.extend(args[index:])
            break
        span = _global_at(args, index)
        if span:
            hoisted.extend(args[index : index + span])
            index += span
        else:
            rest.append(token)
            index += 1
    return [*args[:start], *hoisted, *rest]


_READABLE = {"<str>": "TEXT", "<path>": "PATH", "<int>": "N", "<float>": "NUMBER", "<list[str]>": "TEXT"}


def readable_metavars() -> None:
    """Help shows what to type, not Typer's Python type labels (``<bool>``, ``<list[str]>``).

    A flag takes no value, so it shows none (``--help`` included); a repeatable option says so in
    its help. Typer builds its options (and the help option) itself and takes no option class, so
    its label method is wrapped once, here, at start-up.
    """
    option = typer.core.TyperOption
    if getattr(option.display_type_rich, "_syncer", False):
        return
    original = option.display_type_rich

    def display(self: typer.core.TyperOption, ctx: Any) -> str | None:
        if self.is_flag:
            return None
        shown = original(self, ctx)
        return _READABLE.get(shown, shown) if shown is not None else None

    display._syncer = True  # type: ignore[attr-defined]
    option.display_type_rich = display  # type: ignore[method-assign]
