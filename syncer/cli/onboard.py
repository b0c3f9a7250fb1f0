"""``syncer discover``: the admin's view of a target that already has people in it, before the first sync."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Annotated

import typer

from syncer.cli.app import JobOption, app, errors_to_exit, fail, load, out
from syncer.core.accounts import Inventory, Standing, TargetAccount
from syncer.runtime.accounts import discover
from syncer.runtime.engine import cycle_clock
from syncer.runtime.jobcontext import JobContext
from syncer.types import ObjectKind

FORMATS = ("table", "json", "csv")
COLUMNS = ("kind", "standing", "name", "target_id", "source", "matched_by")


@app.command("discover")
def discover_command(
    job: JobOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    standing: Annotated[
        list[Standing] | None,
        typer.Option("--standing", help="Only objects of this standing (repeatable)."),
    ] = None,
) -> None:
    """List the target's users and groups as linked, would-match or unmanaged; write nothing.

    Entra's account discovery: run it before the first sync into a tenant that already has
    accounts, to see which ones syncer would take over, by which matching attribute, and which it
    leaves alone.
    """
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    with errors_to_exit():
        config = load()
        context = JobContext.build(config, job)
        inventory = asyncio.run(discover(context, cycle_clock()()))
    shown = [a for a in inventory.accounts if not standing or a.standing in standing]
    if fmt == "json":
        out.print(json.dumps(_document(context.name, inventory, shown), indent=2), markup=False)
    elif fmt == "csv":
        out.print(_csv(shown), end="", markup=False)
    else:
        _table(shown)
        for line in summary(inventory):
            out.print(line, markup=False)


def _row(account: TargetAccount) -> dict[str, str | list[str] | None]:
    return {
        "kind": account.kind.value,
        "standing": account.standing.value,
        "name": account.name,
        "target_id": account.target_id,
        "source": list(account.source_ids),
        "matched_by": account.matched_by,
    }


def _document(job: str, inventory: Inventory, shown: list[TargetAccount]) -> dict[str, object]:
    return {
        "job": job,
        "counts": {
            kind.value: {
                **{s.value: inventory.counts(kind).get(s, 0) for s in Standing},
                "to_create": inventory.to_create.get(kind, 0),
                "links_missing": inventory.links_missing.get(kind, 0),
            }
            for kind in inventory.to_create
        },
        "objects": [_row(a) for a in shown],
    }


def _cells(account: TargetAccount, separator: str) -> tuple[str, ...]:
    """One row, as the table and the CSV show it (``separator`` joins several source ids)."""
    return (
        account.kind.value,
        account.standing.value,
        account.name,
        account.target_id,
        separator.join(account.source_ids),
        account.matched_by or "",
    )


def _csv(shown: list[TargetAccount]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_cells(account, " ") for account in shown)
    return buffer.getvalue()


HEADERS = ("KIND", "STANDING", "NAME", "TARGET ID", "SOURCE", "MATCHED BY")


def _table(shown: list[TargetAccount]) -> None:
    """One line per object, columns aligned, never wrapped: greppable, and names stay whole."""
    if not shown:
        return
    rows = [HEADERS, *(_cells(account, ", ") for account in shown)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    for row in rows:
        out.print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), markup=False
        )


def summary(inventory: Inventory) -> list[str]:
    """One line per kind: the counts by standing, what the first sync would create, and missing links."""
    lines = []
    for kind in inventory.to_create:
        counts = inventory.counts(kind)
        plural = "users" if kind is ObjectKind.USER else "groups"
        parts = [f"{counts.get(s, 0)} {s.value}" for s in Standing]
        line = f"Target {plural}: " + ", ".join(parts)
        line += f"; {inventory.to_create[kind]} source {plural} match nothing (a sync creates them)"
        if inventory.links_missing.get(kind):
            line += f"; {inventory.links_missing[kind]} linked {plural} are gone from the target"
        lines.append(line + ".")
    lines.append("Nothing was written: unmanaged objects are never modified or deleted by syncer.")
    return lines
