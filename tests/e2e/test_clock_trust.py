"""Time can lie: a cycle on a clock the run history cannot vouch for ages nothing until approved (issue 11).

The real CLI against the real scim2-server; the cycle's clock is set with ``SYNCER_NOW``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.conftest import Workspace


def _remove(workspace: Workspace, count: int) -> list[dict[str, Any]]:
    data = workspace.load()
    gone = data["users"][20 : 20 + count]
    ids = {u["id"] for u in gone}
    data["users"] = [u for u in data["users"] if u["id"] not in ids]
    for group in data["groups"]:
        group["members"] = [m for m in group["members"] if m not in ids]
    workspace.save(data)
    return gone


def _at(offset: timedelta) -> dict[str, str]:
    return {"SYNCER_NOW": (datetime.now(UTC) + offset).isoformat()}


def test_a_clock_a_year_behind_stamps_nothing_and_the_next_cycle_deletes_nobody(synced: Workspace) -> None:
    """Leavers disabled on a clock 365 days behind are not hard-deleted by the next, correct, cycle."""
    gone = _remove(synced, 2)
    behind = synced.run("sync", env=_at(timedelta(days=-365)))
    assert "clock_distrusted" in behind.stderr and "earlier than the last run" in behind.stderr
    users = synced.users()
    assert all(users[u["userPrincipalName"]]["active"] is False for u in gone)
    synced.run("sync")
    users = synced.users()
    assert all(u["userPrincipalName"] in users for u in gone), "a leaver was hard-deleted on a lying clock"


def test_a_40_day_jump_deletes_nobody_until_approved(synced: Workspace) -> None:
    """After a 40-day jump, cycles on that clock delete nobody; approve-deletions lets the next one age."""
    gone = _remove(synced, 5)
    synced.run("sync")
    assert all(synced.users()[u["userPrincipalName"]]["active"] is False for u in gone)
    ahead = _at(timedelta(days=40))
    jumped = synced.run("sync", env=ahead)
    assert "later than the schedule explains" in jumped.stderr
    synced.run("sync", env=ahead)  # a clock that stays wrong stays distrusted
    assert all(u["userPrincipalName"] in synced.users() for u in gone)
    approved = synced.run("approve-deletions", "--job", "e2e").stdout
    assert "the clock distrusted" in approved
    synced.run("sync", env=ahead)
    assert not any(u["userPrincipalName"] in synced.users() for u in gone)
