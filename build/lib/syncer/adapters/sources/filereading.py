"""Reading a source file that an export job may still be writing, or may have left cut off.

A half-written export reads as half the directory, and half the directory reads as everyone
else leaving. So a file is read whole or not at all: its size and modification time must not
move across the read, nor during a short settle time after a fresh write; a text format that
ends each record with a line end (CSV, YAML) must end with one; and CSV's last record must be
whole (all its cells, no quote left open). Each refusal names the file and says why; the next
cycle simply tries again.
"""

from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path

from syncer.errors import SourceError

DEFAULT_SETTLE = 0.25
"""Seconds a freshly modified file must stay unchanged before it is read (``source.settle_time``)."""


def _stat(file: Path) -> os.stat_result:
    try:
        return file.stat()
    except FileNotFoundError as exc:
        raise SourceError(f"{file}: source file not found") from exc
    except OSError as exc:
        raise SourceError(f"{file}: source file cannot be read: {exc.strerror or exc}") from exc


def read_settled(file: Path, settle: float) -> bytes:
    """The file's bytes, once it has been still for ``settle`` seconds and did not move during the read."""
    before = _stat(file)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise SourceError(f"{file}: source file cannot be read: {exc.strerror or exc}") from exc
    age = time.time() - before.st_mtime
    if age < settle:  # written just now: give a writer that is still at it the time to show itself
        time.sleep(settle - max(age, 0.0))
    after = _stat(file)
    moved = (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns)
    if moved or len(raw) != after.st_size:
        raise SourceError(
            f"{file}: the file changed while it was read ({len(raw)} bytes read, {after.st_size} now): "
            "an export still writing it? Nothing was read; the next cycle tries again"
        )
    return raw


def decode(file: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")  # tolerate the BOM spreadsheet exports write
    except UnicodeDecodeError as exc:
        raise SourceError(f"{file}: not UTF-8 text (byte {exc.start}): {exc.reason}") from exc


def _cut_off(file: Path, why: str) -> SourceError:
    return SourceError(
        f"{file}: {why}: the file looks cut off mid-write (an export still running, or a half-copied "
        "file). Nothing was read; if the file is complete, end it with a line break"
    )


def check_line_end(file: Path, text: str) -> None:
    """A CSV or YAML file ends with a line end; one that stops mid-line was cut."""
    if text and not text.endswith(("\n", "\r")):
        last = text.count("\n") + 1
        raise _cut_off(file, f"line {last}, the last, has no line end")


def check_last_csv_record(
    file: Path, text: str, delimiter: str, start_line: int, cells: int, header: int
) -> None:
    """The last CSV record (starting at ``start_line``) has every cell and no quote left open."""
    tail = "".join(text.splitlines(keepends=True)[start_line - 1 :])
    try:
        list(csv.reader(io.StringIO(tail, newline=""), strict=True, delimiter=delimiter))
    except csv.Error:
        raise _cut_off(file, f"the last record (line {start_line}) has an unterminated quote") from None
    if cells != header:
        raise _cut_off(file, f"the last record (line {start_line}) has {cells} cells, the header {header}")
