"""A source directory kept in files: JSON or YAML with users and groups, or CSV users plus a groups file.

A whole-read failure (missing file, bad syntax, wrong shape) raises ``SourceError``, because an empty
or partial directory would read as everyone leaving. A bad *record* only skips that record, with a
location a person can open, so one typo does not hold up the rest of the directory.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import structlog
import yaml

from syncer.adapters.nesting import MAX_DEPTH, json_too_deep, yaml_too_deep
from syncer.adapters.sources.base import record_names
from syncer.adapters.sources.csvfiles import BadRecord, CsvFormat, Located, csv_records
from syncer.adapters.sources.filereading import DEFAULT_SETTLE, check_line_end, decode, read_settled
from syncer.adapters.sources.filevalues import (
    APP_ROLES,
    MAX_VALUE,
    controls,
    roles_problem,
    type_name,
    value_problem,
)
from syncer.errors import ConfigError, SourceError
from syncer.settings.sources import text_encoding
from syncer.types import DeclaredNames, ObjectKind, SkippedRecord, SourceObject, SourceSnapshot, freeze

_log = structlog.get_logger("syncer.source")

_SUFFIXES = frozenset({".json", ".yaml", ".yml", ".csv"})
_SECTIONS = {ObjectKind.USER: "users", ObjectKind.GROUP: "groups"}
__all__ = ["APP_ROLES", "MAX_VALUE", "FileSource"]


class _Loader(yaml.SafeLoader):
    """A safe loader that keeps unquoted dates as the text written, since attribute values are JSON-like."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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
        delimiter: str = ",",
        groups_delimiter: str | None = None,
        members_separator: str = ";",
        encoding: str = "utf-8",
        settle: float = DEFAULT_SETTLE,
    ) -> None:
        for file in (path, groups_path):
            if file is not None and file.suffix.lower() not in _SUFFIXES:
                suffix = file.suffix or "(none)"
                raise ConfigError(f"source file type {suffix!r}: use .json, .yaml, .yml or .csv", str(file))
        try:
            self.encoding = text_encoding(encoding)
        except ValueError as exc:
            raise ConfigError(f"source.encoding: {exc}") from None
        self.path = path
        self.groups_path = groups_path
        groups_delimiter = delimiter if groups_delimiter is None else groups_delimiter
        self.formats = {
            ObjectKind.USER: CsvFormat(delimiter, "source.delimiter", members_separator),
            # the groups file's own key is the advice even when unset: the users file may be right
            ObjectKind.GROUP: CsvFormat(groups_delimiter, "source.groups_delimiter", members_separator),
        }
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
            text = decode(file, raws[-1], self.encoding)
            if file.suffix.lower() != ".json":  # JSON needs no line end; a cut one fails to parse
                check_line_end(file, text)
            if _is_csv(file):
                header, located = csv_records(file, text, kinds[0], self.formats[kinds[0]])
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
        except BadRecord as bad:
            _skip(skipped, kind, location, bad.reason, bad.source_id)
            continue
        if obj.id in first_at:
            _skip(skipped, kind, location, f"duplicate id: first read at {first_at[obj.id]}", obj.id)
            continue
        first_at[obj.id] = location
        objects.append(obj)
    return tuple(objects)


def _object(kind: ObjectKind, record: Any) -> SourceObject:
    if isinstance(record, BadRecord):  # already found bad while parsing (a CSV row of the wrong width)
        raise record
    if not isinstance(record, Mapping):
        raise BadRecord(f"record is {type_name(record)}, not a mapping of attributes")
    if "id" not in record:
        raise BadRecord("record has no id")
    source_id = _source_id(record["id"], "id")
    attributes: dict[str, Any] = {}
    for name, value in record.items():
        if not isinstance(name, str):
            raise BadRecord(f"attribute name {name!r} is not a string", source_id)
        if kind is ObjectKind.GROUP and name == "members":
            continue
        problem = roles_problem(value) if name == APP_ROLES else value_problem(value)
        if problem:
            raise BadRecord(f"attribute {name!r} {problem}", source_id)
        attributes[name] = value
    attributes["id"] = source_id  # kept so mappings can say [id]
    members = _members(record.get("members"), source_id) if kind is ObjectKind.GROUP else ()
    return SourceObject(kind=kind, id=source_id, attributes=freeze(attributes), members=members)


def _source_id(value: Any, what: str, owner: str | None = None) -> str:
    """An id is a non-empty string; an int is accepted as its decimal text (bool is not an int here)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise BadRecord(f"{what} is {type_name(value)}; expected a non-empty string", owner)
    if not value.strip():
        raise BadRecord(f"{what} is empty", owner)
    if controls(value) or "\t" in value or "\n" in value or "\r" in value:
        raise BadRecord(f"{what} holds a control character", owner)
    return value


def _members(value: Any, source_id: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise BadRecord(f"members is {type_name(value)}; expected a list of member ids", source_id)
    members = (_source_id(member, f"members[{index}]", source_id) for index, member in enumerate(value))
    return tuple(dict.fromkeys(members))  # dedupe, keep the file's order


def _skip(
    skipped: list[SkippedRecord], kind: ObjectKind, location: str, reason: str, source_id: str | None
) -> None:
    # the reason names the attribute, never its value: the log may leave the building
    skipped.append(SkippedRecord(kind=kind, location=location, reason=reason, id=source_id))
    _log.warning("source_record_skipped", kind=kind.value, location=location, reason=reason, id=source_id)
