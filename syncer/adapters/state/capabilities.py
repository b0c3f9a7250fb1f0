"""The target's discovery answers, cached per job and target URL (the ``target_capabilities`` table).

The state stores the answers as JSON and when they were fetched; it neither parses them (that is
:mod:`syncer.adapters.scim.discovery`, which this adapter may not import) nor decides when they
are stale (that is :mod:`syncer.runtime.capabilities`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from syncer.adapters.state import schema
from syncer.adapters.state.database import Database

table = schema.target_capabilities


@dataclass(frozen=True, slots=True)
class StoredDiscovery:
    """One cached discovery: the answers (JSON, as the runtime wrote them) and when they were fetched."""

    answers: Any
    fetched_at: datetime


class CapabilityStore:
    """The discovery cache half of the state store (mixed into :class:`~syncer.adapters.state.StateStore`)."""

    _db: Database

    def target_capabilities(self, job: str, target_url: str) -> StoredDiscovery | None:
        """The cached discovery of ``job``'s target at ``target_url``, or ``None`` if never fetched."""
        query = sa.select(table.c.answers, table.c.fetched_at).where(
            table.c.job == job, table.c.target_url == target_url
        )
        with self._db.read("target_capabilities") as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        try:
            answers = json.loads(row.answers)
        except ValueError:
            answers = None  # a damaged row reads as nothing discovered; the next refresh rewrites it
        return StoredDiscovery(answers, row.fetched_at)

    def save_target_capabilities(self, job: str, target_url: str, discovery: StoredDiscovery) -> None:
        """Replace the cached discovery of ``job``'s target at ``target_url``; committed before returning."""
        with self._db.encoding("save_target_capabilities"):
            text = json.dumps(discovery.answers, sort_keys=True, separators=(",", ":"), allow_nan=False)
        with self._db.write("save_target_capabilities") as conn:
            where = (table.c.job == job, table.c.target_url == target_url)
            conn.execute(sa.delete(table).where(*where))
            conn.execute(
                sa.insert(table).values(
                    job=job,
                    target_url=target_url,
                    answers=text,
                    fetched_at=discovery.fetched_at,
                )
            )
