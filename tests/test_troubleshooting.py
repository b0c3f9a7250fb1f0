"""docs/troubleshooting.md stays true: every message its headings quote is still in the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "troubleshooting.md"
CODE = "\n".join(p.read_text("utf-8") for p in sorted((ROOT / "syncer").rglob("*.py")))


def _quoted() -> list[str]:
    """The code span of each ``## `message` `` heading: what an admin searches the page for."""
    return [
        match.group(1)
        for line in PAGE.read_text("utf-8").splitlines()
        if line.startswith("## ")
        for match in re.finditer(r"`([^`]+)`", line)
    ]


QUOTED = _quoted()


def test_the_page_quotes_messages() -> None:
    assert len(QUOTED) >= 10


@pytest.mark.parametrize("message", QUOTED)
def test_each_quoted_message_is_in_the_code(message: str) -> None:
    """A reworded message would leave the page describing an error nobody sees any more."""
    assert message in CODE, f"docs/troubleshooting.md quotes {message!r}, which syncer/ no longer says"


def test_the_readme_links_the_page() -> None:
    assert "(docs/troubleshooting.md)" in (ROOT / "README.md").read_text("utf-8")


def test_the_your_own_csv_table_names_every_column_the_asana_preset_reads() -> None:
    """A column added to the preset and missing from the README's table would be a silent gap."""
    text = (ROOT / "README.md").read_text("utf-8")
    section = text[text.index("#### Your own CSV") : text.index("### `type: ldap`")]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    listed = {name for line in table for name in re.findall(r"`([^`]+)`", line.split("|")[1])}
    preset = (ROOT / "syncer" / "presets" / "asana.yaml").read_text("utf-8")
    read = set(re.findall(r"source: (\w+)", preset)) | set(re.findall(r"\[(\w+)\]", preset))
    assert read - {"members", "IsSoftDeleted"} <= listed
