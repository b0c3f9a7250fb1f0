"""Applying a plan: phases in order, creation waves within them, and when to stop.

Within a phase, objects are worked on concurrently (bounded by the target's concurrency) and
each object's own changes in order. A failed object never stops the others; a refused token or
a target that stopped answering stops the cycle: what is in flight lands, nothing new is sent,
and what was never sent is neither escrowed nor retried here. Each change ends in a frozen
:class:`ChangeResult`; an object's results fold into its one provisioning-log record when its
last change is done, and every object's outcome into the run's counts.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace

import structlog

from syncer.core.changes import (
    Change,
    ChangeMembers,
    CreateObject,
    DeleteObject,
    DisableUser,
    Phase,
    Plan,
    UpdateObject,
)
from syncer.core.outcomes import (
    ChangeResult,
    ObjectOutcome,
    Reason,
    RunCounts,
    count,
    fold_object,
    held_entry,
    skip_entry,
)
from syncer.core.recovery import Key, Streak, unanswered
from syncer.errors import TargetError, TargetUnreachable, UnauthorizedError
from syncer.types import Action, ScimError, Status

from . import updating
from .draft import Deferred, Draft, Refused
from .journal import Journal, LinkTaken
from .sender import Sender

log = structlog.get_logger("syncer.executor")


class Scheduler:
    """Runs one plan's changes through the sender and hands each object's outcome to the journal."""

    def __init__(
        self,
        sender: Sender,
        journal: Journal,
        concurrency: int,
        *,
        on_progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], str | None] | None = None,
    ) -> None:
        self.sender = sender
        self.journal = journal
        self.concurrency = concurrency
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.stopped: str | None = None
        self.refused: str | None = None
        """Set when the target refused the credentials: the cycle stops and the job is quarantined."""
        self.unreachable: str | None = None
        self.streak = Streak()
        self.done = self.total = 0
        self._results: dict[Key, list[ChangeResult]] = {}
        self._pending: dict[Key, int] = defaultdict(int)
        self._suspect: list[ObjectOutcome] = []
        """Failures without an answer, held until the next answer says whether the target is down."""
        self._tally: list[tuple[Action, Status, bool]] = []
        self._members = [0, 0]
        self._applied: Counter[str] = Counter()
        self._references: dict[Key, frozenset[str]] = {}

    # --- the plan -------------------------------------------------------------------------------

    async def apply(self, plan: Plan) -> RunCounts:
        # references planned as their own PATCH: not on the target yet when the object is linked
        self._references = {
            (c.kind, c.source_id): frozenset(ch.path for ch in c.changes)
            for c in plan.changes
            if isinstance(c, UpdateObject) and c.phase is Phase.REFERENCES
        }
        j = self.journal
        j.record_now([skip_entry(s, j.stamp()) for s in plan.skips])
        j.record_now([held_entry(c, plan.held_reason, j.stamp()) for c in plan.held])
        self.total = len(plan.changes)
        for change in plan.changes:
            self._pending[(change.kind, change.source_id)] += 1
        try:
            for phase in Phase:
                for wave in _waves(plan.of_phase(phase)):
                    await self._run_wave(wave)
                    j.flush()
        finally:
            self._settle_suspects(down=self.unreachable is not None)
            # completed changes are committed even when the cycle is cancelled or fails
            j.flush()
        if self.unreachable is not None:
            raise TargetUnreachable(self.unreachable)
        return count(
            self._tally,
            plan.skips,
            held=len(plan.held),
            members_added=self._members[0],
            members_removed=self._members[1],
            applied=self._applied,
        )

    async def _run_wave(self, changes: Sequence[Change]) -> None:
        if not changes:
            return
        by_object: dict[Key, list[Change]] = defaultdict(list)
        for change in changes:
            by_object[(change.kind, change.source_id)].append(change)
        queue: asyncio.Queue[list[Change]] = asyncio.Queue()
        for group in by_object.values():
            queue.put_nowait(group)

        async def worker() -> None:
            while True:
                try:
                    group = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                for change in group:
                    self._finish(change, *await self._apply_one(change))

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(by_object)))))

    # --- one change -----------------------------------------------------------------------------

    async def _apply_one(self, change: Change) -> tuple[ChangeResult, BaseException | None]:
        """The change's result, and the error that ended it (for the unreachable-target watch)."""
        draft = Draft(change)
        if self.stopped is None and self.should_stop is not None:
            # the daemon is stopping: what is in flight finishes, nothing new is sent
            self.stopped = self.should_stop()
        if self.stopped:
            reason = Reason.TARGET_UNREACHABLE if self.unreachable else Reason.CYCLE_STOPPED
            draft.not_sent(reason, self.stopped)
            return draft.freeze(sent=False), None
        error: BaseException | None = None
        try:
            await self._send(change, draft)
        except Deferred as exc:
            draft.defer(str(exc))
        except Refused as exc:
            draft.fail(exc.reason, exc.detail)
        except LinkTaken as exc:
            draft.fail(Reason.TARGET_OBJECT_LINKED, f"not linked: {exc}")
        except UnauthorizedError as exc:
            self.stopped = self.refused = f"the target refused the credentials ({exc})"
            draft.fail(exc.code, str(exc), _scim_error(exc))
            log.error("cycle_stopped", reason=self.stopped)
        except TargetError as exc:
            error = exc
            draft.fail(exc.code, str(exc), _scim_error(exc))
            log.warning("change_failed", kind=change.kind.value, source_id=change.source_id, error=str(exc))
        except (ValueError, TypeError, KeyError) as exc:
            # a bug or a value the target format cannot carry: this object fails, the cycle goes on
            draft.fail(Reason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
            log.exception("change_crashed", kind=change.kind.value, source_id=change.source_id)
        self._watch(error)
        for other in draft.also:
            self._add(other)
        return draft.freeze(), error

    async def _send(self, change: Change, draft: Draft) -> None:
        s = self.sender
        if isinstance(change, CreateObject):
            await s.create(change, draft)
        elif isinstance(change, UpdateObject):
            pending = self._references.get((change.kind, change.source_id), frozenset())
            await updating.update(s, change, draft, pending)
        elif isinstance(change, ChangeMembers):
            await updating.members(s, change, draft)
        elif isinstance(change, DisableUser):
            await updating.disable(s, change, draft, self.journal.settings.clock().isoformat())
        elif isinstance(change, DeleteObject):
            await updating.delete(s, change, draft, self.journal.settings.clock().isoformat())

    def _watch(self, error: BaseException | None) -> None:
        """Follow the run of unanswered requests; a long enough run stops the cycle, once."""
        self.streak = self.streak.after(error)
        if error is None or not unanswered(error):
            self._settle_suspects(down=False)
        if self.unreachable is None and self.streak.down():
            self.unreachable = self.streak.message()
            self.stopped = self.stopped or self.unreachable
            log.error("target_unreachable", reason=self.unreachable)

    # --- results --------------------------------------------------------------------------------

    def _add(self, result: ChangeResult) -> None:
        """A result for an object beyond the change's own: folded with its others, or logged alone."""
        if self._pending.get(result.key, 0) > 0:
            self._results.setdefault(result.key, []).append(result)
        else:
            self._record(fold_object([result]), count_it=False)

    def _finish(self, change: Change, result: ChangeResult, error: BaseException | None) -> None:
        key = result.key
        self._results.setdefault(key, []).append(result)
        self._applied[result.verb] += result.applied
        self._members[0] += result.members_added
        self._members[1] += result.members_removed
        self._pending[key] -= 1
        self.done += 1
        if self.on_progress:
            self.on_progress(self.done, self.total)
        if self._pending[key] == 0:
            outcome = fold_object(self._results.pop(key))
            if error is None or not unanswered(error):
                self._record(outcome)
            elif self.unreachable is not None:
                self._record(_unreachable(outcome))
            else:
                self._suspect.append(outcome)
        self.journal.maybe_flush()

    def _settle_suspects(self, *, down: bool) -> None:
        suspects, self._suspect = self._suspect, []
        for outcome in suspects:
            if down:
                outcome = _unreachable(outcome)
            self._record(outcome)

    def _record(self, outcome: ObjectOutcome, *, count_it: bool = True) -> None:
        if count_it:
            self._tally.append((outcome.action, outcome.status, outcome.sent))
        self.journal.record(outcome)


def _unreachable(outcome: ObjectOutcome) -> ObjectOutcome:
    """A failure that was the target's outage, not the object's: not escrowed."""
    return replace(outcome, reason=Reason.TARGET_UNREACHABLE)


def _waves(changes: Sequence[Change]) -> list[list[Change]]:
    """Creations by wave (a manager before the reports created with it); everything else in the first."""
    waves = sorted({c.wave for c in changes if isinstance(c, CreateObject)}) or [0]
    return [
        [c for c in changes if (c.wave if isinstance(c, CreateObject) else waves[0]) == wave]
        for wave in waves
    ]


def _scim_error(exc: TargetError) -> ScimError | None:
    """The target's answer, when it sent one: the provisioning log shows its status and detail."""
    if exc.status is None:
        return None
    return ScimError(status=exc.status, scim_type=exc.scim_type, detail=exc.detail)
