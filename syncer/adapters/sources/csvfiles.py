"""CSV records as real HR exports write them: the delimiter given or sniffed, the header checked.

Exports differ from the textbook: a European spreadsheet writes ``;``, other tools a tab or ``|``.
A header read with the wrong delimiter is one long column name, so the first thing a person sees
is "no 'id' column"; the error then says which delimiter the header does split by, and the key
that sets it. A column the file source itself needs (``id``; ``members`` in a groups file) is
named when it is missing, since without it every record would be skipped or every group emptied.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncer.adapters.sources.filereading import check_last_csv_record
from syncer.errors import ConfigError, SourceError
from syncer.settings.sources import DELIMITERS
from syncer.types import ObjectKind

AUTO = "auto"
"""``source.delimiter: auto``: sniff the delimiter from the header line among :data:`CANDIDATES`."""

CANDIDATES = DELIMITERS
"""The delimiters exports use, in the order a hint tries them."""

# A cell past MAX_VALUE skips its record instead of failing the whole CSV read: the parser may
# take far longer cells, and the record checks in ``files`` refuse them one by one.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))

_LINE_END = re.compile(r"\r\n|\r|\n")

Located = tuple[str, Any]
"""A raw record with where it came from (``file:line`` or ``file:users[3]``)."""


class BadRecord(Exception):
    """One record that cannot be imported; caught per record so the read goes on."""

    def __init__(self, reason: str, source_id: str | None = None) -> None:
        self.reason = reason
        self.source_id = source_id
        super().__init__(reason)


@dataclass(frozen=True)
class CsvFormat:
    """How one CSV file is split: its delimiter (or ``auto``), and the config key that sets it."""

    delimiter: str = ","
    key: str = "source.delimiter"
    members_separator: str = ";"
    """Between member ids inside a groups file's ``members`` cell."""

    def __post_init__(self) -> None:
        if self.delimiter != AUTO and not _one_char(self.delimiter):
            raise ConfigError(f"{self.key} must be one character or 'auto', not {self.delimiter!r}")
        if not _one_char(self.members_separator):
            separator = self.members_separator
            raise ConfigError(f"source.members_separator must be one character, not {separator!r}")


def _one_char(value: str) -> bool:
    return len(value) == 1 and value not in '"\r\n'


def shown(delimiter: str) -> str:
    """A delimiter as a person reads it, and as YAML would take it."""
    return '"\\t"' if delimiter == "\t" else repr(delimiter)


def sniff(text: str) -> str:
    """The delimiter of the header line, among :data:`CANDIDATES`; ``,`` when it has only one column."""
    try:
        return csv.Sniffer().sniff(_first_line(text), delimiters="".join(CANDIDATES)).delimiter
    except csv.Error:
        return ","


def _first_line(text: str) -> str:
    """The header line, without splitting the rest of a large file."""
    return _LINE_END.split(text, maxsplit=1)[0]


def csv_records(file: Path, text: str, kind: ObjectKind, form: CsvFormat) -> tuple[list[str], list[Located]]:
    """The header and the rows as records; a row whose cell count differs from the header is skipped."""
    delimiter = sniff(text) if form.delimiter == AUTO else form.delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    located: list[Located] = []
    try:
        header = next(reader, None)
        if header is None:
            raise SourceError(f"{file}: empty CSV file: expected a header row of attribute names")
        names = _header(file, header, kind, _first_line(text), delimiter, form.key)
        start = last = reader.line_num + 1
        width = len(names)
        for cells in reader:
            if cells:
                last, width = start, len(cells)
            location, start = f"{file}:{start}", reader.line_num + 1
            if len(cells) == len(names):
                located.append((location, _record(kind, names, cells, form.members_separator)))
            elif cells:  # a blank line is no record
                id_cell = dict(zip(names, cells, strict=False)).get("id") or None
                reason = f"row has {len(cells)} cells but the header has {len(names)}"
                located.append((location, BadRecord(reason + _width_hint(kind, delimiter, form), id_cell)))
    except csv.Error as exc:
        raise SourceError(f"{file}:{reader.line_num}: invalid CSV: {exc}") from exc
    if located:
        check_last_csv_record(file, text, delimiter, last, width, len(names))
    return names, located


def _width_hint(kind: ObjectKind, delimiter: str, form: CsvFormat) -> str:
    """A groups row split apart by its own members: say how to keep them in one cell."""
    if kind is not ObjectKind.GROUP or form.members_separator != delimiter:
        return ""
    return (
        f"; members separated by {shown(delimiter)}, the file's delimiter, must be quoted "
        '("u1;u2"), or set source.members_separator'
    )


REQUIRED = {
    ObjectKind.USER: ("id",),
    ObjectKind.GROUP: ("id", "members"),
}
"""The columns the file source itself reads; the mapping's own names are checked elsewhere."""

_WHY = {
    "id": "every record needs its stable source id",
    "members": "without it every group would read as empty and lose its members (cells may be empty)",
}


def _header(
    file: Path, header: list[str], kind: ObjectKind, line: str, delimiter: str, key: str
) -> list[str]:
    names = [name.strip() for name in header]
    for column, name in enumerate(names, start=1):
        if not name:
            trailing = " (a delimiter at the end of the header line?)" if column == len(names) else ""
            raise SourceError(f"{file}:1: CSV column {column} has no name{trailing}")
        if names.index(name) != column - 1:
            raise SourceError(f"{file}:1: CSV column {name!r} appears twice")
    for required in REQUIRED[kind]:
        if required not in names:
            hint = _delimiter_hint(line, delimiter, REQUIRED[kind], key)
            if hint:
                raise SourceError(f"{file}:1: no {required!r} column; {hint}")
            found = _columns(names, required)
            raise SourceError(f"{file}:1: no {required!r} column{found}: {_WHY[required]}")
    return names


def _delimiter_hint(line: str, delimiter: str, required: tuple[str, ...], key: str) -> str:
    """Which other delimiter would split the header ``line`` into every ``required`` column, as advice."""
    for other in CANDIDATES:
        if other == delimiter:
            continue
        cells = {cell.strip() for cell in next(csv.reader([line], delimiter=other), [])}
        if cells.issuperset(required):
            named = "tab" if other == "\t" else repr(other)
            return f"the header looks {named}-separated: set {key}: {shown(other)}"
    return ""


def _columns(names: list[str], required: str) -> str:
    """The header's names, so a renamed or differently cased column is seen at once."""
    near = [name for name in names if name.casefold() == required.casefold()]
    if near:
        return f" (there is {near[0]!r}; column names are case-sensitive)"
    listed = ", ".join(repr(name[:40]) for name in names[:8])
    more = f" and {len(names) - 8} more" if len(names) > 8 else ""
    return f" (the header has {listed}{more})"


def _record(kind: ObjectKind, names: list[str], cells: list[str], separator: str) -> dict[str, Any]:
    """Cells are strings, except empty (absent) and true/false (bool); members split at ``separator``."""
    record: dict[str, Any] = {}
    for name, cell in zip(names, cells, strict=True):
        if name == "id":
            record[name] = cell
        elif kind is ObjectKind.GROUP and name == "members":
            record[name] = [member.strip() for member in cell.split(separator) if member.strip()]
        elif cell == "":
            continue
        elif cell.lower() in ("true", "false"):
            record[name] = cell.lower() == "true"
        else:
            record[name] = cell
    return record
