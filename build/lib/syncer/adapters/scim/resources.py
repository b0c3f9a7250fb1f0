"""SCIM resources as syncer sends them: the create body built from canonical path values.

Sans-I/O, beside :mod:`.protocol` (which re-exports it): the path grammar and the reading of
values stay in :mod:`syncer.core.scimpath`; what goes on the wire is built here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from syncer.core.scimpath import ScimPath, ci_get, ci_key, parsed
from syncer.types import Reference, thaw


def wire_value(path: ScimPath, value: Any) -> Any:
    """The JSON for one value; a bare string manager is a 400 on scim2-server, so it goes as {"value": id}."""
    if isinstance(value, Reference):
        raise ValueError(f"{path.text}: unresolved reference {value} cannot be sent to the target")
    if path.is_reference and not isinstance(value, Mapping):
        return {"value": value}
    return thaw(value)


def merge_into_entry(entry: dict[str, Any], path: ScimPath, value: Any) -> None:
    """Add one value to a filtered entry, which always carries its filter value so it can be found again."""
    assert path.value_filter is not None
    name, wanted = path.value_filter
    if ci_key(entry, name) is None:
        entry[name] = wanted
    wired = wire_value(path, value)
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
    key = ci_key(parent, name) or name
    slot = parent.setdefault(key, kind())
    if not isinstance(slot, kind):
        raise ValueError(f"{path.text}: {name!r} is set both as a whole and through this path")
    return slot


def build_resource(core_schema: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Build a create body; null values are left out because on create they mean "no value" anyway."""
    resource: dict[str, Any] = {"schemas": [core_schema]}
    extensions: dict[str, str] = {}
    ordered = sorted(((parsed(text), value) for text, value in values.items()), key=lambda pv: pv[0].text)
    for path, value in ordered:
        if value is None:
            continue
        parent = resource
        if path.schema:
            extensions.setdefault(path.schema.lower(), path.schema)
            parent = _slot(resource, path.schema, dict, path)
        if path.value_filter is not None:
            entries = _slot(parent, path.attribute, list, path)
            name, wanted = path.value_filter
            entry = next((e for e in entries if ci_get(e, name) == wanted), None)
            if entry is None:
                entry = {}
                entries.append(entry)
            merge_into_entry(entry, path, value)
        elif path.sub_attribute is not None:
            _slot(parent, path.attribute, dict, path)[path.sub_attribute] = wire_value(path, value)
        else:
            key = ci_key(parent, path.attribute) or path.attribute
            wired = wire_value(path, value)
            parent[key] = {**wired, **parent[key]} if isinstance(parent.get(key), dict) else wired
    resource["schemas"] += sorted(extensions.values())
    return resource
