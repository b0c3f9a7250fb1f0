"""``syncer init``: a starter config that ``validate`` accepts, written from a few answers.

A new admin's first file is the one most likely to be wrong; a generated one that names the
preset (``mapping: asana``) and reads the token from the environment starts them on the safe
defaults (deletion threshold, TLS on, no secret in the file). ``--example`` writes the fully
commented ``config.example.yaml`` that ships in the package instead.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from syncer.cli.app import app, fail, out
from syncer.runtime.presets import STARTER, preset_names


class SourceKind(Enum):
    """The source types ``init`` can start from (``type:`` in the config)."""

    CSV = "csv"
    JSON = "json"
    LDAP = "ldap"
    AD = "ad"
    SCIM = "scim"


_SOURCES = {
    SourceKind.CSV: (
        "    source:\n      type: file\n      path: {path}   # users; a header line names the columns\n"
    ),
    SourceKind.JSON: (
        '    source:\n      type: file\n      path: {path}   # {{"users": [...], "groups": [...]}}\n'
    ),
    SourceKind.LDAP: (
        "    source:\n      type: ldap\n      url: {url}\n      bind_dn: cn=syncer,dc=example,dc=com\n"
        "      password: ${{LDAP_PASSWORD}}         # from the environment; never logged\n"
        "      users: {{base: 'ou=people,dc=example,dc=com'}}\n"
        "      groups: {{base: 'ou=groups,dc=example,dc=com'}}\n"
    ),
    SourceKind.AD: (
        "    source:\n      type: ldap\n      flavour: active_directory\n      url: {url}\n"
        "      bind_dn: 'CN=syncer,OU=Service Accounts,DC=example,DC=com'\n"
        "      password: ${{LDAP_PASSWORD}}         # from the environment; never logged\n"
        "      users: {{base: 'OU=Staff,DC=example,DC=com'}}\n"
        "      groups: {{base: 'OU=Groups,DC=example,DC=com'}}\n"
    ),
    SourceKind.SCIM: (
        "    source:\n      type: scim\n      url: {url}\n"
        "      token: ${{SOURCE_SCIM_TOKEN}}        # from the environment; never logged\n"
    ),
}
_DEFAULT_PRESET = {SourceKind.LDAP: "ldap", SourceKind.AD: "ldap", SourceKind.SCIM: "scim-to-scim"}
_DEFAULT_WHERE = {
    SourceKind.CSV: "users.csv",
    SourceKind.JSON: "directory.json",
    SourceKind.LDAP: "ldaps://ldap.example.com",
    SourceKind.AD: "ldaps://dc1.example.com",
    SourceKind.SCIM: "https://old-app.example.com/scim/v2",
}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def starter_config(*, job: str, source: SourceKind, where: str, preset: str, url: str, token_env: str) -> str:
    """The text of a starter config: one job, safe defaults spelled out, secrets from the env."""
    key = "path" if source in (SourceKind.CSV, SourceKind.JSON) else "url"
    source_block = _SOURCES[source].format(**{key: where})
    return (
        "# Written by `syncer init`; the commented reference is `syncer init --example`.\n"
        "# Next: set the environment variables named below, then `syncer validate`,\n"
        "# `syncer test-connection`, `syncer plan`, and `syncer sync` once the plan looks right.\n"
        "state: sqlite:///syncer-state.db\n"
        "jobs:\n"
        f"  - name: {job}\n"
        f"{source_block}"
        "    target:\n"
        f"      url: {url}\n"
        f"      token: ${{{token_env}}}        # from the environment; never logged or printed\n"
        f"    mapping: {preset}                  # a preset shipped with syncer, or a path to your own file\n"
        "    deprovision:\n"
        "      deletion_threshold_percent: 10%    # hold a cycle that would remove more than this\n"
    )


@app.command()
def init(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Where to write it.")] = Path("config.yaml"),
    source: Annotated[SourceKind, typer.Option("--source", help="The source directory's type.")] = (
        SourceKind.CSV
    ),
    where: Annotated[
        str | None, typer.Option("--source-at", metavar="PATH|URL", help="The source file or server URL.")
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", metavar="NAME", help="The mapping preset (default by source).")
    ] = None,
    url: Annotated[
        str, typer.Option("--url", metavar="URL", help="The target's SCIM base URL.")
    ] = "https://app.asana.com/api/1.0/scim",
    token_env: Annotated[
        str, typer.Option("--token-env", metavar="VAR", help="The variable that will hold the target token.")
    ] = "SCIM_TOKEN",
    job: Annotated[str, typer.Option("--job", "-j", help="The job's name.")] = "asana",
    example: Annotated[bool, typer.Option("--example", help="Write the commented reference config.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter config.yaml (or, with --example, the commented reference) to edit."""
    chosen = preset or _DEFAULT_PRESET.get(source, "asana")
    if chosen not in preset_names():
        fail(f"--preset: no preset {chosen!r} (presets: {', '.join(preset_names())})", 2)
    if not _ENV_NAME.match(token_env):
        fail(f"--token-env: {token_env!r} is not an environment variable name", 2)
    if out_file.exists() and not force:
        fail(f"{out_file} exists: --force to overwrite it, or --out another file")
    if example:
        text = STARTER.read_text(encoding="utf-8")
    else:
        text = starter_config(
            job=job,
            source=source,
            where=where or _DEFAULT_WHERE[source],
            preset=chosen,
            url=url,
            token_env=token_env,
        )
    out_file.write_text(text, encoding="utf-8")
    then = "edit it" if example else f"set ${token_env}"
    out.print(f"wrote {out_file}; {then}, then: syncer -c {out_file} validate", markup=False)
