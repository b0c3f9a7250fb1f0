"""LDAP entries to source objects: pure functions over the bytes a directory returned.

Nothing here talks to a server, so everything a directory can send, Active Directory's
specialities included (``objectGUID``, ``objectSid``, ``userAccountControl``, ranged
``member;range=0-1499`` values), is tested on recorded attribute values without one.

Shapes follow the directory's schema: a ``SINGLE-VALUE`` attribute becomes one value, any other
attribute a tuple, even when an entry holds only one value, so a mapping never sees a value
change shape because someone added a second ``mail``. Integers and booleans become ``int`` and
``bool``; binary syntaxes become base64 text, except the GUID and SID that have standard texts.
"""

from __future__ import annotations

import base64
import re
import struct
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from syncer.types import ObjectKind, SkippedRecord, SourceObject, SourceSnapshot, Value, freeze

from .base import snapshot_fingerprint

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

SECRETS = frozenset(
    {
        "userpassword",
        "authpassword",
        "unicodepwd",
        "pwdhistory",
        "sambantpassword",
        "sambalmpassword",
        "ntpwdhistory",
        "lmpwdhistory",
        "supplementalcredentials",
    }
)
"""Never imported, even when the bind account may read them: a hash in a provisioning log is a leak."""

MEMBER_ATTRIBUTES = ("member", "uniqueMember", "memberUid")
UAC_ACCOUNTDISABLE = 0x2
"""``userAccountControl`` bit 2: the account is disabled (MS-ADTS 2.2.16)."""

_RANGE = re.compile(r"^(?P<name>[^;]+);range=(?P<start>\d+)-(?P<end>\d+|\*)$", re.IGNORECASE)


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
        return bool(int(value) & UAC_ACCOUNTDISABLE) if value is not None else False
    except (TypeError, ValueError):
        return False


def _decode_one(rule: AttributeRule, raw: bytes) -> Value:
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
    values = tuple(_decode_one(rule, raw) for raw in raws)
    if rule.single:
        return values[0] if values else None
    return values


# --- distinguished names -----------------------------------------------------------------------------


def _unescape(value: str) -> str:
    """An RDN value without its RFC 4514 escapes (``\\,`` and ``\\C3\\BC``) so spellings compare equal."""
    out = bytearray()
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            pair = value[index + 1 : index + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                out.append(int(pair, 16))
                index += 3
                continue
            out.extend(value[index + 1].encode())
            index += 2
            continue
        out.extend(char.encode())
        index += 1
    return out.decode("utf-8", errors="replace")


def _split(text: str, separators: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char in separators:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def normalize_dn(dn: str) -> str:
    """A DN in one spelling for lookups: types and values lower-cased, spaces and escapes normalised.

    Directories store ``member`` values as written, so ``uid=Alice, ou=People`` must find
    ``uid=alice,ou=people``. Naming attributes (cn, uid, ou, dc) compare case-insensitively.
    """
    if "\\" not in dn and "+" not in dn:
        # the common case, no escapes and no multi-valued RDNs: 4x faster on a 100k-user directory
        simple = (rdn.partition("=") for rdn in dn.split(","))
        return ",".join(f"{k.strip().lower()}={v.strip().lower()}" for k, _, v in simple if k.strip())
    rdns = []
    for rdn in _split(dn.strip(), ","):
        if not rdn.strip():
            continue
        pairs = []
        for ava in _split(rdn, "+"):
            kind, _, value = ava.partition("=")
            pairs.append(f"{kind.strip().lower()}={_unescape(value.strip()).lower()}")
        rdns.append("+".join(sorted(pairs)))
    return ",".join(rdns)


def unique_member_dn(value: str) -> str:
    """A ``uniqueMember`` value without its optional ``#'0101'B`` unique-identifier suffix."""
    return re.sub(r"#'[01]*'B$", "", value)


# --- Active Directory ranged retrieval ------------------------------------------------------------------


def parse_range(attribute: str) -> tuple[str, int, int | None] | None:
    """``member;range=0-1499`` as ``("member", 0, 1499)``; the last page ends in ``*`` (``None``)."""
    found = _RANGE.match(attribute)
    if found is None:
        return None
    end = found.group("end")
    return found.group("name"), int(found.group("start")), None if end == "*" else int(end)


def split_ranges(
    attributes: Mapping[str, Sequence[bytes]],
) -> tuple[dict[str, list[bytes]], dict[str, int]]:
    """An entry's attributes with ranged ones folded in, and where each unfinished range goes on.

    AD sends at most its MaxValRange (1,500) values of ``member`` inline, as ``member;range=0-1499``
    with an empty ``member``; the rest must be asked for (``member;range=1500-*``) until a range
    ends in ``*``. The second result maps an attribute name to the next start index.
    """
    plain: dict[str, list[bytes]] = {}
    pending: dict[str, int] = {}
    for name, values in attributes.items():
        ranged = parse_range(name)
        if ranged is None:
            plain.setdefault(name, []).extend(values)
            continue
        base, _, end = ranged
        plain.setdefault(base, []).extend(values)
        if end is not None:
            pending[base] = end + 1
    return plain, pending


def range_page(
    attributes: Mapping[str, Sequence[bytes]], name: str, start: int
) -> tuple[list[bytes], int | None]:
    """The values of one follow-up ranged read, and the next start (``None`` when it was the last).

    A reply without the ranged attribute, or starting elsewhere than asked, raises ``ValueError``:
    carrying on would hand over a group with part of its members, which reads as removals.
    """
    for attribute, values in attributes.items():
        ranged = parse_range(attribute)
        if ranged is None or ranged[0].lower() != name.lower():
            continue
        _, got_start, end = ranged
        if got_start != start:
            raise ValueError(f"{name}: asked for values from {start}, the directory sent from {got_start}")
        return list(values), None if end is None else end + 1
    raise ValueError(f"{name}: the directory sent no {name};range={start}-* values")


# --- entries to objects ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One search result: its DN and its attributes' raw values (ranged values already complete)."""

    dn: str
    attributes: Mapping[str, Sequence[bytes]]


@dataclass(frozen=True, slots=True)
class EntryOptions:
    """What the source settings say about turning entries into objects."""

    anchor: str
    active_directory: bool = False
    disabled_attribute: str | None = None
    disabled_values: tuple[str, ...] = ()
    references: tuple[str, ...] = ("manager",)


@dataclass
class _Read:
    """Entries decoded but not yet resolved against each other."""

    kind: ObjectKind
    dn: str
    id: str
    attributes: dict[str, Value]
    member_dns: list[str]
    member_uids: list[str]


def _anchor(entry: RawEntry, options: EntryOptions, schema: Schema) -> str:
    raws = next((v for k, v in entry.attributes.items() if k.lower() == options.anchor.lower()), None)
    if not raws:
        raise ValueError(f"entry has no {options.anchor}")
    if len(raws) > 1:
        raise ValueError(f"entry has {len(raws)} values of {options.anchor}; an anchor must be single")
    value = _decode_one(schema.rule(options.anchor), raws[0])
    if options.anchor.lower() == "objectguid" and not isinstance(value, str):
        raise ValueError("objectGUID is not a 16-byte GUID")
    text = str(value).strip()
    if not text:
        raise ValueError(f"{options.anchor} is empty")
    return text


def _is_disabled(attributes: Mapping[str, Value], options: EntryOptions) -> bool:
    if options.active_directory and is_disabled_uac(attributes.get("userAccountControl")):
        return True
    if options.disabled_attribute is None:
        return False
    value = next((v for k, v in attributes.items() if k.lower() == options.disabled_attribute.lower()), None)
    values = value if isinstance(value, tuple) else (() if value is None else (value,))
    if not values:
        return False
    if not options.disabled_values:
        return True  # present at all: pwdAccountLockedTime, nsAccountLock
    wanted = {v.lower() for v in options.disabled_values}
    return any(str(v).lower() in wanted for v in values)


def _decode_entry(kind: ObjectKind, entry: RawEntry, options: EntryOptions, schema: Schema) -> _Read:
    anchor = _anchor(entry, options, schema)
    attributes: dict[str, Value] = {}
    member_dns: list[str] = []
    member_uids: list[str] = []
    for name, raws in entry.attributes.items():
        base = name.split(";", 1)[0]
        lower = base.lower()
        if lower in SECRETS or not raws:
            continue
        if kind is ObjectKind.GROUP and lower in ("member", "uniquemember"):
            texts = [raw.decode("utf-8", errors="replace") for raw in raws]
            member_dns.extend(unique_member_dn(t) if lower == "uniquemember" else t for t in texts)
            continue
        if kind is ObjectKind.GROUP and lower == "memberuid":
            member_uids.extend(raw.decode("utf-8", errors="replace") for raw in raws)
            continue
        rule = schema.rule(base)
        # ";binary" is a transfer option, not another attribute; language tags stay apart
        option = "" if name.lower().endswith(";binary") else name[len(base) :]
        key = rule.name + option
        attributes[key] = decode_values(rule, raws)
    if kind is ObjectKind.USER:
        attributes["accountEnabled"] = not _is_disabled(attributes, options)
    attributes["dn"] = entry.dn
    attributes["id"] = anchor
    return _Read(kind, entry.dn, anchor, attributes, member_dns, member_uids)


def _resolve_references(
    attributes: dict[str, Value], names: Iterable[str], dns: Mapping[str, str], schema: Schema
) -> None:
    """Swap DN values (``manager``) for the anchors of objects read; a DN outside the read is dropped."""
    for wanted in names:
        key = next((k for k in attributes if k.lower() == wanted.lower()), None)
        if key is None:
            continue
        value = attributes[key]
        values = value if isinstance(value, tuple) else (value,)
        anchors = tuple(a for a in (dns.get(normalize_dn(str(v))) for v in values if v) if a is not None)
        if schema.rule(key).single:
            attributes[key] = anchors[0] if anchors else None
        else:
            attributes[key] = anchors
        if attributes[key] in (None, ()):
            del attributes[key]


def build_snapshot(
    users: Sequence[RawEntry],
    groups: Sequence[RawEntry],
    options: EntryOptions,
    schema: Schema,
    *,
    unresolved: dict[str, int] | None = None,
) -> SourceSnapshot:
    """Users and groups with anchors as ids, references and members resolved to anchors.

    Group ``members`` hold the anchors of member users *and* member groups (nested groups), in the
    directory's order; the planner provisions user members and the scope logic may expand groups.
    Members outside the users and groups read (another OU, a computer) are left out and counted in
    ``unresolved``. An entry without a usable anchor, or with the anchor of one read before, is
    skipped with its DN as the location; the read goes on.
    """
    skipped: list[SkippedRecord] = []
    read: dict[ObjectKind, list[_Read]] = {ObjectKind.USER: [], ObjectKind.GROUP: []}
    first_dn: dict[str, str] = {}
    for kind, entries in ((ObjectKind.USER, users), (ObjectKind.GROUP, groups)):
        for entry in entries:
            try:
                decoded = _decode_entry(kind, entry, options, schema)
            except ValueError as exc:
                skipped.append(SkippedRecord(kind=kind, location=entry.dn, reason=str(exc)))
                continue
            if decoded.id in first_dn:
                reason = f"duplicate {options.anchor}: first read at {first_dn[decoded.id]}"
                skipped.append(SkippedRecord(kind=kind, location=entry.dn, reason=reason, id=decoded.id))
                continue
            first_dn[decoded.id] = entry.dn
            read[kind].append(decoded)
    dns = {normalize_dn(r.dn): r.id for rs in read.values() for r in rs}
    uids: dict[str, str] = {}
    for user in read[ObjectKind.USER]:
        value = user.attributes.get("uid")
        for uid in value if isinstance(value, tuple) else (value,):
            if isinstance(uid, str):
                uids.setdefault(uid.lower(), user.id)
    counts = unresolved if unresolved is not None else {}
    objects: dict[ObjectKind, list[SourceObject]] = {ObjectKind.USER: [], ObjectKind.GROUP: []}
    for kind, decoded_list in read.items():
        for r in decoded_list:
            _resolve_references(r.attributes, options.references, dns, schema)
            members: list[str] = []
            for dn in r.member_dns:
                anchor = dns.get(normalize_dn(dn))
                _collect(members, anchor, counts, "member")
            for uid in r.member_uids:
                _collect(members, uids.get(uid.lower()), counts, "memberUid")
            objects[kind].append(
                SourceObject(
                    kind=kind,
                    id=r.id,
                    attributes=freeze(r.attributes),
                    members=tuple(dict.fromkeys(m for m in members if m != r.id)),
                )
            )
    users_t, groups_t = tuple(objects[ObjectKind.USER]), tuple(objects[ObjectKind.GROUP])
    return SourceSnapshot(
        users=users_t,
        groups=groups_t,
        skipped=tuple(skipped),
        fingerprint=snapshot_fingerprint(users_t, groups_t),
    )


def _collect(members: list[str], anchor: str | None, counts: dict[str, int], what: str) -> None:
    if anchor is None:
        counts[what] = counts.get(what, 0) + 1
    else:
        members.append(anchor)
