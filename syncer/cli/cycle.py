"""The cycle commands: validate, test-connection, plan, sync, apply."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from syncer.cli.app import (
    DEFAULT_WAIT,
    JobOption,
    Wait,
    WaitTimeout,
    app,
    check_format,
    err,
    errors_to_exit,
    fail,
    job_lease,
    job_name,
    load,
    options,
    out,
)
from syncer.cli.outcome import cycle_document, cycle_report, quarantine_lines
from syncer.cli.targets import (
    check_source_names,
    check_target,
    connection_document,
    refuse_names,
    refuse_on,
)
from syncer.cli.views import coloured_plan
from syncer.core.rendering import render_json, render_text, verify_saved
from syncer.core.targetfit import unmapped_required
from syncer.errors import ConfigError, SyncerError
from syncer.runtime.configfile import LoadedConfig
from syncer.runtime.engine import CycleResult, check_job, run_cycle, shifted_clock
from syncer.runtime.jobcontext import compiled_mapping
from syncer.runtime.private import write_private
from syncer.runtime.progress import ProgressTracker, ProgressView
from syncer.runtime.standing import explain_scope, job_overview
from syncer.settings import JobSettings
from syncer.types import ObjectKind


def _print_json(document: dict[str, object]) -> None:
    """``--format json``: one document on stdout, never wrapped or marked up by rich."""
    out.print(json.dumps(document, indent=2, default=str), markup=False, soft_wrap=True)


@app.command()
def validate(
    online: Annotated[
        bool,
        typer.Option("--online", help="Also test each target and check the mapping against its schemas."),
    ] = False,
    source: Annotated[
        bool,
        typer.Option(
            "--source/--no-source",
            help="Read each source and check the mapped and scoping attribute names against it; "
            "--no-source validates offline.",
        ),
    ] = True,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Load the config and every mapping; exit 1 with errors that cite file and line."""
    check_format(fmt)
    with errors_to_exit():
        try:
            config = load()
        except ConfigError as exc:
            if fmt == "json":  # the error cites file:line; the document carries it for scripts
                out.print(
                    json.dumps({"ok": False, "errors": [str(exc)]}, indent=2), markup=False, soft_wrap=True
                )
            raise
        for job in config.settings.jobs:
            check_job(config, job)
            for override in job.target.profile_overrides():
                err.print(f"warning: job {job.name}: {override}", markup=False)
            for warning in required_unmapped(config, job):
                err.print(f"warning: job {job.name}: {warning}", markup=False)
        if source:
            refuse_names(sum(check_source_names(config, job) for job in config.settings.jobs))
        errors = [
            e
            for job in config.settings.jobs
            for e in (check_target(config, job, save=False).errors if online else ())
        ]
        refuse_on(errors)
        names = ", ".join(job.name for job in config.settings.jobs)
        if fmt == "json":
            document = {
                "ok": True,
                "config": str(options.config),
                "jobs": [j.name for j in config.settings.jobs],
            }
            out.print(json.dumps(document, indent=2), markup=False, soft_wrap=True)
            return
        out.print(f"{options.config}: valid ({len(config.settings.jobs)} job(s): {names})", markup=False)


@app.command("test-connection")
def test_connection_command(
    job: JobOption = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Entra's Test Connection, then the target's capabilities held against the job's mapping."""
    check_format(fmt)
    with errors_to_exit():
        config = load()
        settings = config.settings.job(job)
        report = check_target(config, settings, show=fmt == "text")
        if fmt == "json":
            out.print(
                json.dumps(connection_document(settings, report), indent=2), markup=False, soft_wrap=True
            )
        refuse_on(report.errors)


def _fixed_clock(text: str) -> Callable[[], datetime]:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--as-of: expected an ISO 8601 time such as 2026-12-01T09:00:00+00:00, got {text!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return lambda: moment


def _show_plan(result: CycleResult, fmt: str, *, show_skipped: bool = False) -> None:
    if fmt == "json":
        out.print(render_json(result.plan), end="", markup=False)
    else:
        out.print(coloured_plan(render_text(result.plan, show_skipped=show_skipped)), end="")


@app.command()
def plan(
    job: JobOption = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also save the plan (JSON) for `syncer apply`.")
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode",
            help="Exit 2 when the plan has changes, held removals or held attribute changes; 0 when none.",
        ),
    ] = False,
    why: Annotated[
        str | None, typer.Option("--why", help="Print the scope evaluation of one source object and stop.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Plan as if it were this time (ISO 8601): which leavers would be deleted then."
        ),
    ] = None,
    show_skipped: Annotated[
        bool,
        typer.Option(
            "--show-skipped", help="List every object out of scope with its clause (JSON always has them)."
        ),
    ] = False,
) -> None:
    """The dry-run diff: what a sync would send. Writes nothing to the target or the state."""
    check_format(fmt)
    if why is not None:
        with errors_to_exit():
            config = load()
            name = config.settings.job(job).name
            try:
                lines = explain_scope(config, name, why)
            except KeyError as exc:  # the source holds no object with that id
                fail(str(exc.args[0]) if exc.args else str(exc))
            for line in lines:
                out.print(line, markup=False)
        return
    with errors_to_exit():
        clock = _fixed_clock(as_of) if as_of else None  # None: the cycle's clock ($SYNCER_NOW or now)
        result = run_cycle(load(), job, mode="plan", clock=clock)
        _show_plan(result, fmt, show_skipped=show_skipped)
        if out_file is not None:
            try:
                write_private(out_file, render_json(result.plan))
            except OSError as exc:
                fail(f"{out_file}: cannot write the plan: {exc.strerror or exc}")
            err.print(f"plan saved to {out_file}; apply it with: syncer apply {out_file}", markup=False)
    if detailed_exitcode and result.plan.pending:
        raise typer.Exit(2)


def _progress_runner(label: str) -> tuple[ProgressTracker | None, Progress | None]:
    """A bar on a terminal: phase, changes done of total, requests per second, errors; none otherwise."""
    if not sys.stderr.isatty():
        return None, None
    progress = Progress(
        TextColumn(label),
        TextColumn("{task.fields[phase]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.0f} req/s, {task.fields[errors]} errors"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = progress.add_task(label, total=None, phase="reading and matching", rate=0.0, errors=0)

    def update(view: ProgressView) -> None:
        progress.update(
            task, completed=view.done, total=view.total, phase=view.phase, rate=view.rate, errors=view.errors
        )

    return ProgressTracker(update), progress


def _report(result: CycleResult, told: list[str], fmt: str = "text") -> int:
    """Print the cycle's summary and what it did to the quarantine; returns the exit code it calls for."""
    if fmt == "json":
        document = cycle_document(result, told)
        out.print(json.dumps(document, indent=2, default=str), markup=False, soft_wrap=True)
        return int(str(document["exit_code"]))
    report = cycle_report(result)
    for line in report.err:
        err.print(line, markup=False)
    for line in (*report.out, *told):
        out.print(line, markup=False)
    return report.exit_code


def _told_sync(
    config: LoadedConfig,
    job: str,
    saved: dict[str, Any] | None,
    clock: Callable[[], datetime] | None = None,
) -> tuple[CycleResult, list[str]]:
    """Run the cycle, and say what it did to the job's quarantine (on its error, as notes on it)."""
    before = job_overview(config, job).health
    try:
        result = _sync(config, job, saved, clock)
    except SyncerError as exc:
        for line in quarantine_lines(before, job_overview(config, job)):
            exc.add_note(line)
        raise
    return result, quarantine_lines(before, job_overview(config, job))


class _StopOnSignal:
    """Ctrl-C or SIGTERM during a manual run: stop sending, let requests in flight end, record the run.

    The first signal asks the cycle to stop (the daemon's hook: what is in flight is answered and
    logged, nothing more is sent, the run ends ``stopped`` and the summary says what was left);
    a second one interrupts at once, as a user pressing Ctrl-C twice expects.
    """

    def __init__(self) -> None:
        self.reason: str | None = None
        self._before: dict[int, Any] = {}

    def __call__(self) -> str | None:
        return self.reason

    def _handle(self, signum: int, frame: object) -> None:
        if self.reason is not None:
            raise KeyboardInterrupt
        name = signal.Signals(signum).name
        self.reason = f"{name} received: stopping after the requests in flight (again to interrupt at once)"
        err.print(
            f"{name}: stopping after the requests in flight; press Ctrl-C again to interrupt.", markup=False
        )

    def __enter__(self) -> _StopOnSignal:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._before[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._before.items():
            signal.signal(signum, handler)


def _sync(
    config: LoadedConfig,
    job: str | None,
    saved: dict[str, Any] | None,
    clock: Callable[[], datetime] | None = None,
) -> CycleResult:
    tracker, progress = _progress_runner("syncing")
    with _StopOnSignal() as stop:
        if progress is None or tracker is None:
            return run_cycle(config, job, mode="sync", saved_plan=saved, clock=clock, stop=stop)
        with progress, tracker.observing():
            return run_cycle(
                config,
                job,
                mode="sync",
                saved_plan=saved,
                clock=clock,
                on_progress=tracker.on_progress,
                stop=stop,
            )


@app.command()
def sync(
    job: JobOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan instead of applying it.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Run as if it were this time (ISO 8601); the clock runs on from there."),
    ] = None,
    wait: Wait = False,
    wait_timeout: WaitTimeout = DEFAULT_WAIT,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Run one cycle now (the initial cycle when the job has no state yet)."""
    check_format(fmt)
    with errors_to_exit():
        config = load()
        clock = shifted_clock(_fixed_clock(as_of)()) if as_of else None
        if dry_run:
            _show_plan(run_cycle(config, job, mode="plan", clock=clock), "text")
            return
        name = job_name(config, job)
        with job_lease(config, name, "sync", wait, wait_timeout):
            result, told = _told_sync(config, name, None, clock)
        code = _report(result, told, fmt)
    if code:
        raise typer.Exit(code)


@app.command()
def apply(
    plan_file: Annotated[Path, typer.Argument(help="A plan saved with `syncer plan --out FILE`.")],
    wait: Wait = False,
    wait_timeout: WaitTimeout = DEFAULT_WAIT,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Apply a saved plan exactly as reviewed; refuse it if anything it was made from moved."""
    check_format(fmt)
    with errors_to_exit():
        try:
            data = json.loads(plan_file.read_text(encoding="utf-8"))
            verify_saved(data)
        except (OSError, ValueError) as exc:
            fail(f"{plan_file}: {exc}")
        config = load()
        name = job_name(config, str(data["job"]))
        with job_lease(config, name, "apply", wait, wait_timeout):
            result, told = _told_sync(config, name, data)
        code = _report(result, told, fmt)
    if code:
        raise typer.Exit(code)


def required_unmapped(config: LoadedConfig, job: JobSettings) -> list[str]:
    """What the target's profile requires of every user that the job's mapping never maps."""
    quirks = job.target.quirks
    if not quirks.required_user_attributes:
        return []
    mapping = compiled_mapping(config, job).of(ObjectKind.USER)
    if not mapping.enabled:
        return []
    paths = [a.path for a in mapping.attributes]
    return [
        f"{quirks.title} requires {path} on every user and the mapping maps no users.{path}: "
        "every user will be skipped"
        for path in unmapped_required(paths, quirks)
    ]
