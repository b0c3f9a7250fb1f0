"""A source directory kept in files: JSON or YAML with users and groups, or CSV users plus a groups file.

A whole-read failure (missing file, bad syntax, wrong shape) raises ``SourceError``, because an empty
or partial directory would read as everyone leaving. A bad *record* only skips that record, with a
location a person can open, so one typo does not hold up the rest of the directory.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import structlog
import yaml

from syncer.adapters.nesting import MAX_DEPTH, json_too_deep, yaml_too_deep
from syncer.adapters.sources.base import record_names
from syncer.adapters.sources.filereading import (
    DEFAULT_SETTLE,
    check_last_csv_record,
    check_line_end,
    decode,
    read_settled,
)
from syncer.adapters.sources.filevalues import (
    APP_ROLES,
    MAX_VALUE,
    controls,
    roles_problem,
    type_name,
    value_problem,
)
from syncer.errors import ConfigError, SourceError
from syncer.types import DeclaredNames, ObjectKind, SkippedRecord, SourceObject, SourceSnapshot, freeze

_log = structlog.get_logger("syncer.source")

_SUFFIXES = frozenset({".json", ".yaml", ".yml", ".csv"})
_SECTIONS = {ObjectKind.USER: "users", ObjectKind.GROUP: "groups"}
__all__ = ["APP_ROLES", "MAX_VALUE", "FileSource"]

Located = tuple[str, Any]
"""A raw record with where it came from (``file:line`` or ``file:users[3]``)."""


class _Loader(yaml.SafeLoader):
    """A safe loader that keeps unquoted dates as the text written, since attribute values are JSON-like."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _BadRecord(Exception):
    """One record that cannot be imported; caught per record so the read goes on."""

    def __init__(self, reason: str, source_id: str | None = None) -> None:
        self.reason = reason
        self.source_id = source_id
        super().__init__(reason)


class FileSource:
    """Reads the directory from ``path`` (and groups also from ``groups_path``) on every cycle.

    The file type is checked here, when the config loads, so a wrong path fails ``syncer validate``
    rather than the first scheduled cycle.
    """

    def __init__(
        self,
        path: Path,
        groups_path: Path | None = None,
        *,
        csv_delimiter: str = ",",
        settle: float = DEFAULT_SETTLE,
    ) -> None:
        for file in (path, groups_path):
            if file is not None and file.suffix.lower() not in _SUFFIXES:
                suffix = file.suffix or "(none)"
                raise ConfigError(f"source file type {suffix!r}: use .json, .yaml, .yml or .csv", str(file))
        if len(csv_delimiter) != 1:
            raise ConfigError(f"csv_delimiter must be one character, not {csv_delimiter!r}")
        self.path = path
        self.groups_path = groups_path
        self.csv_delimiter = csv_delimiter
        self.settle = settle

    def read(self) -> SourceSnapshot:
        """Read every file afresh; raise ``SourceError`` rather than return less than the whole directory."""
        raws: list[bytes] = []
        records: dict[ObjectKind, list[Located]] = {ObjectKind.USER: [], ObjectKind.GROUP: []}
        headers: dict[ObjectKind, list[str]] = {}
        files = [(self.path, (ObjectKind.USER,) if _is_csv(self.path) else tuple(_SECTIONS))]
        if self.groups_path is not None:
            files.append((self.groups_path, (ObjectKind.GROUP,)))
        for file, kinds in files:
            raws.append(read_settled(file, self.settle))
            text = decode(file, raws[-1])
            if file.suffix.lower() != ".json":  # JSON needs no line end; a cut one fails to parse
                check_line_end(file, text)
            if _is_csv(file):
                header, located = _csv_records(file, text, kinds[0], self.csv_delimiter)
                headers[kinds[0]] = header
                records[kinds[0]].extend(located)
            else:
                for kind, located in _document_records(file, text, kinds).items():
                    records[kind].extend(located)
        fingerprint = _fingerprint(raws)
        del raws, text  # only the records are needed now, and they are consumed as they are read
        skipped: list[SkippedRecord] = []
        users = _objects(ObjectKind.USER, records[ObjectKind.USER], skipped)
        groups = _objects(ObjectKind.GROUP, records[ObjectKind.GROUP], skipped)
        return SourceSnapshot(
            users=users,
            groups=groups,
            skipped=tuple(skipped),
            fingerprint=fingerprint,
            declared=DeclaredNames(
                users=_names(headers.get(ObjectKind.USER)) or record_names(users),
                groups=_names(headers.get(ObjectKind.GROUP)) or record_names(groups),
                origin="the CSV header" if ObjectKind.USER in headers else "the records read",
            ),
        )


def _names(header: list[str] | None) -> frozenset[str] | None:
    return frozenset(header) if header is not None else None  # a column no row fills is a column


def _is_csv(file: Path) -> bool:
    return file.suffix.lower() == ".csv"


def _fingerprint(raws: list[bytes]) -> str:
    """One file hashes to its plain sha256, so ``sha256sum`` on the file gives the same value."""
    if len(raws) == 1:
        return hashlib.sha256(raws[0]).hexdigest()
    return hashlib.sha256("\n".join(hashlib.sha256(raw).hexdigest() for raw in raws).encode()).hexdigest()


def _document_records(
    file: Path, text: str, kinds: tuple[ObjectKind, ...]
) -> dict[ObjectKind, list[Located]]:
    """Parse JSON or YAML and pair each record with its location (YAML line, else JSON index)."""
    lines: dict[str, list[int]] = {}
    if file.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{file}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
        except RecursionError:
            raise _too_deep(file, json_too_deep(text)) from None
    else:
        data, lines = _load_yaml(file, text)
    expected = [_SECTIONS[kind] for kind in kinds]
    if not isinstance(data, dict):
        shape = " and ".join(expected)
        raise SourceError(f"{file}: top level is {type_name(data)}; expected a mapping with {shape}")
    unknown = ", ".join(repr(str(key)) for key in data if key not in expected)
    if unknown:
        # a typo such as "user:" would otherwise read as an empty directory: everyone gone
        raise SourceError(f"{file}: unknown top-level key {unknown}; expected {' and '.join(expected)}")
    records: dict[ObjectKind, list[Located]] = {}
    for kind in kinds:
        section = _SECTIONS[kind]
        items = data.get(section, [])
        if not isinstance(items, list):
            raise SourceError(f"{file}: {section!r} is {type_name(items)}; expected a list ([] for none)")
        at = lines.get(section, [])
        records[kind] = [
            (f"{file}:{at[index]}" if len(at) == len(items) else f"{file}:{section}[{index}]", item)
            for index, item in enumerate(items)
        ]
    return records


def _too_deep(file: Path, line: int | None) -> SourceError:
    """The parser recursed past Python's limit: refuse the file where it went too deep."""
    where = f"{file}:{line}" if line is not None else str(file)
    return SourceError(f"{where}: nested more than {MAX_DEPTH} levels deep; no directory nests so")


def _load_yaml(file: Path, text: str) -> tuple[Any, dict[str, list[int]]]:
    """Load YAML and note each top-level list item's line, read off the node marks the parser made anyway."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(file)
        raise SourceError(f"{where}: invalid YAML: {exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise SourceError(f"{file}: invalid YAML: {exc}") from exc
    except RecursionError:
        raise _too_deep(file, yaml_too_deep(text)) from None
    finally:
        loader.dispose()
    lines: dict[str, list[int]] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.SequenceNode):
                lines[str(key.value)] = [item.start_mark.line + 1 for item in value.value]
    return data, lines


def _csv_records(file: Path, text: str, kind: ObjectKind, delimiter: str) -> tuple[list[str], list[Located]]:
    """The header and the rows as records; a row whose cell count differs from the header is skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    located: list[Located] = []
    try:
        header = next(reader, None)
        if header is None:
            raise SourceError(f"{file}: empty CSV file: expected a header row of attribute names")
        names = _csv_header(file, header)
        start = last = reader.line_num + 1
        width = len(names)
        for cells in reader:
            if cells:
                last, width = start, len(cells)
            location, start = f"{file}:{start}", reader.line_num + 1
            if len(cells) == len(names):
                located.append((location, _csv_record(kind, names, cells)))
            elif cells:  # a blank line is no record
                id_cell = dict(zip(names, cells, strict=False)).get("id") or None
                reason = f"row has {len(cells)} cells but the header has {len(names)}"
                located.append((location, _BadRecord(reason, id_cell)))
    except csv.Error as exc:
        raise SourceError(f"{file}:{reader.line_num}: invalid CSV: {exc}") from exc
    if located:
        check_last_csv_record(file, text, delimiter, last, width, len(names))
    return names, located


def _csv_header(file: Path, header: list[str]) -> list[str]:
    names = [name.strip() for name in header]
    for column, name in enumerate(names, start=1):
        if not name:
            raise SourceError(f"{file}:1: CSV column {column} has no name")
        if names.index(name) != column - 1:
            raise SourceError(f"{file}:1: CSV column {name!r} appears twice")
    if "id" not in names:
        raise SourceError(f"{file}:1: CSV has no 'id' column: every record needs its stable source id")
    return names


def _csv_record(kind: ObjectKind, names: list[str], cells: list[str]) -> dict[str, Any]:
    """Cells are strings, except empty (absent) and true/false (bool); group members are ``;``-separated."""
    record: dict[str, Any] = {}
    for name, cell in zip(names, cells, strict=True):
        if name == "id":
            record[name] = cell
        elif kind is ObjectKind.GROUP and name == "members":
            record[name] = [member.strip() for member in cell.split(";") if member.strip()]
        elif cell == "":
            continue
        elif cell.lower() in ("true", "false"):
            record[name] = cell.lower() == "true"
        else:
            record[name] = cell
    return record


def _objects(
    kind: ObjectKind, records: list[Located], skipped: list[SkippedRecord]
) -> tuple[SourceObject, ...]:
    """Build the objects of one kind; the first record with an id wins, later ones are skipped.

    ``records`` is emptied as it is read, so a parsed record is freed once its object exists and
    the parsed file and the objects are never both whole in memory.
    """
    first_at: dict[str, str] = {}
    objects: list[SourceObject] = []
    records.reverse()
    while records:
        location, record = records.pop()
        try:
            obj = _object(kind, record)
        except _BadRecord as bad:
            _skip(skipped, kind, location, bad.reason, bad.source_id)
            continue
        if obj.id in first_at:
            _skip(skipped, kind, location, f"duplicate id: first read at {first_at[obj.id]}", obj.id)
            continue
        first_at[obj.id] = location
        objects.append(obj)
    return tuple(objects)


def _object(kind: ObjectKind, record: Any) -> SourceObject:
    if isinstance(record, _BadRecord):  # already found bad while parsing (a CSV row of the wrong width)
        raise record
    if not isinstance(record, Mapping):
        raise _BadRecord(f"record is {type_name(record)}, not a mapping of attributes")
    if "id" not in record:
        raise _BadRecord("record has no id")
    source_id = _source_id(record["id"], "id")
    attributes: dict[str, Any] = {}
    for name, value in record.items():
        if not isinstance(name, str):
            raise _BadRecord(f"attribute name {name!r} is not a string", source_id)
        if kind is ObjectKind.GROUP and name == "members":
            continue
        problem = roles_problem(value) if name == APP_ROLES else value_problem(value)
        if problem:
            raise _BadRecord(f"attribute {name!r} {problem}", source_id)
        attributes[name] = value
    attributes["id"] = source_id  # kept so mappings can say [id]
    members = _members(record.get("members"), source_id) if kind is ObjectKind.GROUP else ()
    return SourceObject(kind=kind, id=source_id, attributes=freeze(attributes), members=members)


def _source_id(value: Any, what: str, owner: str | None = None) -> str:
    """An id is a non-empty string; an int is accepted as its decimal text (bool is not an int here)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise _BadRecord(f"{what} is {type_name(value)}; expected a non-empty string", owner)
    if not value.strip():
        raise _BadRecord(f"{what} is empty", owner)
    if controls(value) or "\t" in value or "\n" in value or "\r" in value:
        raise _BadRecord(f"{what} holds a control character", owner)
    return value


def _members(value: Any, source_id: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise _BadRecord(f"members is {type_name(value)}; expected a list of member ids", source_id)
    members = (_source_id(member, f"members[{index}]", source_id) for index, member in enumerate(value))
    return tuple(dict.fromkeys(members))  # dedupe, keep the file's order


def _skip(
    skipped: list[SkippedRecord], kind: ObjectKind, location: str, reason: str, source_id: str | None
) -> None:
    # the reason names the attribute, never its value: the log may leave the building
    skipped.append(SkippedRecord(kind=kind, location=location, reason=reason, id=source_id))
    _log.warning("source_record_skipped", kind=kind.value, location=location, reason=reason, id=source_id)
