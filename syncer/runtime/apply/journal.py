"""What the cycle has made true so far: the link cache, its batched commits, and escrow.

The state is written as changes complete, in batches: what a successful request changed is
queued and committed with its neighbours once ``FLUSH_EVERY`` writes are waiting or the oldest
has waited ``FLUSH_SECONDS``, and at the end of every phase. Nothing is ever written before its
request succeeded. A crash loses at most the requests in flight and the last half second of
completed changes; the next cycle repairs those by matching.

The journal also keeps who owns each target object (state and this cycle), so a link that
would hand one target object to a second source object is refused before it is queued: a
refused link is that object's failure, never a failed batch that loses its neighbours.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from syncer.adapters.state.store import StateStore
from syncer.core.outcomes import ObjectOutcome, Stamp, outcome_entry
from syncer.core.planning import values_hash
from syncer.core.recovery import Claim, Key, claim
from syncer.core.refusals import Grounds, fingerprint, permanent_refusal
from syncer.types import Desired, JobState, Link, ObjectKind, ProvisioningLogEntry, Refusal, Status

log = structlog.get_logger("syncer.executor")

FLUSH_EVERY = 200
"""Completed writes (links and provisioning-log records) committed together at most."""
FLUSH_SECONDS = 0.5
"""How long a completed change may wait for its commit: the most a crash can lose of them."""


class LinkTaken(Exception):
    """A link refused: its target object is already linked to another source object."""

    def __init__(self, kind: ObjectKind, target_id: str, owner: Key) -> None:
        self.kind, self.target_id, self.owner = kind, target_id, owner
        super().__init__(f"{kind.value} {target_id} is linked to {owner[1]}")


@dataclass(frozen=True, slots=True)
class JournalSettings:
    job: str
    run_id: str
    clock: Callable[[], datetime]
    escrowed: frozenset[Key] = frozenset()
    escrow_delay: Callable[[int], int] = lambda attempts: 0
    grounds: Grounds | None = None
    """The mapping's and the target's digests: set, a permanent refusal is fingerprinted and held."""


class Journal:
    """The links as this cycle sees them, and the writes that make them durable."""

    def __init__(
        self, store: StateStore, state: JobState, desired: Mapping[Key, Desired], settings: JournalSettings
    ) -> None:
        self.store = store
        self.settings = settings
        self.desired = desired
        self.links: dict[Key, Link] = dict(state.links)
        self._owners: dict[tuple[ObjectKind, str], Key] = {
            (link.kind, link.target_id): key for key, link in self.links.items()
        }
        self.escrow_failures = 0
        self._matched_now: set[Key] = set()
        self._unsaved: dict[Key, Link | None] = {}  # None: the link is to be dropped
        self._unlogged: list[ProvisioningLogEntry] = []
        self._oldest: float | None = None
        # change ids: a random prefix per cycle and a counter, as unique as uuid4 and 30x cheaper
        self._id_prefix = uuid.uuid4().hex[:20]
        self._id_count = itertools.count()

    # --- links ----------------------------------------------------------------------------------

    def link(self, kind: ObjectKind, source_id: str) -> Link | None:
        return self.links.get((kind, source_id))

    def owner(self, kind: ObjectKind, target_id: str) -> Key | None:
        return self._owners.get((kind, target_id))

    def check(self, kind: ObjectKind, source_id: str, target_id: str) -> None:
        """Raise :class:`LinkTaken` if ``target_id`` belongs to another source object."""
        me = (kind, source_id)
        if claim(self._owners, me, target_id) is Claim.TAKEN:
            raise LinkTaken(kind, target_id, self._owners[(kind, target_id)])

    def save(self, link: Link) -> None:
        """Remember a link that a successful request made true; committed with the next batch."""
        key = (link.kind, link.source_id)
        self.check(link.kind, link.source_id, link.target_id)
        desired = self.desired.get(key)
        skip = desired.on_create_only if desired is not None else ()
        link = replace(link, exported_hash=values_hash(link.exported, skip))
        previous = self.links.get(key)
        if previous is not None and previous.target_id != link.target_id:
            self._owners.pop((previous.kind, previous.target_id), None)
        if link.origin == "matched" and (previous is None or previous.target_id != link.target_id):
            self._matched_now.add(key)
        self.links[key] = link
        self._owners[(link.kind, link.target_id)] = key
        self._queue(key, link)

    def newly_matched(self, kind: ObjectKind, source_id: str) -> bool:
        """Linked by matching in this cycle, or matched earlier with no member added yet.

        Such a group's members on the target are not syncer's record: it may hold some of the
        source's members already (``restart --full`` drops the record too).
        """
        link = self.links.get((kind, source_id))
        if link is None or link.origin != "matched":
            return False
        return (kind, source_id) in self._matched_now or not link.members

    def drop(self, kind: ObjectKind, source_id: str) -> None:
        previous = self.links.pop((kind, source_id), None)
        if previous is not None:
            self._owners.pop((kind, previous.target_id), None)
        self._queue((kind, source_id), None)

    def restamp(self, key: Key, link: Link) -> None:
        """Replace a link's bookkeeping (its hash) without a request: queued like any other write."""
        self.links[key] = link
        self._queue(key, link)

    def _queue(self, key: Key, link: Link | None) -> None:
        self._unsaved[key] = link
        self._oldest = self._oldest or time.monotonic()

    # --- records and escrow -----------------------------------------------------------------------

    def stamp(self) -> Stamp:
        change_id = f"{self._id_prefix}{next(self._id_count):012x}"
        return Stamp(self.settings.job, self.settings.run_id, change_id, self.settings.clock())

    def record(self, outcome: ObjectOutcome) -> None:
        """Queue one object's record and settle its escrow: a failure goes in, a success comes out."""
        self._unlogged.append(outcome_entry(outcome, self.stamp()))
        self._oldest = self._oldest or time.monotonic()
        key = (outcome.kind, outcome.source_id)
        if outcome.escrow:
            attempts = self.store.escrow_failure(
                self.settings.job,
                outcome.kind,
                outcome.source_id,
                display=outcome.display,
                code=outcome.reason or "Failure",
                error=outcome.detail or "",
                now=self.settings.clock(),
                skip_cycles=self.settings.escrow_delay,
                refused=self._refusal(outcome),
            )
            self.escrow_failures += 1
            log.warning(
                "object_escrowed",
                kind=outcome.kind.value,
                source_id=outcome.source_id,
                attempts=attempts,
                error=outcome.detail,
            )
        elif outcome.sent and outcome.status is not Status.FAILURE and key in self.settings.escrowed:
            # an escrowed object this cycle never sent stays escrowed: nothing proved it fixed
            self.store.escrow_clear(self.settings.job, outcome.kind, outcome.source_id)
        self.maybe_flush()

    def _refusal(self, outcome: ObjectOutcome) -> Refusal | None:
        """What a permanent refusal refused, fingerprinted as the next cycle will see the object:
        its desired state and its link as they stand after this cycle's requests for it."""
        grounds, error = self.settings.grounds, outcome.scim_error
        if grounds is None or error is None or not permanent_refusal(error):
            return None
        key = (outcome.kind, outcome.source_id)
        digest = fingerprint(self.desired.get(key), self.links.get(key), grounds)
        return Refusal(digest, error.summary()) if digest is not None else None

    def record_now(self, entries: list[ProvisioningLogEntry]) -> None:
        if entries:
            self.store.record_many(entries)

    # --- commits ----------------------------------------------------------------------------------

    def flush(self) -> None:
        """Commit every completed change not committed yet, in one transaction."""
        if not self._unsaved and not self._unlogged:
            return
        unsaved, self._unsaved = self._unsaved, {}
        unlogged, self._unlogged = self._unlogged, []
        self._oldest = None
        self.store.write_batch(
            self.settings.job,
            save=[link for link in unsaved.values() if link is not None],
            drop=[key for key, link in unsaved.items() if link is None],
            entries=unlogged,
        )

    def maybe_flush(self) -> None:
        waiting = len(self._unsaved) + len(self._unlogged)
        if waiting >= FLUSH_EVERY or (
            self._oldest is not None and time.monotonic() - self._oldest >= FLUSH_SECONDS
        ):
            self.flush()
