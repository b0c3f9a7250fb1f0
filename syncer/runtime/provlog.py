"""The provisioning log as Entra shows and exports it: filters, JSON records, the three-file CSV.

Records follow Microsoft Graph's ``provisioningObjectSummary`` (activityDateTime, cycleId,
changeId, jobId, provisioningAction, provisioningStatusInfo, sourceIdentity, targetIdentity,
provisioningSteps, modifiedProperties). The CSV download is Entra's: one file of records, one
of steps and one of modified properties, joined on the change id.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from syncer.adapters.state.store import StateStore
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.engine import state_url
from syncer.runtime.private import open_private
from syncer.settings import parse_duration
from syncer.types import Action, ProvisioningLogEntry, Status

RECORDS_FILE = "ProvisioningLogs.csv"
STEPS_FILE = "ProvisioningLogs_ProvisioningSteps.csv"
PROPERTIES_FILE = "ProvisioningLogs_ModifiedProperties.csv"

RECORD_COLUMNS = (
    "Date (UTC)",
    "Job ID",
    "Cycle ID",
    "Change ID",
    "Action",
    "Status",
    "Error Code",
    "Status Reason",
    "Source Identity ID",
    "Source Identity Name",
    "Source Identity Type",
    "Target Identity ID",
    "Target Identity Type",
    "Source System",
    "Target System",
)
STEP_COLUMNS = ("Change ID", "Step Number", "Name", "Type", "Status", "Description")
PROPERTY_COLUMNS = ("Change ID", "Display Name", "Old Value", "New Value")
SOURCE_SYSTEM = "syncer source"
TARGET_SYSTEM = "SCIM target"
_STEP_TYPES = {
    "import": "Import",
    "scoping": "Scoping",
    "matching": "Matching",
    "processing": "Processing",
    "export": "Export",
    "referenceResolution": "ReferenceResolution",
}


@dataclass(frozen=True)
class LogQuery:
    """``syncer logs`` filters; every one given must hold (statuses and actions: any of them)."""

    job: str | None = None
    run_id: str | None = None
    statuses: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    since: datetime | None = None
    source_id: str | None = None
    limit: int | None = None


def _canonical(values: Sequence[str], choices: type[Action] | type[Status], what: str) -> tuple[str, ...]:
    by_lower = {c.value.lower(): c.value for c in choices}
    out = []
    for value in values:
        for part in value.split(","):
            key = part.strip().lower()
            if key not in by_lower:
                names = ", ".join(by_lower.values())
                raise ValueError(f"unknown {what} {part.strip()!r}; choose from {names}")
            out.append(by_lower[key])
    return tuple(out)


def parse_statuses(values: Sequence[str]) -> tuple[str, ...]:
    """``success``, ``Failure`` ... (case-insensitive, comma-separated allowed) to Entra's names."""
    return _canonical(values, Status, "status")


def parse_actions(values: Sequence[str]) -> tuple[str, ...]:
    return _canonical(values, Action, "action")


def parse_since(text: str, now: datetime) -> datetime:
    """``2h``, ``30m``, ``7d`` (that long ago) or an ISO date/time (UTC when no offset is given)."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"--since takes a duration such as 2h or 7d, or an ISO time; got {text!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=now.tzinfo)


def query(config: LoadedConfig, q: LogQuery) -> list[ProvisioningLogEntry]:
    with StateStore(state_url(config)) as store:
        return store.search_log(
            job=q.job,
            run_id=q.run_id,
            statuses=q.statuses,
            actions=q.actions,
            since=q.since,
            source_id=q.source_id,
            limit=q.limit,
        )


def reason_text(entry: ProvisioningLogEntry) -> str:
    """The table's reason: what the target answered (``400 invalidValue: …``) when it refused the
    object, else syncer's reason code; a bare ``Permanent`` tells an admin nothing to fix."""
    if entry.scim_error is not None and (summary := entry.scim_error.summary()):
        return summary
    return entry.reason or ""


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


def entra_record(entry: ProvisioningLogEntry) -> dict[str, Any]:
    """One record in Graph's ``provisioningObjectSummary`` shape."""
    kind = entry.kind.value.capitalize()
    error: dict[str, Any] | None = None
    if entry.reason or entry.detail:
        error = {
            "errorCode": entry.reason,
            "errorCategory": "failure" if entry.status is Status.FAILURE else "success",
            "reason": entry.detail,
        }
        if entry.scim_error is not None:  # the target's own words, apart from syncer's message
            error["httpStatus"] = entry.scim_error.status
            error["scimType"] = entry.scim_error.scim_type
            error["additionalDetails"] = entry.scim_error.detail
    return {
        "id": entry.change_id,
        "activityDateTime": entry.time.isoformat().replace("+00:00", "Z"),
        "jobId": entry.job,
        "cycleId": entry.run_id,
        "changeId": entry.change_id,
        "provisioningAction": entry.action.value[:1].lower() + entry.action.value[1:],
        "provisioningStatusInfo": {"status": entry.status.value.lower(), "errorInformation": error},
        "sourceIdentity": {"id": entry.source_id, "displayName": entry.display, "identityType": kind},
        "targetIdentity": {"id": entry.target_id, "displayName": entry.display, "identityType": kind},
        "sourceSystem": {"displayName": SOURCE_SYSTEM},
        "targetSystem": {"displayName": TARGET_SYSTEM},
        "provisioningSteps": [
            {
                "name": step.name,
                "provisioningStepType": _STEP_TYPES.get(step.name, "Processing").lower(),
                "status": step.status.value.lower(),
                "description": step.detail,
            }
            for step in entry.steps
        ],
        "modifiedProperties": [
            {"displayName": m.name, "oldValue": _text(m.old), "newValue": _text(m.new)}
            for m in entry.modified
        ],
    }


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> object:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading ``'``.

    Source values reach the export as they are; ``=HYPERLINK(...)`` or ``@SUM(...)`` in a
    display name must not run when an admin opens the file (OWASP's CSV injection advice).
    """
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


class _SafeCsv:
    """A csv writer whose every cell has been through :func:`spreadsheet_safe`."""

    def __init__(self, file: TextIO) -> None:
        self._writer = csv.writer(file)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([spreadsheet_safe(cell) for cell in row])


def write_csv(entries: Sequence[ProvisioningLogEntry], out_dir: Path) -> list[Path]:
    """Entra's CSV download: records, steps and modified properties in three files, joined by change id."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / RECORDS_FILE, out_dir / STEPS_FILE, out_dir / PROPERTIES_FILE]
    with (
        open_private(paths[0], newline="") as records_file,
        open_private(paths[1], newline="") as steps_file,
        open_private(paths[2], newline="") as props_file,
    ):
        records, steps, props = _SafeCsv(records_file), _SafeCsv(steps_file), _SafeCsv(props_file)
        records.writerow(RECORD_COLUMNS)
        steps.writerow(STEP_COLUMNS)
        props.writerow(PROPERTY_COLUMNS)
        for e in entries:
            kind = e.kind.value.capitalize()
            records.writerow(
                (
                    e.time.isoformat().replace("+00:00", "Z"),
                    e.job,
                    e.run_id,
                    e.change_id,
                    e.action.value,
                    e.status.value,
                    e.reason or "",
                    e.detail or "",
                    e.source_id,
                    e.display,
                    kind,
                    e.target_id or "",
                    kind,
                    SOURCE_SYSTEM,
                    TARGET_SYSTEM,
                )
            )
            for number, step in enumerate(e.steps, start=1):
                steps.writerow(
                    (
                        e.change_id,
                        number,
                        step.name,
                        _STEP_TYPES.get(step.name, "Processing"),
                        step.status.value,
                        step.detail,
                    )
                )
            for m in e.modified:
                props.writerow((e.change_id, m.name, _text(m.old) or "", _text(m.new) or ""))
    return paths
