"""Tools that need no state: the expression tester and the JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from syncer.cli.app import app, err, errors_to_exit, fail, out
from syncer.errors import ExpressionError
from syncer.runtime import tester
from syncer.settings import SCHEMA_MODELS, json_schema


@app.command()
def expression(
    text: Annotated[
        str,
        typer.Argument(
            metavar="EXPR", help="A mapping expression, e.g. 'Join(\" \", \\[givenName], \\[surname])'."
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
