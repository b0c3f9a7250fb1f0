"""Leases: one runner per job across processes, on the database's clock, with a fencing token.

A lease row says who runs a job (owner, host, pid, command, since when) and until when. Three
rules make it safe against racing processes and their clocks:

* Expiry is decided by the database's clock, evaluated inside the conditional UPDATE
  (:class:`db_epoch`: ``julianday('now')`` on SQLite, ``clock_timestamp()`` on PostgreSQL), never
  by a time a process passes in: a process whose clock runs ahead cannot see a live lease as
  expired. (SQLite's clock is the clock of the host running the statement: every process on one
  host shares it; only the fencing token protects a SQLite file shared across hosts.)
* Every acquisition increments the row's ``token`` (the fencing token). A holder's writes carry
  its token (:meth:`LeaseStore.fence`): a worker whose lease was taken over fails its next write
  with :class:`~syncer.errors.LeaseLost` instead of writing beside the new holder.
* Renewal only extends a lease whose token is still the caller's.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles

from syncer.adapters.state.database import ACTIVE_FENCE, Database, Fence
from syncer.adapters.state.schema import runner_leases as table
from syncer.errors import LeaseLost, StateError


class db_epoch(sa.sql.expression.FunctionElement[float]):
    """Seconds since the epoch on the database server's clock, as a float, evaluated per statement."""

    type = sa.Float()
    inherit_cache = True


@compiles(db_epoch, "sqlite")
def _sqlite_epoch(_element: db_epoch, _compiler: Any, **_kw: Any) -> str:
    return "((julianday('now') - 2440587.5) * 86400.0)"


@compiles(db_epoch, "postgresql")
def _postgresql_epoch(_element: db_epoch, _compiler: Any, **_kw: Any) -> str:
    # clock_timestamp(), not now(): now() is frozen at the start of the transaction
    return "EXTRACT(EPOCH FROM clock_timestamp())"


@compiles(db_epoch)
def _default_epoch(_element: db_epoch, _compiler: Any, **_kw: Any) -> str:
    return "EXTRACT(EPOCH FROM CURRENT_TIMESTAMP)"


def lease_name(job: str) -> str:
    """The lease of a job, the same for the daemon and every command."""
    return f"job:{job}"


def _when(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC)


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease, as recorded by the holder when it took it."""

    name: str
    owner: str
    host: str
    pid: int
    command: str
    token: int
    since: datetime.datetime
    expires_at: datetime.datetime
    ttl: datetime.timedelta
    overdue: bool = False
    """Past its end on the database's clock: the holder has stopped renewing, or its clock lies."""

    def describe(self) -> str:
        doing = f"`syncer {self.command}`" if self.command else "a process"
        text = (
            f"{doing} (pid {self.pid} on host {self.host}, since {self.since.isoformat(timespec='seconds')})"
        )
        if self.overdue:
            text += (
                f"; it has not renewed its lease since {self.expires_at.isoformat(timespec='seconds')}: "
                f"if that process is gone, --wait takes the job over after {self.ttl.total_seconds():g}s"
            )
        return text


@dataclass(frozen=True)
class Lease:
    """A lease this process holds: its fencing token is what its writes are checked against."""

    name: str
    owner: str
    token: int


def owner_id(tag: str) -> str:
    """A unique owner name that still says where it runs: ``host:pid:tag``."""
    return f"{socket.gethostname()}:{os.getpid()}:{tag}"


class LeaseStore:
    """The lease half of the state store (mixed into :class:`~syncer.adapters.state.StateStore`)."""

    _db: Database
    _watching: dict[str, tuple[tuple[int, int], float]]
    """Per lease name: the (token, beat) this store last saw, and when (monotonic) it first saw it."""

    def take_lease(
        self, name: str, owner: str, *, ttl: datetime.timedelta, command: str = ""
    ) -> Lease | None:
        """Take ``name`` for ``owner`` if it is free or its holder is gone; else None.

        Free: never taken, released, or already ``owner``'s (taken again: a new token). A holder
        is gone when the lease expired on the database's clock *and* this store has watched it go
        unrenewed for the holder's whole TTL on its own monotonic clock: neither a contender whose
        clock runs ahead nor a SQLite clock faked in one process can expire a live holder.
        """
        row = self._lease_row(name)
        if row is None:
            return self._insert_lease(name, owner, ttl=ttl, command=command)
        watched_out = self._watched_out(name, row)  # every look counts, expired or not
        if not (row.released or row.owner == owner or (row.expired and watched_out) or _gone(row.process)):
            return None
        seen = sa.and_(table.c.name == name, table.c.token == row.token, table.c.beat == row.beat)
        with self._db.write("take_lease", fenced=False) as conn:
            taken = conn.execute(
                sa.update(table)
                .where(seen)
                .values(**_who(owner, command), **_fresh(ttl, token=table.c.token + 1))
            ).rowcount
        self._watching.pop(name, None)
        return Lease(name=name, owner=owner, token=row.token + 1) if taken else None

    def _lease_row(self, name: str) -> Any:
        query = sa.select(
            table.c.owner,
            table.c.token,
            table.c.beat,
            table.c.ttl,
            table.c.process,
            (table.c.expires_at == 0.0).label("released"),
            (table.c.expires_at < db_epoch()).label("expired"),
        ).where(table.c.name == name)
        with self._db.read("take_lease") as conn:
            return conn.execute(query).first()

    def _watched_out(self, name: str, row: Any) -> bool:
        """Whether this store has seen ``row`` unchanged (same token, same beat) for its whole TTL."""
        seen = (row.token, row.beat)
        first = self._watching.get(name)
        if first is None or first[0] != seen:
            self._watching[name] = (seen, time.monotonic())
            return False
        return time.monotonic() - first[1] >= float(row.ttl)

    def _insert_lease(self, name: str, owner: str, *, ttl: datetime.timedelta, command: str) -> Lease | None:
        try:
            with self._db.write("take_lease", fenced=False) as conn:
                conn.execute(
                    sa.insert(table).values(name=name, **_who(owner, command), **_fresh(ttl, token=1))
                )
        except StateError as exc:  # another process inserted it first: it holds the lease
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            return None
        return Lease(name=name, owner=owner, token=1)

    def renew_lease(self, lease: Lease, *, ttl: datetime.timedelta) -> bool:
        """Extend ``lease`` by ``ttl`` from now (the database's now); False when it is no longer ours."""
        with self._db.write("renew_lease", fenced=False) as conn:
            renewed = conn.execute(
                sa.update(table)
                .where(_ours(lease))
                .values(
                    expires_at=db_epoch() + ttl.total_seconds(),
                    beat=table.c.beat + 1,
                    ttl=ttl.total_seconds(),
                )
            ).rowcount
        return bool(renewed)

    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease back, if ``owner`` still holds it; the row (and its token) stays."""
        with self._db.write("release_lease", fenced=False) as conn:
            conn.execute(
                sa.update(table).where(table.c.name == name, table.c.owner == owner).values(expires_at=0.0)
            )

    def lease_holder(self, name: str) -> LeaseHolder | None:
        """Who holds ``name``: nobody once released, else its last holder, even if past its end.

        A lease past its end is still held until a contender has watched it unrenewed (see
        :meth:`take_lease`), so a refusal names that holder rather than "nobody".
        """
        overdue = (table.c.expires_at < db_epoch()).label("overdue")
        query = sa.select(table, overdue).where(table.c.name == name, table.c.expires_at > 0.0)
        with self._db.read("lease_holder") as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return LeaseHolder(
            name=row.name,
            owner=row.owner,
            host=row.host,
            pid=row.pid,
            command=row.command,
            token=row.token,
            since=_when(row.acquired_at),
            expires_at=_when(row.expires_at),
            ttl=datetime.timedelta(seconds=row.ttl),
            overdue=bool(row.overdue),
        )

    def acquire_lease(self, name: str, owner: str, *, ttl: datetime.timedelta, now: object = None) -> bool:
        """Take or renew ``name`` for ``owner``: the first design's call, kept for its callers.

        ``now`` is ignored: expiry is the database's to judge, not the caller's clock.
        """
        holder = self.lease_holder(name)
        if holder is not None and holder.owner == owner:
            return self.renew_lease(Lease(name=name, owner=owner, token=holder.token), ttl=ttl)
        return self.take_lease(name, owner, ttl=ttl) is not None

    def fence(self, lease: Lease | None) -> None:
        """Check ``lease``'s token first in every write of this store (``None``: stop checking)."""
        self._db.fence = None if lease is None else _fence_of(lease)

    @contextlib.contextmanager
    def fencing(self, lease: Lease) -> Iterator[None]:
        """Within the block, every store on this URL opened in this context checks ``lease`` first.

        A cycle opens its own store: the command or daemon holding the lease wraps the cycle in
        this, and the cycle's writes are fenced without being handed the lease.
        """
        reset = ACTIVE_FENCE.set((self._db.url, _fence_of(lease)))
        try:
            yield
        finally:
            ACTIVE_FENCE.reset(reset)


def _who(owner: str, command: str) -> dict[str, Any]:
    return {
        "owner": owner,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "command": command,
        "process": process_identity(os.getpid()) or "",
    }


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as file:
            return file.read().strip()
    except (OSError, ValueError):
        return None


def process_identity(pid: int) -> str | None:
    """``boot id/pid namespace/pid/start time`` of a live process (Linux), or None.

    Two processes with the same boot id and PID namespace see each other's pids: when the
    holder's identity says so and its pid no longer runs the same process, it is gone for sure
    (killed, crashed), and its lease can be taken at once instead of after its TTL.
    """
    boot = _read("/proc/sys/kernel/random/boot_id")
    stat_line = _read(f"/proc/{pid}/stat")
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return None
    if boot is None or stat_line is None:
        return None
    started = stat_line.rsplit(")", 1)[-1].split()[19]  # field 22, starttime, after "pid (comm)"
    return f"{boot}/{namespace}/{pid}/{started}"


def _gone(holder: str) -> bool:
    """Whether the holder process is certainly dead: same kernel and PID namespace, pid reused or free."""
    parts = holder.split("/")
    mine = process_identity(os.getpid())
    if len(parts) != 4 or mine is None or mine.split("/")[:2] != parts[:2]:
        return False  # another host, container or OS: only the clock and the watch can tell
    return process_identity(int(parts[2])) != holder


def _fresh(ttl: datetime.timedelta, *, token: Any) -> dict[str, Any]:
    seconds = ttl.total_seconds()
    return {
        "token": token,
        "beat": 0,
        "ttl": seconds,
        "acquired_at": db_epoch(),
        "expires_at": db_epoch() + seconds,
    }


def _ours(lease: Lease) -> sa.ColumnElement[bool]:
    return sa.and_(table.c.name == lease.name, table.c.owner == lease.owner, table.c.token == lease.token)


def _fence_of(lease: Lease) -> Fence:
    def check(conn: sa.Connection) -> None:
        # A no-op UPDATE of our own row: it takes the write lock (SQLite) or the row lock
        # (PostgreSQL) before the writes it guards, so nobody takes the lease in between.
        held = conn.execute(sa.update(table).where(_ours(lease)).values(token=table.c.token)).rowcount
        if not held:
            raise LeaseLost(
                f"the lease of {lease.name.removeprefix('job:')} was taken by another process "
                f"(this one held token {lease.token}); stopping before the next write"
            )

    return check
