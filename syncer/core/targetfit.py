"""A desired object as the target's profile lets it be sent: one value each, required attributes.

AWS IAM Identity Center takes one email, one phone number and one address per user, and refuses
a create without ``name.givenName``, ``name.familyName`` or ``displayName``. Both are decided
on the desired object, before planning: the plan, the create body, the PATCH and the PUT then
agree on what the target holds, so a refused value is not planned again every cycle, and a user
the target would refuse is skipped with the reason rather than sent for a 400.

The rules come from :class:`~syncer.settings.profiles.TargetQuirks`; this module is pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from types import MappingProxyType

from syncer.core.scimpath import parsed
from syncer.settings.profiles import TargetQuirks
from syncer.types import Desired, ObjectKind, Value

SINGLE_VALUED = frozenset({"emails", "phonenumbers", "addresses"})
"""The multi-valued attributes a single-email target takes one entry of."""
TARGET_REQUIRES = "TargetRequiresAttribute"


def _entry(path_text: str) -> tuple[str, str | None] | None:
    """``("emails", 'emails[type eq "work"]')`` for a single-valued attribute's path; else ``None``.

    The second item groups the sub-attributes of one filtered entry; ``None`` is the attribute
    as a whole (``emails`` holding a list).
    """
    path = parsed(path_text)
    if path.schema is not None or path.attribute.lower() not in SINGLE_VALUED:
        return None
    return path.attribute.lower(), path.entry_key


def _primary(value: Value) -> Value:
    """Of a whole list of entries, the one marked ``primary`` (or the first)."""
    if not isinstance(value, tuple | list) or len(value) < 2:
        return value
    marked = [e for e in value if isinstance(e, dict | MappingProxyType) and e.get("primary") is True]
    return (marked[0] if marked else value[0],)


def one_value_each(desired: Desired) -> Desired:
    """Keep one entry of each of emails, phoneNumbers and addresses: the primary one, or the first.

    The first is in the mapping's order, among the entries this object has a value for; the
    others' paths become ``None`` (so one the target held before is removed) and lose their
    ``default``, which would otherwise fill them on create.
    """
    if desired.kind is not ObjectKind.USER:
        return desired
    entries: dict[str, dict[str, list[str]]] = {}
    for path_text in desired.attributes:
        found = _entry(path_text)
        if found is not None and found[1] is not None:
            entries.setdefault(found[0], {}).setdefault(found[1], []).append(path_text)
    values = dict(desired.attributes)
    dropped: set[str] = set()
    for by_entry in entries.values():
        kept = _kept(by_entry, values)
        for key, paths in by_entry.items():
            if key != kept:
                dropped.update(paths)
    for path_text, value in desired.attributes.items():
        found = _entry(path_text)
        if found is not None and found[1] is None:
            values[path_text] = _primary(value)
    if not dropped and values == dict(desired.attributes):
        return desired
    values.update(dict.fromkeys(dropped))
    defaults = {p: v for p, v in desired.defaults.items() if p not in dropped}
    return replace(desired, attributes=MappingProxyType(values), defaults=MappingProxyType(defaults))


def _kept(by_entry: dict[str, list[str]], values: dict[str, Value]) -> str | None:
    """The entry to keep: the one whose ``primary`` is true, else the first with a value."""

    def valued(paths: list[str]) -> bool:
        return any(values.get(p) is not None for p in paths if not p.lower().endswith(".primary"))

    def primary(paths: list[str]) -> bool:
        return any(values.get(p) is True for p in paths if p.lower().endswith(".primary"))

    with_value = [key for key, paths in by_entry.items() if valued(paths)]
    marked = [key for key in with_value if primary(by_entry[key])]
    if marked or with_value:
        return (marked or with_value)[0]
    return None


def missing_required(desired: Desired, required: Iterable[str]) -> str | None:
    """The first ``required`` path the user has no value (nor default) for, or ``None``."""
    if desired.kind is not ObjectKind.USER:
        return None
    given = {p.lower(): v for p, v in desired.defaults.items() if v not in (None, "")}
    given.update({p.lower(): v for p, v in desired.attributes.items() if v not in (None, "")})
    return next((path for path in required if path.lower() not in given), None)


def unmapped_required(mapped: Iterable[str], quirks: TargetQuirks) -> tuple[str, ...]:
    """The paths the target requires on every user that the mapping does not map at all."""
    have = {p.lower() for p in mapped}
    return tuple(p for p in quirks.required_user_attributes if p.lower() not in have)


def fit_user(desired: Desired, quirks: TargetQuirks) -> tuple[Desired, str | None]:
    """The desired object as the target takes it, and why it cannot be sent at all (or ``None``)."""
    if quirks.single_email:
        desired = one_value_each(desired)
    missing = missing_required(desired, quirks.required_user_attributes)
    if missing is None:
        return desired, None
    return desired, f"{quirks.title} requires {missing}; the source has none"
