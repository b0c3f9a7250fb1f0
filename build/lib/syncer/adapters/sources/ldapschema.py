"""Attribute values as the directory's schema says to read them: cardinality and syntax.

Split from :mod:`.ldapentries` (entries to objects) so decoding one attribute's raw bytes,
AD's GUID and SID texts included, stands on its own.
"""

from __future__ import annotations

import base64
import struct
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from syncer.types import Value

Syntax = Literal["text", "binary", "integer", "boolean"]
_TEXT: Syntax = "text"
_BINARY: Syntax = "binary"
_INTEGER: Syntax = "integer"
_BOOLEAN: Syntax = "boolean"

_SYNTAX_OIDS: dict[str, Syntax] = {
    "1.3.6.1.4.1.1466.115.121.1.27": _INTEGER,
    "1.3.6.1.4.1.1466.115.121.1.7": _BOOLEAN,
    **{
        f"1.3.6.1.4.1.1466.115.121.1.{n}": _BINARY
        # Audio, Binary, Certificate, Certificate List, Certificate Pair, Fax, JPEG, Octet String
        for n in (4, 5, 8, 9, 10, 23, 28, 40)
    },
}

KNOWN_BINARY = frozenset(
    {"objectguid", "objectsid", "jpegphoto", "thumbnailphoto", "usercertificate", "msexchmailboxguid"}
)
"""Binary whatever a schema says: AD's Octet String syntax is sometimes published without its OID."""

UAC_ACCOUNTDISABLE = 0x2
"""``userAccountControl`` bit 2: the account is disabled (MS-ADTS 2.2.16)."""


# --- the schema, as far as decoding needs it -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttributeRule:
    """How to decode one attribute type: its canonical name, cardinality and syntax."""

    name: str
    single: bool = False
    syntax: Syntax = "text"


@dataclass(frozen=True, slots=True)
class AttributeType:
    """One attribute type as a subschema publishes it (names, SINGLE-VALUE, SYNTAX, SUP)."""

    names: tuple[str, ...]
    single: bool = False
    syntax: str | None = None
    superior: str | None = None


@dataclass(frozen=True)
class Schema:
    """Decoding rules by lower-cased attribute name; unknown attributes are multi-valued text."""

    rules: Mapping[str, AttributeRule] = field(default_factory=dict)

    def rule(self, name: str) -> AttributeRule:
        found = self.rules.get(name.lower())
        if found is None:
            syntax: Syntax = _BINARY if name.lower() in KNOWN_BINARY else _TEXT
            return AttributeRule(name=name, syntax=syntax)
        return found


def schema_from_types(types: Iterable[AttributeType]) -> Schema:
    """Build decoding rules, following ``SUP`` for a syntax (``givenName`` has it from ``name``)."""
    by_name: dict[str, AttributeType] = {}
    for attribute in types:
        for name in attribute.names:
            by_name[name.lower()] = attribute

    def syntax_of(attribute: AttributeType) -> str | None:
        seen: set[int] = set()
        current: AttributeType | None = attribute
        while current is not None and id(current) not in seen:
            if current.syntax:
                return current.syntax.split("{")[0]  # "1.3.6...15{64}" carries a length bound
            seen.add(id(current))
            current = by_name.get(current.superior.lower()) if current.superior else None
        return None

    rules: dict[str, AttributeRule] = {}
    for key, attribute in by_name.items():
        oid = syntax_of(attribute)
        syntax: Syntax = _SYNTAX_OIDS.get(oid or "", _TEXT)
        if key in KNOWN_BINARY:
            syntax = _BINARY
        rules[key] = AttributeRule(name=attribute.names[0], single=attribute.single, syntax=syntax)
    return Schema(rules=rules)


# --- values ------------------------------------------------------------------------------------------


def guid_text(raw: bytes) -> str:
    """AD's ``objectGUID`` (16 bytes, first three fields little-endian) as the standard GUID string."""
    if len(raw) != 16:
        raise ValueError(f"a GUID is 16 bytes, got {len(raw)}")
    return str(uuid.UUID(bytes_le=raw))


def sid_text(raw: bytes) -> str:
    """A binary security identifier as its ``S-1-5-21-...`` text (MS-DTYP 2.4.2.2)."""
    if len(raw) < 8:
        raise ValueError(f"a SID is at least 8 bytes, got {len(raw)}")
    revision, count = raw[0], raw[1]
    if len(raw) != 8 + 4 * count:
        raise ValueError(f"a SID with {count} sub-authorities is {8 + 4 * count} bytes, got {len(raw)}")
    authority = int.from_bytes(raw[2:8], "big")
    subs = struct.unpack(f"<{count}I", raw[8:])
    return "-".join(["S", str(revision), str(authority), *map(str, subs)])


def is_disabled_uac(value: Value) -> bool:
    """``True`` when ``userAccountControl`` has ACCOUNTDISABLE set; unreadable counts as not disabled."""
    if isinstance(value, tuple):
        value = value[0] if value else None
    try:
        if not isinstance(value, str | int | float):
            return False
        return bool(int(value) & UAC_ACCOUNTDISABLE)
    except (TypeError, ValueError):
        return False


def decode_one(rule: AttributeRule, raw: bytes) -> Value:
    lower = rule.name.lower()
    if lower == "objectguid" and len(raw) == 16:
        return guid_text(raw)
    if lower == "objectsid":
        try:
            return sid_text(raw)
        except ValueError:
            pass
    if rule.syntax == _BINARY:
        return base64.b64encode(raw).decode("ascii")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii")  # a text attribute holding bytes: keep it intact
    if rule.syntax == _INTEGER:
        try:
            return int(text)
        except ValueError:
            return text
    if rule.syntax == _BOOLEAN and text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    return text


def decode_values(rule: AttributeRule, raws: Sequence[bytes]) -> Value:
    """One attribute's values in the shape its schema gives: a value, or a tuple of values."""
    values = tuple(decode_one(rule, raw) for raw in raws)
    if rule.single:
        return values[0] if values else None
    return values
