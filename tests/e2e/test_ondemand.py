"""`syncer provision --id` takes the job's wiring and the cycle's guards, like the cycle itself.

Regression tests for issue 12: on demand used to build its own client and evaluation context
(no ``update_method``, no ``dialect``, no ``default_domain``) and skipped the cycle's guards.
"""

from __future__ import annotations

from datetime import UTC, datetime

from syncer.adapters.state.store import StateStore
from tests.e2e.conftest import ROOT, Workspace


def _clear(ws: Workspace) -> None:
    ws.server.reset_counts()


def _flag(ws: Workspace, key: str, value: object) -> None:
    with StateStore(f"sqlite:///{ws.state}") as store:
        store.set_flag("e2e", key, value)


def _plain_user(ws: Workspace) -> dict[str, object]:
    return next(u for u in ws.load()["users"] if u["accountEnabled"] and not u.get("manager"))


def test_provision_on_a_put_only_job_sends_put_never_patch(synced: Workspace) -> None:
    """update_method: put holds on demand too: a changed title goes out as GET + PUT."""
    text = synced.config.read_text().replace(
        "      retries: 2\n", "      retries: 2\n      update_method: put\n"
    )
    synced.config.write_text(text)
    data = synced.load()
    user = data["users"][5]
    user["jobTitle"] = "Principal"
    synced.save(data)
    _clear(synced)
    result = synced.run("provision", "--id", user["userPrincipalName"])  # the name, not the id
    assert f"Update user {user['userPrincipalName']}: Success" in result.stdout
    counts = synced.server.counts()
    assert "PATCH" not in counts and counts.get("PUT") == 1, counts
    assert synced.users()[user["userPrincipalName"]]["title"] == "Principal"


def test_provision_evaluates_the_mapping_with_the_jobs_default_domain(workspace: Workspace) -> None:
    """A mapping that calls DefaultDomain() provisions on demand with the job's default_domain."""
    workspace.mapping = workspace.root / "mapping.yaml"
    text = (ROOT / "mappings" / "asana.yaml").read_text(encoding="utf-8")
    workspace.mapping.write_text(
        text.replace("    source: jobTitle\n", '    expression: Join("@", "title", DefaultDomain())\n'),
        encoding="utf-8",
    )
    workspace.write_config(extra_job="    default_domain: example.org\n")
    user = _plain_user(workspace)
    result = workspace.run("provision", "--id", str(user["id"]))
    assert f"Create user {user['userPrincipalName']}: Success" in result.stdout, result.stdout
    assert workspace.users()[str(user["userPrincipalName"])]["title"] == "title@example.org"


def test_provision_refuses_a_paused_job_unless_forced(synced: Workspace) -> None:
    """A paused job is not provisioned on demand (nothing sent) until --force or `syncer resume`."""
    synced.run("pause")
    user = synced.load()["users"][5]
    synced.edit(lambda d: d["users"][5].__setitem__("jobTitle", "Principal"))
    _clear(synced)
    refused = synced.run("provision", "--id", user["id"], expect=1)
    assert "paused" in refused.stdout and "--force" in refused.stdout
    assert synced.server.writes() == 0
    forced = synced.run("provision", "--id", user["id"], "--force")
    assert f"Update user {user['userPrincipalName']}: Success" in forced.stdout


def test_provision_refuses_a_quarantined_job_unless_forced(synced: Workspace) -> None:
    """A job in quarantine is refused on demand, as Entra's provision on demand refuses it."""
    since = datetime.now(UTC).isoformat()
    quarantine = {"reason": "EscrowThresholdExceeded", "since": since, "detail": "too many", "attempts": 1}
    _flag(synced, "health", {"quarantine": quarantine, "disabled_reason": None})
    user = synced.load()["users"][5]
    _clear(synced)
    refused = synced.run("provision", "--id", user["id"], expect=1)
    assert "quarantine" in refused.stdout and "--force" in refused.stdout
    assert synced.server.counts() == {}
    synced.run("provision", "--id", user["id"], "--force")


def test_provision_retries_an_escrowed_object_now_and_clears_its_escrow(workspace: Workspace) -> None:
    """An escrowed object waiting for its backoff is sent on demand; success clears the escrow."""
    user = _plain_user(workspace)
    now = datetime.now(UTC)
    with workspace.sql_connection() as db:
        StateStore(f"sqlite:///{workspace.state}").close()  # create the schema
        db.execute(
            "insert into escrow (job, kind, source_id, display, attempts, skip_cycles, error_code, "
            "error, first_failed_at, last_failed_at) "
            "values ('e2e', 'user', ?, 'x', 2, 3, 'InvalidValue', 'no', ?, ?)",
            (user["id"], now.isoformat(), now.isoformat()),
        )
    result = workspace.run("provision", "--id", str(user["id"]))
    assert f"Create user {user['userPrincipalName']}: Success" in result.stdout, result.stdout
    assert workspace.sql("select count(*) from escrow") == [(0,)]


def test_provision_keeps_a_removal_the_threshold_held_unless_forced(synced: Workspace) -> None:
    """A user whose disable the deletion threshold holds stays held on demand; --force sends it.

    Once a cycle held them the job is quarantined (TooManyDeletes), and on demand says so.
    """
    synced.write_config(extra_job="    deprovision: {deletion_threshold: 1}\n")
    data = synced.load()
    leavers = [u for u in data["users"] if u["accountEnabled"]][40:43]
    for leaver in leavers:
        leaver["accountEnabled"] = False  # disabled in the source: the cycle disables them
    synced.save(data)
    upn = leavers[0]["userPrincipalName"]
    _clear(synced)
    held = synced.run("provision", "--id", leavers[0]["id"], expect=3)  # held: not done
    assert "StagedDelete" in held.stdout and "approve-deletions" in held.stdout, held.stdout
    assert synced.server.writes() == 0
    synced.run("provision", "--id", leavers[0]["id"], "--force")
    assert synced.users()[upn]["active"] is False
    assert synced.users()[leavers[1]["userPrincipalName"]]["active"] is True

    synced.run("sync", expect=3)  # holds the other two: the job is quarantined with TooManyDeletes
    refused = synced.run("provision", "--id", leavers[1]["id"], expect=1)
    assert "TooManyDeletes" in refused.stdout and "approve-deletions" in refused.stdout
    assert synced.users()[leavers[1]["userPrincipalName"]]["active"] is True
