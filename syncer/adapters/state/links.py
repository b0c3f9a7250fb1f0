"""Links: which target object each source object is managed as, and what was last exported to it.

The executor hands over links and provisioning-log records in batches of changes that already
succeeded (:meth:`LinkStore.write_batch`, one transaction each): a crash then loses at most the
requests in flight and the last batch, and the next cycle repairs those by matching.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Sequence
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from syncer.adapters.state import logrows, schema
from syncer.adapters.state.database import Database
from syncer.adapters.state.schema import links, provisioning_log
from syncer.errors import StateError
from syncer.types import JobState, Link, ObjectKind, ProvisioningLogEntry


def fingerprint(job_links: Iterable[Link]) -> str:
    """A sha256 of what a saved plan depends on in the state, so ``syncer apply`` can tell it moved.

    Only what changes a plan counts: which object each link points at, the hash of what was last
    exported, the members last added, whether it was disabled and (only when it was) deleted on a
    target that keeps deleted users deactivated.
    """
    rows = sorted(
        (
            link.kind.value,
            link.source_id,
            link.target_id,
            link.exported_hash,
            sorted(link.members),
            link.disabled,
            *(("deleted",) if link.deleted_at else ()),
        )
        for link in job_links
    )
    return hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()


def link_key(job: str, kind: ObjectKind, source_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(links.c.job == job, links.c.kind == kind.value, links.c.source_id == source_id)


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class LinkStore:
    """The links half of the state store (mixed into :class:`~syncer.adapters.state.StateStore`)."""

    _db: Database

    def load(self, job: str) -> JobState:
        """Every link of ``job``, with the fingerprint a saved plan records."""
        query = sa.select(links).where(links.c.job == job).order_by(links.c.kind, links.c.source_id)
        with self._db.read("load") as conn:
            rows = conn.execute(query).all()
        found = {(link.kind, link.source_id): link for link in map(schema.link_from_row, rows)}
        return JobState(links=MappingProxyType(found), fingerprint=fingerprint(found.values()))

    def save_link(self, job: str, link: Link) -> None:
        """Insert or replace the link of (job, kind, source id), committed before returning."""
        at = now()
        with self._db.encoding("save_link"):
            values = {**schema.link_values(link), "updated_at": at}
        key = link_key(job, link.kind, link.source_id)
        try:
            with self._db.write("save_link") as conn:
                # Update first, insert if nothing matched: portable, and created_at survives.
                if conn.execute(sa.update(links).where(key).values(values)).rowcount == 0:
                    row = {"job": job, "kind": link.kind.value, "source_id": link.source_id}
                    conn.execute(sa.insert(links).values({**row, **values, "created_at": at}))
        except StateError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            raise StateError(
                f"state store: save_link failed on {self._db.url}: {link.kind.value} target id "
                f"{link.target_id!r} is already linked to another source object in job {job!r}"
            ) from exc.__cause__

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
        at = now()
        with self._db.encoding("write_batch"):
            rows = [
                {
                    "job": job,
                    "kind": link.kind.value,
                    "source_id": link.source_id,
                    **schema.link_values(link),
                    "created_at": at,
                    "updated_at": at,
                }
                for link in save
            ]
            log_rows = [logrows.log_values(entry) for entry in entries]
        try:
            with self._db.write("write_batch") as conn:
                for kind, source_id in drop:
                    conn.execute(sa.delete(links).where(link_key(job, kind, source_id)))
                if rows:
                    self._upsert_links(conn, rows)
                if log_rows:
                    conn.execute(sa.insert(provisioning_log), log_rows)
        except StateError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            # one link claims a target id another holds: one at a time, so the error names it
            for kind, source_id in drop:
                self.drop_link(job, kind, source_id)
            for link in save:
                self.save_link(job, link)
            if log_rows:
                with self._db.write("write_batch") as conn:
                    conn.execute(sa.insert(provisioning_log), log_rows)

    def _upsert_links(self, conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
        """Insert or update link rows; ``created_at`` survives an update."""
        dialect = self._db.dialect
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
            key = link_key(row["job"], ObjectKind(row["kind"]), row["source_id"])
            values = {k: v for k, v in row.items() if k not in ("job", "kind", "source_id", "created_at")}
            if conn.execute(sa.update(links).where(key).values(values)).rowcount == 0:
                conn.execute(sa.insert(links).values(row))

    def drop_link(self, job: str, kind: ObjectKind, source_id: str) -> None:
        """Forget one link (the target object was deleted, or is no longer ours); a missing link is fine."""
        with self._db.write("drop_link") as conn:
            conn.execute(sa.delete(links).where(link_key(job, kind, source_id)))

    def find_link_by_target(self, job: str, kind: ObjectKind, target_id: str) -> Link | None:
        """The link that already claims ``target_id``, so matching does not link one target object twice."""
        key = sa.and_(links.c.job == job, links.c.kind == kind.value, links.c.target_id == target_id)
        with self._db.read("find_link_by_target") as conn:
            row = conn.execute(sa.select(links).where(key)).first()
        return schema.link_from_row(row) if row is not None else None
