"""The provisioning log: one record per change tried, searched by ``syncer logs``, pruned by age."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import sqlalchemy as sa

from syncer.adapters.state import logrows
from syncer.adapters.state.database import Database
from syncer.adapters.state.schema import provisioning_log as log
from syncer.types import ProvisioningLogEntry


class ProvisioningLogStore:
    """The log half of the state store (mixed into :class:`~syncer.adapters.state.StateStore`)."""

    _db: Database

    def record(self, entry: ProvisioningLogEntry) -> None:
        """Append one provisioning-log record, committed before returning."""
        self.record_many([entry])

    def record_many(self, entries: Sequence[ProvisioningLogEntry]) -> None:
        """Append several records in one transaction: all of them or none."""
        if not entries:
            return
        with self._db.encoding("record"):
            rows = [logrows.log_values(entry) for entry in entries]
        with self._db.write("record") as conn:
            conn.execute(sa.insert(log), rows)

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
        with self._db.read("search_log") as conn:
            rows = conn.execute(query).all()
        entries = [logrows.entry_from_row(row) for row in rows]
        return entries if limit is None else entries[::-1]

    def prune_log(self, before: datetime.datetime, *, batch: int = 500) -> int:
        """Delete provisioning-log records older than ``before``; returns how many.

        Deletes in small transactions, so a running cycle that writes the log waits at most one
        batch for the database, never the whole prune. Not fenced: pruning is housekeeping any
        process may do, and it touches no row a cycle reads.
        """
        removed = 0
        while True:
            with self._db.write("prune_log", fenced=False) as conn:
                ids = (
                    conn.execute(sa.select(log.c.id).where(log.c.time < before).limit(batch)).scalars().all()
                )
                if not ids:
                    return removed
                conn.execute(sa.delete(log).where(log.c.id.in_(ids)))
            removed += len(ids)
