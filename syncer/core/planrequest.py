"""What one cycle's planning is given (:class:`PlanRequest`) and how values are compared.

Kept apart from the planner because the runtime uses the same comparison and digest
(:func:`diff_values`, :func:`values_hash`) when it sends and journals changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType

from syncer.core.changes import PlanInputs, Skip
from syncer.core.matching import Match
from syncer.types import AttributeChange, Desired, JobState, ObjectKind, Reference, Value

REDUNDANT = "RedundantExport"
NOT_ENTITLED = "NotEffectivelyEntitled"
IMPORT_SKIPPED = "ImportSkipped"
SKIP_OUT_OF_SCOPE = "SkipOutOfScopeDeletions"
ACTIVE = "active"


@dataclass(frozen=True, slots=True)
class OutOfScope:
    """A source object that is present but not in scope, with the reason (which clause failed)."""

    display: str
    reason: str


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """Everything one cycle's planning needs, as values.

    ``protected`` holds source ids that the source returned but could not import this cycle:
    they are neither updated nor deprovisioned (a bad record must never look like a leaver).
    """

    job: str
    initial: bool
    users: tuple[Desired, ...]
    groups: tuple[Desired, ...]
    state: JobState
    matches: Mapping[tuple[ObjectKind, str], Match]
    inputs: PlanInputs
    skips: tuple[Skip, ...] = ()
    protected: frozenset[tuple[ObjectKind, str]] = frozenset()
    manage_members: bool = True
    member_batch_size: int = 100
    group_deletes: bool = True
    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    out_of_scope: Mapping[tuple[ObjectKind, str], OutOfScope] = field(
        default_factory=lambda: MappingProxyType({})
    )
    out_of_scope_policy: str = "disable"
    now: datetime | None = None
    hard_delete_after: timedelta | None = None
    """``None``: users gone from the source are disabled and never deleted."""
    aging: bool = True
    """``False`` when the cycle's clock cannot be trusted: no hard delete falls due, no clock starts."""
    delete_deactivates: bool = False
    """The target keeps a deleted user, deactivated (Slack, Asana): its link stays after the delete."""
    matching: Mapping[ObjectKind, str] = field(default_factory=lambda: MappingProxyType({}))
    """Each kind's matching attributes described (``userName (mapped from userPrincipalName)``)."""


def same_value(old: Value, new: Value) -> bool:
    """Exact equality, except that a list and a tuple with equal items are the same value."""
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        return len(old) == len(new) and all(same_value(a, b) for a, b in zip(old, new, strict=True))
    return (type(old) is type(new) and old == new) or (old is None and new is None)


def diff_values(
    desired: Mapping[str, Value], previous: Mapping[str, Value], skip: Iterable[str] = ()
) -> tuple[AttributeChange, ...]:
    """The attribute changes that take ``previous`` to ``desired``; a value gone null is a removal."""
    skipped = set(skip)
    changes = []
    for path in sorted(desired):
        if path in skipped:
            continue
        new, old = desired[path], previous.get(path)
        if not same_value(old, new):
            changes.append(AttributeChange(path=path, old=old, new=new))
    return tuple(changes)


_PLAIN = frozenset({str, int, float, bool})


def _canonical(value: Value) -> object:
    if isinstance(value, Reference):
        return {"$ref": value.source_id}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Mapping):
        return {"$map": {k: _canonical(v) for k, v in value.items()}}
    return value


def values_hash(values: Mapping[str, Value], skip: Iterable[str] = ()) -> str:
    """A digest of the non-null values outside ``skip``: equal digests mean :func:`diff_values` finds nothing.

    Kept on each link (``exported_hash``) for what was last exported, so an unchanged object is
    recognised by one digest of its desired values, without decoding or comparing the exported
    ones. Types stay apart (``1``, ``1.0``, ``true`` and ``"1"`` differ; a reference is not its id);
    a value JSON cannot carry gets no digest (``""``), which only turns the fast path off.
    """
    skipped = frozenset(skip)
    canonical = {
        p: v if type(v) in _PLAIN else _canonical(v)
        for p, v in values.items()
        if v is not None and p not in skipped
    }
    try:
        text = json.dumps(
            canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError):
        return ""
    return "b2:" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def batched(items: Sequence[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)]
