"""Linked objects that leave: out of scope (still in the source) or gone from the source.

Both append to the planner's changes and skips; split from the planner because neither needs
its per-cycle indexes, only the request.
"""

from __future__ import annotations

from syncer.core.changes import Change, DeleteObject, DisableUser, Skip
from syncer.core.deprovisioning import gone_user
from syncer.core.planrequest import NOT_ENTITLED, REDUNDANT, SKIP_OUT_OF_SCOPE, PlanRequest
from syncer.types import ObjectKind


def leave_scope(r: PlanRequest, changes: list[Change], skips: list[Skip]) -> None:
    """Linked objects present in the source but out of scope: Entra's out-of-scope handling."""
    for (kind, source_id), outside in sorted(r.out_of_scope.items()):
        link = r.state.link(kind, source_id)
        if link is None:
            skips.append(Skip(kind, source_id, outside.display, NOT_ENTITLED, detail=outside.reason))
            continue
        reason = f"out of scope: {outside.reason}"
        policy = (
            r.out_of_scope_policy if kind is ObjectKind.USER else ("delete" if r.group_deletes else "skip")
        )
        if policy == "skip":
            skips.append(
                Skip(
                    kind,
                    source_id,
                    link.display,
                    SKIP_OUT_OF_SCOPE,
                    detail=reason,
                    target_id=link.target_id,
                )
            )
        elif policy == "delete" and kind is ObjectKind.USER and link.deleted_at is not None:
            # deleted already on a target that keeps it deactivated: nothing more to send
            skips.append(
                Skip(kind, source_id, link.display, REDUNDANT, detail=reason, target_id=link.target_id)
            )
        elif policy == "delete":
            deactivates = r.delete_deactivates and kind is ObjectKind.USER
            changes.append(DeleteObject(kind, source_id, link.display, link.target_id, reason, deactivates))
        elif not link.disabled:
            changes.append(DisableUser(source_id, link.display, link.target_id, reason))
        else:
            skips.append(
                Skip(kind, source_id, link.display, REDUNDANT, detail=reason, target_id=link.target_id)
            )


def deprovision(r: PlanRequest, changes: list[Change], skips: list[Skip]) -> None:
    """Linked objects gone from the source (and not protected): deprovisioned per policy."""
    present = {(o.kind, o.source_id) for o in (*r.users, *r.groups)} | set(r.out_of_scope)
    for (kind, source_id), link in sorted(r.state.links.items()):
        if (kind, source_id) in present or (kind, source_id) in r.protected:
            continue
        if kind is ObjectKind.USER:
            change = gone_user(
                source_id,
                link,
                now=r.now,
                hard_delete_after=r.hard_delete_after,
                aging=r.aging,
                deactivates=r.delete_deactivates,
            )
            if isinstance(change, Skip):
                skips.append(change)
            elif change is not None:
                changes.append(change)
        elif r.group_deletes:
            changes.append(
                DeleteObject(kind, source_id, link.display, link.target_id, "gone from the source")
            )
