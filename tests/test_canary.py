"""The canary scan finds a secret wherever syncer could write one, and only there."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import canary
from tests.support.canary import CAPTURES, INPUTS, Hit, KnownLeak, scan


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A folder outside the session's temp dir: the session's own scan must not see these secrets."""
    with tempfile.TemporaryDirectory(prefix="syncer-canary-test-") as folder:
        yield Path(folder)


def test_a_secret_in_a_log_file_is_found_with_its_file(tmp_path: Path) -> None:
    (tmp_path / "t0").mkdir()
    (tmp_path / "t0" / "daemon.log").write_text(f'{{"event": "x", "url": "{canary.TARGET_TOKEN}"}}\n')
    (tmp_path / "t0" / "clean.log").write_text("nothing here\n")
    assert scan(tmp_path) == [Hit("target token", "t0/daemon.log", "file bytes")]


def test_a_secret_in_a_sqlite_table_is_found_with_its_table(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "state.db") as db:
        db.execute("CREATE TABLE provisioning_log (detail TEXT)")
        db.execute("INSERT INTO provisioning_log VALUES (?)", (f"GET {canary.WEBHOOK_PATH} failed",))
    db.close()
    hits = scan(tmp_path)
    assert Hit("webhook URL secret", "state.db", "sqlite table provisioning_log") in hits


def test_a_captured_output_is_reported_as_its_command_and_test(tmp_path: Path) -> None:
    (tmp_path / CAPTURES).mkdir()
    body = f"tests/e2e/test_x.py::test_y (call) :: syncer sync\nerror: Bearer {canary.LDAP_PASSWORD}\n"
    (tmp_path / CAPTURES / "00001.stderr").write_text(body)
    [hit] = scan(tmp_path)
    assert hit == Hit("LDAP bind password", "tests/e2e/test_x.py::test_y (call) :: syncer sync", "stderr")


def test_declared_inputs_are_skipped(tmp_path: Path) -> None:
    token = tmp_path / "w" / "token"
    token.parent.mkdir()
    token.write_text(canary.SOURCE_TOKEN)
    (tmp_path / "w" / INPUTS).write_text(f"{token.resolve()}\n")
    assert scan(tmp_path) == []


@pytest.mark.parametrize(
    ("leak", "known"),
    [
        (KnownLeak("target token", r"\[stderr\]", "being fixed"), True),
        (KnownLeak("target token", r"\[file bytes\]", "another channel"), False),
        (KnownLeak("LDAP bind password", r"\[stderr\]", "another secret"), False),
    ],
)
def test_a_known_leak_matches_its_secret_and_channel_only(
    leak: KnownLeak, known: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(canary, "KNOWN_LEAKS", (leak,))
    assert (Hit("target token", "t :: syncer sync", "stderr").known() is not None) is known
