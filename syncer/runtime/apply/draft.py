"""The notes one change takes while it is sent, frozen into a :class:`ChangeResult` at the end."""

from __future__ import annotations

from dataclasses import dataclass, field

from syncer.core.changes import Change
from syncer.core.outcomes import ChangeResult, Reason
from syncer.types import Action, ModifiedProperty, ScimError, Status, Step


class Deferred(Exception):
    """A reference whose target is not linked (yet): left for a later cycle, not an error."""


class Refused(Exception):
    """This change fails with a reason of the executor's own (a claim conflict, an unproven 404)."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason, self.detail = reason, detail
        super().__init__(detail)


@dataclass
class Draft:
    """Mutable only while its one change is in flight; :meth:`freeze` hands the value on."""

    change: Change
    action: Action = Action.OTHER
    status: Status = Status.SUCCESS
    reason: str | None = None
    detail: str | None = None
    target_id: str | None = None
    modified: list[ModifiedProperty] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    members_added: int = 0
    members_removed: int = 0
    also: list[ChangeResult] = field(default_factory=list)
    """Results this change found for other objects (the owner of a contested target object)."""
    scim_error: ScimError | None = None

    def fail(self, reason: str, detail: str, scim_error: ScimError | None = None) -> None:
        if self.status is not Status.FAILURE:
            self.status, self.reason, self.detail = Status.FAILURE, reason, detail
            self.scim_error = scim_error

    def not_sent(self, reason: str, why: str) -> None:
        """The cycle stopped before this change went out: skipped, never a failure of the object's."""
        self.status, self.reason = Status.SKIPPED, reason
        self.detail = f"not sent, the cycle stopped: {why}"

    def defer(self, detail: str) -> None:
        self.steps.append(Step("processing", Status.WARNING, detail))
        if self.status is Status.SUCCESS:
            self.status, self.reason = Status.WARNING, Reason.REFERENCE_NOT_RESOLVED
            self.detail = self.detail or detail

    def freeze(self, *, sent: bool = True) -> ChangeResult:
        c = self.change
        return ChangeResult(
            kind=c.kind,
            source_id=c.source_id,
            display=c.display,
            action=self.action,
            status=self.status,
            reason=self.reason,
            detail=self.detail,
            target_id=self.target_id,
            modified=tuple(self.modified),
            steps=tuple(self.steps),
            members_added=self.members_added,
            members_removed=self.members_removed,
            sent=sent,
            verb=c.verb,
            scim_error=self.scim_error,
        )
