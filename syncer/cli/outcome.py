"""What ``sync`` and ``apply`` say after a cycle, and the exit code that goes with it.

Nothing here may look like success when it is not: removals the deletion threshold held are
pending work (counted in the summary, exit 3), a cycle in which nothing that was attempted
landed says the cycle failed instead of "Synced", and a cycle that quarantined the job (or
lifted its quarantine) says so where it happens, not only in ``syncer status``.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncer.cli.app import HELD_REMOVALS
from syncer.core.changes import KEPT_DEACTIVATED, DeleteObject
from syncer.core.display import visible
from syncer.core.policy import TOO_MANY_DELETES, JobHealth
from syncer.core.rendering import held_update_summary, summary
from syncer.runtime.cycle import CycleResult
from syncer.runtime.standing import JobStanding
from syncer.types import SkipReason

APPLIED = ("create", "update", "link", "disable", "delete", "members_added", "members_removed")
"""The counts of what a cycle changed on the target."""


@dataclass(frozen=True)
class CycleReport:
    """The lines a finished cycle prints: results to stdout, what went wrong to stderr."""

    out: tuple[str, ...]
    err: tuple[str, ...]
    exit_code: int


def _counts(result: CycleResult) -> dict[str, int]:
    counts = summary(result.plan)
    applied = result.report.run_counts if result.report else None
    if applied is not None:
        # what the changes' results say was done: never a create that did not happen
        for key in ("create", "update", "link", "disable", "delete"):
            counts[key] = applied.done(key)
        counts["members_added"] = applied.members_added
        counts["members_removed"] = applied.members_removed
    return counts


def held_line(result: CycleResult) -> str | None:
    """The held removals, with what releases them; ``None`` when the threshold held nothing."""
    if not result.plan.held:
        return None
    job = result.plan.job
    return (
        f"HELD: {result.plan.held_reason}. Review them with `syncer plan --job {job}`, then release "
        f"exactly these with `syncer approve-deletions --job {job}`."
    )


def held_refused(result: CycleResult) -> int:
    """Objects not sent because the target refused exactly what they would send (``core.refusals``)."""
    return sum(1 for s in result.plan.skips if s.reason == SkipReason.HELD_REFUSED)


def exit_code(result: CycleResult) -> int:
    """1 when objects failed or the cycle stopped; 3 when removals or attribute changes were held; else 0."""
    if result.report and (result.report.failures or result.report.stopped):
        return 1
    return HELD_REMOVALS if result.plan.held or result.plan.held_updates else 0


def not_sent(result: CycleResult) -> int:
    """Objects the stopped cycle never sent: neither failed nor done, planned again next cycle."""
    applied = result.report.run_counts if result.report else None
    return applied.not_sent if applied is not None else 0


def _headline(result: CycleResult, counts: dict[str, int], failures: int) -> str:
    """ "Synced job ..." with the counts, or "Cycle failed ..." when objects failed and nothing landed.

    A stopped cycle says so first and counts what it never sent apart from what failed.
    """
    kind = "initial" if result.plan.initial else "incremental"
    held = len(result.plan.held)
    left = not_sent(result)
    tail = f", {left} not sent (stopped)" if left else ""
    tail += f"; {held} disables/deletes held." if held else "."
    if failures and not any(counts[key] for key in APPLIED):
        return (
            f"Cycle failed for job {result.plan.job} ({kind} cycle {result.run_id}): {failures} object(s) "
            f"failed and nothing was changed on the target{tail}"
        )
    head = "Stopped syncing job" if result.report and result.report.stopped else "Synced job"
    # on a target where a delete deactivates, "deleted" must not read as "the account is gone"
    kept = any(isinstance(c, DeleteObject) and c.deactivates for c in result.plan.changes)
    deleted = f"{counts['delete']} deleted" + (f" ({KEPT_DEACTIVATED})" if kept and counts["delete"] else "")
    return (
        f"{head} {result.plan.job} ({kind} cycle {result.run_id}): {counts['create']} created, "
        f"{counts['update']} updated, {counts['link']} linked, {counts['disable']} disabled, "
        f"{deleted}, {counts['members_added']} members added, "
        f"{counts['members_removed']} removed; {failures} failed{tail}"
    )


def cycle_report(result: CycleResult) -> CycleReport:
    """The summary of a cycle that got through its apply (or stopped in it)."""
    requests = ", ".join(f"{m} {n}" for m, n in sorted(result.requests.by_method.items())) or "none"
    failures = result.report.failures if result.report else 0
    err: list[str] = []
    if failures:
        err.append(f"{failures} object(s) failed: `syncer logs --status failure --run {result.run_id}`")
    out = [_headline(result, _counts(result), failures)]
    line = held_line(result)
    if line is not None:
        out.append(line)
    out.extend(visible(line) for line in held_update_summary(result.plan))  # pending work too
    refused = held_refused(result)
    if refused:
        out.append(
            f"{refused} object(s) held: the target refused exactly what they would send; `syncer status "
            f"--job {result.plan.job}` says why, and they are sent again when the change, the mapping or "
            f"the target's schemas change (`syncer provision --id SOURCE_ID` sends one now)."
        )
    out.append(f"Requests: {requests} ({result.requests.writes} writes).")
    if result.report and result.report.stopped:
        err.append(f"cycle stopped: {result.report.stopped}")
    return CycleReport(tuple(out), tuple(err), exit_code(result))


EXIT_MEANING = {0: "ok", 1: "objects failed or the cycle stopped", HELD_REMOVALS: "removals or changes held"}
"""What each exit code of ``sync`` and ``apply`` says, for ``--format json``."""


def cycle_document(result: CycleResult, told: list[str]) -> dict[str, object]:
    """The same facts as :func:`cycle_report`, as one JSON document for scripts (nothing secret in it)."""
    report = cycle_report(result)
    failures = result.report.failures if result.report else 0
    return {
        "job": result.plan.job,
        "cycle_id": result.run_id,
        "kind": "initial" if result.plan.initial else "incremental",
        "counts": _counts(result),
        "failed": failures,
        "not_sent": not_sent(result),
        "held_removals": len(result.plan.held),
        "held_reason": result.plan.held_reason if result.plan.held else None,
        "held_changes": len(result.plan.held_updates),
        "held_refused": held_refused(result),
        "requests": {
            "by_method": dict(sorted(result.requests.by_method.items())),
            "writes": result.requests.writes,
        },
        "stopped": result.report.stopped if result.report else None,
        "notes": [*report.out[1:], *told],
        "exit_code": report.exit_code,
        "exit_meaning": EXIT_MEANING.get(report.exit_code, "error"),
    }


def _retry(after: JobStanding) -> str:
    if after.next_run is None:
        return "the daemon does not run it"
    return f"the daemon retries it at {after.next_run:%Y-%m-%d %H:%M:%S} UTC"


def _clear_hint(job: str, reason: str) -> str:
    if reason == TOO_MANY_DELETES:
        return (
            f"review the held removals with `syncer plan --job {job}`, release them with "
            f"`syncer approve-deletions --job {job}`, and the next clean cycle lifts it"
        )
    return (
        f"fix the cause, then `syncer sync --job {job}`: a clean cycle lifts it "
        f"(`syncer restart --job {job}` clears it at once, with escrow and change tracking)"
    )


def quarantine_lines(before: JobHealth, after: JobStanding) -> list[str]:
    """What this cycle did to the job's standing: quarantined it, kept it quarantined, lifted it, disabled it.

    Nothing when the cycle left the standing as it was (a refusal before anything was recorded).
    """
    job, health = after.job, after.health
    if health == before:
        return []
    if health.disabled_reason is not None and before.disabled_reason is None:
        return [
            f"job {job} is now disabled: {health.disabled_reason}; `syncer restart --job {job}` enables it"
        ]
    now, was = health.quarantine, before.quarantine
    if now is None:
        return [f"job {job}: cleared quarantine {was.reason} (this cycle ran clean)"] if was else []
    why = f"{now.reason}: {now.detail}" if now.detail else now.reason
    if was is None:
        return [f"job {job} is now quarantined ({why}); {_retry(after)}; {_clear_hint(job, now.reason)}."]
    since = f"{now.since:%Y-%m-%d %H:%M} UTC"
    return [f"job {job} is still quarantined ({why}), since {since}; {_retry(after)}."]
