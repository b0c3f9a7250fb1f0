"""The ``syncer`` Typer app, its global options, and how errors become exit codes.

Exit codes: 0 done; 1 an error (invalid config, unreadable source, failed objects, refused
plan); 2 with ``plan --detailed-exitcode`` when the plan has changes or held removals; 3 when
``sync``, ``apply`` or ``provision`` held removals at the deletion threshold (nothing else went
wrong: held work is pending work, not success); 75 (``EX_TEMPFAIL``) when a command that writes
found the job run by another process (its lease held) and did not wait.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from syncer import __version__
from syncer.errors import ConfigError, LeaseHeld, SyncerError, TokenRefused, UnauthorizedError
from syncer.runtime import logging as runtime_logging
from syncer.runtime.configfile import LoadedConfig, load_config
from syncer.runtime.lease import HeldLease, command_lease
from syncer.settings.values import parse_duration


class LogLevel(Enum):
    """The ``--log-level`` choices: a bad one is a usage error (exit 2) that lists them."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


HELD_REMOVALS = 3
"""Exit code: the deletion threshold held removals; ``syncer approve-deletions`` releases them."""

LEASE_HELD = 75
"""Exit code: another process runs the job (sysexits' EX_TEMPFAIL: try again later)."""

Wait = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="If another process runs the job, wait for it (up to --wait-timeout) instead of exiting 75.",
    ),
]
WaitTimeout = Annotated[
    str, typer.Option("--wait-timeout", metavar="DURATION", help="How long --wait waits, e.g. 90s or 30m.")
]
DEFAULT_WAIT = "10m"

JobOption = Annotated[str | None, typer.Option("--job", "-j", help="Job name (optional with one job).")]
"""The ``--job`` option of every command that acts on one job."""

app = typer.Typer(
    name="syncer",
    help="Provision users and groups from a source directory into a SCIM 2.0 app, the way Entra ID does.",
    no_args_is_help=True,
    add_completion=True,
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
    log_level: Annotated[
        LogLevel,
        typer.Option(
            "--log-level", case_sensitive=False, metavar="LEVEL", help="debug, info, warning or error."
        ),
    ] = LogLevel.WARNING,
    log_json: Annotated[bool | None, typer.Option("--log-json/--log-console", help="Log format.")] = None,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colours (also when $NO_COLOR is set, or not a terminal).")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=show_version, is_eager=True, help="Print the version, exit.")
    ] = False,
) -> None:
    if no_color:
        out.no_color = err.no_color = True
    options.config = config or Path(os.environ.get("SYNCER_CONFIG", "config.yaml"))
    runtime_logging.configure(json=log_json, level=log_level.value)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(code)


@contextmanager
def errors_to_exit() -> Iterator[None]:
    """Every error a user can cause ends as one clear line on stderr and exit 1, never a traceback."""
    try:
        yield
    except ConfigError as exc:  # UnknownJob among them: --job names no job of the config
        fail(_noted(str(exc), exc))
    except LeaseHeld as exc:
        fail(_noted(str(exc), exc), LEASE_HELD)
    except TokenRefused as exc:
        # it names the token endpoint and the client: "check the token" would mislead
        fail(_noted(str(exc), exc))
    except UnauthorizedError as exc:
        # a 401/403 while matching, before the executor could say so: name the credentials
        fail(_noted(f"the target refused the credentials ({exc.status}): check the token. {exc}", exc))
    except SyncerError as exc:
        fail(_noted(str(exc), exc))


def _noted(message: str, exc: BaseException) -> str:
    """The message and, on their own lines, the notes added on the way out (the quarantine it caused)."""
    return "\n".join([message, *getattr(exc, "__notes__", ())])


def load() -> LoadedConfig:
    return load_config(options.config)


def check_format(fmt: str) -> str:
    if fmt not in ("text", "json"):
        fail(f"--format must be text or json, not {fmt!r}")
    return fmt


def job_name(config: LoadedConfig, job: str | None) -> str:
    return config.settings.job(job).name


@contextmanager
def job_lease(
    config: LoadedConfig, job: str | None, command: str, wait: bool, wait_timeout: str
) -> Iterator[HeldLease]:
    """The job's lease around a command that writes: one runner per job, whoever starts it."""
    try:
        patience: timedelta | None = parse_duration(wait_timeout) if wait else None
    except ValueError as exc:
        fail(f"--wait-timeout: {exc}")
    with command_lease(config, job, command=command, wait=patience) as held:
        yield held
