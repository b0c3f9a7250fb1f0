"""Builders of the core's frozen values for tests: desired objects, links, plan requests, changes.

One place, so a test reads as its table and a change to ``Desired`` or ``Link`` is made once.
The conventions every builder shares: a user ``sid`` has userName ``sid@contoso.com`` (see
:func:`name`), a group's source id is its displayName lower-cased, and the target id syncer got
back for an object is ``t-<source id>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from syncer.core.changes import Phase, Plan, PlanInputs, Skip, UpdateObject
from syncer.core.matching import Match
from syncer.core.planning import PlanRequest, plan_cycle
from syncer.core.scimpath import ENTERPRISE_USER
from syncer.types import AttributeChange, Desired, JobState, Link, ObjectKind, Reference, TargetObject

U = ObjectKind.USER
G = ObjectKind.GROUP
MANAGER = f"{ENTERPRISE_USER}:manager"
INPUTS = PlanInputs(config="c", source="s", state="t")
NOT_ASSIGNED = "not assigned (not a member of an assigned group)"
_MISSING: Any = object()


def name(sid: str) -> str:
    return f"{sid}@contoso.com"


def user(
    sid: str,
    *,
    soft_deleted: bool = False,
    manager: str | None = None,
    user_name: str | None = None,
    on_create: Iterable[str] = (),
    active: Any = _MISSING,
    **attributes: Any,
) -> Desired:
    """A desired user ``sid`` with userName ``sid@contoso.com`` and active = not soft-deleted.

    ``active=None`` leaves ``active`` unmapped; other keyword arguments are further attributes.
    """
    values: dict[str, Any] = {"userName": user_name or name(sid)}
    values["active"] = (not soft_deleted) if active is _MISSING else active
    if active is None:
        del values["active"]
    values.update(attributes)
    if manager is not None:
        values[MANAGER] = Reference(manager)
    return Desired(
        kind=U,
        source_id=sid,
        display=values["userName"],
        attributes=MappingProxyType(values),
        matching=(("userName", values["userName"]),),
        on_create_only=frozenset(on_create),
        soft_deleted=soft_deleted,
    )


def group(display: str, *members: str, sid: str | None = None) -> Desired:
    """A desired group with displayName ``display`` and source id ``display.lower()``."""
    return Desired(
        kind=G,
        source_id=sid or display.lower(),
        display=display,
        attributes=MappingProxyType({"displayName": display}),
        matching=(("displayName", display),),
        members=frozenset(members),
    )


def desired(
    sid: str, *matching: tuple[str, Any], kind: ObjectKind = U, soft_deleted: bool = False
) -> Desired:
    """An object holding only its matching attributes, shown as its first matching value."""
    return Desired(
        kind=kind,
        source_id=sid,
        display=str(matching[0][1]) if matching else sid,
        attributes=MappingProxyType(dict(matching)),
        matching=tuple(matching),
        soft_deleted=soft_deleted,
    )


def link(
    obj: Desired,
    *,
    members: Iterable[str] = (),
    disabled: bool = False,
    gone_since: datetime | None = None,
    **exported: Any,
) -> Link:
    """The link syncer holds after exporting ``obj`` (its non-null values) as ``t-<source id>``.

    A disabled user was last exported with ``active`` false. ``exported`` overrides values
    (``name__givenName`` for ``name.givenName``; ``None`` drops one).
    """
    values = {p: v for p, v in obj.attributes.items() if v is not None}
    if disabled:
        values["active"] = False
    values.update({p.replace("__", "."): v for p, v in exported.items()})
    return Link(
        kind=obj.kind,
        source_id=obj.source_id,
        target_id=f"t-{obj.source_id}",
        display=obj.display,
        exported=MappingProxyType({p: v for p, v in values.items() if v is not None}),
        members=frozenset(members),
        disabled=disabled,
        gone_since=gone_since.isoformat() if gone_since else None,
    )


def hits(
    obj: Desired, *targets: TargetObject, path: str | None = None
) -> dict[tuple[ObjectKind, str], Match]:
    """The match answer for ``obj``: ``targets`` found on ``path`` (its first matching path)."""
    return {(obj.kind, obj.source_id): Match(obj.source_id, path or obj.matching[0][0], targets)}


def make_request(
    users: Iterable[Desired] = (),
    groups: Iterable[Desired] = (),
    links: Iterable[Link] = (),
    matches: Mapping[tuple[ObjectKind, str], Match] | None = None,
    **options: Any,
) -> PlanRequest:
    """A request in which every unlinked object without a given match answer found nothing."""
    users, groups = tuple(users), tuple(groups)
    state = JobState(links=MappingProxyType({(lk.kind, lk.source_id): lk for lk in links}))
    answers = {
        (d.kind, d.source_id): Match(d.source_id, None, ())
        for d in (*users, *groups)
        if state.link(d.kind, d.source_id) is None
    }
    answers.update(matches or {})
    return PlanRequest(
        job="asana",
        initial=not state.links,
        users=users,
        groups=groups,
        state=state,
        matches=MappingProxyType(answers),
        inputs=INPUTS,
        **options,
    )


def plan(*args: Any, **kwargs: Any) -> Plan:
    """Plan one cycle of :func:`make_request`'s arguments."""
    return plan_cycle(make_request(*args, **kwargs))


def ch(path: str, old: Any, new: Any) -> AttributeChange:
    return AttributeChange(path, old, new)


def update(
    obj: Desired,
    *changes: AttributeChange,
    target_id: str | None = "",
    phase: Phase = Phase.USERS,
    matched_on: str | None = None,
    enable: bool = False,
) -> UpdateObject:
    """The update of linked ``obj`` (``target_id`` defaults to ``t-<source id>``)."""
    tid = f"t-{obj.source_id}" if target_id == "" else target_id
    return UpdateObject(obj.kind, obj.source_id, obj.display, tid, tuple(changes), matched_on, phase, enable)


def enable(obj: Desired, *changes: AttributeChange) -> UpdateObject:
    """The update that re-activates a disabled user (``active`` false -> true unless given)."""
    return update(obj, *(changes or (ch("active", False, True),)), enable=True)


def redundant(obj: Desired, detail: str = "") -> Skip:
    """The skip of a linked object whose target already holds what it should."""
    return Skip(
        obj.kind, obj.source_id, obj.display, "RedundantExport", detail=detail, target_id=f"t-{obj.source_id}"
    )
