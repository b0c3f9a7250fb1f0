"""Acting on one job: provision on demand, approve-config, restart, pause, resume."""

from __future__ import annotations

from typing import Annotated

import typer

from syncer.cli.app import (
    DEFAULT_WAIT,
    HELD_REMOVALS,
    JobOption,
    Wait,
    WaitTimeout,
    app,
    errors_to_exit,
    job_lease,
    job_name,
    load,
    out,
)
from syncer.core.display import visible
from syncer.runtime import standing
from syncer.runtime.engine import utc_now
from syncer.runtime.ondemand import provision_on_demand
from syncer.runtime.standing import approve_config


@app.command()
def provision(
    source_id: Annotated[
        str, typer.Option("--id", help="The source id of a user, or a group (up to 5 members).")
    ],
    job: JobOption = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Also when the job is paused or quarantined, or the removal is held."),
    ] = False,
    wait: Wait = False,
    wait_timeout: WaitTimeout = DEFAULT_WAIT,
) -> None:
    """Provision on demand: one object through import, scoping, matching and action, now."""
    with errors_to_exit():
        config = load()
        with job_lease(config, job, "provision", wait, wait_timeout):
            result = provision_on_demand(config, job_name(config, job), source_id, force=force)
    for number, step in enumerate(result.steps, start=1):
        out.print(visible(f"{number}. {step.name}: {step.status}"), markup=False)
        for line in step.lines:
            out.print(visible(f"   {line}"), markup=False)
    if not result.ok:
        raise typer.Exit(1)
    if result.held:
        raise typer.Exit(HELD_REMOVALS)  # the removal waits for approve-deletions: not done


@app.command("approve-config")
def approve_config_command(
    job: JobOption = None,
    wait: Wait = False,
    wait_timeout: WaitTimeout = DEFAULT_WAIT,
) -> None:
    """Accept a changed mapping or scope, so the daemon runs the cycle hold_on_config_change held."""
    with errors_to_exit():
        config = load()
        settings = config.settings.job(job)
        with job_lease(config, job, "approve-config", wait, wait_timeout):
            released = approve_config(config, settings)
    if released:
        out.print(
            f"job {settings.name}: the config change is approved; the next cycle runs it.", markup=False
        )
    else:
        out.print(f"job {settings.name}: no cycle was held; the current config is recorded.", markup=False)


@app.command()
def restart(
    job: JobOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Also drop the links: every object is matched again.")
    ] = False,
    wait: Wait = False,
    wait_timeout: WaitTimeout = DEFAULT_WAIT,
) -> None:
    """Clear escrow, quarantine and change tracking: the next cycle is an initial one."""
    with errors_to_exit():
        config = load()
        name = job_name(config, job)
        with job_lease(config, name, "restart", wait, wait_timeout):
            standing.restart(config, name, full=full)
    what = (
        "links, escrow, quarantine and change tracking" if full else "escrow, quarantine and change tracking"
    )
    out.print(f"job {name}: restarted ({what} cleared); the next cycle is an initial one.", markup=False)


@app.command()
def pause(
    job: JobOption = None,
) -> None:
    """Stop running the job's cycles; its state is kept (Entra's provisioning status Off)."""
    with errors_to_exit():
        config = load()
        name = job_name(config, job)
        changed = standing.pause(config, name, utc_now())
    out.print(f"job {name}: {'paused' if changed else 'already paused'}.", markup=False)


@app.command()
def resume(
    job: JobOption = None,
) -> None:
    """Run the job's cycles again, from where it left off."""
    with errors_to_exit():
        config = load()
        name = job_name(config, job)
        changed = standing.resume(config, name)
    out.print(f"job {name}: {'resumed' if changed else 'was not paused'}.", markup=False)
