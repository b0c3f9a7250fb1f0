"""Reading a source file that an export job may still be writing, or may have left cut off.

A half-written export reads as half the directory, and half the directory reads as everyone
else leaving. So a file is read whole or not at all: its size and modification time must not
move across the read, nor during a short settle time after a fresh write; a text format that
ends each record with a line end (CSV, YAML) must end with one; and CSV's last record must be
whole (all its cells, no quote left open). Each refusal names the file and says why; the next
cycle simply tries again.
"""

from __future__ import annotations

import codecs
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


def decode(file: Path, raw: bytes, encoding: str = "utf-8") -> str:
    """The file's text in ``encoding`` (``source.encoding``); a failure names the line and column.

    A file that is UTF-8 but set to be read as a single-byte encoding such as latin-1 would
    decode without an error and turn every accented name into mojibake (``Zoë`` to ``ZoÃ«``) on
    the target, so it is refused too.
    """
    name = codecs.lookup(encoding).name
    codec = "utf-8-sig" if name == "utf-8" else encoding  # tolerate the BOM spreadsheet exports write
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        line, column = _position(raw[: exc.start].decode(codec, errors="replace"))
        raise SourceError(
            f"{file}:{line}:{column}: not {encoding} text (byte 0x{raw[exc.start]:02x}: {exc.reason}); "
            f"set source.encoding to the file's encoding, such as {_encodings_that_fit(raw, name)}"
        ) from exc
    if not name.startswith("utf") and not raw.isascii() and _decodes(raw, "utf-8"):
        first = next(index for index, byte in enumerate(raw) if byte > 0x7F)
        line, column = _position(raw[:first].decode("ascii"))
        raise SourceError(
            f"{file}:{line}:{column}: this file is UTF-8, but source.encoding {encoding} would read each "
            "accented letter as two or three others: set source.encoding: utf-8 (the default)"
        )
    return text.removeprefix("\ufeff")


def _position(before: str) -> tuple[int, int]:
    """The 1-based line and column just after ``before``, the text that decoded."""
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _encodings_that_fit(raw: bytes, name: str) -> str:
    """The usual export encodings the whole file does decode in (latin-1 decodes any bytes)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "'utf-16' (the file starts with its byte-order mark)"
    usual = ("utf-8", "cp1252", "latin-1")
    fits = [each for each in usual if codecs.lookup(each).name != name and _decodes(raw, each)]
    return " or ".join(repr(encoding) for encoding in fits[:2])


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


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
