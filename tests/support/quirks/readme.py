"""The README's table of target profiles, made from :data:`syncer.settings.profiles.PROFILES`.

``python -m tests.support.quirks.readme`` rewrites the table between its markers in README.md;
tests/test_target_profiles_readme.py fails while the README and the profiles disagree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from syncer.settings.profiles import PROFILES

BEGIN, END = "<!-- profiles:begin -->", "<!-- profiles:end -->"
README = Path(__file__).resolve().parents[3] / "README.md"


def table() -> str:
    rows = ["| `profile` | Documented quirk | Source | What syncer does |", "|---|---|---|---|"]
    for profile, quirks in PROFILES.items():
        if not quirks.quirks:
            rows.append(f"| `{profile.value}` | none assumed beyond RFC 7644 | RFC 7644 | as the RFC says |")
        for i, quirk in enumerate(quirks.quirks):
            name = f"`{profile.value}` ({quirks.title})" if i == 0 else ""
            rows.append(f"| {name} | {quirk.behaviour} | {quirk.source} | {quirk.handling} |")
    return "\n".join(rows)


def section(text: str) -> str | None:
    found = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.DOTALL)
    return found.group(1).rstrip("\n") if found else None


def rewrite(path: Path = README) -> None:
    text = path.read_text(encoding="utf-8")
    new = re.sub(
        re.escape(BEGIN) + r"\n.*?" + re.escape(END),
        lambda _: f"{BEGIN}\n{table()}\n{END}",
        text,
        flags=re.DOTALL,
    )
    path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    rewrite()
    sys.exit(0)
