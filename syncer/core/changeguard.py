"""The change threshold: hold a cycle's changes to one attribute when they reach most linked users.

A mapping typo (``source: jobTitel``) or a source export that lost a column does not look like
an error anywhere: every user simply gets a new (or no) ``title``. The deletion threshold does
not see it, since nobody is removed, so this guard counts, per target attribute, the linked
users one cycle would change it on, and holds exactly those changes when there are more than
``change_threshold`` of them (a count, or "N%" of the linked users). Changes to the other
attributes of the same users still go through: the hold is per attribute, not per user.

Rules, so that a small tenant and a first sync are never held by it:

* only users already linked before the cycle count: a create, or a user linked by matching in
  this cycle, has no previous value syncer exported (nor has their second-phase update, the
  manager set once the manager exists); an initial cycle (the first, or the one after
  ``syncer restart``) has no change tracking to compare with, so it holds nothing;
* the guard applies only when at least ``min_users`` users would be affected (default 10);
* ``active`` is left to the deletion threshold and the deprovisioning rules;
* an approval (``syncer approve-changes``) names each held change by user, attribute and new
  value, so it releases exactly what was reviewed and nothing that moved since.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from syncer.core.changes import (
    Change,
    CreateObject,
    HeldAttribute,
    HeldChange,
    Phase,
    Plan,
    UpdateObject,
    change_key,
)
from syncer.core.planrequest import ACTIVE
from syncer.types import ObjectKind


@dataclass(frozen=True, slots=True)
class ChangeGuard:
    """The job's change threshold: ``None`` is off; an ``int`` a count; ``"N%"`` of linked users."""

    threshold: int | str | None = "50%"
    min_users: int = 10

    def limit(self, linked: int) -> int | None:
        """How many users one attribute may change on without approval (``None``: no limit)."""
        if self.threshold is None:
            return None
        if isinstance(self.threshold, int):
            return self.threshold
        return int(linked * float(self.threshold.rstrip("%")) / 100)


def _counted(change: Change) -> bool:
    """An update of a user linked before this cycle (not a create, not a link made by matching)."""
    return (
        isinstance(change, UpdateObject)
        and change.kind is ObjectKind.USER
        and change.matched_on is None
        and change.target_id is not None
    )


def _new_this_cycle(plan: Plan) -> frozenset[str]:
    """Users this plan creates or links by matching: none of their updates has a previous value."""
    return frozenset(
        change.source_id
        for change in plan.changes
        if change.kind is ObjectKind.USER
        and (isinstance(change, CreateObject) or (isinstance(change, UpdateObject) and change.matched_on))
    )


def _candidates(plan: Plan, released: Collection[str]) -> dict[str, list[HeldChange]]:
    """Per target attribute, the counted changes not released by an approval."""
    by_path: dict[str, list[HeldChange]] = defaultdict(list)
    new = _new_this_cycle(plan)
    for change in plan.changes:
        if not _counted(change) or change.source_id in new:
            continue
        assert isinstance(change, UpdateObject)
        for c in change.changes:
            if c.path == ACTIVE or change_key(change.source_id, c) in released:
                continue
            by_path[c.path].append(
                HeldChange(change.source_id, change.display, change.target_id, c, change.phase)
            )
    return by_path


def _without(change: Change, held: Mapping[tuple[str, Phase], frozenset[str]]) -> Change | None:
    """The update with its held attributes taken out; ``None`` when nothing else is left to send."""
    if not isinstance(change, UpdateObject):
        return change
    paths = held.get((change.source_id, change.phase))
    if not paths or not _counted(change):
        return change
    kept = tuple(c for c in change.changes if c.path not in paths)
    if not kept and not change.enable:
        return None
    return replace(change, changes=kept)


def hold_changes(
    plan: Plan, guard: ChangeGuard, linked: int, approved: bool | Collection[str] = False
) -> Plan:
    """Hold the changes to every attribute that more than the threshold of linked users would get.

    ``linked`` is the number of users linked before the cycle. ``approved`` (``True``, or the
    keys ``syncer approve-changes`` recorded) lets exactly those changes through; the others
    still count. Returns the plan with the held changes taken out and listed in ``held_updates``.
    """
    limit = guard.limit(linked)
    if approved is True or limit is None or plan.initial or linked == 0:
        return plan
    released = frozenset(approved) if not isinstance(approved, bool) else frozenset()
    held: list[HeldAttribute] = []
    for path, changes in sorted(_candidates(plan, released).items()):
        users = len({c.source_id for c in changes})
        if users > limit and users >= guard.min_users:
            assert guard.threshold is not None
            held.append(HeldAttribute(path, linked, guard.threshold, tuple(changes)))
    if not held:
        return plan
    paths: dict[tuple[str, Phase], set[str]] = defaultdict(set)
    for attribute in held:
        for c in attribute.changes:
            paths[(c.source_id, c.phase)].add(attribute.path)
    frozen = {k: frozenset(v) for k, v in paths.items()}
    kept = tuple(c for c in (_without(change, frozen) for change in plan.changes) if c is not None)
    return replace(plan, changes=kept, held_updates=tuple(held))


def held_keys(plan: Plan) -> list[str]:
    """Every held change's approval key, in a stable order."""
    return sorted(c.key for attribute in plan.held_updates for c in attribute.changes)


def held_count(plan: Plan) -> int:
    """How many attribute changes are held (one per user and attribute)."""
    return sum(len(a.changes) for a in plan.held_updates)


def held_summary(attribute: HeldAttribute) -> dict[str, object]:
    """What the state keeps of one held attribute for ``syncer status`` (not every change)."""
    return {
        "path": attribute.path,
        "users": attribute.users,
        "linked": attribute.linked,
        "threshold": attribute.threshold,
        "reason": attribute.reason(),
    }
