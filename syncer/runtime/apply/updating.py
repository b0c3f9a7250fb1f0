"""Sending the changes to objects that exist: updates, memberships, disables and deletes.

The sender's other half (creating and matching is in :mod:`.sender`). Each function reads the
links through the sender's journal, sends its requests and notes what happened in the draft.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from syncer.adapters.scim.protocol import build_patch_operations, member_operations
from syncer.core.changes import KEPT_DEACTIVATED, ChangeMembers, DeleteObject, DisableUser, UpdateObject
from syncer.errors import NotFoundError
from syncer.types import Action, AttributeChange, Link, ModifiedProperty, ObjectKind, Status, Step, Value

from .draft import Deferred, Draft
from .sender import Sender, ref_text


async def update(s: Sender, change: UpdateObject, draft: Draft, pending: frozenset[str]) -> None:
    """PATCH the changed attributes; ``pending`` are paths planned as a later REFERENCES update."""
    if draft.action is Action.OTHER:
        draft.action = Action.UPDATE
    key = (change.kind, change.source_id)
    target_id = s.target_of(change.kind, change.source_id, change.target_id)
    sendable: list[AttributeChange] = []
    deferred: list[str] = []
    for c in change.changes:
        try:
            sendable.append(AttributeChange(c.path, ref_text(c.old), s.resolve(c.new)))
        except Deferred:
            deferred.append(c.path)
    if sendable:
        before = s.journal.link(*key)
        desired_now = s.journal.desired.get(key)
        base = before.exported if before else desired_now.attributes if desired_now else {}
        current = {p: ref_text(v) for p, v in base.items()}
        ops = build_patch_operations(sendable, current=current, dialect=s.wire.dialect)
        try:
            await s.modify(change.kind, target_id, ops)
        except NotFoundError as exc:
            await s.gone(change.kind, target_id, exc, draft)
            draft.steps.append(
                Step("export", Status.WARNING, f"{target_id} is gone on the target; re-matching")
            )
            s.journal.drop(*key)
            await s.rematch(change.kind, change.source_id, draft)
            return
    sent_paths = {c.path for c in sendable}
    s.journal.save(_updated_link(s, change, target_id, sent_paths, pending, draft))
    draft.target_id = target_id
    draft.modified.extend(
        ModifiedProperty(c.path, ref_text(c.old), ref_text(c.new))
        for c in change.changes
        if c.path in sent_paths
    )
    if deferred:
        raise Deferred(f"{', '.join(deferred)} refer to objects not provisioned yet")


def _updated_link(
    s: Sender,
    change: UpdateObject,
    target_id: str,
    sent_paths: set[str],
    pending: frozenset[str],
    draft: Draft,
) -> Link:
    """The link as the sent changes left it; a just-matched object's link starts from its desired values."""
    link = s.journal.link(change.kind, change.source_id)
    exported: dict[str, Value] = dict(link.exported) if link else {}
    for c in change.changes:
        if c.path not in sent_paths:
            continue
        if c.new is None:
            exported.pop(c.path, None)
        else:
            exported[c.path] = c.new
    if link is None:
        desired = s.journal.desired.get((change.kind, change.source_id))
        skip = desired.on_create_only if desired else frozenset()
        base: dict[str, Value] = (
            {p: v for p, v in desired.attributes.items() if v is not None}
            if desired and change.matched_on
            else {}
        )
        base = {p: v for p, v in base.items() if p not in pending and p not in skip}
        base.update(exported)
        link = Link(
            change.kind, change.source_id, target_id, change.display, MappingProxyType(base), origin="matched"
        )
        draft.steps.append(Step("matching", Status.SUCCESS, f"matched on {change.matched_on}"))
    else:
        link = replace(link, exported=MappingProxyType(exported), display=change.display)
    if change.enable:
        link = replace(link, disabled=False, gone_since=None, deleted_at=None)
    return link


async def members(s: Sender, change: ChangeMembers, draft: Draft) -> None:
    if draft.action is Action.OTHER:
        draft.action = Action.UPDATE
    target_id = s.target_of(ObjectKind.GROUP, change.group_source_id, change.target_id)
    resolved: dict[str, str] = {}
    unresolved: list[str] = []
    for member in change.add or change.remove:
        link = s.journal.link(ObjectKind.USER, member)
        if link is None:
            unresolved.append(member)
        else:
            resolved[member] = link.target_id
    sent = dict(resolved)
    if resolved and change.add:
        present = await s.present_members(change.group_source_id, target_id, list(resolved.values()))
        sent = {m: tid for m, tid in resolved.items() if tid not in present}
        if len(sent) < len(resolved):
            draft.steps.append(
                Step(
                    "export",
                    Status.SUCCESS,
                    f"{len(resolved) - len(sent)} member(s) already in the matched group: not added again",
                )
            )
    if sent:
        ids = list(sent.values())
        ops = member_operations(ids if change.add else [], [] if change.add else ids, dialect=s.wire.dialect)
        await s.modify(ObjectKind.GROUP, target_id, ops)
    group = s.journal.link(ObjectKind.GROUP, change.group_source_id)
    if group is not None:
        kept = set(group.members)
        if change.add:
            kept.update(resolved)
        else:
            kept.difference_update(resolved)
            kept.difference_update(m for m in change.remove if m in unresolved)
        s.journal.save(replace(group, members=frozenset(kept)))
    draft.target_id = target_id
    sign = "+" if change.add else "-"
    draft.modified.append(ModifiedProperty("members", None, f"{sign}{len(sent)}"))
    if change.add:
        draft.members_added += len(sent)
    else:
        draft.members_removed += len(sent)
    if unresolved and change.add:
        raise Deferred(f"{len(unresolved)} members are not provisioned yet")


async def disable(s: Sender, change: DisableUser, draft: Draft, now: str) -> None:
    """PATCH ``active=false``; a 404 drops the link only once a GET proves the user gone."""
    draft.action = Action.DISABLE
    draft.target_id = change.target_id
    ops = build_patch_operations([AttributeChange("active", True, False)], dialect=s.wire.dialect)
    try:
        await s.modify(ObjectKind.USER, change.target_id, ops)
    except NotFoundError as exc:
        await s.gone(ObjectKind.USER, change.target_id, exc, draft)
        draft.detail = "already gone on the target"
        s.journal.drop(ObjectKind.USER, change.source_id)
        return
    link = s.journal.link(ObjectKind.USER, change.source_id)
    if link is None:
        return
    exported = dict(link.exported)
    if "active" in exported:
        exported["active"] = False
    gone_since = link.gone_since
    if change.gone and gone_since is None:
        gone_since = now
    s.journal.save(replace(link, disabled=True, exported=MappingProxyType(exported), gone_since=gone_since))
    draft.modified.append(ModifiedProperty("active", True, False))
    draft.steps.append(Step("processing", Status.SUCCESS, change.reason))


async def delete(s: Sender, change: DeleteObject, draft: Draft, now: str) -> None:
    """DELETE; a 404 counts as done only once a GET proves the object gone.

    On a target that keeps a deleted user deactivated (``change.deactivates``) the link stays,
    disabled and stamped ``deleted_at``: a returner is then reactivated with a PATCH on the same
    id, where a create would meet its own old account (409) or make a second one.
    """
    draft.action = Action.DELETE
    draft.target_id = change.target_id
    try:
        await s.client.delete(change.kind, change.target_id)
    except NotFoundError as exc:
        await s.gone(change.kind, change.target_id, exc, draft)
        draft.detail = "already gone on the target"
        s.journal.drop(change.kind, change.source_id)
    else:
        link = s.journal.link(change.kind, change.source_id)
        if change.deactivates and link is not None:
            exported = dict(link.exported)
            if "active" in exported:
                exported["active"] = False
            kept = replace(link, disabled=True, exported=MappingProxyType(exported), deleted_at=now)
            s.journal.save(kept)
            draft.detail = f"deleted ({KEPT_DEACTIVATED})"
        else:
            s.journal.drop(change.kind, change.source_id)
    draft.steps.append(Step("processing", Status.SUCCESS, change.reason))
