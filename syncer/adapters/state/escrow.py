"""Escrow: objects whose change still failed after its retries, retried by later cycles with a backoff."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import sqlalchemy as sa

from syncer.adapters.state import schema
from syncer.adapters.state.database import Database
from syncer.types import EscrowEntry, ObjectKind, Refusal

table = schema.escrow


def _key(job: str, kind: ObjectKind, source_id: str) -> sa.ColumnElement[bool]:
    return (table.c.job == job) & (table.c.kind == kind.value) & (table.c.source_id == source_id)


class EscrowStore:
    """The escrow half of the state store (mixed into :class:`~syncer.adapters.state.StateStore`)."""

    _db: Database

    def escrowed(self, job: str) -> list[EscrowEntry]:
        """Every escrowed object of ``job``, oldest failure first."""
        query = (
            sa.select(table).where(table.c.job == job).order_by(table.c.first_failed_at, table.c.source_id)
        )
        with self._db.read("escrowed") as conn:
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
                refused=Refusal(row.refused_fingerprint, row.refused_answer or "")
                if row.refused_fingerprint
                else None,
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
        refused: Refusal | None = None,
    ) -> int:
        """Record one more failure of an object; ``skip_cycles(attempts)`` sets its backoff.

        ``refused`` is what a permanent refusal refused (``None`` for any other failure, which
        also forgets an earlier refusal). Returns the number of attempts so far.
        """
        key = _key(job, kind, source_id)
        with self._db.write("escrow_failure") as conn:
            attempts = (conn.execute(sa.select(table.c.attempts).where(key)).scalar() or 0) + 1
            values = {
                "display": display,
                "attempts": attempts,
                "skip_cycles": skip_cycles(attempts),
                "error_code": code,
                "error": error,
                "last_failed_at": now,
                "refused_fingerprint": refused.fingerprint if refused is not None else None,
                "refused_answer": refused.answer if refused is not None else None,
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
        with self._db.write("escrow_clear") as conn:
            conn.execute(sa.delete(table).where(_key(job, kind, source_id)))

    def escrow_tick(self, job: str) -> None:
        """One cycle passed: every waiting escrowed object has one cycle less to wait."""
        with self._db.write("escrow_tick") as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.job == job, table.c.skip_cycles > 0)
                .values(skip_cycles=table.c.skip_cycles - 1)
            )
