"""Guards that stop a cycle from taking access away by mistake.

A source that suddenly returns nobody is far more often a broken export than a company that
let everyone go; syncer refuses to act on it and says so in numbers.
"""

from __future__ import annotations

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


def hold_deprovisioning(plan: Plan, threshold: int | str, managed: int, approved: bool = False) -> Plan:
    """Hold every disable and delete of a cycle that would send more of them than the threshold allows.

    All of them are held, not the first N: which N would be arbitrary, and a mass disable is far
    more often a broken source or scope than a real mass departure.
    """
    removals = [c for c in plan.changes if isinstance(c, DisableUser | DeleteObject)]
    limit = threshold_limit(threshold, managed)
    if approved or len(removals) <= limit:
        return plan
    reason = (
        f"{len(removals)} object{'' if len(removals) == 1 else 's'} would be disabled or deleted, "
        f"threshold {threshold}"
        + (f" ({limit} of {managed} managed)" if isinstance(threshold, str) else "")
        + ": none of them was sent"
    )
    held = tuple(c for c in plan.changes if isinstance(c, DisableUser | DeleteObject))
    held_users = {c.source_id for c in held if c.kind is ObjectKind.USER}
    kept: list[Change] = []
    for change in plan.changes:
        if isinstance(change, DisableUser | DeleteObject):
            continue
        if isinstance(change, ChangeMembers) and change.remove:
            # a held leaver keeps their memberships too: removing them is taking access away
            remaining = tuple(m for m in change.remove if m not in held_users)
            if not remaining:
                continue
            change = replace(change, remove=remaining)
        kept.append(change)
    return replace(plan, changes=tuple(kept), held=held, held_reason=reason)
