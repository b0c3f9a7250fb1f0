"""String functions.

Append, Join, ToLower, ToUpper, StripSpaces, Left, Mid, Len, InStr, Word, PCase,
NormalizeDiacritics, ConvertToBase64, ConvertToUTF8Hex, Split and Replace (all five modes).
"""

from __future__ import annotations

import base64
import re
import unicodedata

from syncer.core.functions import regex
from syncer.core.functions.registry import (
    CONSTANTS,
    Args,
    EvaluationContext,
    each,
    fail,
    function,
    to_text,
    values_of,
    whole,
)


@function("Append", 2, 2)
def _append(args: Args, ctx: EvaluationContext) -> object:
    # A null source stays null: flowing the suffix alone (".test") would invent a value.
    suffix = to_text(args[1]) or ""
    return each(args[0], lambda text: text + suffix)


@function("Join", 2, None)
def _join(args: Args, ctx: EvaluationContext) -> object:
    # Empty strings are skipped like nulls: Entra's Join(", ", "", [surname], [givenName]) gives "Doe, John".
    parts = [t for source in args[1:] for t in map(to_text, values_of(source)) if t]
    return (to_text(args[0]) or "").join(parts) if parts else None


@function("ToLower", 1, 2)
def _to_lower(args: Args, ctx: EvaluationContext) -> object:
    return each(args[0], str.lower)


@function("ToUpper", 1, 2)
def _to_upper(args: Args, ctx: EvaluationContext) -> object:
    return each(args[0], str.upper)


@function("StripSpaces", 1, 1)
def _strip_spaces(args: Args, ctx: EvaluationContext) -> object:
    return each(args[0], lambda text: text.replace(" ", ""))


@function("Left", 2, 2)
def _left(args: Args, ctx: EvaluationContext) -> object:
    text, count = to_text(args[0]) or "", whole(args[1], "NumChars")
    return text if count < 0 else text[:count]


@function("Mid", 3, 3)
def _mid(args: Args, ctx: EvaluationContext) -> object:
    text, start, length = to_text(args[0]), whole(args[1], "start"), whole(args[2], "length")
    if start < 1 or length < 0:
        fail("start must be 1 or more and length 0 or more")
    return None if text is None else text[start - 1 : start - 1 + length]


@function("Len", 1, 1)
def _len(args: Args, ctx: EvaluationContext) -> object:
    text = to_text(args[0])
    return None if text is None else len(text)


@function("InStr", 2, 4)
def _instr(args: Args, ctx: EvaluationContext) -> object:
    text, sought = to_text(args[0]), to_text(args[1])
    start = 1 if args[2:3] in ((), (None,)) else whole(args[2], "start")
    if start < 1:
        fail("start must be 1 or more")
    if text is None or sought is None:
        return None
    if len(args) > 3 and whole(args[3], "compareType") == CONSTANTS["vbTextCompare"]:
        text, sought = text.casefold(), sought.casefold()
    return text.find(sought, start - 1) + 1


@function("Word", 3, 3)
def _word(args: Args, ctx: EvaluationContext) -> object:
    text, number, delimiters = to_text(args[0]), whole(args[1], "WordNumber"), to_text(args[2]) or ""
    if text is None or number < 1:
        return ""
    words = [w for w in re.split(f"[{re.escape(delimiters)}]", text) if w] if delimiters else [text]
    return words[number - 1] if number <= len(words) else ""


def _proper(text: str, separators: str | None) -> str:
    out, start = [], True
    for char in text:
        out.append(char.upper() if start else char.lower())
        if separators is not None:
            start = char in separators
        else:  # .NET ToTitleCase: letters, digits and marks continue a word, and so does an apostrophe
            start = not (char.isalnum() or char == "'" or unicodedata.category(char).startswith("M"))
    return "".join(out)


@function("PCase", 1, 2)
def _pcase(args: Args, ctx: EvaluationContext) -> object:
    separators = to_text(args[1]) if len(args) > 1 else None
    return each(args[0], lambda text: _proper(text, separators))


# Letters NFD cannot take apart, spelled the way Entra's table normalizes them.
_UNDECOMPOSABLE = str.maketrans(
    {"æ": "ae", "Æ": "AE", "ø": "oe", "Ø": "OE", "œ": "oe", "Œ": "OE", "ß": "ss", "ł": "l", "Ł": "L"}
    | {"ı": "i", "đ": "d", "Đ": "D"}
)


@function("NormalizeDiacritics", 1, 1)
def _normalize_diacritics(args: Args, ctx: EvaluationContext) -> object:
    def strip(text: str) -> str:
        bare = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
        return unicodedata.normalize("NFC", bare.translate(_UNDECOMPOSABLE))

    return each(args[0], strip)


@function("ConvertToBase64", 1, 1)
def _to_base64(args: Args, ctx: EvaluationContext) -> object:
    text = to_text(args[0])  # .NET's "Unicode" is UTF-16LE
    return None if text is None else base64.b64encode(text.encode("utf-16-le")).decode("ascii")


@function("ConvertToUTF8Hex", 1, 1)
def _to_utf8_hex(args: Args, ctx: EvaluationContext) -> object:
    text = to_text(args[0])
    return None if text is None else text.encode("utf-8").hex().upper()


@function("Split", 2, 2)
def _split(args: Args, ctx: EvaluationContext) -> object:
    # Pieces are trimmed, as Entra's example "PermissionSetOne, PermissionSetTwo" shows.
    text, delimiter = to_text(args[0]), to_text(args[1]) or ""
    if text is None:
        return None
    return tuple(p.strip() for p in text.split(delimiter)) if delimiter else (text,)


@function("Replace", 7, 7, literal_checks={2: regex.pattern_problem})
def _replace(args: Args, ctx: EvaluationContext) -> object:
    source, old, pattern, group, new, fallback, template = map(to_text, args)
    if pattern is not None:
        compiled = regex.compile_pattern(pattern)
        if group is not None and new is None:  # fill an empty source from another attribute
            if source:
                return source
            found = compiled.search(fallback or "")
            return found.group(group) if found and group in compiled.groupindex else None
        if source is None or new is None:
            return source
        if group is None:
            return compiled.sub(lambda m: regex.substitute(new, m), source)
        if group not in compiled.groupindex:
            fail("regexGroupName is not a group of regexPattern")
        out, last = [], 0
        for m in compiled.finditer(source):
            if m.start(group) >= 0:
                out += [source[last : m.start(group)], new]
                last = m.end(group)
        return "".join(out) + source[last:]
    if old is None or source is None:
        return source
    if template is not None:
        return template.replace(old, source)
    return source if new is None or old == "" else source.replace(old, new)
