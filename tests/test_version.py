"""One version source: pyproject's ``version``, read back through the installed metadata everywhere."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

import syncer
from syncer.adapters.scim.client import ScimClient
from syncer.cli import app
from syncer.types import ObjectKind
from tests.support.scim_server import ScimTestServer

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ROOT = Path(__file__).resolve().parents[1]
HEADING = re.compile(r"^## (\S+)", re.M)


def pyproject_version() -> str:
    value: str = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    return value


def test_the_installed_metadata_is_pyprojects_version() -> None:
    """A stale install (pyproject changed, not reinstalled) would report another version everywhere."""
    assert version(syncer.DISTRIBUTION) == pyproject_version()
    assert syncer.__version__ == pyproject_version()


def test_the_package_exports_exactly_its_all() -> None:
    namespace: dict[str, object] = {}
    exec("from syncer import *", namespace)
    assert sorted(k for k in namespace if k != "__builtins__") == sorted(syncer.__all__)
    assert syncer.__all__ == ["__version__"]


def test_version_option_prints_the_version_and_exits_zero() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"syncer {pyproject_version()}\n"


def test_version_option_needs_no_config_and_no_command() -> None:
    """``--version`` answers before the config is looked for, even with a missing one."""
    result = CliRunner().invoke(app, ["-c", "/nonexistent/config.yaml", "--version"])
    assert result.exit_code == 0, result.output
    assert pyproject_version() in result.stdout


@pytest.mark.anyio
async def test_the_scim_client_says_its_version_in_the_user_agent() -> None:
    seen: list[str] = []

    def recording(app: WSGIApplication) -> WSGIApplication:
        def middleware(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            seen.append(environ.get("HTTP_USER_AGENT", ""))
            return app(environ, start_response)

        return middleware

    with ScimTestServer(wrap=recording) as server:
        async with ScimClient(server.base_url, None) as client:
            assert await client.count(ObjectKind.USER) == 0
    assert seen == [f"syncer/{pyproject_version()}"]


def test_the_changelog_lists_each_version_once_newest_first() -> None:
    """CHANGELOG.md: ``Unreleased`` on top, then one section per version in descending order,
    the newest being the package's own version."""
    headings = HEADING.findall((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert headings[0] == "Unreleased"
    versions = headings[1:]
    as_tuples = [tuple(int(p) for p in v.split(".")) for v in versions]
    assert as_tuples == sorted(set(as_tuples), reverse=True), versions
    assert versions[0] == pyproject_version()


def test_the_readme_links_the_changelog() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(CHANGELOG.md)" in readme
    assert not re.search(r"^- \d+\.\d+\.\d+: ", readme, re.M), "a changelog entry is back in the README"
