"""Guards that stop a cycle from taking access away by mistake.

A source that suddenly returns nobody is far more often a broken export than a company that
let everyone go; syncer refuses to act on it and says so in numbers.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from syncer.core.changes import Change, ChangeMembers, DeleteObject, DisableUser, Plan
from syncer.types import JobState, ObjectKind, SourceSnapshot


def empty_source_refusal(snapshot: SourceSnapshot, state: JobState) -> str | None:
    """Why the cycle must not run on this snapshot, or ``None`` when it may."""
    if snapshot.users or snapshot.groups or not state.links:
        return None
    return (
        f"the source returned no users and no groups while {len(state.links)} objects are provisioned: "
        "nothing was changed; an empty source is treated as a failed read, never as everyone leaving"
    )


def threshold_limit(threshold: int | str, managed: int) -> int:
    """The number of disables plus deletes one cycle may send: a count, or a percentage of managed objects."""
    if isinstance(threshold, str):
        percent = float(threshold.strip().rstrip("%"))
        return int(managed * percent / 100)
    return threshold


def removal_key(change: DisableUser | DeleteObject) -> str:
    """How an approval names one held disable or delete: ``user:<source id>:disable``."""
    return f"{change.kind.value}:{change.source_id}:{change.verb}"


def hold_deprovisioning(
    plan: Plan, threshold: int | str, managed: int, approved: bool | Collection[str] = False
) -> Plan:
    """Hold every disable and delete of a cycle that would send more of them than the threshold allows.

    All of them are held, not the first N: which N would be arbitrary, and a mass disable is far
    more often a broken source or scope than a real mass departure. ``approved`` (``True``, or
    the keys ``syncer approve-deletions`` recorded) lets exactly those removals through; the
    others still count against the threshold.
    """
    if approved is True:
        return plan
    released = set(approved) if not isinstance(approved, bool) else set()
    removals = [
        c
        for c in plan.changes
        if isinstance(c, DisableUser | DeleteObject) and removal_key(c) not in released
    ]
    limit = threshold_limit(threshold, managed)
    if len(removals) <= limit:
        return plan
    reason = (
        f"{len(removals)} object{'' if len(removals) == 1 else 's'} would be disabled or deleted, "
        f"threshold {threshold}"
        + (f" ({limit} of {managed} managed)" if isinstance(threshold, str) else "")
        + ": none of them was sent"
    )
    held = tuple(removals)
    held_users = {c.source_id for c in held if c.kind is ObjectKind.USER}
    kept: list[Change] = []
    for change in plan.changes:
        if isinstance(change, DisableUser | DeleteObject) and removal_key(change) not in released:
            continue
        if isinstance(change, ChangeMembers) and change.remove:
            # a held leaver keeps their memberships too: removing them is taking access away
            remaining = tuple(m for m in change.remove if m not in held_users)
            if not remaining:
                continue
            change = replace(change, remove=remaining)
        kept.append(change)
    return replace(plan, changes=tuple(kept), held=held, held_reason=reason)


def shrink_refusal(previous: int | None, current: int, max_shrink: str) -> str | None:
    """Refuse a source that lost more than ``max_shrink`` of the objects it held last cycle."""
    if not previous or current >= previous:
        return None
    lost = previous - current
    allowed = previous * float(max_shrink.rstrip("%")) / 100
    if lost <= allowed:
        return None
    return (
        f"the source holds {current} objects, {lost} fewer than the {previous} of the last cycle "
        f"({lost * 100 / previous:.0f}%, more than max_source_shrink {max_shrink}): nothing was changed"
    )
