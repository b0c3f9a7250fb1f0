"""Shared fixtures: one real scim2-server and one real slapd for the session, reset per test that asks.

Markers are applied here, so a new test gets them by where it lives and what it uses:
``e2e`` for everything under ``tests/e2e`` (the CLI in a subprocess), ``ldap`` for every test
using the slapd fixtures, ``slow`` for the modules in :data:`SLOW_MODULES` and tests marked by
hand. ``make check`` runs ``-m "not e2e and not slow"``; a test that takes over
:data:`SLOW_SECONDS` without a ``slow`` or ``e2e`` marker is named at the end of the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from tests.support.ldap_directory import LOCKED, directory_ldif, lock_ldif
from tests.support.scim_server import ScimTestServer
from tests.support.slapd import Slapd

pytest_plugins = ["tests.support.canary"]

TESTS = Path(__file__).resolve().parent
E2E = TESTS / "e2e"
LDAP_FIXTURES = frozenset({"slapd", "slapd_server"})
# whole modules whose tests take seconds each (daemons on a schedule, fault soaks)
SLOW_MODULES = frozenset({"test_daemon.py", "test_faults.py", "test_quarantine.py", "test_recovery.py"})
SLOW_SECONDS = 3.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.resolve()
        if E2E in path.parents:
            item.add_marker(pytest.mark.e2e)
        if LDAP_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.ldap)
        if path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


_unmarked_slow: list[tuple[str, float]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    marked = {"slow", "e2e"} & set(report.keywords)
    if report.when == "call" and report.duration > SLOW_SECONDS and not marked:
        _unmarked_slow.append((report.nodeid, report.duration))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _unmarked_slow:
        terminalreporter.write_sep("-", f"over {SLOW_SECONDS:g}s without a slow or e2e marker")
        for nodeid, seconds in sorted(_unmarked_slow, key=lambda t: -t[1]):
            terminalreporter.write_line(f"{seconds:6.1f}s {nodeid}")


@pytest.fixture(autouse=True)
def _structlog_defaults() -> Iterator[None]:
    """Each test starts from structlog's defaults: an in-process CLI run configures it to print to a
    stream (CliRunner's) that is closed once that test ends."""
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def scim_server() -> Iterator[ScimTestServer]:
    with ScimTestServer() as server:
        yield server


@pytest.fixture
def scim(scim_server: ScimTestServer) -> Iterator[ScimTestServer]:
    """The session's server with an empty store and zeroed counters."""
    scim_server.reset()
    yield scim_server


@pytest.fixture(scope="session")
def slapd_server() -> Iterator[Slapd]:
    """One real OpenLDAP slapd for the session (Debian's 2.5), on a free port on 127.0.0.1."""
    with Slapd() as server:
        server.init_suffix()
        yield server


@pytest.fixture
def slapd(slapd_server: Slapd) -> Slapd:
    """The session's slapd holding the sample directory afresh (restarted if a test stopped it)."""
    if not slapd_server.running:
        slapd_server.start()
    slapd_server.reset(directory_ldif())
    slapd_server.modify(lock_ldif(int(LOCKED[4:])))
    return slapd_server
