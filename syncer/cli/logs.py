"""``syncer logs``: the provisioning log as a table, JSON lines, or Entra's CSV download."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from syncer.cli.app import app, err, errors_to_exit, fail, job_name, load, out
from syncer.core.display import visible
from syncer.runtime import provlog
from syncer.runtime.engine import utc_now
from syncer.runtime.provlog import LogQuery


@app.command()
def logs(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Only this job.")] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="Only this cycle (run id).")] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="success, failure, skipped or warning (repeatable).")
    ] = None,
    action: Annotated[
        list[str] | None,
        typer.Option("--action", help="create, update, disable, delete, stageddelete or other (repeatable)."),
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="2h, 7d, or an ISO time.")] = None,
    source_id: Annotated[str | None, typer.Option("--id", help="Only this source object id.")] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="The newest N records (table default: 200).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json (JSON lines) or csv.")] = "table",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for the three CSV files.")] = None,
    wide: Annotated[
        bool, typer.Option("--wide", help="Every column, values whole (the table fits 100 columns without).")
    ] = False,
) -> None:
    """The provisioning log: one record per object per cycle, Entra's fields; CSV as Entra's download."""
    if fmt not in ("table", "json", "csv"):
        fail(f"--format must be table, json or csv, not {fmt!r}")
    if fmt == "csv" and out_dir is None:
        fail("--format csv writes three files (records, steps, modified properties): give --out DIR")
    with errors_to_exit():
        config = load()
        try:
            q = LogQuery(
                job=job_name(config, job) if job else None,
                run_id=run_id,
                statuses=provlog.parse_statuses(status or []),
                actions=provlog.parse_actions(action or []),
                since=provlog.parse_since(since, utc_now()) if since else None,
                source_id=source_id,
                limit=limit if limit is not None else (200 if fmt == "table" else None),
            )
        except ValueError as exc:
            fail(str(exc))
        entries = provlog.query(config, q)
        if fmt == "json":
            for entry in entries:
                out.print(json.dumps(provlog.entra_record(entry), sort_keys=True), markup=False)
        elif fmt == "csv" and out_dir is not None:
            try:
                paths = provlog.write_csv(entries, out_dir)
            except OSError as exc:
                fail(f"{out_dir}: cannot write the CSV files: {exc.strerror or exc}")
            err.print(f"{len(entries)} records written to:", markup=False)
            for path in paths:
                out.print(str(path), markup=False)
        elif wide:
            _log_table(entries)
        else:
            _narrow_table(entries, max(TABLE_WIDTH, out.width if out.is_terminal else 0))


TABLE_WIDTH = 100
"""What the default table fits in (or the terminal's width when wider); ``--wide`` has no limit."""


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _narrow_table(entries: list[Any], width: int) -> None:
    """Time, action, status, kind, who and why: what an admin scans for; ids are in ``--wide``.

    The identity gets up to 34 columns and the reason the rest, each cut with an ellipsis.
    """
    if not entries:
        out.print("no provisioning-log records match", markup=False)
        return
    header = ("TIME (UTC)", "ACTION", "STATUS", "KIND", "IDENTITY", "REASON")
    rows = [header] + [
        (
            e.time.strftime("%m-%d %H:%M:%S"),
            e.action.value,
            e.status.value,
            e.kind.value,
            visible(e.display or e.source_id),
            visible(provlog.reason_text(e)),
        )
        for e in entries
    ]
    fixed = [max(len(row[i]) for row in rows) for i in range(4)]
    identity = min(34, max(len(row[4]) for row in rows))
    reason = max(10, width - sum(fixed) - identity - 2 * 5)
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row[:4], fixed, strict=True)]
        cells += [_cut(row[4], identity).ljust(identity), _cut(row[5], reason)]
        out.print("  ".join(cells).rstrip(), markup=False)


def _log_table(entries: list[Any]) -> None:
    """One line per record, columns aligned, never wrapped (greppable, and wide values stay whole)."""
    if not entries:
        out.print("no provisioning-log records match", markup=False)
        return
    header = (
        "TIME (UTC)",
        "JOB",
        "CYCLE",
        "ACTION",
        "STATUS",
        "KIND",
        "IDENTITY",
        "SOURCE ID",
        "TARGET ID",
        "REASON",
    )
    rows = [header] + [
        (
            e.time.strftime("%Y-%m-%d %H:%M:%S"),
            e.job,
            e.run_id[:12],
            e.action.value,
            e.status.value,
            e.kind.value,
            e.display or "-",
            e.source_id,
            e.target_id or "-",
            provlog.reason_text(e),
        )
        for e in entries
    ]
    rows = [tuple(visible(cell) for cell in row) for row in rows]  # source values: no layout
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        out.print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), markup=False
        )
