"""The change threshold: a mapping change that clears ``title`` for everyone is held until approved.

A mass change to one attribute is what a mapping typo or a source export that lost a column
looks like; nobody is removed, so the deletion threshold does not see it. The held changes are
shown by ``plan``, counted by ``sync``, listed by ``status``, kept held by every later cycle,
and released, exactly, by ``approve-changes``.
"""

from __future__ import annotations

import pytest

from syncer.cli.app import HELD_REMOVALS
from tests.e2e.conftest import ROOT, Workspace
from tests.e2e.test_daemon import _configure, daemon, finished_runs, wait_for

pytestmark = pytest.mark.e2e

HELD_EXIT = HELD_REMOVALS
"""What ``sync`` exits with when it held work: 3 once held removals exit 3 (the ``held`` work), else 0."""


def clear_titles(ws: Workspace, extra_job: str = "") -> None:
    """Point ``title`` at an attribute no record has: every linked user's title would be cleared."""
    mapping = ws.root / "asana.yaml"
    text = (ROOT / "mappings" / "asana.yaml").read_text("utf-8")
    mapping.write_text(text.replace("source: jobTitle", "source: positionTitle"), "utf-8")
    ws.mapping = mapping
    ws.write_config(extra_job=extra_job)


def titles(ws: Workspace) -> dict[str, str | None]:
    return {name: user.get("title") for name, user in ws.users().items()}


def test_clearing_title_for_everyone_is_held_until_approve_changes(synced: Workspace) -> None:
    linked = len(synced.users())
    before = titles(synced)
    assert linked >= 10 and all(before.values())
    clear_titles(synced)
    synced.edit(lambda d: d["users"][0].update(department="Research"))  # another attribute, one user

    planned = synced.run("plan", "--detailed-exitcode", expect=2)
    held = (
        f"~ held: title would be cleared on {linked} of {linked} linked users (100% > change_threshold 50%): "
        "syncer approve-changes --job e2e"
    )
    assert held in planned.stdout.splitlines()
    assert "No changes. The target is up to date." not in planned.stdout
    assert "title" not in "".join(line for line in planned.stdout.splitlines() if line.startswith("~ update"))

    synced.server.reset_counts()
    result = synced.run("sync", expect=HELD_EXIT)
    assert f"Held: {linked} attribute changes by the change threshold (not sent):" in result.stdout
    assert held in result.stdout.splitlines()
    assert titles(synced) == before  # no title was touched ...
    first = synced.load()["users"][0]["userPrincipalName"]
    assert (
        synced.users()[first]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"]
        == "Research"
    )  # ... while the other attribute of the same user went through
    assert synced.server.writes() == 1

    status = synced.run("status").stdout
    assert f"  held changes: {linked} attribute changes" in status
    assert f"    title would be cleared on {linked} of {linked} linked users" in status
    assert "syncer approve-changes --job e2e" in status

    # the next cycle holds them again: nothing is lost because one cycle did not send it
    again = synced.run("sync", expect=HELD_EXIT)
    assert held in again.stdout.splitlines() and titles(synced) == before

    approved = synced.run("approve-changes")
    assert f"approved: title would be cleared on {linked} of {linked} linked users" in approved.stdout
    assert "held changes" not in synced.run("status").stdout
    assert "~ held:" not in synced.run("plan").stdout  # the approval shows in the plan
    done = synced.run("sync")
    assert "Held:" not in done.stdout
    assert all(v is None for v in titles(synced).values())
    # the approval is used up; the cycle after has nothing left to send
    assert "No changes. The target is up to date." in synced.run("plan").stdout
    assert synced.run("approve-changes").stdout.startswith("job e2e: no attribute changes are held")


def test_change_threshold_none_sends_the_change_at_once(synced: Workspace) -> None:
    clear_titles(synced, extra_job="    safety: {change_threshold: none}\n")
    result = synced.run("sync")
    assert "Held:" not in result.stdout
    assert all(v is None for v in titles(synced).values())


def test_a_change_to_one_of_many_users_passes(synced: Workspace) -> None:
    def retitle(data: dict[str, object]) -> None:
        data["users"][0]["jobTitle"] = "Chief Vibes Officer"  # type: ignore[index]

    synced.edit(retitle)
    assert "~ held:" not in synced.run("plan").stdout
    synced.run("sync")
    first = synced.load()["users"][0]["userPrincipalName"]
    assert synced.users()[first]["title"] == "Chief Vibes Officer"


def test_a_count_threshold_and_the_minimum_of_affected_users(synced: Workspace) -> None:
    """``change_threshold: 5`` holds 6 changed titles; a minimum of 7 affected users lets them through."""

    def retitle_six(data: dict[str, object]) -> None:
        for user in data["users"][:6]:  # type: ignore[index]
            user["jobTitle"] = "Renamed"

    synced.edit(retitle_six)
    synced.write_config(extra_job="    safety: {change_threshold: 5, change_threshold_min_users: 1}\n")
    linked = len(synced.users())
    plan = synced.run("plan").stdout
    assert f"~ held: title would change on 6 of {linked} linked users (6 > change_threshold 5)" in plan
    synced.write_config(extra_job="    safety: {change_threshold: 5, change_threshold_min_users: 7}\n")
    assert "~ held:" not in synced.run("plan").stdout


def test_a_bad_change_threshold_is_refused_at_its_line(workspace: Workspace) -> None:
    workspace.write_config(extra_job="    safety: {change_threshold: lots}\n")
    result = workspace.run("validate", expect=1)
    assert "change_threshold" in result.stderr and "lots" in result.stderr


def test_the_daemon_keeps_holding_them_every_cycle(synced: Workspace) -> None:
    before = titles(synced)
    clear_titles(synced)
    _configure(synced, metrics_port=None)  # the same mapping, cycles every second
    runs = len(finished_runs(synced))
    with daemon(synced) as d:
        wait_for("three daemon cycles", lambda: len(finished_runs(synced)) >= runs + 3)
        assert d.stop() == 0
    assert titles(synced) == before
    assert synced.server.writes() == 0
    assert "title would be cleared on" in synced.run("status").stdout
