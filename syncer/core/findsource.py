"""Which source object an admin means: ``plan --why`` and ``provision --id`` take a userName too.

An admin knows ``alice@contoso.com``, not the export's ``E-10442`` or an LDAP entryUUID. The id
wins when it matches exactly; otherwise the object whose mapped matching values (``userName``,
a group's ``displayName``) or mapped ``displayName`` equal the text, case-insensitively in NFC, as the
target compares them. Two candidates are an error that names both, never a guess.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from syncer.core.expressions import EvaluationContext
from syncer.core.mapping import CompiledMapping, MappingEvaluationError, map_object
from syncer.errors import SyncerError
from syncer.types import SourceObject


class AmbiguousSourceName(SyncerError):
    """The text names several source objects; the admin must give the id."""


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _names(mapping: CompiledMapping, obj: SourceObject, context: EvaluationContext) -> set[str]:
    try:
        desired = map_object(mapping.of(obj.kind), obj, context)
    except MappingEvaluationError:
        return set()  # a record that cannot be mapped is found by its id only
    values = [value for _, value in desired.matching if isinstance(value, str)]
    shown = desired.attributes.get("displayName")
    return {_folded(v) for v in [*values, desired.display, shown] if isinstance(v, str)}


def find_source_object(
    objects: Iterable[SourceObject], text: str, mapping: CompiledMapping, context: EvaluationContext
) -> SourceObject | None:
    """The object with id ``text``, else the one whose matching value or name is ``text``."""
    candidates = list(objects)
    for obj in candidates:
        if obj.id == text:
            return obj
    wanted = _folded(text)
    found = [obj for obj in candidates if wanted in _names(mapping, obj, context)]
    if len(found) > 1:
        named = ", ".join(f"{o.kind.value} {o.id}" for o in found[:5])
        raise AmbiguousSourceName(f"{text!r} names {len(found)} source objects ({named}): give the id")
    return found[0] if found else None
