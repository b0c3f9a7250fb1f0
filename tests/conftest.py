"""Shared fixtures: one real scim2-server for the whole session, emptied per test that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.scim_server import ScimTestServer


@pytest.fixture(scope="session")
def scim_server() -> Iterator[ScimTestServer]:
    with ScimTestServer() as server:
        yield server


@pytest.fixture
def scim(scim_server: ScimTestServer) -> Iterator[ScimTestServer]:
    """The session's server with an empty store and zeroed counters."""
    scim_server.reset()
    yield scim_server
