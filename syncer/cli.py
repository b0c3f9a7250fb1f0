"""The ``syncer`` command: the only module that prints, and the one that picks exit codes.

Exit codes: 0 done; 1 an error (invalid config, unreadable source, failed objects, refused
plan); 2 with ``plan --detailed-exitcode`` when the plan has changes.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from syncer.core.rendering import render_json, render_text, summary, verify_saved
from syncer.errors import (
    ConfigError,
    NotFoundError,
    PermanentTargetError,
    SyncerError,
    TransientTargetError,
    UnauthorizedError,
)
from syncer.runtime import logging as runtime_logging
from syncer.runtime.configfile import LoadedConfig, load_config
from syncer.runtime.connection import test_connection
from syncer.runtime.engine import CycleResult, check_supported, compiled_mapping, open_source, run_cycle

app = typer.Typer(
    name="syncer",
    help="Provision users and groups from a source directory into a SCIM 2.0 app, the way Entra ID does.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# emoji=False: a source value such as "Head of :rocket:" must print as written, not as an emoji
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


class _Options:
    config: Path = Path("config.yaml")


options = _Options()


@app.callback()
def main_options(
    config: Annotated[
        Path | None,
        typer.Option("-c", "--config", help="Config file (default ./config.yaml, or $SYNCER_CONFIG)."),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "warning",
    log_json: Annotated[bool | None, typer.Option("--log-json/--log-console", help="Log format.")] = None,
) -> None:
    options.config = config or Path(os.environ.get("SYNCER_CONFIG", "config.yaml"))
    runtime_logging.configure(json=log_json, level=log_level)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


@contextmanager
def errors_to_exit() -> Iterator[None]:
    """Every error a user can cause ends as one clear line on stderr and exit 1, never a traceback."""
    try:
        yield
    except ConfigError as exc:
        fail(str(exc))
    except UnauthorizedError as exc:
        # a 401/403 while matching, before the executor could say so: name the credentials
        fail(f"the target refused the credentials ({exc.status}): check the token. {exc}")
    except SyncerError as exc:
        fail(str(exc))
    except KeyError as exc:
        fail(str(exc.args[0]) if exc.args else str(exc))


def load() -> LoadedConfig:
    return load_config(options.config)


@app.command()
def validate() -> None:
    """Load the config and every mapping; exit 1 with errors that cite file and line."""
    with errors_to_exit():
        config = load()
        for job in config.settings.jobs:
            check_supported(job)
            compiled_mapping(config, job)
            open_source(config, job)
        names = ", ".join(job.name for job in config.settings.jobs)
        out.print(f"{options.config}: valid ({len(config.settings.jobs)} job(s): {names})", markup=False)


@app.command("test-connection")
def test_connection_command(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Job name (optional with one job).")] = None,
) -> None:
    """Entra's Test Connection: query a random userName and expect 200 with an empty list."""
    with errors_to_exit():
        config = load()
        job_settings = config.settings.job(job)
        try:
            test_connection(config, job_settings)
        except UnauthorizedError as exc:
            fail(f"the target refused the credentials ({exc.status}): check the token. {exc}")
        except NotFoundError as exc:
            fail(
                f"404 from {job_settings.target.url}: the URL is not a SCIM endpoint "
                f"(check the base URL). {exc}"
            )
        except TransientTargetError as exc:
            fail(f"cannot reach {job_settings.target.url}: {exc}")
        except PermanentTargetError as exc:
            fail(f"test connection failed: {exc}")
        out.print(f"Test connection to {job_settings.target.url} succeeded.", markup=False)


def _show_plan(result: CycleResult, fmt: str) -> None:
    if fmt == "json":
        out.print(render_json(result.plan), end="", markup=False)
    else:
        out.print(render_text(result.plan), end="", markup=False)


def _check_format(fmt: str) -> str:
    if fmt not in ("text", "json"):
        fail(f"--format must be text or json, not {fmt!r}")
    return fmt


@app.command()
def plan(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Job name (optional with one job).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also save the plan (JSON) for `syncer apply`.")
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 2 when the plan has changes, 0 when it has none."),
    ] = False,
) -> None:
    """The dry-run diff: what a sync would send. Writes nothing to the target or the state."""
    _check_format(fmt)
    with errors_to_exit():
        result = run_cycle(load(), job, mode="plan")
        _show_plan(result, fmt)
        if out_file is not None:
            try:
                out_file.write_text(render_json(result.plan), encoding="utf-8")
            except OSError as exc:
                fail(f"cannot write the plan to {out_file}: {exc.strerror or exc}")
            err.print(f"plan saved to {out_file}; apply it with: syncer apply {out_file}", markup=False)
    if detailed_exitcode and result.plan.changes:
        raise typer.Exit(2)


def _progress_runner(label: str) -> tuple[Callable[[int, int], None] | None, Progress | None]:
    if not sys.stderr.isatty():
        return None, None
    progress = Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True
    )
    task = progress.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return update, progress


def _report(result: CycleResult) -> None:
    counts = summary(result.plan)
    requests = ", ".join(f"{m} {n}" for m, n in sorted(result.requests.by_method.items())) or "none"
    failures = result.report.failures if result.report else 0
    kind = "initial" if result.plan.initial else "incremental"
    out.print(
        f"Synced job {result.plan.job} ({kind} cycle {result.run_id}): {counts['create']} created, "
        f"{counts['update']} updated, {counts['link']} linked, {counts['disable']} disabled, "
        f"{counts['delete']} deleted, {counts['members_added']} members added, "
        f"{counts['members_removed']} removed; {failures} failed.",
        markup=False,
    )
    out.print(f"Requests: {requests} ({result.requests.writes} writes).", markup=False)
    if result.report and result.report.stopped:
        err.print(f"cycle stopped: {result.report.stopped}", markup=False)


def _sync(config: LoadedConfig, job: str | None, saved: dict[str, Any] | None) -> CycleResult:
    update, progress = _progress_runner("syncing")
    if progress is None:
        return run_cycle(config, job, mode="sync", saved_plan=saved)
    with progress:
        return run_cycle(config, job, mode="sync", saved_plan=saved, on_progress=update)


@app.command()
def sync(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Job name (optional with one job).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan instead of applying it.")
    ] = False,
) -> None:
    """Run one cycle now (the initial cycle when the job has no state yet)."""
    with errors_to_exit():
        config = load()
        if dry_run:
            _show_plan(run_cycle(config, job, mode="plan"), "text")
            return
        result = _sync(config, job, None)
        _report(result)
    if result.report and (result.report.failures or result.report.stopped):
        raise typer.Exit(1)


@app.command()
def apply(
    plan_file: Annotated[Path, typer.Argument(help="A plan saved with `syncer plan --out FILE`.")],
) -> None:
    """Apply a saved plan exactly as reviewed; refuse it if anything it was made from moved."""
    with errors_to_exit():
        try:
            data = json.loads(plan_file.read_text(encoding="utf-8"))
            verify_saved(data)
        except (OSError, ValueError) as exc:
            fail(f"{plan_file}: {exc}")
        result = _sync(load(), str(data["job"]), data)
        _report(result)
    if result.report and (result.report.failures or result.report.stopped):
        raise typer.Exit(1)


def main() -> None:
    app()
