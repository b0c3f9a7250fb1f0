"""Apply RFC 7644 §3.5.2 PATCH operations to a resource locally, for targets that only take PUT.

Some SCIM targets implement PUT but not PATCH. For them syncer reads the resource, applies the
same operations it would have sent (built by :mod:`.patchops`, so the two paths
cannot drift) and PUTs the result. Only the operation shapes syncer builds are supported:
``replace``/``add`` on a path, ``add`` of list entries, ``remove`` of a path or of a
value-filtered entry; anything else is a :class:`ValueError`, never a silent no-op.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from syncer.core.scimpath import ScimPath, parse_path

READ_ONLY = ("meta", "id", "groups")


def _key(container: Mapping[str, Any], name: str) -> str:
    """The key ``name`` has in ``container`` (attribute names are case-insensitive, RFC 7643 §2.1)."""
    for key in container:
        if key.lower() == name.lower():
            return key
    return name


def _holder(resource: dict[str, Any], path: ScimPath, create: bool) -> dict[str, Any] | None:
    """The object that holds ``path.attribute``: the resource, or its extension object."""
    if path.schema is None:
        return resource
    key = _key(resource, path.schema)
    if key not in resource:
        if not create:
            return None
        resource[key] = {}
        schemas = resource.setdefault("schemas", [])
        if path.schema not in schemas:
            schemas.append(path.schema)
    holder = resource[key]
    if not isinstance(holder, dict):
        raise ValueError(f"{path.schema} is not an object in the resource")
    return holder


def _matches(entry: Any, value_filter: tuple[str, str]) -> bool:
    if not isinstance(entry, Mapping):
        return False
    name, wanted = value_filter
    return entry.get(_key(entry, name)) == wanted


def _set(resource: dict[str, Any], path: ScimPath, value: Any) -> None:
    holder = _holder(resource, path, create=True)
    assert holder is not None
    key = _key(holder, path.attribute)
    if path.value_filter is not None:
        entries = holder.setdefault(key, [])
        found = [e for e in entries if _matches(e, path.value_filter)]
        if not found:
            raise ValueError(f"no entry matches {path.text} (noTarget)")
        for entry in found:
            if path.sub_attribute is None:
                raise ValueError(f"replace of a whole filtered entry is not supported: {path.text}")
            entry[_key(entry, path.sub_attribute)] = value
    elif path.sub_attribute is not None:
        complex_value = holder.setdefault(key, {})
        if not isinstance(complex_value, dict):
            raise ValueError(f"{path.attribute} is not complex")
        complex_value[_key(complex_value, path.sub_attribute)] = value
    else:
        holder[key] = copy.deepcopy(value)


def _add_entries(resource: dict[str, Any], path: ScimPath, values: Sequence[Any]) -> None:
    holder = _holder(resource, path, create=True)
    assert holder is not None
    entries = holder.setdefault(_key(holder, path.attribute), [])
    for value in values:
        if value not in entries:
            entries.append(copy.deepcopy(value))


def _remove(resource: dict[str, Any], path: ScimPath) -> None:
    holder = _holder(resource, path, create=False)
    if holder is None:
        return
    key = _key(holder, path.attribute)
    if key not in holder:
        return
    if path.value_filter is not None:
        entries = holder[key]
        if path.sub_attribute is None:
            holder[key] = [e for e in entries if not _matches(e, path.value_filter)]
        else:
            for entry in entries:
                if _matches(entry, path.value_filter):
                    entry.pop(_key(entry, path.sub_attribute), None)
        if not holder[key]:
            del holder[key]
    elif path.sub_attribute is not None:
        if isinstance(holder[key], dict):
            holder[key].pop(_key(holder[key], path.sub_attribute), None)
    else:
        del holder[key]


def apply_operations(resource: Mapping[str, Any], operations: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The resource after the operations, ready to PUT (read-only attributes dropped)."""
    result = {k: copy.deepcopy(v) for k, v in resource.items() if k not in READ_ONLY}
    for operation in operations:
        op = str(operation.get("op", "")).lower()
        raw_path = operation.get("path")
        if not isinstance(raw_path, str):
            raise ValueError(f"a {op} without a path is not supported")
        path = parse_path(raw_path)
        value = operation.get("value")
        if op == "remove":
            if value is not None:
                # Entra's dialect removes members by value list
                holder = _holder(result, path, create=False)
                if holder is not None:
                    key = _key(holder, path.attribute)
                    holder[key] = [e for e in holder.get(key, []) if e not in value]
                continue
            _remove(result, path)
        elif (
            op == "add"
            and isinstance(value, list)
            and path.value_filter is None
            and path.sub_attribute is None
        ):
            _add_entries(result, path, value)
        elif op in ("add", "replace"):
            _set(result, path, value)
        else:
            raise ValueError(f"unsupported PATCH operation {op!r}")
    return result
