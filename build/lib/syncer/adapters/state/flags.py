"""Per-job flags: small facts that are neither a link nor a run (held deletions, approvals, health)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from syncer.adapters.state import schema
from syncer.adapters.state.database import Database
from syncer.adapters.state.links import now

table = schema.job_flags


class FlagStore:
    """The flags half of the state store (mixed into :class:`~syncer.adapters.state.StateStore`)."""

    _db: Database

    def get_flag(self, job: str, key: str) -> Any:
        """A per-job fact (held deletions, an approval, the quarantine reason), or ``None``."""
        query = sa.select(table.c.value).where(table.c.job == job, table.c.key == key)
        with self._db.read("get_flag") as conn:
            raw = conn.execute(query).scalar()
        return None if raw is None else json.loads(raw)

    def set_flag(self, job: str, key: str, value: Any) -> None:
        """Set (or, with ``None``, clear) a per-job fact; committed before returning."""
        with self._db.write("set_flag") as conn:
            conn.execute(sa.delete(table).where(table.c.job == job, table.c.key == key))
            if value is not None:
                conn.execute(
                    sa.insert(table).values(
                        job=job, key=key, value=json.dumps(value, sort_keys=True), updated_at=now()
                    )
                )
