"""Partial, lying or hostile sources never look like leavers; a regex never stalls a cycle (issue 11).

The real CLI against the real scim2-server, with real files cut and written as a broken export would.
"""

from __future__ import annotations

import time

from tests.e2e.conftest import Workspace


def test_hostile_scoping_regex_does_not_stall_sync(workspace: Workspace) -> None:
    """`REGEX MATCH ^(a+)+$` against a 5,000-character `a…a!` value: the sync finishes at once, in scope right."""
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
