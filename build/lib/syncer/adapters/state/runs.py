"""Runs: one row per cycle that began (``running`` until it ends), and the job's restart marker."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping

import sqlalchemy as sa

from syncer.adapters.state import schema
from syncer.adapters.state.database import Database
from syncer.adapters.state.links import now
from syncer.adapters.state.schema import jobs, links, runs
from syncer.errors import StateError
from syncer.types import RunRecord

RUNNING = "running"
"""The status of a run between :meth:`RunStore.begin_run` and :meth:`RunStore.finish_run`."""


class RunStore:
    """The runs half of the state store (mixed into :class:`~syncer.adapters.state.StateStore`)."""

    _db: Database

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
        with self._db.write("begin_run") as conn:
            conn.execute(sa.insert(runs).values(row))
        return run_id

    def finish_run(
        self, run_id: str, *, finished_at: datetime.datetime, status: str, counts: Mapping[str, int]
    ) -> None:
        """Close a run with its outcome; an unknown run id is an error, not a silent no-op."""
        with self._db.encoding("finish_run"):
            values = {"finished_at": finished_at, "status": status, "counts": schema.encode(dict(counts))}
        with self._db.write("finish_run") as conn:
            updated = conn.execute(sa.update(runs).where(runs.c.id == run_id).values(values)).rowcount
        if updated == 0:
            raise StateError(f"state store: finish_run on {self._db.url}: no run with id {run_id!r}")

    def runs(self, job: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The newest ``limit`` runs (of one job, or of all), newest first."""
        query = sa.select(runs).order_by(runs.c.started_at.desc(), runs.c.seq.desc()).limit(limit)
        if job is not None:
            query = query.where(runs.c.job == job)
        with self._db.read("runs") as conn:
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
        with self._db.read("has_state") as conn:
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
        with self._db.write("reset") as conn:
            conn.execute(sa.delete(schema.escrow).where(schema.escrow.c.job == job))
            if links:
                conn.execute(sa.delete(table).where(table.c.job == job))
            else:
                cleared = {"exported": "{}", "exported_hash": "", "members": "[]", "updated_at": now()}
                conn.execute(sa.update(table).where(table.c.job == job).values(cleared))
            last_seq = conn.execute(sa.select(sa.func.max(runs.c.seq))).scalar() or 0
            marked = conn.execute(sa.update(jobs).where(jobs.c.job == job).values(reset_seq=last_seq))
            if marked.rowcount == 0:
                conn.execute(sa.insert(jobs).values(job=job, reset_seq=last_seq))
