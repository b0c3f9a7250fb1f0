"""The ``syncer`` command: the only package that prints, and the one that picks exit codes.

Exit codes: 0 done; 1 an error (invalid config, unreadable source, failed objects, refused
plan); 2 with ``plan --detailed-exitcode`` when the plan has changes or held removals; 3 when a
``sync``, ``apply`` or ``provision`` held removals (see :mod:`syncer.cli.app`); 75 when another
process runs the job.

Each module registers its commands on :data:`app` when imported; the import order below is the
order ``syncer --help`` lists them in.
"""

from __future__ import annotations

# isort: off
# the order ``syncer --help`` lists the commands in
from syncer.cli import starter, cycle, onboard, tools, admin, logs, jobs  # noqa: F401  (importing registers the commands)

# isort: on
import sys

import typer

from syncer.cli.app import app
from syncer.cli.argv import hoist_global_options, readable_metavars

__all__ = ["app", "main"]


def main() -> None:
    """The console-script entry (``syncer = "syncer.cli:main"``) and ``python -m syncer``.

    Global options may follow the subcommand (:func:`hoist_global_options`); help shows what to
    type, not Python types (:func:`readable_metavars`).
    """
    readable_metavars()
    command = typer.main.get_command(app)
    command.main(args=hoist_global_options(sys.argv[1:]), prog_name="syncer")
