"""The plan's vocabulary: typed changes in a fixed order, and skips with their reasons.

Each change has a phase, a one-line ``str()`` and a JSON form. The phase order is the order
changes are sent in: users before the references that point at them, groups before their
members, and deprovisioning last so a half-finished cycle never removed access it meant to keep.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from syncer.types import AttributeChange, Candidates, ObjectKind, Reference, Status, Value, thaw


class Phase(enum.IntEnum):
    USERS = 1
    REFERENCES = 2
    GROUPS = 3
    MEMBERS = 4
    DEPROVISION = 5


def json_value(value: Value) -> Any:
    """A value as plan JSON shows it: references as ``{"$ref": source_id}``, SelectUniqueValue's
    candidates as ``{"$firstFree": [...]}``."""
    if isinstance(value, Reference):
        return {"$ref": value.source_id}
    if isinstance(value, Candidates):
        return {"$firstFree": list(value.values)}
    if isinstance(value, tuple | list):
        return [json_value(v) for v in value]
    return thaw(value)


@dataclass(frozen=True, slots=True)
class CreateObject:
    """POST a new object. References whose target is not linked yet follow as a REFERENCES update."""

    kind: ObjectKind
    source_id: str
    display: str
    attributes: Mapping[str, Value]
    wave: int = 0
    """Users whose manager is created in the same cycle wait for it (wave = depth below a linked
    manager), so the manager's id can go into the POST instead of a second PATCH."""

    @property
    def phase(self) -> Phase:
        return Phase.USERS if self.kind is ObjectKind.USER else Phase.GROUPS

    @property
    def verb(self) -> str:
        return "create"

    def to_json(self) -> dict[str, Any]:
        return {
            "action": "create",
            "kind": self.kind.value,
            "source_id": self.source_id,
            "display": self.display,
            "wave": self.wave,
            "attributes": {k: json_value(v) for k, v in sorted(self.attributes.items())},
        }


@dataclass(frozen=True, slots=True)
class UpdateObject:
    """PATCH exactly the changed attributes of a linked or just-matched object.

    ``matched_on`` is set when this update links an object found by matching: the link is
    recorded even when ``changes`` is empty. ``target_id`` is ``None`` when the object is created
    earlier in the same cycle (the id is known only then).
    """

    kind: ObjectKind
    source_id: str
    display: str
    target_id: str | None
    changes: tuple[AttributeChange, ...]
    matched_on: str | None = None
    phase_: Phase = Phase.USERS
    enable: bool = False

    @property
    def phase(self) -> Phase:
        return self.phase_

    @property
    def verb(self) -> str:
        return "link" if self.matched_on else "update"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "action": self.verb,
            "kind": self.kind.value,
            "source_id": self.source_id,
            "display": self.display,
            "target_id": self.target_id,
            "phase": self.phase.name.lower(),
            "changes": [
                {"path": c.path, "old": json_value(c.old), "new": json_value(c.new)} for c in self.changes
            ],
        }
        if self.matched_on:
            data["matched_on"] = self.matched_on
        return data


@dataclass(frozen=True, slots=True)
class ChangeMembers:
    """Add or remove one batch of a group's members (member source ids, resolved when sent)."""

    group_source_id: str
    display: str
    target_id: str | None
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()

    kind: ObjectKind = ObjectKind.GROUP

    @property
    def source_id(self) -> str:
        return self.group_source_id

    @property
    def phase(self) -> Phase:
        return Phase.MEMBERS

    @property
    def verb(self) -> str:
        return "add members" if self.add else "remove members"

    def to_json(self) -> dict[str, Any]:
        return {
            "action": "add_members" if self.add else "remove_members",
            "kind": "group",
            "source_id": self.group_source_id,
            "display": self.display,
            "target_id": self.target_id,
            "members": list(self.add or self.remove),
        }


@dataclass(frozen=True, slots=True)
class DisableUser:
    """PATCH ``active=false``: the least-privilege answer to a user who should no longer log in."""

    source_id: str
    display: str
    target_id: str
    reason: str
    kind: ObjectKind = ObjectKind.USER
    gone: bool = False
    """The user is gone from the source: the disable starts the hard-delete clock."""

    @property
    def phase(self) -> Phase:
        return Phase.DEPROVISION

    @property
    def verb(self) -> str:
        return "disable"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "action": "disable",
            "kind": self.kind.value,
            "source_id": self.source_id,
            "display": self.display,
            "target_id": self.target_id,
            "reason": self.reason,
        }
        if self.gone:
            data["gone"] = True
        return data


KEPT_DEACTIVATED = "the target keeps it deactivated"
"""What a delete does on a ``delete_deactivates`` target, said wherever the delete is shown."""


@dataclass(frozen=True, slots=True)
class DeleteObject:
    """DELETE a linked object syncer manages."""

    kind: ObjectKind
    source_id: str
    display: str
    target_id: str
    reason: str
    deactivates: bool = False
    """The target keeps the account, deactivated (``delete_deactivates``): the link stays, disabled."""

    @property
    def phase(self) -> Phase:
        return Phase.DEPROVISION

    @property
    def verb(self) -> str:
        return "delete"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "action": "delete",
            "kind": self.kind.value,
            "source_id": self.source_id,
            "display": self.display,
            "target_id": self.target_id,
            "reason": self.reason,
        }
        if self.deactivates:
            data["deactivates"] = True
        return data


Change = CreateObject | UpdateObject | ChangeMembers | DisableUser | DeleteObject


@dataclass(frozen=True, slots=True)
class Skip:
    """An object the cycle leaves alone, and why (Entra's skip reasons and error codes)."""

    kind: ObjectKind
    source_id: str
    display: str
    reason: str
    status: Status = Status.SKIPPED
    detail: str = ""
    target_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "source_id": self.source_id,
            "display": self.display,
            "reason": self.reason,
            "status": self.status.value,
            "detail": self.detail,
        }


def change_key(source_id: str, change: AttributeChange) -> str:
    """How an approval names one held change: ``user:<source id>:<path>:<hash of the new value>``.

    The new value is in the key so that an approval given for "clear the title" does not also
    let a different title through after the source moved again.
    """
    value = json.dumps(json_value(change.new), sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]
    return f"{ObjectKind.USER.value}:{source_id}:{change.path}:{digest}"


@dataclass(frozen=True, slots=True)
class HeldChange:
    """One attribute change of one linked user, held back by the change threshold."""

    source_id: str
    display: str
    target_id: str | None
    change: AttributeChange
    phase: Phase = Phase.USERS

    @property
    def key(self) -> str:
        return change_key(self.source_id, self.change)


@dataclass(frozen=True, slots=True)
class HeldAttribute:
    """Every held change to one target attribute, and the numbers that held them."""

    path: str
    linked: int
    threshold: int | str
    changes: tuple[HeldChange, ...]

    @property
    def users(self) -> int:
        return len({c.source_id for c in self.changes})

    @property
    def cleared(self) -> bool:
        """Every held change removes the value (the mark of a column the source lost)."""
        return all(c.change.new is None for c in self.changes)

    def reason(self) -> str:
        """``title would change on 812 of 1,000 linked users (81% > change_threshold 50%)``."""
        what = "be cleared" if self.cleared else "change"
        share = self.users * 100 // self.linked if self.linked else 100
        over = (
            f"{share}% > change_threshold {self.threshold}"
            if isinstance(self.threshold, str)
            else f"{self.users:,} > change_threshold {self.threshold:,}"
        )
        return f"{self.path} would {what} on {self.users:,} of {self.linked:,} linked users ({over})"

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "users": self.users,
            "linked": self.linked,
            "threshold": self.threshold,
            "cleared": self.cleared,
            "changes": [
                {
                    "source_id": c.source_id,
                    "display": c.display,
                    "target_id": c.target_id,
                    "old": json_value(c.change.old),
                    "new": json_value(c.change.new),
                }
                for c in self.changes
            ],
        }


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """Fingerprints of what a plan was computed from, so a saved plan can tell what moved."""

    config: str
    source: str
    state: str

    def to_json(self) -> dict[str, str]:
        return {"config": self.config, "source": self.source, "state": self.state}


@dataclass(frozen=True, slots=True)
class Plan:
    """Every change one cycle would send, in order, and every object it would leave alone."""

    job: str
    initial: bool
    changes: tuple[Change, ...]
    skips: tuple[Skip, ...]
    inputs: PlanInputs
    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    held: tuple[Change, ...] = ()
    """Disables and deletes held back by the deletion threshold (logged as StagedDelete)."""
    held_reason: str | None = None
    held_updates: tuple[HeldAttribute, ...] = ()
    """Attribute changes held back by the change threshold (``core.changeguard``), per attribute."""

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def pending(self) -> bool:
        """Work is left: changes to send, or removals or attribute changes held for an approval."""
        return bool(self.changes or self.held or self.held_updates)

    def of_phase(self, phase: Phase) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.phase is phase)
