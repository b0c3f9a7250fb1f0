"""The state store's tables, and how flow values are encoded in their rows.

Only portable column types are used (JSON lives in ``Text``), so the same metadata creates the
schema on SQLite and on PostgreSQL. ``create_all`` adds missing tables but never alters existing
ones: a column added later needs a migration, not just a new line here.

Value encoding (``encode``/``decode``): values go through JSON, which knows neither tuples nor
:class:`~syncer.types.Reference`. Tuples are written as lists and come back as tuples
(:func:`~syncer.types.freeze`), so a value compares equal after the round trip. A reference is
written as ``{"$ref": "<source id>"}``. A genuine mapping with a key starting with ``$`` is
wrapped as ``{"$map": {...}}`` so it can never be mistaken for a reference.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from syncer.types import (
    Link,
    ObjectKind,
    Reference,
    RunRecord,
    freeze,
)

_When = datetime.datetime | None


class UTCDateTime(sa.TypeDecorator[datetime.datetime]):
    """An aware UTC datetime on every backend.

    SQLite keeps no offset and would hand back naive wall-clock times, so values are converted to
    UTC on the way in and marked UTC on the way out; a naive value is refused rather than guessed.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: _When, dialect: Dialect) -> _When:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the state store, not an aware one")
        return value.astimezone(datetime.UTC)

    def process_result_value(self, value: _When, dialect: Dialect) -> _When:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)


metadata = sa.MetaData()

links = sa.Table(
    "links",
    metadata,
    sa.Column("job", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("source_id", sa.String(400), primary_key=True),
    sa.Column("target_id", sa.String(400), nullable=False),
    sa.Column("display", sa.Text, nullable=False, default=""),
    sa.Column("exported", sa.Text, nullable=False, default="{}"),
    sa.Column("exported_hash", sa.String(128), nullable=False, default=""),
    sa.Column("members", sa.Text, nullable=False, default="[]"),
    sa.Column("origin", sa.String(32), nullable=False, default="created"),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.Column("gone_since", sa.String(64), nullable=True),
    sa.Column("deleted_at", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # One target object is managed on behalf of one source object: two links to the same target id
    # would have two source objects fighting over it every cycle.
    sa.UniqueConstraint("job", "kind", "target_id", name="uq_links_target"),
)

# ``seq`` orders runs that started in the same instant and lets ``jobs.reset_seq`` say which runs
# came before a restart without trusting anyone's clock; ``id`` is the name the rest of syncer uses.
runs = sa.Table(
    "runs",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("job", sa.String(200), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Column("initial", sa.Boolean, nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("counts", sa.Text, nullable=False, default="{}"),
    sa.Index("ix_runs_job_started", "job", "started_at"),
    sqlite_autoincrement=True,
)

# One row per job for what belongs to the job rather than to an object or a run. Today only the
# restart marker; escrow, quarantine and watermarks are expected to add their own tables or columns.
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("job", sa.String(200), primary_key=True),
    sa.Column("reset_seq", sa.Integer, nullable=False, default=0),
)

# Small per-job facts that are neither a link nor a run: deletions held by the threshold, the
# admin's approvals, the quarantine reason. Values are JSON.
job_flags = sa.Table(
    "job_flags",
    metadata,
    sa.Column("job", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Objects whose change still failed after its retries: retried by later cycles with a growing
# backoff (``skip_cycles`` left to wait), cleared on success or restart. After a permanent refusal
# ``refused_fingerprint`` and ``refused_answer`` say what was refused and how (core.refusals):
# the object is held while it would send the same again.
escrow = sa.Table(
    "escrow",
    metadata,
    sa.Column("job", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("source_id", sa.String(400), primary_key=True),
    sa.Column("display", sa.Text, nullable=False, default=""),
    sa.Column("attempts", sa.Integer, nullable=False, default=1),
    sa.Column("skip_cycles", sa.Integer, nullable=False, default=0),
    sa.Column("error_code", sa.String(100), nullable=False, default=""),
    sa.Column("error", sa.Text, nullable=False, default=""),
    sa.Column("first_failed_at", UTCDateTime, nullable=False),
    sa.Column("last_failed_at", UTCDateTime, nullable=False),
    sa.Column("refused_fingerprint", sa.String(100), nullable=True),
    sa.Column("refused_answer", sa.Text, nullable=True),
)

# One row per job that some process runs (a cycle, an apply, a restart, an approval): the
# single-runner lease. Times are seconds since the epoch on the *database's* clock (see
# ``leases.db_epoch``), never a client's; ``token`` is the fencing token, one more at every
# acquisition, that every write of the holder checks; ``beat`` counts renewals, so a contender can
# see a holder alive whatever the clocks say. A released lease keeps its row (``expires_at`` 0),
# so the token never goes back. (``leases``, the table of the first design, is no longer read.)
runner_leases = sa.Table(
    "runner_leases",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("host", sa.String(255), nullable=False, default=""),
    sa.Column("pid", sa.Integer, nullable=False, default=0),
    sa.Column("command", sa.String(100), nullable=False, default=""),
    sa.Column("process", sa.String(200), nullable=False, default=""),
    sa.Column("token", sa.Integer, nullable=False),
    sa.Column("beat", sa.Integer, nullable=False, default=0),
    sa.Column("ttl", sa.Float, nullable=False),
    sa.Column("acquired_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

# A job's target discovery answers as JSON, by target URL; staleness is runtime.capabilities' call.
target_capabilities = sa.Table(
    "target_capabilities",
    metadata,
    sa.Column("job", sa.String(200), primary_key=True),
    sa.Column("target_url", sa.String(1000), primary_key=True),
    sa.Column("answers", sa.Text, nullable=False, default="{}"),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
)

# run_id has no foreign key on purpose: an entry must be recordable even when the run row is not
# (provision on demand, a test), and the log is an audit trail that should outlive run pruning.
provisioning_log = sa.Table(
    "provisioning_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("job", sa.String(200), nullable=False),
    sa.Column("change_id", sa.String(200), nullable=False),
    sa.Column("time", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("source_id", sa.String(400), nullable=False),
    sa.Column("display", sa.Text, nullable=False, default=""),
    sa.Column("target_id", sa.String(400), nullable=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(200), nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("modified", sa.Text, nullable=False, default="[]"),
    sa.Column("steps", sa.Text, nullable=False, default="[]"),
    sa.Column("scim_error", sa.Text, nullable=True),
    sa.Index("ix_provisioning_log_job_time", "job", "time"),
    sa.Index("ix_provisioning_log_run", "run_id"),
    sqlite_autoincrement=True,
)


ADDED_COLUMNS: tuple[tuple[sa.Table, str], ...] = (
    (provisioning_log, "scim_error"),
    (escrow, "refused_fingerprint"),
    (escrow, "refused_answer"),
    (links, "deleted_at"),
)
"""Columns added after their table first shipped: a state file made before gets them on open,
nullable, so its old records read back with ``None`` (``create_all`` never alters a table)."""


def _to_json(value: Any) -> Any:
    if isinstance(value, Reference):
        return {"$ref": value.source_id}
    if isinstance(value, list | tuple | frozenset | set):
        items = [_to_json(v) for v in value]
        # Sets have no order of their own; sort them so the same value always encodes the same way.
        return sorted(items, key=_sort_key) if isinstance(value, frozenset | set) else items
    if isinstance(value, Mapping):
        body = {str(k): _to_json(v) for k, v in value.items()}
        return {"$map": body} if any(k.startswith("$") for k in body) else body
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"a {type(value).__name__} is not a JSON-like value")


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _from_json(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("$ref"), str):
            return Reference(value["$ref"])
        if len(value) == 1 and isinstance(value.get("$map"), dict):
            return {k: _from_json(v) for k, v in value["$map"].items()}
        return {k: _from_json(v) for k, v in value.items()}
    return value


class StoredValues(Mapping[str, Any]):
    """A link's exported values as stored, decoded from their JSON only when first read.

    Loading 100k links decoded every one of them although an unchanged object never reads its
    exported values (its ``exported_hash`` says it is unchanged): most stay text, which is also
    less memory. Saved again unread, the text is written back as it was.
    """

    __slots__ = ("_text", "_values")

    def __init__(self, text: str) -> None:
        self._text = text
        self._values: Mapping[str, Any] | None = None

    def _decoded(self) -> Mapping[str, Any]:
        if self._values is None:
            self._values = decode(self._text) or {}
        return self._values

    @property
    def stored_text(self) -> str | None:
        """The JSON text, while nothing has been read (``None`` once decoded)."""
        return self._text if self._values is None else None

    def __getitem__(self, key: str) -> Any:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return repr(dict(self._decoded()))


def encode(value: Any) -> str:
    """JSON text for a flow value; keys sorted so equal values are stored byte-identically."""
    if isinstance(value, StoredValues) and value.stored_text is not None:
        return value.stored_text
    # json walks the plain parts itself and calls the hook only for the rest (references, read-only
    # mappings, sets): the text of encoding _to_json(value) at a third of the cost. A plain dict
    # with a "$" key (never a flow value, which is frozen) would bypass the hook, so every '"$' in
    # the text must have come from the hook, or the value is encoded the slow, careful way.
    made = 0

    def hook(item: Any) -> Any:
        nonlocal made
        if isinstance(item, Reference):
            made += 1
            return {"$ref": item.source_id}
        if isinstance(item, Mapping):
            body = {str(k): v for k, v in item.items()}
            dollars = sum(1 for k in body if k.startswith("$"))
            if dollars:
                made += 1 + dollars
                return {"$map": body}
            return body
        if isinstance(item, frozenset | set):
            items = sorted((_to_json(v) for v in item), key=_sort_key)
            made += json.dumps(items).count('"$')
            return items
        raise TypeError(f"a {type(item).__name__} is not a JSON-like value")

    text = json.dumps(value, default=hook, sort_keys=True, separators=(",", ":"), allow_nan=False)
    if text.count('"$') != made:
        text = json.dumps(_to_json(value), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text


def decode(text: str | None) -> Any:
    """The frozen flow value :func:`encode` wrote (lists as tuples, mappings read-only)."""
    if text is None:
        return None
    return freeze(_from_json(json.loads(text)))


# -- rows <-> flow values --------------------------------------------------------------------------
# encode() raises TypeError or ValueError on a value that is not JSON-like; the store reports it.


def link_values(link: Link) -> dict[str, Any]:
    """The columns of a link row other than its key and timestamps."""
    return {
        "target_id": link.target_id,
        "display": link.display,
        "exported": encode(link.exported),
        "exported_hash": link.exported_hash,
        "members": encode(sorted(link.members)),
        "origin": link.origin,
        "disabled": link.disabled,
        "gone_since": link.gone_since,
        "deleted_at": link.deleted_at,
    }


def link_from_row(row: sa.Row[Any]) -> Link:
    return Link(
        kind=ObjectKind(row.kind),
        source_id=row.source_id,
        target_id=row.target_id,
        display=row.display,
        exported=StoredValues(row.exported),
        exported_hash=row.exported_hash,
        members=frozenset(decode(row.members)),
        origin=row.origin,
        disabled=bool(row.disabled),
        gone_since=row.gone_since,
        deleted_at=row.deleted_at,
    )


def run_from_row(row: sa.Row[Any]) -> RunRecord:
    return RunRecord(
        id=row.id,
        job=row.job,
        started_at=row.started_at,
        finished_at=row.finished_at,
        initial=bool(row.initial),
        dry_run=bool(row.dry_run),
        status=row.status,
        counts=decode(row.counts),
    )
