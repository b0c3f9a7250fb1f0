"""RFC 7644 §3.5.2 PATCH operations for a diff or a batch of members, in a target's dialect.

Sans-I/O, beside :mod:`.protocol` (which re-exports it). ``rfc`` is the RFC's own form; ``entra``
is Entra's default wire format, which many targets built against Entra expect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from syncer.core.scimpath import ScimPath, json_string, parsed
from syncer.types import AttributeChange

from .resources import merge_into_entry, wire_value

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


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
    ops.extend({"op": "remove", "path": f"members[value eq {json_string(tid)}]"} for tid in remove)
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
    siblings = _siblings(current or {})
    ops: list[dict[str, Any]] = []
    entries: dict[str, list[tuple[ScimPath, AttributeChange]]] = {}
    for change in changes:
        path = parsed(change.path)
        if change.old is None and change.new is None:
            continue
        if path.entry_key is not None:
            entries.setdefault(path.entry_key, []).append((path, change))
        else:
            ops.append(_single_op(path, change))
    _entry_ops(entries, siblings, ops)
    # removes first: a target that holds one email only (AWS) takes the new one once the old is gone
    ops.sort(key=lambda o: (o["op"] != "remove", o["path"], o["op"]))
    for o in ops:
        o["op"] = op_name(o["op"])
        if "value" in o:
            o["value"] = encode(o["value"])
    return ops


def _siblings(current: Mapping[str, Any]) -> dict[str, list[tuple[str, Any]]]:
    """The current values of filtered entries' sub-attributes, by entry (``emails[type eq "work"]``)."""
    siblings: dict[str, list[tuple[str, Any]]] = {}
    for path, value in ((parsed(text), value) for text, value in current.items()):
        if path.entry_key is not None:
            siblings.setdefault(path.entry_key, []).append((path.text, value))
    return siblings


def _entry_ops(
    entries: Mapping[str, list[tuple[ScimPath, AttributeChange]]],
    siblings: Mapping[str, list[tuple[str, Any]]],
    ops: list[dict[str, Any]],
) -> None:
    """Append the operations for filtered entries: a whole-entry remove or add, else one op per change."""
    adds: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for key, members in entries.items():
        changed = {path.text.lower() for path, _ in members}
        others = [value for text, value in siblings.get(key, ()) if text.lower() not in changed]
        if all(change.new is None for _, change in members) and all(v is None for v in others):
            ops.append({"op": "remove", "path": key})
        elif all(change.old is None for _, change in members) and all(v is None for v in others):
            entry: dict[str, Any] = {}
            for path, change in sorted(members, key=lambda m: m[0].text):
                merge_into_entry(entry, path, change.new)
            attribute = key[: key.index("[")]
            adds.setdefault(attribute, []).append((key, entry))
        else:
            ops.extend(_single_op(path, change) for path, change in members)
    for attribute, added in adds.items():
        added.sort(key=lambda keyed: keyed[0])
        ops.append({"op": "add", "path": attribute, "value": [entry for _, entry in added]})


def _single_op(path: ScimPath, change: AttributeChange) -> dict[str, Any]:
    if change.new is None:
        return {"op": "remove", "path": path.text}
    return {"op": "replace", "path": path.text, "value": wire_value(path, change.new)}


def patch_body(operations: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": [dict(op) for op in operations]}
