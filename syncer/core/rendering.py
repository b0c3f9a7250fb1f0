"""A plan as text for a person and as JSON for a machine, and its fingerprint.

Both renderings are deterministic: the same plan renders byte-identically twice, which is what
lets ``syncer apply`` prove that the plan it is about to send is the one that was reviewed.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from syncer.core.changes import (
    KEPT_DEACTIVATED,
    ChangeMembers,
    CreateObject,
    DeleteObject,
    DisableUser,
    Plan,
    Skip,
    UpdateObject,
)
from syncer.core.display import visible
from syncer.core.planrequest import NOT_ENTITLED, REDUNDANT
from syncer.types import Candidates, Reference, Status, Value, thaw

PLAN_FORMAT = 1
MEMBERS_SHOWN = 10
"""Members named on a member-change line; the rest are counted (``… and N more``), JSON has all."""
SKIPS_SHOWN = 50
"""Lines of skips (one per kind and reason) in a text plan; JSON has every skip."""
ROUTINE_SKIPS = frozenset({REDUNDANT, NOT_ENTITLED})
"""Skips a text plan only counts: unchanged, and out of scope (listed on their own)."""


def _show(value: Value, plan: Plan) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, Reference):
        return plan.names.get(value.source_id, f"source:{value.source_id}")
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v, plan) for v in value) + "]"
    return json.dumps(thaw(value), ensure_ascii=False)  # thawed: an app role is a read-only mapping


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _members(source_ids: tuple[str, ...], plan: Plan) -> str:
    """Who joins or leaves, by name: a reviewer checks people, not a count (issue 14)."""
    shown = ", ".join(plan.names.get(i, f"source:{i}") for i in source_ids[:MEMBERS_SHOWN])
    rest = len(source_ids) - MEMBERS_SHOWN
    return f"{shown} … and {rest} more" if rest > 0 else shown


def change_line(change: object, plan: Plan) -> str:
    """One line per change, in the form the README documents."""
    if isinstance(change, CreateObject):
        line = f"+ create {change.kind.value} {change.display}"
        unique = [
            f"{p}: SelectUniqueValue → {v}" for p, v in change.attributes.items() if isinstance(v, Candidates)
        ]
        return f"{line} ({'; '.join(unique)})" if unique else line
    if isinstance(change, UpdateObject):
        details = ", ".join(f"{c.path}: {_show(c.old, plan)} -> {_show(c.new, plan)}" for c in change.changes)
        if change.matched_on is not None:
            head = f"= link {change.kind.value} {change.display} (matched on {change.matched_on})"
            return f"{head}; update {details}" if details else head
        return f"~ update {change.kind.value} {change.display} {details}"
    if isinstance(change, ChangeMembers):
        if change.add:
            members = _members(change.add, plan)
            return f"+ add {_plural(len(change.add), 'member')} to group {change.display}: {members}"
        return (
            f"- remove {_plural(len(change.remove), 'member')} from group {change.display}: "
            f"{_members(change.remove, plan)}"
        )
    if isinstance(change, DisableUser):
        return f"- disable user {change.display} ({change.reason})"
    if isinstance(change, DeleteObject):
        kept = f"; {KEPT_DEACTIVATED}" if change.deactivates else ""
        return f"- delete {change.kind.value} {change.display} ({change.reason}{kept})"
    raise TypeError(f"not a change: {change!r}")


def summary(plan: Plan) -> dict[str, int]:
    """Counts by what a person asks first: how many created, updated, disabled, deleted, skipped."""
    counts: Counter[str] = Counter()
    for change in plan.changes:
        if isinstance(change, CreateObject):
            counts["create"] += 1
        elif isinstance(change, UpdateObject):
            counts["link" if change.matched_on is not None else "update"] += 1
        elif isinstance(change, ChangeMembers):
            counts["members_added"] += len(change.add)
            counts["members_removed"] += len(change.remove)
        elif isinstance(change, DisableUser):
            counts["disable"] += 1
        elif isinstance(change, DeleteObject):
            counts["delete"] += 1
    counts["skipped"] = sum(1 for s in plan.skips if s.status is Status.SKIPPED)
    counts["failed"] = sum(1 for s in plan.skips if s.status is Status.FAILURE)
    counts["held"] = len(plan.held)
    keys = (
        "create",
        "update",
        "link",
        "disable",
        "delete",
        "members_added",
        "members_removed",
        "skipped",
        "failed",
        "held",
    )
    return {k: counts.get(k, 0) for k in keys}


def summary_line(plan: Plan) -> str:
    c = summary(plan)
    return (
        f"Plan: {c['create']} to create, {c['update']} to update, {c['link']} to link, "
        f"{c['disable']} to disable, {c['delete']} to delete, "
        f"{c['members_added']} members to add, {c['members_removed']} to remove; "
        f"{c['skipped']} unchanged or skipped, {c['failed']} failing"
        + (f", {c['held']} disables/deletes held." if c["held"] else ".")
    )


def skipped_lines(plan: Plan) -> list[str]:
    """The skips a person must hear of, one line per kind and reason: ``# 12 users skipped: ...``.

    Unchanged objects and those out of scope are routine and left out here (the summary counts
    them); a skip for any other reason (a missing matching value, a bad record, escrow) means an
    object the admin expected is not provisioned, and the text plan must say why, not only JSON.
    """
    grouped: dict[tuple[str, str], list[Skip]] = {}
    for skip in plan.skips:
        if skip.status is Status.SKIPPED and skip.reason not in ROUTINE_SKIPS:
            grouped.setdefault((skip.kind.value, skip.detail or skip.reason), []).append(skip)
    ordered = sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))
    lines = [
        f"# {_plural(len(skips), kind)} skipped: {why}"
        if len(skips) > 1
        else f"# skipped {kind} {skips[0].display}: {why}"
        for (kind, why), skips in ordered[:SKIPS_SHOWN]
    ]
    if len(ordered) > SKIPS_SHOWN:
        rest = sum(len(skips) for _, skips in ordered[SKIPS_SHOWN:])
        lines.append(f"# ... and {rest} more skipped (`--format json` lists all)")
    return lines


def out_of_scope_lines(plan: Plan, *, show_skipped: bool) -> list[str]:
    """Objects left out by scope: one counting line, or with ``show_skipped`` each with its clause.

    A tenant of thousands with a scope of dozens would otherwise bury the changes under a line
    per outsider; the count says they exist and the flag (or JSON) lists them.
    """
    outside = [s for s in plan.skips if s.reason == NOT_ENTITLED]
    if not outside:
        return []
    if not show_skipped:
        return [f"# {len(outside):,} not in scope: --show-skipped to list them"]
    return [
        f"# not in scope: {s.kind.value} {s.display}" + (f": {s.detail}" if s.detail else "") for s in outside
    ]


def render_text(plan: Plan, *, show_failures: bool = True, show_skipped: bool = False) -> str:
    lines = [change_line(change, plan) for change in plan.changes]
    if show_failures:
        lines.extend(
            f"! {s.reason} {s.kind.value} {s.display}: {s.detail}"
            for s in plan.skips
            if s.status is Status.FAILURE
        )
    lines.extend(skipped_lines(plan))
    lines.extend(out_of_scope_lines(plan, show_skipped=show_skipped))
    if plan.held:
        lines.extend(f"# held: {change_line(change, plan)}" for change in plan.held)
        lines.append(
            f"HELD: {plan.held_reason}. Check the source and the scope; to release exactly these, run "
            f"`syncer approve-deletions --job {plan.job}`."
        )
    lines.extend(held_update_lines(plan))
    if not plan.pending:
        lines.append("No changes. The target is up to date.")
    lines.append(summary_line(plan))
    # values come from the source: a newline or an escape sequence in one must not forge a line
    return "\n".join(visible(line) for line in lines) + "\n"


def held_update_lines(plan: Plan) -> list[str]:
    """The change threshold's holds: one line per attribute, with what releases them."""
    return [f"~ held: {a.reason()}: syncer approve-changes --job {plan.job}" for a in plan.held_updates]


def held_update_summary(plan: Plan) -> list[str]:
    """What ``sync`` says of the change threshold's holds: how many, then one line per attribute."""
    if not plan.held_updates:
        return []
    count = sum(len(a.changes) for a in plan.held_updates)
    head = f"Held: {_plural(count, 'attribute change')} by the change threshold (not sent):"
    return [head, *held_update_lines(plan)]


def _body(plan: Plan) -> dict[str, Any]:
    body: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "job": plan.job,
        "initial": plan.initial,
        "inputs": plan.inputs.to_json(),
        "changes": [c.to_json() for c in plan.changes],
        "skips": [s.to_json() for s in plan.skips],
        "held": [c.to_json() for c in plan.held],
        "held_reason": plan.held_reason,
    }
    if plan.held_updates:  # only when there are some: a plan saved before the guard verifies as before
        body["held_updates"] = [a.to_json() for a in plan.held_updates]
    return body


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fingerprint(plan: Plan) -> str:
    """A hash over the plan's changes, skips and inputs: equal plans, equal fingerprints."""
    return "sha256:" + hashlib.sha256(_canonical(_body(plan))).hexdigest()


def to_json(plan: Plan) -> dict[str, Any]:
    data = _body(plan)
    data["summary"] = summary(plan)
    data["names"] = dict(plan.names)
    data["fingerprint"] = fingerprint(plan)
    return data


def render_json(plan: Plan) -> str:
    return json.dumps(to_json(plan), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def verify_saved(data: Any) -> str:
    """Check a saved plan is one of ours and unedited; returns its fingerprint."""
    if (
        not isinstance(data, dict)
        or type(data.get("format")) is not int
        or data.get("format") != PLAN_FORMAT
        or "fingerprint" not in data
    ):
        raise ValueError("not a syncer plan file (format 1)")
    body = {
        k: data.get(k)
        for k in ("format", "job", "initial", "inputs", "changes", "skips", "held", "held_reason")
    }
    if "held_updates" in data:
        body["held_updates"] = data["held_updates"]
    expected = "sha256:" + hashlib.sha256(_canonical(body)).hexdigest()
    if expected != data["fingerprint"]:
        raise ValueError("the plan file was edited after it was made (its fingerprint does not match)")
    return str(data["fingerprint"])
