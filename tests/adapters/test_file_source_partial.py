"""A file still being written, or cut mid-write, is refused whole; a bad cell skips its record (issue 11).

Real files on disk, written (and appended to, from a second thread) as an export job would.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from syncer.adapters.sources.files import FileSource
from syncer.errors import SourceError

HEADER = "id,userPrincipalName,displayName\n"


def rows(count: int) -> str:
    return "".join(f"u{i},u{i}@contoso.com,User {i}\n" for i in range(count))


def test_a_file_appended_to_during_the_read_is_refused(tmp_path: Path) -> None:
    """An export still appending within the settle time fails the read, naming the file; nothing is read."""
    path = tmp_path / "users.csv"
    path.write_text(HEADER + rows(50), "utf-8")

    def keep_writing() -> None:
        time.sleep(0.05)
        with path.open("a", encoding="utf-8") as out:
            out.write(rows(100)[len(rows(50)) :])

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        with pytest.raises(SourceError) as caught:
            FileSource(path, settle=0.4).read()
    finally:
        writer.join()
    assert str(path) in str(caught.value)
    assert "changed while it was read" in str(caught.value)


def test_a_fresh_file_that_stays_put_is_read_after_the_settle_time(tmp_path: Path) -> None:
    """A file written just now is read once it has been still for the settle time."""
    path = tmp_path / "users.csv"
    path.write_text(HEADER + rows(3), "utf-8")
    started = time.monotonic()
    snapshot = FileSource(path, settle=0.3).read()
    assert time.monotonic() - started >= 0.25
    assert len(snapshot.users) == 3


def test_an_old_file_is_read_without_waiting(tmp_path: Path) -> None:
    """A file last modified long ago is read at once: the settle time costs only fresh files."""
    import os

    path = tmp_path / "users.csv"
    path.write_text(HEADER + rows(3), "utf-8")
    os.utime(path, (time.time() - 60, time.time() - 60))
    started = time.monotonic()
    FileSource(path, settle=5).read()
    assert time.monotonic() - started < 1


CUT_FILES = [
    pytest.param("users.csv", HEADER + rows(5) + "u5,u5@cont", "no line end", id="csv-cut-mid-record"),
    pytest.param("users.csv", HEADER + rows(5) + "u5,u5@contoso.com\n", "2 cells", id="csv-last-row-short"),
    pytest.param(
        "users.csv", HEADER + rows(5) + 'u5,u5@contoso.com,"User\n', "unterminated quote", id="csv-open-quote"
    ),
    pytest.param(
        "dir.yaml",
        "users:\n  - id: u1\n    userPrincipalName: u1@contoso.com\n  - id: u2\n    userPrincipalName: u2@co",
        "no line end",
        id="yaml-cut-mid-line",
    ),
]


@pytest.mark.parametrize(("name", "content", "reason"), CUT_FILES)
def test_a_file_cut_mid_write_is_refused_whole(tmp_path: Path, name: str, content: str, reason: str) -> None:
    """A CSV whose last record is incomplete, or YAML cut mid-line, fails the read naming the file."""
    path = tmp_path / name
    path.write_text(content, "utf-8")
    with pytest.raises(SourceError) as caught:
        FileSource(path, settle=0).read()
    assert str(path) in str(caught.value)
    assert reason in str(caught.value)
    assert "cut off" in str(caught.value)


def test_a_short_row_before_the_last_is_still_only_skipped(tmp_path: Path) -> None:
    """A wrong-width row in the middle is a bad record (skipped), not a cut file."""
    path = tmp_path / "users.csv"
    path.write_text(HEADER + "u0,short\n" + rows(3), "utf-8")
    snapshot = FileSource(path, settle=0).read()
    assert len(snapshot.users) == 3 and [s.location for s in snapshot.skipped] == [f"{path}:2"]


def test_a_million_character_cell_skips_only_its_record(tmp_path: Path) -> None:
    """A 1M-character CSV cell skips that record, with its line; the other records are read."""
    path = tmp_path / "users.csv"
    path.write_text(
        HEADER + rows(2) + f"big,big@contoso.com,{'x' * 1_000_000}\n" + "u9,u9@c.com,Nine\n", "utf-8"
    )
    snapshot = FileSource(path, settle=0).read()
    assert [u.id for u in snapshot.users] == ["u0", "u1", "u9"]
    (skip,) = snapshot.skipped
    assert skip.location == f"{path}:4" and skip.id == "big"
    assert "displayName" in skip.reason and "1000000 characters" in skip.reason


def test_a_long_yaml_value_skips_only_its_record(tmp_path: Path) -> None:
    """The same limit holds for JSON and YAML values."""
    path = tmp_path / "dir.yaml"
    path.write_text(f"users:\n  - id: u1\n    note: {'x' * 200_000}\n  - id: u2\n", "utf-8")
    snapshot = FileSource(path, settle=0).read()
    assert [u.id for u in snapshot.users] == ["u2"]
    assert "'note'" in snapshot.skipped[0].reason


@pytest.mark.parametrize(
    ("row", "what"),
    [
        ("u\x001,a@contoso.com,A", "id"),
        ("u1,a@contoso.com\x00,A", "userPrincipalName"),
        ("u1,a@contoso.com,A\x1b[2J", "displayName"),
    ],
)
def test_control_characters_in_identity_values_skip_the_record(tmp_path: Path, row: str, what: str) -> None:
    """NUL and escape sequences in an id or any value skip that record, naming it and the attribute."""
    path = tmp_path / "users.csv"
    path.write_text(HEADER + row + "\n" + "u2,b@contoso.com,B\n", "utf-8")
    snapshot = FileSource(path, settle=0).read()
    assert [u.id for u in snapshot.users] == ["u2"]
    (skip,) = snapshot.skipped
    assert skip.location == f"{path}:2"
    assert what in skip.reason and "control character" in skip.reason
    assert "\x00" not in skip.reason and "\x1b" not in skip.reason


def test_control_characters_in_a_group_member_id_skip_the_group(tmp_path: Path) -> None:
    """A member id with a control character skips that group record."""
    path = tmp_path / "dir.yaml"
    path.write_text('groups:\n  - id: g1\n    members: ["u1", "u\\x002"]\n  - id: g2\n', "utf-8")
    snapshot = FileSource(path, settle=0).read()
    assert [g.id for g in snapshot.groups] == ["g2"]
    assert "members[1]" in snapshot.skipped[0].reason
