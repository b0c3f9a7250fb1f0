"""Desired objects + the job's state + match answers -> a Plan.

Linked objects are compared with what syncer last exported (kept in the state), so an
unchanged object costs no request; newly matched objects are compared with the target object
as found. References (manager, members) are planned as source ids and resolved to target ids
when sent, because the object they point at may be created earlier in the same cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

from syncer.core.changes import (
    Change,
    ChangeMembers,
    CreateObject,
    DisableUser,
    Phase,
    Plan,
    Skip,
    UpdateObject,
)
from syncer.core.departures import deprovision, leave_scope
from syncer.core.matching import DUPLICATE_SOURCE, DUPLICATE_TARGET, duplicate_sources
from syncer.core.planrequest import (
    ACTIVE,
    IMPORT_SKIPPED,
    NOT_ENTITLED,
    REDUNDANT,
    SKIP_OUT_OF_SCOPE,
    OutOfScope,
    PlanRequest,
    batched,
    diff_values,
    same_value,
    values_hash,
)
from syncer.types import AttributeChange, Desired, Link, ObjectKind, Reference, Status, Value

__all__ = [
    "ACTIVE",
    "IMPORT_SKIPPED",
    "NOT_ENTITLED",
    "REDUNDANT",
    "SKIP_OUT_OF_SCOPE",
    "OutOfScope",
    "PlanRequest",
    "batched",
    "diff_values",
    "plan_cycle",
    "same_value",
    "values_hash",
]


class _Planner:
    def __init__(self, request: PlanRequest) -> None:
        self.r = request
        self.changes: list[Change] = []
        self.skips: list[Skip] = list(request.skips)
        self.duplicates = {
            ObjectKind.USER: duplicate_sources(request.users),
            ObjectKind.GROUP: duplicate_sources(request.groups),
        }
        self.owners = {(link.kind, link.target_id): link.source_id for link in request.state.links.values()}
        # users that will be linked by the end of this cycle: the only valid reference targets (an
        # unlinked user without a matching value is skipped: it is neither a member nor a manager).
        # A linked user protected this cycle (its record failed to import) is still linked: its
        # memberships and its reports' manager must stay, or a bad record would look like a leaver.
        self.entitled_users = {
            u.source_id
            for u in request.users
            if u.source_id not in self.duplicates[ObjectKind.USER]
            and (not u.soft_deleted or request.state.link(ObjectKind.USER, u.source_id) is not None)
            and (u.matching or request.state.link(ObjectKind.USER, u.source_id) is not None)
            and not self._match_fails(u)
        } | {
            source_id
            for kind, source_id in request.protected
            if kind is ObjectKind.USER and request.state.link(kind, source_id) is not None
        }
        # users whose memberships syncer keeps: entitled and enabled. A disabled user loses the
        # memberships syncer gave it (and gets them back when enabled again); under
        # out_of_scope: skip an out-of-scope user is left exactly as it is ("frozen").
        soft_deleted = {u.source_id for u in request.users if u.soft_deleted}
        self.member_users = self.entitled_users - soft_deleted
        self.frozen_users = (
            {
                source_id
                for kind, source_id in request.out_of_scope
                if kind is ObjectKind.USER and request.state.link(kind, source_id) is not None
            }
            if request.out_of_scope_policy == "skip"
            else set()
        )
        # a manager who left scope keeps its account on the target (disabled or untouched), so its
        # reports keep pointing at it; under out_of_scope: delete the account goes, and so does the
        # reference (a create must not carry the id of a user deleted later in the same cycle)
        self.reference_users = self.entitled_users | {
            source_id
            for kind, source_id in request.out_of_scope
            if kind is ObjectKind.USER
            and request.state.link(kind, source_id) is not None
            and request.out_of_scope_policy != "delete"
        }
        self.target_failed: set[tuple[ObjectKind, str]] = set()
        self.waves = self._creation_waves()

    def _creation_waves(self) -> dict[str, int]:
        """For each user to be created whose references point at users also created now, its wave.

        A wave is one more than the deepest user it references; a reference cycle gets no wave
        and is sent as a PATCH once both exist.
        """
        created: dict[str, Desired] = {}
        for user in self.r.users:
            match = self.r.matches.get((ObjectKind.USER, user.source_id))
            if (
                match is not None
                and not match.hits
                and user.source_id not in self.duplicates[ObjectKind.USER]
                and self.r.state.link(ObjectKind.USER, user.source_id) is None
                and not user.soft_deleted
                and user.matching  # without a matching value it is skipped, never created
            ):
                created[user.source_id] = user
        waves: dict[str, int] = {}
        visiting: set[str] = set()

        def wave(source_id: str) -> int | None:
            if source_id in waves:
                return waves[source_id]
            if source_id in visiting:
                return None
            visiting.add(source_id)
            depth = 0
            for value in created[source_id].attributes.values():
                if isinstance(value, Reference) and value.source_id in created:
                    below = wave(value.source_id)
                    if below is None:
                        visiting.discard(source_id)
                        return None
                    depth = max(depth, below + 1)
            visiting.discard(source_id)
            waves[source_id] = depth
            return depth

        for source_id in created:
            wave(source_id)
        return waves

    def _match_fails(self, obj: Desired) -> bool:
        """Whether the match answer of an unlinked object fails it with DuplicateTargetEntries."""
        match = self.r.matches.get((obj.kind, obj.source_id))
        if match is None or self.r.state.link(obj.kind, obj.source_id) is not None:
            return False
        return len(match.hits) > 1 or (len(match.hits) == 1 and (obj.kind, match.hits[0].id) in self.owners)

    # --- references -----------------------------------------------------------------------

    def _resolvable(self, value: Value) -> Value:
        """A reference to a user that will not be linked this cycle flows as no value."""
        if isinstance(value, Reference) and value.source_id not in self.reference_users:
            return None
        return value

    def _target_id_of(self, value: Value) -> Value:
        """The target id a reference will resolve to: linked already, or matched in this cycle."""
        if isinstance(value, Reference):
            link = self.r.state.link(ObjectKind.USER, value.source_id)
            if link is not None:
                return link.target_id
            match = self.r.matches.get((ObjectKind.USER, value.source_id))
            if match is not None and len(match.hits) == 1:
                return match.hits[0].id
        return value

    def _desired_values(self, obj: Desired) -> dict[str, Value]:
        return {path: self._resolvable(value) for path, value in obj.attributes.items()}

    # --- one object ---------------------------------------------------------------------------

    def _no_matching_value(self, kind: ObjectKind) -> str:
        names = self.r.matching.get(kind)
        return f"no value for matching attribute {names}" if names else "no value for any matching attribute"

    def _skip(
        self,
        obj: Desired,
        reason: str,
        status: Status = Status.SKIPPED,
        detail: str = "",
        target_id: str | None = None,
    ) -> None:
        self.skips.append(Skip(obj.kind, obj.source_id, obj.display, reason, status, detail, target_id))

    def _split(
        self,
        obj: Desired,
        target_id: str | None,
        changes: tuple[AttributeChange, ...],
        matched_on: str | None,
        enable: bool = False,
    ) -> None:
        plain = tuple(c for c in changes if not isinstance(c.new, Reference))
        refs = tuple(c for c in changes if isinstance(c.new, Reference))
        own_phase = Phase.USERS if obj.kind is ObjectKind.USER else Phase.GROUPS
        if plain or matched_on:
            self.changes.append(
                UpdateObject(
                    obj.kind, obj.source_id, obj.display, target_id, plain, matched_on, own_phase, enable
                )
            )
        if refs:
            self.changes.append(
                UpdateObject(obj.kind, obj.source_id, obj.display, target_id, refs, None, Phase.REFERENCES)
            )

    def plan_linked(self, obj: Desired, link: Link) -> bool:
        if obj.kind is ObjectKind.USER and obj.soft_deleted:
            if link.disabled:
                return False
            self.changes.append(
                DisableUser(obj.source_id, obj.display, link.target_id, "disabled in the source")
            )
            return True
        desired = self._desired_values(obj)
        if link.exported_hash and link.exported_hash == values_hash(desired, obj.on_create_only):
            changes: tuple[AttributeChange, ...] = ()  # unchanged: the exported values stay undecoded
        else:
            changes = diff_values(desired, link.exported, skip=obj.on_create_only)
        enable = link.disabled and obj.kind is ObjectKind.USER
        if enable and not any(c.path == ACTIVE for c in changes):
            changes = (*changes, AttributeChange(ACTIVE, False, True))
        if not changes:
            return False
        self._split(obj, link.target_id, changes, None, enable)
        return True

    def plan_unlinked(self, obj: Desired) -> None:
        match = self.r.matches.get((obj.kind, obj.source_id))
        if match is None:
            raise ValueError(f"no match answer for {obj.kind.value} {obj.source_id}")
        if len(match.hits) > 1:
            ids = ", ".join(sorted(h.id for h in match.hits))
            self.target_failed.add((obj.kind, obj.source_id))
            self._skip(obj, DUPLICATE_TARGET, Status.FAILURE, f"{match.path} matches target objects {ids}")
            return
        desired = self._desired_values(obj)
        if match.hits:
            hit = match.hits[0]
            owner = self.owners.get((obj.kind, hit.id))
            if owner is not None:
                self.target_failed.add((obj.kind, obj.source_id))
                self._skip(
                    obj,
                    DUPLICATE_TARGET,
                    Status.FAILURE,
                    f"target object {hit.id} is already linked to source object {owner}",
                    hit.id,
                )
                return
            comparable = {p: self._target_id_of(v) for p, v in desired.items()}
            changes = diff_values(comparable, hit.values, skip=obj.on_create_only)
            # keep references as source ids in the plan, so they resolve when sent; a null source
            # value never clears what syncer did not export (only values it sent are removed)
            changes = tuple(
                AttributeChange(c.path, c.old, desired[c.path]) for c in changes if c.new is not None
            )
            self._split(obj, hit.id, changes, match.path or "")
            return
        attributes: dict[str, Value] = {}
        later: list[AttributeChange] = []
        for path, value in desired.items():
            if value is None:
                value = obj.defaults.get(path)
            if value is None:
                continue
            if (
                isinstance(value, Reference)
                and self.r.state.link(ObjectKind.USER, value.source_id) is None
                and not (obj.source_id in self.waves and value.source_id in self.waves)
            ):
                later.append(AttributeChange(path, None, value))
                continue
            attributes[path] = value
        wave = self.waves.get(obj.source_id, 0) if obj.kind is ObjectKind.USER else 0
        self.changes.append(
            CreateObject(obj.kind, obj.source_id, obj.display, MappingProxyType(attributes), wave)
        )
        if later:
            self.changes.append(
                UpdateObject(obj.kind, obj.source_id, obj.display, None, tuple(later), None, Phase.REFERENCES)
            )

    def plan_object(self, obj: Desired) -> bool:
        """Plan one object; ``True`` when it may take part in memberships this cycle."""
        if (obj.kind, obj.source_id) in self.r.protected:
            # escrowed and waiting for its retry: left alone this cycle
            return self.r.state.link(obj.kind, obj.source_id) is not None
        duplicate = self.duplicates[obj.kind].get(obj.source_id)
        if duplicate is not None:
            self._skip(obj, DUPLICATE_SOURCE, Status.FAILURE, duplicate)
            return False
        link = self.r.state.link(obj.kind, obj.source_id)
        if link is not None:
            if not self.plan_linked(obj, link) and obj.kind is ObjectKind.USER:
                self._skip(obj, REDUNDANT, target_id=link.target_id)
            return True
        if obj.kind is ObjectKind.USER and obj.soft_deleted:
            self._skip(obj, NOT_ENTITLED, detail="disabled in the source and never provisioned")
            return False
        if not obj.matching:
            self._skip(obj, IMPORT_SKIPPED, Status.SKIPPED, self._no_matching_value(obj.kind))
            return False
        self.plan_unlinked(obj)
        return (obj.kind, obj.source_id) not in self.target_failed

    def plan_members(self, group: Desired) -> bool:
        link = self.r.state.link(ObjectKind.GROUP, group.source_id)
        exported = link.members if link else frozenset()
        entitled = {m for m in group.members if m in self.member_users}
        target_id = link.target_id if link else None
        add = sorted(entitled - exported)
        remove = sorted(exported - entitled - self.frozen_users)
        size = self.r.member_batch_size
        for batch in batched(add, size):
            self.changes.append(ChangeMembers(group.source_id, group.display, target_id, add=batch))
        for batch in batched(remove, size):
            self.changes.append(ChangeMembers(group.source_id, group.display, target_id, remove=batch))
        return bool(add or remove)

    # --- the cycle ----------------------------------------------------------------------------

    def plan(self) -> Plan:
        r = self.r
        for user in r.users:
            self.plan_object(user)
        for group in r.groups:
            before = len(self.changes)
            linked = r.state.link(ObjectKind.GROUP, group.source_id)
            if self.plan_object(group) and r.manage_members:
                self.plan_members(group)
            if (
                linked is not None
                and len(self.changes) == before
                and group.source_id not in self.duplicates[ObjectKind.GROUP]
            ):
                self._skip(group, REDUNDANT, target_id=linked.target_id)
        leave_scope(r, self.changes, self.skips)
        deprovision(r, self.changes, self.skips)
        order = {id(c): i for i, c in enumerate(self.changes)}
        changes = sorted(
            self.changes,
            key=lambda c: (
                c.phase,
                c.wave if isinstance(c, CreateObject) else 0,
                c.kind.value,
                c.display.casefold(),
                c.source_id,
                order[id(c)],
            ),
        )
        return Plan(
            job=r.job,
            initial=r.initial,
            changes=tuple(changes),
            skips=tuple(sorted(self.skips, key=lambda s: (s.kind.value, s.display.casefold(), s.source_id))),
            inputs=r.inputs,
            names=MappingProxyType(self._names(changes)),
        )

    def _names(self, changes: Sequence[Change]) -> dict[str, str]:
        wanted: set[str] = set()
        for change in changes:
            if isinstance(change, UpdateObject | CreateObject):
                values = (
                    [c.new for c in change.changes] + [c.old for c in change.changes]
                    if isinstance(change, UpdateObject)
                    else list(change.attributes.values())
                )
                wanted.update(v.source_id for v in values if isinstance(v, Reference))
        return {sid: self.r.names[sid] for sid in sorted(wanted) if sid in self.r.names}


def plan_cycle(request: PlanRequest) -> Plan:
    """Compute the plan of one cycle: every change in send order, every skip with its reason."""
    return _Planner(request).plan()
