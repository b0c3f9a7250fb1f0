"""Shared fixtures: one real scim2-server and one real slapd for the session, reset per test that asks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from tests.support.ldap_directory import LOCKED, directory_ldif, lock_ldif
from tests.support.scim_server import ScimTestServer
from tests.support.slapd import Slapd


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
