"""The state store: links, runs and the provisioning log, on SQLAlchemy Core.

Every write commits before it returns. The executor hands over links and provisioning-log
records in batches of changes that already succeeded (:meth:`StateStore.write_batch`, one
transaction each): a crash then loses at most the requests in flight and the last batch, and the
next cycle repairs those by matching. SQLite (the default) runs in WAL mode with a busy timeout
so the daemon and a manual ``syncer sync`` or ``syncer logs`` can share one file; PostgreSQL
works by URL.

Every SQLAlchemy error leaves this module as a :class:`~syncer.errors.StateError` naming the
operation and the URL with its password masked.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from syncer.adapters.state import schema
from syncer.adapters.state.schema import jobs, links, provisioning_log, runs
from syncer.errors import StateError
from syncer.types import EscrowEntry, JobState, Link, ObjectKind, ProvisioningLogEntry, RunRecord

RUNNING = "running"
"""The status of a run between :meth:`StateStore.begin_run` and :meth:`StateStore.finish_run`."""

_BUSY_TIMEOUT_MS = 30_000
_CREATE_ATTEMPTS = 4


def fingerprint(job_links: Iterable[Link]) -> str:
    """A sha256 of what a saved plan depends on in the state, so ``syncer apply`` can tell it moved.

    Only what changes a plan counts: which object each link points at, the hash of what was last
    exported, the members last added and whether it was disabled.
    """
    rows = sorted(
        (
            link.kind.value,
            link.source_id,
            link.target_id,
            link.exported_hash,
            sorted(link.members),
            link.disabled,
        )
        for link in job_links
    )
    return hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()


def _safe_url(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        # Not parseable as a URL, but it may still hold "user:password@": mask it by hand.
        return re.sub(r"(//[^:/@]*):[^@]*@", r"\1:***@", url)


def _reason(exc: BaseException) -> str:
    # The DBAPI's own message, without the SQL SQLAlchemy appends (parameters are hidden anyway).
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc) or type(exc).__name__
    return text.splitlines()[0]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Per connection, because SQLite forgets all but journal_mode when one closes. Busy timeout first,
    # so switching to WAL waits for another process instead of failing; foreign keys are off by
    # default in SQLite and tables added later (escrow, quarantine) will want them enforced.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL survives a killed process (the commit is in the WAL); only an OS
        # crash can lose the last commits, and the next cycle re-matches those. FULL costs an fsync per
        # completed change, which dominated a large initial sync.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _link_key(job: str, kind: ObjectKind, source_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(links.c.job == job, links.c.kind == kind.value, links.c.source_id == source_id)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class StateStore:
    """What syncer remembers between cycles, per job: links to target objects, runs, the provisioning log.

    Jobs share the database but never each other's rows: every query is scoped by job name.
    """

    def __init__(self, url: str) -> None:
        self._url = _safe_url(url)
        self._closed = False
        try:
            self._engine = sa.create_engine(url, hide_parameters=True)
        except (SQLAlchemyError, ImportError) as exc:  # a bad URL, or a driver that is not installed
            raise StateError(f"state store: open failed on {self._url}: {_reason(exc)}") from exc
        if self._engine.dialect.name == "sqlite":
            sa.event.listen(self._engine, "connect", _sqlite_pragmas)
        # Two processes opening a new state at once (a daemon and a standby, or `syncer sync`) race:
        # one creates a table the other has just found missing, or holds the lock. Once more sees
        # the tables in place.
        for attempt in range(1, _CREATE_ATTEMPTS + 1):
            try:
                schema.metadata.create_all(self._engine)
                break
            except SQLAlchemyError as exc:
                if attempt == _CREATE_ATTEMPTS:
                    self._engine.dispose()
                    raise StateError(f"state store: open failed on {self._url}: {_reason(exc)}") from exc
                time.sleep(0.1 * attempt)

    @classmethod
    def open(cls, url: str) -> StateStore:
        """Open (creating the tables if needed) the store at ``url``; reads better at call sites."""
        return cls(url)

    def close(self) -> None:
        """Release the connections, so the SQLite file can be moved or the process exit cleanly."""
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"StateStore({self._url!r})"

    @contextlib.contextmanager
    def _guard(self, operation: str) -> Iterator[None]:
        if self._closed:
            raise StateError(f"state store: {operation} on {self._url} after close()")
        try:
            yield
        except SQLAlchemyError as exc:
            raise StateError(f"state store: {operation} failed on {self._url}: {_reason(exc)}") from exc

    @contextlib.contextmanager
    def _encoding(self, operation: str) -> Iterator[None]:
        try:
            yield
        except (TypeError, ValueError) as exc:
            raise StateError(f"state store: {operation} on {self._url}: cannot store value: {exc}") from exc

    # -- links -------------------------------------------------------------------------------------

    def load(self, job: str) -> JobState:
        """Every link of ``job``, with the fingerprint a saved plan records."""
        query = sa.select(links).where(links.c.job == job).order_by(links.c.kind, links.c.source_id)
        with self._guard("load"), self._engine.connect() as conn:
            rows = conn.execute(query).all()
        found = {(link.kind, link.source_id): link for link in map(schema.link_from_row, rows)}
        return JobState(links=MappingProxyType(found), fingerprint=fingerprint(found.values()))

    def save_link(self, job: str, link: Link) -> None:
        """Insert or replace the link of (job, kind, source id), committed before returning."""
        now = _now()
        with self._encoding("save_link"):
            values = {**schema.link_values(link), "updated_at": now}
        key = _link_key(job, link.kind, link.source_id)
        with self._guard("save_link"):
            try:
                with self._engine.begin() as conn:
                    # Update first, insert if nothing matched: portable, and created_at survives.
                    if conn.execute(sa.update(links).where(key).values(values)).rowcount == 0:
                        row = {"job": job, "kind": link.kind.value, "source_id": link.source_id}
                        conn.execute(sa.insert(links).values({**row, **values, "created_at": now}))
            except IntegrityError as exc:
                raise StateError(
                    f"state store: save_link failed on {self._url}: {link.kind.value} target id "
                    f"{link.target_id!r} is already linked to another source object in job {job!r}"
                ) from exc

    def write_batch(
        self,
        job: str,
        *,
        save: Sequence[Link] = (),
        drop: Sequence[tuple[ObjectKind, str]] = (),
        entries: Sequence[ProvisioningLogEntry] = (),
    ) -> None:
        """Save and drop links and append provisioning-log records in one transaction: all or none.

        The executor hands over changes that already succeeded on the target, a batch at a time:
        one commit per batch instead of two per object is what keeps a large initial sync at the
        target's pace. Drops go first, so a target id given up and taken again in one batch is fine.
        """
        if not (save or drop or entries):
            return
        now = _now()
        with self._encoding("write_batch"):
            rows = [
                {
                    "job": job,
                    "kind": link.kind.value,
                    "source_id": link.source_id,
                    **schema.link_values(link),
                    "created_at": now,
                    "updated_at": now,
                }
                for link in save
            ]
            log_rows = [schema.log_values(entry) for entry in entries]
        with self._guard("write_batch"):
            try:
                with self._engine.begin() as conn:
                    for kind, source_id in drop:
                        conn.execute(sa.delete(links).where(_link_key(job, kind, source_id)))
                    if rows:
                        self._upsert_links(conn, rows)
                    if log_rows:
                        conn.execute(sa.insert(provisioning_log), log_rows)
            except IntegrityError:
                # one link claims a target id another holds: one at a time, so the error names it
                for kind, source_id in drop:
                    self.drop_link(job, kind, source_id)
                for link in save:
                    self.save_link(job, link)
                self.record_many(entries)

    def _upsert_links(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
        """Insert or update link rows; ``created_at`` survives an update."""
        dialect = self._engine.dialect.name
        if dialect in ("sqlite", "postgresql"):
            insert = (sqlite_insert if dialect == "sqlite" else postgresql_insert)(links)
            kept = {"job", "kind", "source_id", "created_at"}
            stmt = insert.on_conflict_do_update(
                index_elements=["job", "kind", "source_id"],
                set_={c.name: insert.excluded[c.name] for c in links.columns if c.name not in kept},
            )
            conn.execute(stmt, rows)
            return
        for row in rows:
            key = _link_key(row["job"], ObjectKind(row["kind"]), row["source_id"])
            values = {k: v for k, v in row.items() if k not in ("job", "kind", "source_id", "created_at")}
            if conn.execute(sa.update(links).where(key).values(values)).rowcount == 0:
                conn.execute(sa.insert(links).values(row))

    def drop_link(self, job: str, kind: ObjectKind, source_id: str) -> None:
        """Forget one link (the target object was deleted, or is no longer ours); a missing link is fine."""
        key = _link_key(job, kind, source_id)
        with self._guard("drop_link"), self._engine.begin() as conn:
            conn.execute(sa.delete(links).where(key))

    def find_link_by_target(self, job: str, kind: ObjectKind, target_id: str) -> Link | None:
        """The link that already claims ``target_id``, so matching does not link one target object twice."""
        key = sa.and_(links.c.job == job, links.c.kind == kind.value, links.c.target_id == target_id)
        with self._guard("find_link_by_target"), self._engine.connect() as conn:
            row = conn.execute(sa.select(links).where(key)).first()
        return schema.link_from_row(row) if row is not None else None

    # -- runs --------------------------------------------------------------------------------------

    def begin_run(self, job: str, *, initial: bool, dry_run: bool, started_at: datetime.datetime) -> str:
        """Record that a cycle started (status ``running``) and return its new id."""
        run_id = uuid.uuid4().hex
        row = {
            "id": run_id,
            "job": job,
            "started_at": started_at,
            "initial": initial,
            "dry_run": dry_run,
            "status": RUNNING,
            "counts": "{}",
        }
        with self._guard("begin_run"), self._engine.begin() as conn:
            conn.execute(sa.insert(runs).values(row))
        return run_id

    def finish_run(
        self, run_id: str, *, finished_at: datetime.datetime, status: str, counts: Mapping[str, int]
    ) -> None:
        """Close a run with its outcome; an unknown run id is an error, not a silent no-op."""
        with self._encoding("finish_run"):
            values = {"finished_at": finished_at, "status": status, "counts": schema.encode(dict(counts))}
        with self._guard("finish_run"), self._engine.begin() as conn:
            updated = conn.execute(sa.update(runs).where(runs.c.id == run_id).values(values)).rowcount
        if updated == 0:
            raise StateError(f"state store: finish_run on {self._url}: no run with id {run_id!r}")

    def runs(self, job: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The newest ``limit`` runs (of one job, or of all), newest first."""
        query = sa.select(runs).order_by(runs.c.started_at.desc(), runs.c.seq.desc()).limit(limit)
        if job is not None:
            query = query.where(runs.c.job == job)
        with self._guard("runs"), self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [schema.run_from_row(row) for row in rows]

    def last_run(self, job: str) -> RunRecord | None:
        """The newest run of ``job``, dry or not, finished or not."""
        newest = self.runs(job, limit=1)
        return newest[0] if newest else None

    def has_state(self, job: str) -> bool:
        """Whether ``job`` has history; ``False`` makes the next cycle the initial one.

        History is any run since the last :meth:`reset` that got through its changes (succeeded
        or finished with failed objects), or, for a job never reset, any link. A cycle the target
        refused outright (a bad token) leaves no history. So every restart, with or without the
        links, makes the next cycle the initial one (Entra: "Restart provisioning" runs an initial
        cycle and keeps the links).
        """
        with self._guard("has_state"), self._engine.connect() as conn:
            reset_seq = conn.execute(sa.select(jobs.c.reset_seq).where(jobs.c.job == job)).scalar()
            never_reset = reset_seq is None
            if (
                never_reset
                and conn.execute(sa.select(links.c.source_id).where(links.c.job == job).limit(1)).first()
            ):
                return True
            reset_seq = reset_seq or 0
            done = sa.select(runs.c.seq).where(
                runs.c.job == job,
                runs.c.finished_at.is_not(None),
                runs.c.dry_run == sa.false(),
                runs.c.seq > reset_seq,
                runs.c.status.in_(("succeeded", "failed")),
            )
            return conn.execute(done.limit(1)).first() is not None

    def reset(self, job: str, *, links: bool) -> None:
        """Restart ``job``: forget what was exported so the next cycle compares afresh; ``links`` drops all.

        Runs and the provisioning log are kept as history; the restart is remembered so
        :meth:`has_state` no longer counts the runs before it.
        """
        table = schema.links
        with self._guard("reset"), self._engine.begin() as conn:
            conn.execute(sa.delete(schema.escrow).where(schema.escrow.c.job == job))
            if links:
                conn.execute(sa.delete(table).where(table.c.job == job))
            else:
                cleared = {"exported": "{}", "exported_hash": "", "members": "[]", "updated_at": _now()}
                conn.execute(sa.update(table).where(table.c.job == job).values(cleared))
            last_seq = conn.execute(sa.select(sa.func.max(runs.c.seq))).scalar() or 0
            marked = conn.execute(sa.update(jobs).where(jobs.c.job == job).values(reset_seq=last_seq))
            if marked.rowcount == 0:
                conn.execute(sa.insert(jobs).values(job=job, reset_seq=last_seq))

    # -- escrow --------------------------------------------------------------------------------

    def escrowed(self, job: str) -> list[EscrowEntry]:
        """Every escrowed object of ``job``, oldest failure first."""
        table = schema.escrow
        query = (
            sa.select(table).where(table.c.job == job).order_by(table.c.first_failed_at, table.c.source_id)
        )
        with self._guard("escrowed"), self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            EscrowEntry(
                kind=ObjectKind(row.kind),
                source_id=row.source_id,
                display=row.display,
                attempts=row.attempts,
                skip_cycles=row.skip_cycles,
                error_code=row.error_code,
                error=row.error,
                first_failed_at=row.first_failed_at,
                last_failed_at=row.last_failed_at,
            )
            for row in rows
        ]

    def escrow_failure(
        self,
        job: str,
        kind: ObjectKind,
        source_id: str,
        *,
        display: str,
        code: str,
        error: str,
        now: datetime.datetime,
        skip_cycles: Callable[[int], int],
    ) -> int:
        """Record one more failure of an object; ``skip_cycles(attempts)`` sets its backoff.

        Returns the number of attempts so far.
        """
        table = schema.escrow
        key = (table.c.job == job) & (table.c.kind == kind.value) & (table.c.source_id == source_id)
        with self._guard("escrow_failure"), self._engine.begin() as conn:
            attempts = (conn.execute(sa.select(table.c.attempts).where(key)).scalar() or 0) + 1
            values = {
                "display": display,
                "attempts": attempts,
                "skip_cycles": skip_cycles(attempts),
                "error_code": code,
                "error": error,
                "last_failed_at": now,
            }
            if attempts == 1:
                conn.execute(
                    sa.insert(table).values(
                        job=job, kind=kind.value, source_id=source_id, first_failed_at=now, **values
                    )
                )
            else:
                conn.execute(sa.update(table).where(key).values(**values))
        return attempts

    def escrow_clear(self, job: str, kind: ObjectKind, source_id: str) -> None:
        table = schema.escrow
        key = (table.c.job == job) & (table.c.kind == kind.value) & (table.c.source_id == source_id)
        with self._guard("escrow_clear"), self._engine.begin() as conn:
            conn.execute(sa.delete(table).where(key))

    def escrow_tick(self, job: str) -> None:
        """One cycle passed: every waiting escrowed object has one cycle less to wait."""
        table = schema.escrow
        with self._guard("escrow_tick"), self._engine.begin() as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.job == job, table.c.skip_cycles > 0)
                .values(skip_cycles=table.c.skip_cycles - 1)
            )

    # -- per-job flags ---------------------------------------------------------------------------

    def get_flag(self, job: str, key: str) -> Any:
        """A per-job fact (held deletions, an approval, the quarantine reason), or ``None``."""
        table = schema.job_flags
        query = sa.select(table.c.value).where(table.c.job == job, table.c.key == key)
        with self._guard("get_flag"), self._engine.connect() as conn:
            raw = conn.execute(query).scalar()
        return None if raw is None else json.loads(raw)

    def set_flag(self, job: str, key: str, value: Any) -> None:
        """Set (or, with ``None``, clear) a per-job fact; committed before returning."""
        table = schema.job_flags
        with self._guard("set_flag"), self._engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.job == job, table.c.key == key))
            if value is not None:
                conn.execute(
                    sa.insert(table).values(
                        job=job, key=key, value=json.dumps(value, sort_keys=True), updated_at=_now()
                    )
                )

    # -- provisioning log --------------------------------------------------------------------------

    def record(self, entry: ProvisioningLogEntry) -> None:
        """Append one provisioning-log record, committed before returning."""
        self.record_many([entry])

    def record_many(self, entries: Sequence[ProvisioningLogEntry]) -> None:
        """Append several records in one transaction: all of them or none."""
        if not entries:
            return
        with self._encoding("record"):
            rows = [schema.log_values(entry) for entry in entries]
        with self._guard("record"), self._engine.begin() as conn:
            conn.execute(sa.insert(provisioning_log), rows)

    def log_entries(
        self, job: str | None = None, run_id: str | None = None, limit: int | None = None
    ) -> list[ProvisioningLogEntry]:
        """Provisioning-log records, oldest first; with ``limit``, the newest ``limit`` of them (a tail)."""
        return self.search_log(job=job, run_id=run_id, limit=limit)

    def search_log(
        self,
        *,
        job: str | None = None,
        run_id: str | None = None,
        statuses: Sequence[str] = (),
        actions: Sequence[str] = (),
        since: datetime.datetime | None = None,
        source_id: str | None = None,
        limit: int | None = None,
    ) -> list[ProvisioningLogEntry]:
        """Records matching every given filter (statuses and actions: any of), oldest first.

        With ``limit``, the newest ``limit`` matching records, still oldest first.
        """
        log = provisioning_log
        query = sa.select(log)
        if job is not None:
            query = query.where(log.c.job == job)
        if run_id is not None:
            query = query.where(log.c.run_id == run_id)
        if statuses:
            query = query.where(log.c.status.in_(list(statuses)))
        if actions:
            query = query.where(log.c.action.in_(list(actions)))
        if since is not None:
            query = query.where(log.c.time >= since)
        if source_id is not None:
            query = query.where(log.c.source_id == source_id)
        if limit is None:
            query = query.order_by(log.c.time, log.c.id)
        else:
            query = query.order_by(log.c.time.desc(), log.c.id.desc()).limit(limit)
        with self._guard("search_log"), self._engine.connect() as conn:
            rows = conn.execute(query).all()
        entries = [schema.entry_from_row(row) for row in rows]
        return entries if limit is None else entries[::-1]

    def prune_log(self, before: datetime.datetime, *, batch: int = 500) -> int:
        """Delete provisioning-log records older than ``before``; returns how many.

        Deletes in small transactions, so a running cycle that writes the log waits at most one
        batch for the database, never the whole prune.
        """
        log = provisioning_log
        removed = 0
        while True:
            with self._guard("prune_log"), self._engine.begin() as conn:
                ids = (
                    conn.execute(sa.select(log.c.id).where(log.c.time < before).limit(batch)).scalars().all()
                )
                if not ids:
                    return removed
                conn.execute(sa.delete(log).where(log.c.id.in_(ids)))
            removed += len(ids)

    # -- leases: one runner per job across processes --------------------------------------------

    def acquire_lease(
        self, name: str, owner: str, *, ttl: datetime.timedelta, now: datetime.datetime
    ) -> bool:
        """Take or renew the lease ``name`` for ``owner`` until ``now + ttl``.

        True when ``owner`` holds it afterwards: it was free, expired, or already ``owner``'s.
        """
        table = schema.leases
        free = sa.and_(table.c.name == name, sa.or_(table.c.owner == owner, table.c.expires_at < now))
        with self._guard("acquire_lease"):
            with self._engine.begin() as conn:
                taken = conn.execute(
                    sa.update(table).where(free).values(owner=owner, expires_at=now + ttl)
                ).rowcount
                if taken:
                    return True
                if conn.execute(sa.select(table.c.name).where(table.c.name == name)).first() is not None:
                    return False
            try:
                with self._engine.begin() as conn:
                    conn.execute(sa.insert(table).values(name=name, owner=owner, expires_at=now + ttl))
            except IntegrityError:  # another process inserted it first
                return False
        return True

    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease back, if ``owner`` still holds it."""
        table = schema.leases
        with self._guard("release_lease"), self._engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.name == name, table.c.owner == owner))

    def lease_holder(self, name: str, now: datetime.datetime) -> str | None:
        """Who holds the lease ``name`` now (an expired lease is held by nobody)."""
        table = schema.leases
        query = sa.select(table.c.owner).where(table.c.name == name, table.c.expires_at >= now)
        with self._guard("lease_holder"), self._engine.connect() as conn:
            owner: str | None = conn.execute(query).scalar()
        return owner
