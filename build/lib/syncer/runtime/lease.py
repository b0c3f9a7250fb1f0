"""One runner per job, whoever starts it: the job's lease around every command that writes.

``sync``, ``apply``, ``provision``, ``restart``, the ``approve-*`` commands and each daemon cycle
run inside :func:`job_lease`: it takes the job's lease (refusing with :class:`LeaseHeld`, which
names the holder, or waiting up to ``wait`` for it), renews it from a heartbeat thread every
third of its TTL while the work runs, fences every state write of the block with the lease's
token, and gives it back in a ``finally``. A heartbeat that finds the lease taken over records
why in :attr:`HeldLease.lost` (the daemon's stop callback reads it); the next state write raises
:class:`~syncer.errors.LeaseLost` in any case.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from syncer.adapters.state import Lease, StateStore, lease_name
from syncer.adapters.state.leases import owner_id
from syncer.errors import LeaseHeld, SyncerError
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.engine import state_url

log = structlog.get_logger(__name__)

DEFAULT_TTL = timedelta(minutes=2)
_POLL_S = 0.5


@dataclass
class HeldLease:
    """The lease a block runs under; ``lost`` says why once a renewal found it taken over."""

    lease: Lease
    lost: str | None = None
    _done: threading.Event = field(default_factory=threading.Event)

    def stop_reason(self) -> str | None:
        return self.lost


def _take(
    store: StateStore, job: str, owner: str, *, ttl: timedelta, wait: timedelta | None, command: str
) -> Lease:
    name = lease_name(job)
    deadline = time.monotonic() + (wait.total_seconds() if wait else 0.0)
    while True:
        lease = store.take_lease(name, owner, ttl=ttl, command=command)
        if lease is not None:
            return lease
        if time.monotonic() >= deadline:
            holder = store.lease_holder(name)
            who = holder.describe() if holder is not None else "another process (it just finished)"
            waited = f" (waited {_seconds(wait)})" if wait else ""
            raise LeaseHeld(
                f"job {job} is being run by {who}{waited}; try again when it is done, or use --wait"
            )
        time.sleep(min(_POLL_S, max(0.0, deadline - time.monotonic())))


def _seconds(wait: timedelta) -> str:
    return f"{wait.total_seconds():g}s"


def _heartbeat(store: StateStore, held: HeldLease, ttl: timedelta) -> None:
    every = max(0.2, ttl.total_seconds() / 3)
    while not held._done.wait(every):
        try:
            if not store.renew_lease(held.lease, ttl=ttl):
                held.lost = "the job's lease was taken by another process"
                log.error("lease_lost", lease=held.lease.name, token=held.lease.token)
                return
        except SyncerError as exc:  # the database is busy or gone: try again; the fence decides
            log.warning("lease_renew_failed", error=str(exc))


@contextlib.contextmanager
def job_lease(
    store: StateStore,
    job: str,
    *,
    command: str,
    ttl: timedelta = DEFAULT_TTL,
    wait: timedelta | None = None,
    owner: str | None = None,
) -> Iterator[HeldLease]:
    """Run the block as the job's only runner; raises LeaseHeld when another process runs it."""
    who = owner or owner_id(uuid.uuid4().hex[:8])
    held = HeldLease(_take(store, job, who, ttl=ttl, wait=wait, command=command))
    beat = threading.Thread(target=_heartbeat, args=(store, held, ttl), name=f"lease-{job}", daemon=True)
    beat.start()
    try:
        with store.fencing(held.lease):
            yield held
    finally:
        held._done.set()
        beat.join(timeout=5)
        try:
            store.release_lease(held.lease.name, who)
        except SyncerError as exc:  # it expires by itself after its TTL
            log.warning("lease_release_failed", error=str(exc))


@contextlib.contextmanager
def command_lease(
    config: LoadedConfig, job: str | None, *, command: str, wait: timedelta | None = None
) -> Iterator[HeldLease]:
    """The lease of a CLI command that writes: the job's lease, with the daemon's TTL."""
    name = config.settings.job(job).name
    ttl = config.settings.daemon.lease_ttl
    with (
        StateStore(state_url(config)) as store,
        job_lease(store, name, command=command, ttl=ttl, wait=wait) as held,
    ):
        yield held
