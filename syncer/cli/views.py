"""What ``syncer status`` prints about a job: text lines, or JSON for scripts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.text import Text

from syncer.core.changes import KEPT_DEACTIVATED
from syncer.core.outcomes import NOT_SENT
from syncer.core.refusals import held_detail
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.standing import JobStanding, Standing, duration, job_overview, job_status
from syncer.types import Action, EscrowEntry, RunRecord, Status


def status_lines(config: LoadedConfig, name: str) -> list[str]:
    """Each thing once, in an admin's words: state, last cycle, next cycle, quarantine, escrow, holds."""
    view = job_overview(config, name, datetime.now(UTC))
    lines = [f"job {view.job}: {view.links} objects linked"]
    lines.append(f"  state: {view.state}" + (f" ({view.reason})" if view.reason else ""))
    if view.health.disabled_reason:
        lines.append(f"  DISABLED: {view.health.disabled_reason}")
    job = next((j for j in config.settings.jobs if j.name == name), None)
    lines.extend(_last_run_lines(view.last_run, job is not None and job.target.quirks.delete_deactivates))
    if view.last_success is not None:
        lines.append(f"  last successful cycle: {view.last_success.isoformat(timespec='seconds')}")
    # in quarantine the backoff decides; otherwise what the daemon scheduled (or would)
    when = view.next_run if view.health.quarantine else (view.next_cycle or view.next_run)
    if view.state in (Standing.DISABLED, Standing.PAUSED):
        when = None
    lines.append(f"  next cycle: {when.isoformat(timespec='seconds') if when else 'none (not scheduled)'}")
    quarantine = view.health.quarantine
    if quarantine:
        lines.append(
            f"  quarantine: {quarantine.reason} since {quarantine.since:%Y-%m-%d %H:%M} UTC: "
            f"{quarantine.detail}"
        )
    else:
        lines.append("  quarantine: no")
    lines.extend(_escrow_lines(view.escrowed))
    lines.extend(_held_lines(view))
    return lines


def _held_lines(view: JobStanding) -> list[str]:
    lines: list[str] = []
    if view.held:
        keys = view.held.get("keys") or []
        lines.append(
            f"  held deletions: {len(keys)} (threshold {view.held.get('threshold')}): "
            f"{view.held.get('reason')}"
        )
        lines.extend(f"    {key}" for key in keys[:20])
        if len(keys) > 20:
            lines.append(f"    ... and {len(keys) - 20} more")
        lines.append(f"    release them with: syncer approve-deletions --job {view.job}")
    if view.approved:
        lines.append(f"  approved for the next cycle: {len(view.approved)} disables/deletes")
    lines.extend(_held_change_lines(view.job, view.held_changes, view.approved_changes))
    if view.shrink_refused:
        lines.append(f"  source refused: {view.shrink_refused.get('reason')}")
    if view.shrink_approved:
        lines.append("  approved for the next cycle: the smaller source")
    return lines


_DONE = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.DISABLE: "disabled",
    Action.DELETE: "deleted",
    Action.STAGED_DELETE: "staged for deletion",
    Action.OTHER: "linked or unchanged",
}
_READABLE_COUNTS = {
    f"{Action.OTHER}.{Status.SKIPPED}": "skipped (out of scope or not provisioned)",
    f"{Action.STAGED_DELETE}.{Status.SKIPPED}": "staged for deletion",
    "members.added": "members added",
    "members.removed": "members removed",
    "source.objects": "source objects",
    "escrowed": "escrowed",
    NOT_SENT: "not sent (the cycle stopped)",
}


_STATUS_WORD = {Status.FAILURE: "failed", Status.WARNING: "warnings", Status.SKIPPED: "skipped"}


def _count_words(key: str) -> str:
    """``Create.Success`` → ``created``, ``Update.Failure`` → ``update failed``; other keys as named."""
    if key in _READABLE_COUNTS:
        return _READABLE_COUNTS[key]
    action, _, status = key.partition(".")
    if action not in {a.value for a in Action} or status not in {s.value for s in Status}:
        return key
    if Status(status) is Status.SUCCESS:
        return _DONE[Action(action)]
    return f"{action.lower()} {_STATUS_WORD[Status(status)]}"


def readable_counts(counts: Mapping[str, int], deletes_deactivate: bool = False) -> str:
    """A run's counts as words (``created 3, update failed 1``), not the record's keys (``Other.Skipped``).

    ``deletes_deactivate``: the target keeps a deleted user, deactivated, and the words say so.
    """
    kept = f"{Action.DELETE}.{Status.SUCCESS}" if deletes_deactivate else None
    words = [
        f"{_count_words(key)}{f' ({KEPT_DEACTIVATED})' if key == kept else ''} {number}"
        for key, number in sorted(counts.items())
        if not key.startswith("requests.") and (number or key == "source.objects")
    ]
    requests = [
        f"{key.removeprefix('requests.')} {n}" for key, n in sorted(counts.items()) if key[:9] == "requests."
    ]
    if requests:
        words.append("requests: " + ", ".join(requests))
    return ", ".join(words)


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


def _last_run_lines(run: RunRecord | None, deletes_deactivate: bool = False) -> list[str]:
    lines: list[str] = []
    if run is None:
        lines.append("  last cycle: none (the next cycle is the initial one)")
    else:
        finished = run.finished_at.isoformat(timespec="seconds") if run.finished_at else "not finished"
        kind = "initial" if run.initial else "incremental"
        took = f", took {duration(run)} s" if run.finished_at else ""
        lines.append(
            f"  last cycle: {run.id} ({kind}) {run.status}, started {run.started_at:%Y-%m-%d %H:%M:%S} UTC"
            f"{took}, finished {finished}"
        )
        # the escrow line below says what is escrowed now, object by object: not twice
        counts = readable_counts({k: n for k, n in run.counts.items() if k != "escrowed"}, deletes_deactivate)
        if counts:
            lines.append(f"    {counts}")
    return lines


def _escrow_lines(escrowed: Sequence[EscrowEntry]) -> list[str]:
    lines: list[str] = []
    if escrowed:
        lines.append(f"  escrow: {len(escrowed)} object(s)")
        for entry in escrowed[:20]:
            if entry.refused is not None:
                lines.append(
                    f"    {entry.kind.value} {entry.display}: {entry.attempts} attempt(s), "
                    f"{held_detail(entry)}"
                )
                continue
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
