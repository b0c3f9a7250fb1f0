"""What ``syncer status`` prints about a job: text lines, or JSON for scripts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rich.text import Text

from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.standing import duration, job_overview, job_status
from syncer.types import EscrowEntry, RunRecord


def status_lines(config: LoadedConfig, name: str) -> list[str]:
    status = job_status(config, name, datetime.now(UTC))
    lines = [f"job {status.job}: {status.links} objects linked"]
    lines.extend(standing_lines(config, name))
    lines.extend(_last_run_lines(status.last_run))
    quarantine = status.health.quarantine
    if status.health.disabled_reason:
        lines.append(f"  DISABLED: {status.health.disabled_reason}")
    if quarantine:
        lines.append(
            f"  quarantine: {quarantine.reason} since {quarantine.since:%Y-%m-%d %H:%M} UTC: "
            f"{quarantine.detail}"
        )
    else:
        lines.append("  quarantine: no")
    if status.next_run is not None:
        lines.append(f"  next run (daemon): {status.next_run:%Y-%m-%d %H:%M:%S} UTC")
    lines.extend(_escrow_lines(status.escrowed))
    if status.held:
        keys = status.held.get("keys") or []
        lines.append(
            f"  held deletions: {len(keys)} (threshold {status.held.get('threshold')}): "
            f"{status.held.get('reason')}"
        )
        lines.extend(f"    {key}" for key in keys[:20])
        if len(keys) > 20:
            lines.append(f"    ... and {len(keys) - 20} more")
        lines.append(f"    release them with: syncer approve-deletions --job {status.job}")
    if status.approved:
        lines.append(f"  approved for the next cycle: {len(status.approved)} disables/deletes")
    lines.extend(_held_change_lines(status.job, status.held_changes, status.approved_changes))
    if status.shrink_refused:
        lines.append(f"  source refused: {status.shrink_refused.get('reason')}")
    if status.shrink_approved:
        lines.append("  approved for the next cycle: the smaller source")
    return lines


def _held_change_lines(job: str, held: dict[str, Any] | None, approved: int) -> list[str]:
    """The change threshold's holds, one line per attribute, and what releases them."""
    lines: list[str] = []
    if held:
        keys = held.get("keys") or []
        lines.append(f"  held changes: {len(keys)} attribute changes, held at {held.get('at')}:")
        lines.extend(f"    {a.get('reason')}" for a in held.get("attributes") or [])
        lines.append(
            f"    review them with `syncer plan --job {job}`; release them with: "
            f"syncer approve-changes --job {job}"
        )
    if approved:
        lines.append(f"  approved for the next cycle: {approved} attribute changes")
    return lines


def _last_run_lines(run: RunRecord | None) -> list[str]:
    lines: list[str] = []
    if run is None:
        lines.append("  last run: none (the next cycle is the initial one)")
    else:
        finished = run.finished_at.isoformat(timespec="seconds") if run.finished_at else "not finished"
        kind = "initial" if run.initial else "incremental"
        lines.append(
            f"  last run: {run.id} ({kind}) {run.status}, started {run.started_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"finished {finished}"
        )
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()))
        if counts:
            lines.append(f"    {counts}")
    return lines


def _escrow_lines(escrowed: Sequence[EscrowEntry]) -> list[str]:
    lines: list[str] = []
    if escrowed:
        lines.append(f"  escrow: {len(escrowed)} object(s)")
        for entry in escrowed[:20]:
            wait = f"retried in {entry.skip_cycles} cycle(s)" if entry.skip_cycles else "retried next cycle"
            lines.append(
                f"    {entry.kind.value} {entry.display}: {entry.attempts} attempt(s), {wait}; "
                f"last {entry.error_code}: {entry.error}"
            )
        if len(escrowed) > 20:
            lines.append(f"    ... and {len(escrowed) - 20} more")
    else:
        lines.append("  escrow: empty")
    return lines


def standing_lines(config: LoadedConfig, name: str) -> list[str]:
    view = job_overview(config, name)
    lines = [f"  state: {view.state}" + (f" ({view.reason})" if view.reason else "")]
    run = view.last_run
    if run is not None and run.finished_at is not None:
        lines.append(f"  last cycle took {duration(run)} s")
    if view.last_success is not None:
        lines.append(f"  last successful cycle: {view.last_success.isoformat(timespec='seconds')}")
    when = view.next_cycle.isoformat(timespec="seconds") if view.next_cycle else "none (not scheduled)"
    lines.append(f"  next cycle: {when}")
    lines.append(f"  escrow: {view.escrow} objects")
    return lines


def standing_json(config: LoadedConfig, names: list[str]) -> list[dict[str, Any]]:
    result = []
    for name in names:
        data = job_overview(config, name).as_json()
        status = job_status(config, name, datetime.now(UTC))
        data["heldDeletions"] = status.held
        data["approved"] = {"deletions": status.approved, "shrink": status.shrink_approved}
        data["sourceRefused"] = status.shrink_refused
        data["heldChanges"] = status.held_changes
        data["approved"]["changes"] = status.approved_changes
        result.append(data)
    return result


_PLAN_STYLES = {"+": "green", "~": "yellow", "-": "red"}


def coloured_plan(text: str) -> Text:
    """A text plan with ``+`` lines green, ``~`` yellow and ``-`` red, as terraform prints them.

    Rich drops the colours when the output is not a terminal, with ``--no-color`` and with
    ``$NO_COLOR``, so scripts and files get the plain text, byte for byte.
    """
    coloured = Text()
    for line in text.splitlines(keepends=True):
        coloured.append(line, style=_PLAN_STYLES.get(line.lstrip()[:1], ""))
    return coloured
