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
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from syncer.core.rendering import render_json, render_text, summary, verify_saved
from syncer.errors import (
    ConfigError,
    ExpressionError,
    NotFoundError,
    PermanentTargetError,
    SyncerError,
    TransientTargetError,
    UnauthorizedError,
)
from syncer.runtime import logging as runtime_logging
from syncer.runtime import tester
from syncer.runtime.configfile import LoadedConfig, load_config
from syncer.runtime.connection import test_connection
from syncer.runtime.engine import CycleResult, check_job, run_cycle, utc_now
from syncer.runtime.operations import approve_deletions, explain_scope, job_status, restart
from syncer.settings import SCHEMA_MODELS, json_schema

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
            check_job(config, job)
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


def _fixed_clock(text: str) -> Callable[[], datetime]:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--as-of: expected an ISO 8601 time such as 2026-12-01T09:00:00+00:00, got {text!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return lambda: moment


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
    why: Annotated[
        str | None, typer.Option("--why", help="Print the scope evaluation of one source object and stop.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Plan as if it were this time (ISO 8601): which leavers would be deleted then."
        ),
    ] = None,
) -> None:
    """The dry-run diff: what a sync would send. Writes nothing to the target or the state."""
    _check_format(fmt)
    if why is not None:
        with errors_to_exit():
            config = load()
            for line in explain_scope(config, config.settings.job(job).name, why):
                out.print(line, markup=False)
        return
    with errors_to_exit():
        clock = _fixed_clock(as_of) if as_of else utc_now
        result = run_cycle(load(), job, mode="plan", clock=clock)
        _show_plan(result, fmt)
        if out_file is not None:
            try:
                out_file.write_text(render_json(result.plan), encoding="utf-8")
            except OSError as exc:
                fail(f"{out_file}: cannot write the plan: {exc.strerror or exc}")
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


@app.command()
def expression(
    text: Annotated[
        str,
        typer.Argument(
            metavar="EXPR", help="A mapping expression, e.g. 'Join(\" \", [givenName], [surname])'."
        ),
    ],
    attr: Annotated[
        list[str] | None,
        typer.Option(
            "--attr",
            "-a",
            metavar="NAME=VALUE",
            help="A source attribute (repeat a name for several values).",
        ),
    ] = None,
    object_file: Annotated[
        Path | None,
        typer.Option(
            "--object", metavar="FILE", help="A JSON object of source attributes (a list is multi-valued)."
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option("--now", metavar="ISO-8601", help="The time Now() returns (default: the clock)."),
    ] = None,
    default_domain: Annotated[
        str | None, typer.Option("--default-domain", metavar="DOMAIN", help="What DefaultDomain() returns.")
    ] = None,
    show_tree: Annotated[
        bool, typer.Option("--explain", help="Print the parse tree before the value.")
    ] = False,
) -> None:
    """Evaluate a mapping expression against sample attributes (Entra's expression builder)."""
    with errors_to_exit():
        attributes = tester.attributes_from(attr or [], object_file)
        moment = tester.parse_now(now)
        try:
            outcome = tester.evaluate(text, attributes, now=moment, default_domain=default_domain)
        except ExpressionError as exc:
            lines = tester.describe_error(text, exc)
            err.print(f"error: {lines[0]}", markup=False)
            for line in lines[1:]:
                err.print(line, markup=False)
            raise typer.Exit(1) from None
        if show_tree:
            out.print(outcome.tree, markup=False)
        out.print(outcome.line, markup=False)


@app.command()
def schema(
    kind: Annotated[str, typer.Argument(metavar="config|mapping", help="Which file's schema to print.")],
) -> None:
    """Print the JSON Schema of config.yaml or of a mapping file, for editors (yaml-language-server)."""
    if kind not in SCHEMA_MODELS:
        fail(f"expected config or mapping, not {kind!r}")
    out.print(json.dumps(json_schema(kind), indent=2, ensure_ascii=False), markup=False)


def main() -> None:
    app()


def _status_lines(config: LoadedConfig, name: str) -> list[str]:
    status = job_status(config, name, datetime.now(UTC))
    lines = [f"job {status.job}: {status.links} objects linked"]
    run = status.last_run
    if run is None:
        lines.append("  last run: none (the next cycle is the initial one)")
    else:
        finished = run.finished_at.isoformat(timespec="seconds") if run.finished_at else "not finished"
        kind = "initial" if run.initial else "incremental"
        lines.append(
            f"  last run: {run.id} ({kind}) {run.status}, started {run.started_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"finished {finished}"
        )
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()))
        if counts:
            lines.append(f"    {counts}")
    quarantine = status.health.quarantine
    if status.health.disabled_reason:
        lines.append(f"  DISABLED: {status.health.disabled_reason}")
    if quarantine:
        lines.append(
            f"  quarantine: {quarantine.reason} since {quarantine.since:%Y-%m-%d %H:%M} UTC: "
            f"{quarantine.detail}"
        )
    else:
        lines.append("  quarantine: no")
    if status.next_run is not None:
        lines.append(f"  next run (daemon): {status.next_run:%Y-%m-%d %H:%M:%S} UTC")
    if status.escrow:
        lines.append(f"  escrow: {len(status.escrow)} object(s)")
        for entry in status.escrow[:20]:
            wait = f"retried in {entry.skip_cycles} cycle(s)" if entry.skip_cycles else "retried next cycle"
            lines.append(
                f"    {entry.kind.value} {entry.display}: {entry.attempts} attempt(s), {wait}; "
                f"last {entry.error_code}: {entry.error}"
            )
        if len(status.escrow) > 20:
            lines.append(f"    ... and {len(status.escrow) - 20} more")
    else:
        lines.append("  escrow: empty")
    if status.held:
        keys = status.held.get("keys") or []
        lines.append(
            f"  held deletions: {len(keys)} (threshold {status.held.get('threshold')}): "
            f"{status.held.get('reason')}"
        )
        lines.extend(f"    {key}" for key in keys[:20])
        if len(keys) > 20:
            lines.append(f"    ... and {len(keys) - 20} more")
        lines.append(f"    release them with: syncer approve-deletions --job {status.job}")
    if status.approved:
        lines.append(f"  approved for the next cycle: {len(status.approved)} disables/deletes")
    if status.shrink_refused:
        lines.append(f"  source refused: {status.shrink_refused.get('reason')}")
    if status.shrink_approved:
        lines.append("  approved for the next cycle: the smaller source")
    return lines


@app.command()
def status(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Job name (default: every job).")] = None,
) -> None:
    """Last run, quarantine and held deletions of each job."""
    with errors_to_exit():
        config = load()
        names = [config.settings.job(job).name] if job else [j.name for j in config.settings.jobs]
        for name in names:
            for line in _status_lines(config, name):
                out.print(line, markup=False)


@app.command("approve-deletions")
def approve_deletions_command(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Job name (optional with one job).")] = None,
) -> None:
    """Release exactly the disables and deletes the deletion threshold held (and a refused source shrink)."""
    with errors_to_exit():
        config = load()
        name = config.settings.job(job).name
        approved = approve_deletions(config, name)
        if not approved:
            out.print(f"job {name}: nothing is held; nothing to approve.", markup=False)
            return
        for line in approved:
            out.print(f"approved: {line}", markup=False)
        out.print(
            f"They are sent by the next cycle of job {name} (`syncer sync --job {name}`).", markup=False
        )


@app.command("restart")
def restart_command(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Job name (optional with one job).")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Also forget the links: the next cycle re-matches.")
    ] = False,
) -> None:
    """Clear escrow, quarantine, held deletions and change tracking; the next cycle is an initial one."""
    with errors_to_exit():
        config = load()
        name = config.settings.job(job).name
        restart(config, name, full=full)
        what = "links, " if full else ""
        out.print(
            f"job {name} restarted: {what}escrow, quarantine, held deletions and change tracking cleared.",
            markup=False,
        )
