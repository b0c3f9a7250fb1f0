"""Send a plan to the target, phase by phase, and write each result to the state as it lands.

The door the engine and on-demand provisioning use; the work is done in
:mod:`syncer.runtime.apply` (scheduler, sender, journal). What one apply produced comes back
as an :class:`ApplyReport` whose ``run_counts`` is the typed fold of every change's result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.state.store import StateStore
from syncer.core.changes import Plan, Skip
from syncer.core.mapping import CompiledMapping
from syncer.core.outcomes import NOT_ESCROWED, RunCounts, held_entry, skip_entry
from syncer.core.planning import values_hash
from syncer.core.refusals import Grounds
from syncer.runtime.apply.journal import FLUSH_EVERY, FLUSH_SECONDS, Journal, JournalSettings
from syncer.runtime.apply.scheduler import Scheduler
from syncer.runtime.apply.sender import CREATE_ATTEMPTS, Sender, Wire
from syncer.types import Desired, JobState, Link, ObjectKey, ObjectKind

__all__ = [
    "CREATE_ATTEMPTS",
    "FLUSH_EVERY",
    "FLUSH_SECONDS",
    "NOT_ESCROWED",
    "ApplyReport",
    "Executor",
]

Key = ObjectKey


@dataclass(frozen=True)
class ApplyReport:
    """The counts one apply produced, for the run record and the CLI summary."""

    counts: Mapping[str, int]
    failures: int
    stopped: str | None
    refused: str | None = None
    run_counts: RunCounts | None = None


class Executor:
    """Applies one plan for one job; owns the in-memory view of the links during the cycle."""

    def __init__(
        self,
        *,
        job: str,
        run_id: str,
        client: ScimClient,
        store: StateStore,
        state: JobState,
        desired: Mapping[Key, Desired],
        mapping: CompiledMapping,
        concurrency: int,
        clock: Callable[[], datetime],
        on_progress: Callable[[int, int], None] | None = None,
        dialect: str = "rfc",
        escrowed: frozenset[Key] = frozenset(),
        escrow_delay: Callable[[int], int] = lambda attempts: 0,
        grounds: Grounds | None = None,
        should_stop: Callable[[], str | None] | None = None,
        update_method: str = "patch",
        page_size: int = 1000,
        listed: frozenset[ObjectKind] = frozenset(),
        members_in_get: bool = True,
        filter_attributes: Mapping[ObjectKind, frozenset[str]] | None = None,
    ) -> None:
        self.job = job
        self.run_id = run_id
        self.clock = clock
        self.journal = Journal(
            store, state, desired, JournalSettings(job, run_id, clock, escrowed, escrow_delay, grounds)
        )
        wire = Wire(
            dialect=dialect if update_method == "patch" else "rfc",
            update_method=update_method,
            page_size=page_size,
            listed=listed,
            members_in_get=members_in_get,
            filter_attributes=filter_attributes,
        )
        self.sender = Sender(client, self.journal, mapping, wire)
        self.scheduler = Scheduler(
            self.sender, self.journal, concurrency, on_progress=on_progress, should_stop=should_stop
        )

    @property
    def links(self) -> dict[Key, Link]:
        return self.journal.links

    @property
    def escrow_failures(self) -> int:
        return self.journal.escrow_failures

    @property
    def stopped(self) -> str | None:
        return self.scheduler.stopped

    @property
    def refused(self) -> str | None:
        return self.scheduler.refused

    def flush(self) -> None:
        self.journal.flush()

    def record_skips(self, skips: Sequence[Skip]) -> None:
        self.journal.record_now([skip_entry(s, self.journal.stamp()) for s in skips])

    def record_held(self, plan: Plan) -> None:
        self.journal.record_now([held_entry(c, plan.held_reason, self.journal.stamp()) for c in plan.held])

    async def apply(self, plan: Plan) -> ApplyReport:
        """Send the plan; raises :class:`~syncer.errors.TargetUnreachable` when the target went dark."""
        counts = await self.scheduler.apply(plan)
        return ApplyReport(
            counts=counts.as_record(),
            failures=counts.failures,
            stopped=self.scheduler.stopped,
            refused=self.scheduler.refused,
            run_counts=counts,
        )

    def forget_returned_leavers(self, present: Iterable[Key]) -> None:
        """A user back in the source is no leaver: stop its hard-delete clock, even if it stays disabled."""
        for key in present:
            link = self.journal.links.get(key)
            if link is not None and link.gone_since is not None:
                self.journal.save(replace(link, gone_since=None))
        self.journal.flush()

    def fill_missing_hashes(self) -> None:
        """Give ``exported_hash`` to links saved without one (by an older syncer): once, no request.

        Later cycles then recognise those objects as unchanged by the digest alone.
        """
        for key, link in list(self.journal.links.items()):
            desired = self.journal.desired.get(key)
            if link.exported_hash or desired is None:
                continue
            digest = values_hash(link.exported, desired.on_create_only)
            if digest:
                self.journal.restamp(key, replace(link, exported_hash=digest))
        self.journal.flush()
