"""The README's table of target profiles says what :mod:`syncer.settings.profiles` does."""

from __future__ import annotations

from tests.support.quirks import readme


def test_the_readme_lists_every_profile_quirk_with_its_source() -> None:
    shown = readme.section(readme.README.read_text(encoding="utf-8"))
    assert shown is not None, f"README.md lacks the {readme.BEGIN} ... {readme.END} table"
    assert shown == readme.table(), "run: python -m tests.support.quirks.readme"
