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

from syncer import __version__
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
from syncer.runtime import control, provlog, tester
from syncer.runtime import logging as runtime_logging
from syncer.runtime.configfile import LoadedConfig, load_config
from syncer.runtime.connection import test_connection
from syncer.runtime.control import approve_config, duration, job_overview
from syncer.runtime.daemon import Daemon
from syncer.runtime.engine import CycleResult, check_job, run_cycle, utc_now
from syncer.runtime.ondemand import provision_on_demand
from syncer.runtime.operations import approve_deletions, explain_scope, job_status
from syncer.runtime.progress import ProgressTracker, ProgressView
from syncer.runtime.provlog import LogQuery
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


def show_version(value: bool) -> None:
    if value:
        out.print(f"syncer {__version__}", markup=False)
        raise typer.Exit()


@app.callback()
def main_options(
    config: Annotated[
        Path | None,
        typer.Option("-c", "--config", help="Config file (default ./config.yaml, or $SYNCER_CONFIG)."),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "warning",
    log_json: Annotated[bool | None, typer.Option("--log-json/--log-console", help="Log format.")] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=show_version, is_eager=True, help="Print the version, exit.")
    ] = False,
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


def _report(result: CycleResult) -> None:
    counts = summary(result.plan)
    done = result.report.counts if result.report else {}
    # what was planned, less what failed: never report a create that did not happen
    for key, action in (("create", "Create"), ("disable", "Disable"), ("delete", "Delete")):
        counts[key] -= done.get(f"{action}.Failure", 0)
    if result.report:
        counts["members_added"] = done.get("members.added", 0)
        counts["members_removed"] = done.get("members.removed", 0)
    requests = ", ".join(f"{m} {n}" for m, n in sorted(result.requests.by_method.items())) or "none"
    failures = result.report.failures if result.report else 0
    kind = "initial" if result.plan.initial else "incremental"
    if failures:
        err.print(
            f"{failures} object(s) failed: `syncer logs --status failure --run {result.run_id}`", markup=False
        )
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
    tracker, progress = _progress_runner("syncing")
    if progress is None or tracker is None:
        return run_cycle(config, job, mode="sync", saved_plan=saved)
    with progress, tracker.observing():
        return run_cycle(config, job, mode="sync", saved_plan=saved, on_progress=tracker.on_progress)


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
    lines.extend(_standing_lines(config, name))
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
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """State, last and next cycle, quarantine, escrow and held deletions of each job."""
    _check_format(fmt)
    with errors_to_exit():
        config = load()
        names = [config.settings.job(job).name] if job else [j.name for j in config.settings.jobs]
        if fmt == "json":
            out.print(json.dumps(_standing_json(config, names), indent=2), markup=False)
            return
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


# --- day-2 operations: the daemon, the provisioning log, on demand, job control -------------------


def _standing_lines(config: LoadedConfig, name: str) -> list[str]:
    view = job_overview(config, name)
    lines = [f"  state: {view.state}" + (f" ({view.reason})" if view.reason else "")]
    run = view.last_run
    if run is not None and run.finished_at is not None:
        lines.append(f"  last cycle took {duration(run)} s")
    if view.last_success is not None:
        lines.append(f"  last successful cycle: {view.last_success.isoformat(timespec='seconds')}")
    when = view.next_cycle.isoformat(timespec="seconds") if view.next_cycle else "none (not scheduled)"
    lines.append(f"  next cycle: {when}")
    lines.append(f"  escrow: {view.escrow} objects")
    return lines


def _standing_json(config: LoadedConfig, names: list[str]) -> list[dict[str, Any]]:
    result = []
    for name in names:
        data = job_overview(config, name).as_json()
        status = job_status(config, name, datetime.now(UTC))
        data["heldDeletions"] = status.held
        data["approved"] = {"deletions": status.approved, "shrink": status.shrink_approved}
        data["sourceRefused"] = status.shrink_refused
        result.append(data)
    return result


def _job_name(config: LoadedConfig, job: str | None) -> str:
    return config.settings.job(job).name


@app.command()
def run() -> None:
    """The daemon: every job on its schedule until SIGTERM/SIGINT; SIGHUP reloads the config."""
    with errors_to_exit():
        config = load()
        for job in config.settings.jobs:
            check_job(config, job)
        daemon = Daemon(options.config, config)
    raise typer.Exit(daemon.run())


@app.command()
def logs(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Only this job.")] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="Only this cycle (run id).")] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="success, failure, skipped or warning (repeatable).")
    ] = None,
    action: Annotated[
        list[str] | None,
        typer.Option("--action", help="create, update, disable, delete, stageddelete or other (repeatable)."),
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="2h, 7d, or an ISO time.")] = None,
    source_id: Annotated[str | None, typer.Option("--id", help="Only this source object id.")] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="The newest N records (table default: 200).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json (JSON lines) or csv.")] = "table",
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for the three CSV files.")] = None,
) -> None:
    """The provisioning log: one record per object per cycle, Entra's fields; CSV as Entra's download."""
    if fmt not in ("table", "json", "csv"):
        fail(f"--format must be table, json or csv, not {fmt!r}")
    if fmt == "csv" and out_dir is None:
        fail("--format csv writes three files (records, steps, modified properties): give --out DIR")
    with errors_to_exit():
        config = load()
        try:
            q = LogQuery(
                job=_job_name(config, job) if job else None,
                run_id=run_id,
                statuses=provlog.parse_statuses(status or []),
                actions=provlog.parse_actions(action or []),
                since=provlog.parse_since(since, utc_now()) if since else None,
                source_id=source_id,
                limit=limit if limit is not None else (200 if fmt == "table" else None),
            )
        except ValueError as exc:
            fail(str(exc))
        entries = provlog.query(config, q)
        if fmt == "json":
            for entry in entries:
                out.print(json.dumps(provlog.entra_record(entry), sort_keys=True), markup=False)
        elif fmt == "csv" and out_dir is not None:
            try:
                paths = provlog.write_csv(entries, out_dir)
            except OSError as exc:
                fail(f"{out_dir}: cannot write the CSV files: {exc.strerror or exc}")
            err.print(f"{len(entries)} records written to:", markup=False)
            for path in paths:
                out.print(str(path), markup=False)
        else:
            _log_table(entries)


def _log_table(entries: list[Any]) -> None:
    """One line per record, columns aligned, never wrapped (greppable, and wide values stay whole)."""
    if not entries:
        out.print("no provisioning-log records match", markup=False)
        return
    header = (
        "TIME (UTC)",
        "JOB",
        "CYCLE",
        "ACTION",
        "STATUS",
        "KIND",
        "IDENTITY",
        "SOURCE ID",
        "TARGET ID",
        "REASON",
    )
    rows = [header] + [
        (
            e.time.strftime("%Y-%m-%d %H:%M:%S"),
            e.job,
            e.run_id[:12],
            e.action.value,
            e.status.value,
            e.kind.value,
            e.display or "-",
            e.source_id,
            e.target_id or "-",
            e.reason or "",
        )
        for e in entries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        out.print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), markup=False
        )


@app.command()
def provision(
    source_id: Annotated[
        str, typer.Option("--id", help="The source id of a user, or a group (up to 5 members).")
    ],
    job: Annotated[str | None, typer.Option("--job", "-j", help="Job name (optional with one job).")] = None,
) -> None:
    """Provision on demand: one object through import, scoping, matching and action, now."""
    with errors_to_exit():
        config = load()
        result = provision_on_demand(config, _job_name(config, job), source_id)
    for number, step in enumerate(result.steps, start=1):
        out.print(f"{number}. {step.name}: {step.status}", markup=False)
        for line in step.lines:
            out.print(f"   {line}", markup=False)
    if not result.ok:
        raise typer.Exit(1)


@app.command("approve-config")
def approve_config_command(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Job name (optional with one job).")] = None,
) -> None:
    """Accept a changed mapping or scope, so the daemon runs the cycle hold_on_config_change held."""
    with errors_to_exit():
        config = load()
        settings = config.settings.job(job)
        released = approve_config(config, settings)
    if released:
        out.print(
            f"job {settings.name}: the config change is approved; the next cycle runs it.", markup=False
        )
    else:
        out.print(f"job {settings.name}: no cycle was held; the current config is recorded.", markup=False)


@app.command()
def restart(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Job name (optional with one job).")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Also drop the links: every object is matched again.")
    ] = False,
) -> None:
    """Clear escrow, quarantine and change tracking: the next cycle is an initial one."""
    with errors_to_exit():
        config = load()
        name = _job_name(config, job)
        control.restart(config, name, full=full)
    what = (
        "links, escrow, quarantine and change tracking" if full else "escrow, quarantine and change tracking"
    )
    out.print(f"job {name}: restarted ({what} cleared); the next cycle is an initial one.", markup=False)


@app.command()
def pause(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Job name (optional with one job).")] = None,
) -> None:
    """Stop running the job's cycles; its state is kept (Entra's provisioning status Off)."""
    with errors_to_exit():
        config = load()
        name = _job_name(config, job)
        changed = control.pause(config, name, utc_now())
    out.print(f"job {name}: {'paused' if changed else 'already paused'}.", markup=False)


@app.command()
def resume(
    job: Annotated[str | None, typer.Option("--job", "-j", help="Job name (optional with one job).")] = None,
) -> None:
    """Run the job's cycles again, from where it left off."""
    with errors_to_exit():
        config = load()
        name = _job_name(config, job)
        changed = control.resume(config, name)
    out.print(f"job {name}: {'resumed' if changed else 'was not paused'}.", markup=False)
