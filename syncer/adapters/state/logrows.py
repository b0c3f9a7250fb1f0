"""Provisioning-log records to and from their rows: steps and modified properties as JSON lists,
the target's SCIM error as one JSON object (its own column, added after the table shipped)."""

from __future__ import annotations

import functools
import json
from typing import Any

import sqlalchemy as sa

from syncer.adapters.state.schema import decode, encode
from syncer.types import (
    Action,
    ModifiedProperty,
    ObjectKind,
    ProvisioningLogEntry,
    ScimError,
    Status,
    Step,
)


def log_values(entry: ProvisioningLogEntry) -> dict[str, Any]:
    """A provisioning-log row; ``modified`` and ``steps`` as JSON lists of objects."""
    modified = [{"name": m.name, "old": m.old, "new": m.new} for m in entry.modified]
    return {
        "run_id": entry.run_id,
        "job": entry.job,
        "change_id": entry.change_id,
        "time": entry.time,
        "kind": entry.kind.value,
        "source_id": entry.source_id,
        "display": entry.display,
        "target_id": entry.target_id,
        "action": entry.action.value,
        "status": entry.status.value,
        "reason": entry.reason,
        "detail": entry.detail,
        "modified": encode(modified) if modified else "[]",
        "steps": _steps_json(tuple(entry.steps)),
        "scim_error": _scim_error_json(entry.scim_error),
    }


def _scim_error_json(error: ScimError | None) -> str | None:
    if error is None:
        return None
    return json.dumps({"status": error.status, "scimType": error.scim_type, "detail": error.detail})


def _scim_error_of(text: str | None) -> ScimError | None:
    if not text:
        return None
    data = json.loads(text)
    return ScimError(status=data.get("status"), scim_type=data.get("scimType"), detail=data.get("detail"))


@functools.lru_cache(maxsize=256)
def _steps_json(steps: tuple[Step, ...]) -> str:
    """Steps encoded once per distinct tuple: a cycle logs the same few for thousands of objects."""
    return encode([{"name": s.name, "status": s.status.value, "detail": s.detail} for s in steps])


def entry_from_row(row: sa.Row[Any]) -> ProvisioningLogEntry:
    return ProvisioningLogEntry(
        job=row.job,
        run_id=row.run_id,
        change_id=row.change_id,
        time=row.time,
        kind=ObjectKind(row.kind),
        source_id=row.source_id,
        display=row.display,
        target_id=row.target_id,
        action=Action(row.action),
        status=Status(row.status),
        reason=row.reason,
        detail=row.detail,
        modified=tuple(ModifiedProperty(m["name"], m["old"], m["new"]) for m in decode(row.modified)),
        steps=tuple(Step(s["name"], Status(s["status"]), s["detail"]) for s in decode(row.steps)),
        scim_error=_scim_error_of(row.scim_error),
    )
