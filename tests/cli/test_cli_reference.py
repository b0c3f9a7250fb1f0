"""The README's CLI reference lists every command and every option the CLI has, with its defaults.

Walks the real typer app (what ``syncer --help`` shows), so an option added without a line in
the reference fails here instead of surprising an admin who reads the README.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main

from syncer.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"

SHARED = {"-j", "--wait", "--wait-timeout"}
"""Options the reference explains once, below the table, for every command that has them."""


@dataclass(frozen=True)
class Reference:
    prose: str
    """The section without its table: the global options and the shared ones."""
    synopses: dict[str, str]
    """Each command's synopsis cells (``syncer plan [--job J] ...``), joined."""
    rows: dict[str, str]
    """Each command's whole rows: what it does, its defaults, its exit codes."""


def _reference() -> Reference:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## CLI reference") :]
    section = section[: section.index("\n## ", 1)]
    prose: list[str] = []
    synopses: dict[str, str] = {}
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if not line.startswith("| `syncer "):
            prose.append(line)
            continue
        synopsis = re.split(r"(?<!\\)\|", line)[1]
        for name in re.findall(r"`syncer ([a-z-]+)", synopsis):
            synopses[name] = synopses.get(name, "") + " " + synopsis
            rows[name] = rows.get(name, "") + " " + line
    return Reference("\n".join(prose), synopses, rows)


REFERENCE = _reference()
CLI = typer.main.get_command(app)
COMMANDS: dict[str, Any] = dict(sorted(CLI.commands.items()))  # type: ignore[attr-defined]


def _mentions(text: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def _options(command: Any) -> list[Any]:
    return [p for p in command.params if p.param_type_name == "option" and not p.hidden]


def _defaults(option: Any) -> list[str]:
    """The defaults an option has or its help states (``--limit``: "table default: 200")."""
    found = re.findall(r"default: ([^)\s,;]+)", option.help or "")
    default = option.default
    if not option.is_flag and default is not None and not callable(default):
        found.append(str(getattr(default, "value", default)))
    return found


def test_every_command_has_a_row() -> None:
    assert sorted(REFERENCE.synopses) == sorted(COMMANDS)


def test_every_global_option_is_listed() -> None:
    names = [name for p in _options(CLI) for name in (*p.opts, *p.secondary_opts)]
    missing = [name for name in names if not _mentions(REFERENCE.prose, name)]
    assert not missing, f"global options missing from the README's CLI reference: {missing}"


def test_every_global_default_is_stated() -> None:
    missing = [
        f"{option.opts[0]} {default}"
        for option in _options(CLI)
        for default in _defaults(option)
        if default not in REFERENCE.prose
    ]
    assert not missing, f"global defaults missing from the README's CLI reference: {missing}"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_option_of_the_command_is_in_its_synopsis(name: str) -> None:
    """Long and short names (and ``--no-x``) in the command's synopsis; shared ones below the table."""
    missing = []
    for option in _options(COMMANDS[name]):
        for flag in (*option.opts, *option.secondary_opts):
            where = REFERENCE.prose if flag in SHARED else REFERENCE.synopses.get(name, "")
            if not _mentions(where, flag):
                missing.append(flag)
    assert not missing, f"`syncer {name}`: options missing from the README's CLI reference: {missing}"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_default_of_the_command_is_stated(name: str) -> None:
    missing = [
        f"{option.opts[0]} {default}"
        for option in _options(COMMANDS[name])
        for default in _defaults(option)
        if default not in REFERENCE.rows.get(name, "") and default not in REFERENCE.prose
    ]
    assert not missing, f"`syncer {name}`: defaults missing from the README's CLI reference: {missing}"
