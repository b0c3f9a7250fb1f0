"""Guards that stop a cycle from taking access away by mistake.

A source that suddenly returns nobody is far more often a broken export than a company that
let everyone go; syncer refuses to act on it and says so in numbers.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
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


def _percent_of(percent: str, managed: int) -> int:
    """A percentage of the managed objects, rounded down but never below one unless it is 0%.

    One leaver is always more than 10% of a handful of objects; without the floor every departure
    in a tiny tenant would wait for an approval.
    """
    share = float(percent.strip().rstrip("%"))
    return max(1, int(managed * share / 100)) if share > 0 and managed > 0 else 0


def threshold_limit(threshold: int | str, managed: int, percent: str | None = None) -> int:
    """How many removals one cycle may send: the lower of the count (or "N%") and ``percent`` of managed."""
    limit = _percent_of(threshold, managed) if isinstance(threshold, str) else threshold
    return limit if percent is None else min(limit, _percent_of(percent, managed))


def removal_key(change: DisableUser | DeleteObject) -> str:
    """How an approval names one held disable or delete: ``user:<source id>:disable``."""
    return f"{change.kind.value}:{change.source_id}:{change.verb}"


def removal_weight(change: DisableUser | DeleteObject, state: JobState | None) -> int:
    """What one removal counts against the threshold: a deleted group counts its managed members too.

    Deleting a group of 1,980 takes that access from 1,980 people; counting it as one would let
    a broken group export through a threshold meant for 500.
    """
    if change.kind is ObjectKind.GROUP and state is not None:
        link = state.link(ObjectKind.GROUP, change.source_id)
        return 1 + (len(link.members) if link is not None else 0)
    return 1


def _held_reason(
    removals: Sequence[DisableUser | DeleteObject],
    weight: int,
    threshold: int | str,
    percent: str | None,
    limit: int,
    managed: int,
) -> str:
    objects = len(removals)
    text = f"{objects} object{'' if objects == 1 else 's'} would be disabled or deleted"
    if weight != objects:
        groups = [c for c in removals if c.kind is ObjectKind.GROUP]
        members = weight - objects
        text += (
            f" ({weight} removals: {len(groups)} group{'' if len(groups) == 1 else 's'} deleted "
            f"with {members} membership{'' if members == 1 else 's'})"
        )
    if percent is not None:
        text += (
            f", threshold {limit} (the lower of deletion_threshold {threshold} and "
            f"deletion_threshold_percent {percent} of {managed} managed)"
        )
    else:
        text += f", threshold {threshold}" + (
            f" ({limit} of {managed} managed)" if isinstance(threshold, str) else ""
        )
    return text + ": none of them was sent"


def hold_deprovisioning(
    plan: Plan,
    threshold: int | str,
    managed: int,
    approved: bool | Collection[str] = False,
    *,
    percent: str | None = None,
    state: JobState | None = None,
) -> Plan:
    """Hold every disable and delete of a cycle that would send more of them than the threshold allows.

    All of them are held, not the first N: which N would be arbitrary, and a mass disable is far
    more often a broken source or scope than a real mass departure. ``approved`` (``True``, or
    the keys ``syncer approve-deletions`` recorded) lets exactly those removals through; the
    others still count against the threshold. The threshold is the lower of ``threshold`` and
    ``percent`` of the ``managed`` objects; with ``state``, a group delete counts its members.
    """
    if approved is True:
        return plan
    released = set(approved) if not isinstance(approved, bool) else set()
    removals = [
        c
        for c in plan.changes
        if isinstance(c, DisableUser | DeleteObject) and removal_key(c) not in released
    ]
    limit = threshold_limit(threshold, managed, percent)
    weight = sum(removal_weight(c, state) for c in removals)
    if weight <= limit:
        return plan
    reason = _held_reason(removals, weight, threshold, percent, limit, managed)
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
    """Refuse a source that lost ``max_shrink`` or more of the objects it held last cycle.

    A file cut mid-write loses about half its records; a directory that really shrinks by 10% in
    one cycle is rare enough to ask an admin (``syncer approve-deletions`` accepts it once).
    """
    if not previous or current >= previous:
        return None
    lost = previous - current
    allowed = previous * float(max_shrink.rstrip("%")) / 100
    if lost < allowed:  # strict: a loss of exactly the limit (a file cut at half) is refused
        return None
    return (
        f"the source holds {current} objects, {lost} fewer than the {previous} of the last cycle "
        f"({lost * 100 / previous:.0f}%, at or over max_source_shrink {max_shrink}): nothing was changed"
    )
