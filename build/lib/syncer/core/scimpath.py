"""SCIM attribute paths (RFC 7644 §3.10): their grammar, reading values, and equality filters.

Mapping targets are SCIM paths, and the same path text keys desired values, exported state
and target reads, so one canonical spelling matters more than accepting every form: only the
``attr[sub eq "literal"].sub`` filter form is supported, because that is all a mapping needs.
What goes on the wire (create bodies, PatchOps, dialects, PUT emulation) is built by
:mod:`syncer.adapters.scim.protocol`; the filter that finds an object by a path's value stays
here, with the grammar it renders.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from syncer.errors import ScimPathError
from syncer.types import Reference, freeze

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

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
        text = self.entry_key or self.qualified
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
        return f"{self.qualified}[{name} eq {json_string(value)}]"

    @property
    def qualified(self) -> str:
        return f"{self.schema}:{self.attribute}" if self.schema else self.attribute


def json_string(value: str) -> str:
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
def parsed(text: str) -> ScimPath:
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
    return parsed(text).text


def ci_key(container: Mapping[str, Any], name: str) -> str | None:
    """Attribute names and schema URNs are case-insensitive (RFC 7643 §2.1), so match keys that way."""
    if name in container:
        return name
    lowered = name.lower()
    return next((k for k in container if isinstance(k, str) and k.lower() == lowered), None)


def ci_get(container: Any, name: str) -> Any:
    if not isinstance(container, Mapping):
        return None
    key = ci_key(container, name)
    return None if key is None else container[key]


def get_value(resource: Mapping[str, Any], path: ScimPath) -> Any | None:
    """Read a path as the diff sees it: missing and empty are both "no value" (RFC 7643 §2.5)."""
    container: Any = ci_get(resource, path.schema) if path.schema else resource
    value = ci_get(container, path.attribute)
    if path.value_filter is not None:
        name, wanted = path.value_filter
        entries = [e for e in value if ci_get(e, name) == wanted] if isinstance(value, list | tuple) else []
        if path.sub_attribute is None:
            value = entries[0] if entries else None
        else:
            value = next((v for e in entries if (v := ci_get(e, path.sub_attribute)) is not None), None)
    elif path.is_reference:
        value = ci_get(value, "value") if isinstance(value, Mapping) else value
    elif path.sub_attribute is not None:
        if isinstance(value, list | tuple):  # `emails.value` means every entry's value
            value = [v for e in value if (v := ci_get(e, path.sub_attribute)) is not None]
        else:
            value = ci_get(value, path.sub_attribute)
    if value is None or (isinstance(value, list | tuple) and not value):
        return None
    return freeze(value)


def flatten(resource: Mapping[str, Any], paths: Iterable[ScimPath]) -> dict[str, Any]:
    return {path.text: get_value(resource, path) for path in paths}


def _literal(value: Any) -> str:
    """A filter literal is JSON (RFC 7644 §3.4.2.2), so JSON encoding gives exactly its escaping rules."""
    if isinstance(value, Reference) or not (value is None or isinstance(value, str | int | float | bool)):
        raise ValueError(f"cannot compare a SCIM attribute with {value!r} in a filter")
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def equality_filter(path_text: str, value: Any) -> str:
    """The filter that finds an existing target object by one matching attribute."""
    path = parsed(path_text)
    literal = _literal(value)
    if path.value_filter is not None:
        if path.sub_attribute is None:
            raise ValueError(f"{path.text}: a filtered entry without a sub-attribute cannot be compared")
        name, wanted = path.value_filter
        return f"{path.qualified}[{name} eq {json_string(wanted)} and {path.sub_attribute} eq {literal}]"
    target = f"{path.text}.value" if path.is_reference else path.text
    return f"{target} eq {literal}"
