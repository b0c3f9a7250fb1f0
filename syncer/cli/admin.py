"""Standing and the daemon: status, approve-deletions, approve-changes, run."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from syncer.cli.app import (
    DEFAULT_WAIT,
    JobOption,
    Wait,
    WaitTimeout,
    app,
    check_format,
    errors_to_exit,
    job_lease,
    load,
    options,
    out,
)
from syncer.cli.views import standing_json, status_lines
from syncer.core.display import visible
from syncer.runtime.changehold import approve_changes
from syncer.runtime.daemon import Daemon
from syncer.runtime.engine import check_job
from syncer.runtime.standing import approve_deletions


@app.command()
def status(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Job name (default: every job).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """State, last and next cycle, quarantine, escrow and held deletions of each job."""
    check_format(fmt)
    with errors_to_exit():
        config = load()
        names = [config.settings.job(job).name] if job else [j.name for j in config.settings.jobs]
        if fmt == "json":
            out.print(json.dumps(standing_json(config, names), indent=2), markup=False)
            return
        for name in names:
            for line in status_lines(config, name):
                out.print(visible(line), markup=False)


@app.command("approve-deletions")
def approve_deletions_command(
    job: JobOption = None,
    wait: Wait = False,
    wait_timeout: WaitTimeout = DEFAULT_WAIT,
) -> None:
    """Release exactly the disables and deletes the deletion threshold held (and a refused source shrink)."""
    with errors_to_exit():
        config = load()
        name = config.settings.job(job).name
        with job_lease(config, name, "approve-deletions", wait, wait_timeout):
            approved = approve_deletions(config, name)
        if not approved:
            out.print(f"job {name}: nothing is held; nothing to approve.", markup=False)
            return
        for line in approved:
            out.print(visible(f"approved: {line}"), markup=False)
        out.print(
            f"They are sent by the next cycle of job {name} (`syncer sync --job {name}`).", markup=False
        )


@app.command("approve-changes")
def approve_changes_command(
    job: JobOption = None,
    wait: Wait = False,
    wait_timeout: WaitTimeout = DEFAULT_WAIT,
) -> None:
    """Release exactly the attribute changes the change threshold held (as `syncer status` lists them)."""
    with errors_to_exit():
        config = load()
        name = config.settings.job(job).name
        with job_lease(config, name, "approve-changes", wait, wait_timeout):
            approved = approve_changes(config, name)
        if not approved:
            out.print(f"job {name}: no attribute changes are held; nothing to approve.", markup=False)
            return
        for line in approved:
            out.print(visible(f"approved: {line}"), markup=False)
        out.print(
            f"They are sent by the next cycle of job {name} (`syncer sync --job {name}`).", markup=False
        )


@app.command()
def run() -> None:
    """The daemon: every job on its schedule until SIGTERM/SIGINT; SIGHUP reloads the config."""
    with errors_to_exit():
        config = load()
        for job in config.settings.jobs:
            check_job(config, job)
        daemon = Daemon(options.config, config)
    raise typer.Exit(daemon.run())
