"""Partial, lying or hostile sources never look like leavers; a regex never stalls a cycle (issue 11).

The real CLI against the real scim2-server, with real files cut and written as a broken export would.
"""

from __future__ import annotations

import time

from tests.e2e.conftest import Workspace


def test_hostile_scoping_regex_does_not_stall_sync(workspace: Workspace) -> None:
    """`REGEX MATCH ^(a+)+$` against a 5,000-character `a…a!` value: the sync finishes at once, right."""
    workspace.write_config(
        extra_job="    scope:\n      users:\n"
        "        - - {attribute: employeeId, operator: NOT REGEX MATCH, value: '^(a+)+$'}\n"
    )
    data = workspace.load()
    hostile = data["users"][3]
    hostile["employeeId"] = "a" * 5000 + "!"
    workspace.save(data)
    started = time.monotonic()
    workspace.run("sync")
    assert time.monotonic() - started < 30
    assert hostile["userPrincipalName"] in workspace.users()


CSV_HEADER = "id,userPrincipalName,givenName,surname,accountEnabled,employeeId\n"


def _csv_rows(count: int) -> list[str]:
    return [f"u{i:03d},user{i:03d}@contoso.com,Given{i},Surname{i},true,E{i:04d}\n" for i in range(count)]


def _csv_workspace(workspace: Workspace, extra_job: str = "") -> Workspace:
    """The workspace reading a 90-person CSV export instead of the JSON directory."""
    workspace.write_config(extra_job=extra_job)
    text = workspace.config.read_text("utf-8").replace("path: directory.json", "path: users.csv")
    workspace.config.write_text(text, "utf-8")
    return workspace


def _active(workspace: Workspace) -> int:
    return sum(1 for u in workspace.users().values() if u.get("active"))


def test_csv_cut_mid_record_is_refused_and_nobody_is_disabled(workspace: Workspace) -> None:
    """A 90-person export cut at 53%, mid-record: sync exits 1 naming the file and disables nobody."""
    ws = _csv_workspace(workspace)
    rows = _csv_rows(90)
    export = ws.root / "users.csv"
    export.write_text(CSV_HEADER + "".join(rows), "utf-8")
    ws.run("sync")
    assert _active(ws) == 90
    with ws.server._counting.lock:
        ws.server._counting.counts.clear()
    whole = CSV_HEADER + "".join(rows)
    export.write_text(whole[: int(len(whole) * 0.53)], "utf-8")  # the export job is still writing
    result = ws.run("sync", expect=1)
    assert "users.csv" in result.stderr and "cut off" in result.stderr
    assert ws.server.writes() == 0
    assert _active(ws) == 90


def test_csv_cut_at_a_record_boundary_is_refused_by_the_default_shrink_guard(workspace: Workspace) -> None:
    """Cut at half, on a line end (undetectable in the file): the default shrink guard refuses it."""
    ws = _csv_workspace(workspace)
    rows = _csv_rows(90)
    export = ws.root / "users.csv"
    export.write_text(CSV_HEADER + "".join(rows), "utf-8")
    ws.run("sync")
    with ws.server._counting.lock:
        ws.server._counting.counts.clear()
    export.write_text(CSV_HEADER + "".join(rows[:45]), "utf-8")
    result = ws.run("sync", expect=1)
    assert "45 fewer than the 90 of the last cycle" in result.stderr
    assert ws.server.writes() == 0 and _active(ws) == 90


def test_default_threshold_holds_a_half_export_even_without_the_shrink_guard(workspace: Workspace) -> None:
    """With the shrink guard off, the default percentage threshold (10% of 90) holds 45 disables."""
    ws = _csv_workspace(workspace, extra_job="    deprovision: {max_source_shrink: 100%}\n")
    rows = _csv_rows(90)
    export = ws.root / "users.csv"
    export.write_text(CSV_HEADER + "".join(rows), "utf-8")
    ws.run("sync")
    export.write_text(CSV_HEADER + "".join(rows[:45]), "utf-8")
    ws.run("sync", expect=3)  # held removals: pending work, exit 3
    assert _active(ws) == 90
    status = ws.run("status").stdout
    assert "quarantine: TooManyDeletes" in status and "held deletions: 45" in status


def test_a_huge_cell_skips_its_record_and_the_rest_is_provisioned(workspace: Workspace) -> None:
    """A 1M-character cell skips that user (logged with its line); the other 89 are created, exit 0."""
    ws = _csv_workspace(workspace)
    rows = _csv_rows(90)
    rows[10] = f"u010,user010@contoso.com,{'x' * 1_000_000},S,true,E0010\n"
    (ws.root / "users.csv").write_text(CSV_HEADER + "".join(rows), "utf-8")
    result = ws.run("sync")
    assert _active(ws) == 89 and "user010@contoso.com" not in ws.users()
    assert "users.csv:12" in result.stderr + result.stdout


def test_deleting_a_big_group_counts_its_members_against_the_threshold(synced: Workspace) -> None:
    """A group of 21 gone from the source counts 22 removals: over 10% of 65 managed, so it is held."""
    data = synced.load()
    data["groups"] = [g for g in data["groups"] if g["displayName"] != "Engineering"]
    synced.save(data)
    synced.run("sync", expect=3)  # held removals: pending work, exit 3
    assert "Engineering" in synced.groups()
    status = synced.run("status").stdout
    assert "quarantine: TooManyDeletes" in status
