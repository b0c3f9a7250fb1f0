"""LDAP entries to source objects: pure functions over the bytes a directory returned.

Nothing here talks to a server, so everything a directory can send, Active Directory's
specialities included (``objectGUID``, ``objectSid``, ``userAccountControl``, ranged
``member;range=0-1499`` values), is tested on recorded attribute values without one.

Shapes follow the directory's schema: a ``SINGLE-VALUE`` attribute becomes one value, any other
attribute a tuple, even when an entry holds only one value, so a mapping never sees a value
change shape because someone added a second ``mail``. Integers and booleans become ``int`` and
``bool``; binary syntaxes become base64 text, except the GUID and SID that have standard texts.
Decoding one attribute is in :mod:`.ldapschema`, DNs and ranged values in :mod:`.ldapnames`;
every name stays importable from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from syncer.types import DeclaredNames, ObjectKind, SkippedRecord, SourceObject, SourceSnapshot, Value, freeze

from .base import snapshot_fingerprint
from .ldapnames import normalize_dn, parse_range, range_page, split_ranges, unique_member_dn
from .ldapschema import (
    KNOWN_BINARY,
    UAC_ACCOUNTDISABLE,
    AttributeRule,
    AttributeType,
    Schema,
    decode_one,
    decode_values,
    guid_text,
    is_disabled_uac,
    schema_from_types,
    sid_text,
)

__all__ = [
    "KNOWN_BINARY",
    "MEMBER_ATTRIBUTES",
    "SECRETS",
    "UAC_ACCOUNTDISABLE",
    "AttributeRule",
    "AttributeType",
    "EntryOptions",
    "RawEntry",
    "Schema",
    "build_snapshot",
    "decode_values",
    "guid_text",
    "is_disabled_uac",
    "normalize_dn",
    "parse_range",
    "range_page",
    "schema_from_types",
    "sid_text",
    "split_ranges",
    "unique_member_dn",
]


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
    value = decode_one(schema.rule(options.anchor), raws[0])
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
    requested: Mapping[ObjectKind, Sequence[str]] | None = None,
) -> SourceSnapshot:
    """Users and groups with anchors as ids, references and members resolved to anchors.

    Group ``members`` hold the anchors of member users *and* member groups (nested groups), in the
    directory's order; the planner provisions user members and the scope logic may expand groups.
    Members outside the users and groups read (another OU, a computer) are left out and counted in
    ``unresolved``. An entry without a usable anchor, or with the anchor of one read before, is
    skipped with its DN as the location; the read goes on. ``requested`` (the attributes each
    search asked for) gives the snapshot its :class:`DeclaredNames`.
    """
    skipped: list[SkippedRecord] = []
    read = _read_entries(users, groups, options, schema, skipped)
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
        declared=declared_names(schema, objects, requested) if requested is not None else None,
    )


_SELECTORS = frozenset({"*", "+"})
_ALWAYS = {
    ObjectKind.USER: frozenset({"dn", "id", "accountEnabled"}),
    ObjectKind.GROUP: frozenset({"dn", "id"}),
}


def declared_names(
    schema: Schema,
    objects: Mapping[ObjectKind, Sequence[SourceObject]],
    requested: Mapping[ObjectKind, Sequence[str]],
) -> DeclaredNames:
    """The names the objects can carry: the schema's (as the objects spell them) or those asked for.

    A search for ``*`` (or ``+``) may return any attribute type of the subschema, under its first
    name (``sn``, never the alias ``surname``, which goes to ``aliases``); a search for a list
    returns only those. Names seen on the entries are added, and secrets, never imported, left out.
    A kind without a search (no ``groups:``) is not known.
    """
    canonical = frozenset(rule.name for rule in schema.rules.values())
    aliases = {key: rule.name for key, rule in schema.rules.items() if key != rule.name.lower()}
    known: dict[ObjectKind, frozenset[str] | None] = {}
    for kind in ObjectKind:
        wanted = requested.get(kind)
        if wanted is None:
            known[kind] = None
            continue
        names = (
            set(canonical)
            if _SELECTORS & set(wanted)
            else {schema.rule(n.split(";")[0]).name for n in wanted}
        )
        names.update(name for obj in objects.get(kind, ()) for name in obj.attributes)
        known[kind] = frozenset(n for n in names if n.lower() not in SECRETS) | _ALWAYS[kind]
    return DeclaredNames(
        users=known[ObjectKind.USER],
        groups=known[ObjectKind.GROUP],
        origin="the directory schema and the entries read",
        aliases=aliases,
        multi_valued=frozenset(key for key, rule in schema.rules.items() if not rule.single),
    )


def _read_entries(
    users: Sequence[RawEntry],
    groups: Sequence[RawEntry],
    options: EntryOptions,
    schema: Schema,
    skipped: list[SkippedRecord],
) -> dict[ObjectKind, list[_Read]]:
    """Decode every entry; one without a usable anchor, or with an anchor read before, goes to ``skipped``."""
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
    return read


def _collect(members: list[str], anchor: str | None, counts: dict[str, int], what: str) -> None:
    if anchor is None:
        counts[what] = counts.get(what, 0) + 1
    else:
        members.append(anchor)
