"""SCIM attribute paths (RFC 7644 §3.10) and the JSON they turn into on the wire.

Mapping targets are SCIM paths, and the same path text keys desired values, exported state
and target reads, so one canonical spelling matters more than accepting every form: only the
``attr[sub eq "literal"].sub`` filter form is supported, because that is all a mapping needs.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncer.errors import ScimPathError
from syncer.types import AttributeChange, Reference, freeze, thaw

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

_CORE_SCHEMAS = frozenset({CORE_USER.lower(), CORE_GROUP.lower()})
_ATTRNAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_SUBNAME = re.compile(r"\$ref|[A-Za-z][A-Za-z0-9_-]*")  # "$ref" is a defined sub-attribute (RFC 7643 §2.3.7)
_URN_CHAR = re.compile(r"[A-Za-z0-9()+,\-.;=@!$*'%/_~&:]")
_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]*(?::[^:]+)+", re.IGNORECASE)
_FILTER_OPS = frozenset({"ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"})


@dataclass(frozen=True, slots=True)
class ScimPath:
    """One parsed target path; ``text`` is the key everything else stores values under."""

    schema: str | None
    attribute: str
    value_filter: tuple[str, str] | None
    sub_attribute: str | None

    @property
    def text(self) -> str:
        text = self.entry_key or self._qualified
        return f"{text}.{self.sub_attribute}" if self.sub_attribute else text

    @property
    def is_reference(self) -> bool:
        """The enterprise manager holds an id that must be resolved to the target's id before sending."""
        return (
            self.schema is not None
            and self.schema.lower() == ENTERPRISE_USER.lower()
            and self.attribute.lower() == "manager"
            and self.value_filter is None
            and self.sub_attribute is None
        )

    @property
    def entry_key(self) -> str | None:
        """Groups the sub-attributes of one filtered entry, since they are created and removed together."""
        if self.value_filter is None:
            return None
        name, value = self.value_filter
        return f"{self._qualified}[{name} eq {_json_string(value)}]"

    @property
    def _qualified(self) -> str:
        return f"{self.schema}:{self.attribute}" if self.schema else self.attribute


def _json_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _fail(message: str, column: int, text: str) -> ScimPathError:
    return ScimPathError(f"{message} in SCIM path {text!r}", column=column, path=text)


def parse_path(text: str) -> ScimPath:
    """Parse strictly, so a typo in a mapping refuses the config instead of silently never matching."""
    if not text:
        raise _fail("empty path", 1, text)
    schema: str | None = None
    start = 0
    if text[:4].lower() == "urn:":
        head = text.split("[", 1)[0]
        cut = head.rfind(":")
        bad = next((i for i, ch in enumerate(text[:cut]) if not _URN_CHAR.fullmatch(ch)), None)
        if bad is not None:
            raise _fail(f"{text[bad]!r} is not allowed in a schema URN", bad + 1, text)
        if not _URN.fullmatch(text[:cut]):
            raise _fail("malformed schema URN (expected urn:<nid>:<nss> before the attribute)", 1, text)
        schema = None if text[:cut].lower() in _CORE_SCHEMAS else text[:cut]
        start = cut + 1
    match = _ATTRNAME.match(text, start)
    if not match:
        raise _fail("expected an attribute name (a letter, then letters, digits, '-', '_')", start + 1, text)
    attribute, pos = match.group(), match.end()
    value_filter = None
    if pos < len(text) and text[pos] == "[":
        value_filter, pos = _parse_filter(text, pos + 1)
    sub_attribute = None
    if pos < len(text) and text[pos] == ".":
        sub = _SUBNAME.match(text, pos + 1)
        if not sub:
            what = "dangling '.'" if pos + 1 == len(text) else "expected a sub-attribute name after '.'"
            raise _fail(what, pos + 2 if pos + 1 < len(text) else pos + 1, text)
        sub_attribute, pos = sub.group(), sub.end()
    if pos < len(text):
        hint = " (SCIM allows one level of sub-attribute)" if text[pos] == "." else ""
        raise _fail(f"unexpected {text[pos]!r}{hint}", pos + 1, text)
    return ScimPath(schema, attribute, value_filter, sub_attribute)


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> ScimPath:
    """``parse_path`` once per distinct text: bodies and patches are built per object from the
    mapping's few paths, and parsing them again for each of 100k objects was a tenth of a sync's CPU."""
    return parse_path(text)


def _parse_filter(text: str, pos: int) -> tuple[tuple[str, str], int]:
    """Parse ``sub eq "literal"]`` starting after '[' and return the filter and the index after ']'."""
    pos = _skip_spaces(text, pos)
    name = _ATTRNAME.match(text, pos)
    if not name:
        raise _fail("expected an attribute name in the value filter", pos + 1, text)
    pos = _skip_spaces(text, name.end(), required=True)
    op = re.compile(r"[A-Za-z]+").match(text, pos)
    if not op:
        raise _fail("expected the operator 'eq' in the value filter", pos + 1, text)
    if op.group().lower() != "eq":
        known = op.group().lower() in _FILTER_OPS
        what = "only 'eq' is supported in a value filter, not" if known else "unknown filter operator"
        raise _fail(f"{what} {op.group()!r}", pos + 1, text)
    pos = _skip_spaces(text, op.end(), required=True)
    if pos >= len(text) or text[pos] != '"':
        raise _fail('the value filter needs a quoted string literal, as in [type eq "work"]', pos + 1, text)
    literal = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"').match(text, pos)
    try:
        value = json.loads(literal.group()) if literal else None
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, str) or literal is None:
        raise _fail("unterminated or malformed string literal", pos + 1, text)
    pos = _skip_spaces(text, literal.end())
    if pos >= len(text) or text[pos] != "]":
        if pos >= len(text):
            raise _fail("missing ']'", pos + 1, text)
        raise _fail("only a single 'sub eq \"literal\"' comparison is supported", pos + 1, text)
    return (name.group(), value), pos + 1


def _skip_spaces(text: str, pos: int, *, required: bool = False) -> int:
    end = pos
    while end < len(text) and text[end] == " ":
        end += 1
    if required and end == pos:
        raise _fail("expected a space", pos + 1, text)
    return end


def canonical(text: str) -> str:
    return _parsed(text).text


def _ci_key(container: Mapping[str, Any], name: str) -> str | None:
    """Attribute names and schema URNs are case-insensitive (RFC 7643 §2.1), so match keys that way."""
    if name in container:
        return name
    lowered = name.lower()
    return next((k for k in container if isinstance(k, str) and k.lower() == lowered), None)


def _ci_get(container: Any, name: str) -> Any:
    if not isinstance(container, Mapping):
        return None
    key = _ci_key(container, name)
    return None if key is None else container[key]


def get_value(resource: Mapping[str, Any], path: ScimPath) -> Any | None:
    """Read a path as the diff sees it: missing and empty are both "no value" (RFC 7643 §2.5)."""
    container: Any = _ci_get(resource, path.schema) if path.schema else resource
    value = _ci_get(container, path.attribute)
    if path.value_filter is not None:
        name, wanted = path.value_filter
        entries = [e for e in value if _ci_get(e, name) == wanted] if isinstance(value, list | tuple) else []
        if path.sub_attribute is None:
            value = entries[0] if entries else None
        else:
            value = next((v for e in entries if (v := _ci_get(e, path.sub_attribute)) is not None), None)
    elif path.is_reference:
        value = _ci_get(value, "value") if isinstance(value, Mapping) else value
    elif path.sub_attribute is not None:
        if isinstance(value, list | tuple):  # `emails.value` means every entry's value
            value = [v for e in value if (v := _ci_get(e, path.sub_attribute)) is not None]
        else:
            value = _ci_get(value, path.sub_attribute)
    if value is None or (isinstance(value, list | tuple) and not value):
        return None
    return freeze(value)


def flatten(resource: Mapping[str, Any], paths: Iterable[ScimPath]) -> dict[str, Any]:
    return {path.text: get_value(resource, path) for path in paths}


def _wire(path: ScimPath, value: Any) -> Any:
    """The JSON for one value; a bare string manager is a 400 on scim2-server, so it goes as {"value": id}."""
    if isinstance(value, Reference):
        raise ValueError(f"{path.text}: unresolved reference {value} cannot be sent to the target")
    if path.is_reference and not isinstance(value, Mapping):
        return {"value": value}
    return thaw(value)


def _merge_into_entry(entry: dict[str, Any], path: ScimPath, value: Any) -> None:
    """Add one value to a filtered entry, which always carries its filter value so it can be found again."""
    assert path.value_filter is not None
    name, wanted = path.value_filter
    if _ci_key(entry, name) is None:
        entry[name] = wanted
    wired = _wire(path, value)
    if path.sub_attribute is not None:
        entry[path.sub_attribute] = wired
    elif isinstance(wired, Mapping):
        entry.update(wired)
    else:
        raise ValueError(f"{path.text}: a whole filtered entry needs a complex value, got {value!r}")


def _slot(
    parent: dict[str, Any], name: str, kind: type[dict[Any, Any]] | type[list[Any]], path: ScimPath
) -> Any:
    """The dict or list under ``name``; a clash means two mappings disagree on the attribute's shape."""
    key = _ci_key(parent, name) or name
    slot = parent.setdefault(key, kind())
    if not isinstance(slot, kind):
        raise ValueError(f"{path.text}: {name!r} is set both as a whole and through this path")
    return slot


def build_resource(core_schema: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Build a create body; null values are left out because on create they mean "no value" anyway."""
    resource: dict[str, Any] = {"schemas": [core_schema]}
    extensions: dict[str, str] = {}
    parsed = sorted(((_parsed(text), value) for text, value in values.items()), key=lambda pv: pv[0].text)
    for path, value in parsed:
        if value is None:
            continue
        parent = resource
        if path.schema:
            extensions.setdefault(path.schema.lower(), path.schema)
            parent = _slot(resource, path.schema, dict, path)
        if path.value_filter is not None:
            entries = _slot(parent, path.attribute, list, path)
            name, wanted = path.value_filter
            entry = next((e for e in entries if _ci_get(e, name) == wanted), None)
            if entry is None:
                entry = {}
                entries.append(entry)
            _merge_into_entry(entry, path, value)
        elif path.sub_attribute is not None:
            _slot(parent, path.attribute, dict, path)[path.sub_attribute] = _wire(path, value)
        else:
            key = _ci_key(parent, path.attribute) or path.attribute
            wired = _wire(path, value)
            parent[key] = {**wired, **parent[key]} if isinstance(parent.get(key), dict) else wired
    resource["schemas"] += sorted(extensions.values())
    return resource


def _rfc_encode(value: Any) -> Any:
    return value


def _entra_encode(value: Any) -> Any:
    """Entra's default wire format sends booleans as the strings "True"/"False"."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return [_entra_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _entra_encode(v) for k, v in value.items()}
    return value


# A dialect renames ops and re-encodes values: Entra's capitalises ops and sends booleans as "True"/"False".
_DIALECTS: dict[str, tuple[Callable[[str], str], Callable[[Any], Any]]] = {
    "rfc": (str.lower, _rfc_encode),
    "entra": (str.capitalize, _entra_encode),
}
DIALECTS = frozenset(_DIALECTS)


def member_operations(
    add: Sequence[str], remove: Sequence[str], *, dialect: str = "rfc"
) -> list[dict[str, Any]]:
    """PATCH operations for a batch of member target ids (RFC 7644 §3.5.2).

    ``rfc``: one ``add`` with every new member, and one ``remove`` per member through the value
    filter ``members[value eq "id"]`` (a remove carries no value). ``entra``: Entra's default,
    ``Add``/``Remove`` with the members as a value list, which many Entra-built targets expect.
    """
    if dialect not in _DIALECTS:
        raise ValueError(f"unknown PATCH dialect {dialect!r}; known: {', '.join(sorted(_DIALECTS))}")
    ops: list[dict[str, Any]] = []
    if dialect == "entra":
        if add:
            ops.append({"op": "Add", "path": "members", "value": [{"value": tid} for tid in add]})
        if remove:
            ops.append({"op": "Remove", "path": "members", "value": [{"value": tid} for tid in remove]})
        return ops
    if add:
        ops.append({"op": "add", "path": "members", "value": [{"value": tid} for tid in add]})
    ops.extend({"op": "remove", "path": f"members[value eq {_json_string(tid)}]"} for tid in remove)
    return ops


def build_patch_operations(
    changes: Sequence[AttributeChange],
    *,
    dialect: str = "rfc",
    current: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Turn a diff into RFC 7644 §3.5.2 operations, choosing forms a strict server accepts.

    A ``replace`` through a value filter that matches nothing is a 400 noTarget (§3.5.2.3), so a
    filtered entry with no values before is created by an ``add`` of the whole entry; once it
    exists, ``replace`` of a missing sub-attribute works (verified on scim2-server). ``current``
    (path text -> value, e.g. what was last exported) lets unchanged sub-attributes of the same
    entry count: without it an entry whose only change is a new sub-attribute would be added a
    second time, and clearing one sub-attribute would remove the whole entry with its siblings.
    """
    if dialect not in _DIALECTS:
        raise ValueError(f"unknown PATCH dialect {dialect!r}; known: {', '.join(sorted(_DIALECTS))}")
    op_name, encode = _DIALECTS[dialect]
    siblings: dict[str, list[tuple[str, Any]]] = {}
    for path, value in ((_parsed(text), value) for text, value in (current or {}).items()):
        if path.entry_key is not None:
            siblings.setdefault(path.entry_key, []).append((path.text, value))
    ops: list[dict[str, Any]] = []
    entries: dict[str, list[tuple[ScimPath, AttributeChange]]] = {}
    for change in changes:
        path = _parsed(change.path)
        if change.old is None and change.new is None:
            continue
        if path.entry_key is not None:
            entries.setdefault(path.entry_key, []).append((path, change))
        else:
            ops.append(_single_op(path, change))
    adds: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for key, members in entries.items():
        changed = {path.text.lower() for path, _ in members}
        others = [value for text, value in siblings.get(key, ()) if text.lower() not in changed]
        if all(change.new is None for _, change in members) and all(v is None for v in others):
            ops.append({"op": "remove", "path": key})
        elif all(change.old is None for _, change in members) and all(v is None for v in others):
            entry: dict[str, Any] = {}
            for path, change in sorted(members, key=lambda m: m[0].text):
                _merge_into_entry(entry, path, change.new)
            attribute = key[: key.index("[")]
            adds.setdefault(attribute, []).append((key, entry))
        else:
            ops.extend(_single_op(path, change) for path, change in members)
    for attribute, added in adds.items():
        added.sort(key=lambda keyed: keyed[0])
        ops.append({"op": "add", "path": attribute, "value": [entry for _, entry in added]})
    ops.sort(key=lambda o: (o["path"], o["op"]))
    for o in ops:
        o["op"] = op_name(o["op"])
        if "value" in o:
            o["value"] = encode(o["value"])
    return ops


def _single_op(path: ScimPath, change: AttributeChange) -> dict[str, Any]:
    if change.new is None:
        return {"op": "remove", "path": path.text}
    return {"op": "replace", "path": path.text, "value": _wire(path, change.new)}


def patch_body(operations: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": [dict(op) for op in operations]}


def _literal(value: Any) -> str:
    """A filter literal is JSON (RFC 7644 §3.4.2.2), so JSON encoding gives exactly its escaping rules."""
    if isinstance(value, Reference) or not (value is None or isinstance(value, str | int | float | bool)):
        raise ValueError(f"cannot compare a SCIM attribute with {value!r} in a filter")
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def equality_filter(path_text: str, value: Any) -> str:
    """The filter that finds an existing target object by one matching attribute."""
    path = _parsed(path_text)
    literal = _literal(value)
    if path.value_filter is not None:
        if path.sub_attribute is None:
            raise ValueError(f"{path.text}: a filtered entry without a sub-attribute cannot be compared")
        name, wanted = path.value_filter
        return f"{path._qualified}[{name} eq {_json_string(wanted)} and {path.sub_attribute} eq {literal}]"
    target = f"{path.text}.value" if path.is_reference else path.text
    return f"{target} eq {literal}"
