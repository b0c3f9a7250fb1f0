"""The SCIM client's client-credentials auth, in process, against Authlib's server and a guarded scim2-server.

The client's clock is a test's own, so a token "about to expire" is a fact, not a wait: a renewal
before expiry is then the only way a second token can be asked for (the first is still live on the
server, so nothing answered 401).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from syncer.adapters.scim.client import ScimClient
from syncer.adapters.scim.oauth import ClientCredentials, ClientCredentialsAuth
from syncer.errors import TokenRefused, TransientTargetError
from syncer.types import ObjectKind
from tests.support.oauth_server import Client, OAuthTestServer
from tests.support.scim_server import ScimTestServer

pytestmark = pytest.mark.anyio
SECRET = "adapter-secret-5b7e"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def oauth() -> Iterator[OAuthTestServer]:
    with OAuthTestServer([Client("app", SECRET)], lifetime=3600) as server:
        yield server


@pytest.fixture
def scim(oauth: OAuthTestServer) -> Iterator[ScimTestServer]:
    with ScimTestServer(wrap=oauth.guard) as server:
        yield server


def _client(scim: ScimTestServer, oauth: OAuthTestServer, clock: Clock, secret: str = SECRET) -> ScimClient:
    credentials = ClientCredentials(
        oauth.token_url, "app", secret, auth_method="client_secret_post", timeout=5
    )
    auth = ClientCredentialsAuth(credentials, clock=clock)
    return ScimClient(scim.base_url, None, timeout=5, concurrency=4, retries=2, auth=auth)


async def test_a_token_is_renewed_before_it_expires_by_the_clients_clock(
    scim: ScimTestServer, oauth: OAuthTestServer
) -> None:
    clock = Clock()
    async with _client(scim, oauth, clock) as client:
        await client.count(ObjectKind.USER)
        clock.now += 3000  # 10 minutes of the hour left: kept
        await client.count(ObjectKind.USER)
        assert len(oauth.issued) == 1
        clock.now += 545  # 55 s left: within the minute ahead, renewed before this request
        await client.count(ObjectKind.USER)
    assert len(oauth.issued) == 2 and not oauth.issued[0].is_expired()
    assert oauth.guarded == {"accepted": 3}  # no 401 made it happen


async def test_a_401_renews_the_token_once_for_all_concurrent_requests(
    scim: ScimTestServer, oauth: OAuthTestServer
) -> None:
    async with _client(scim, oauth, Clock()) as client:
        await client.count(ObjectKind.USER)
        oauth.revoke_all()
        await asyncio.gather(*(client.count(ObjectKind.USER) for _ in range(4)))
        assert client.stats.by_status == {200: 5}  # the 401s were answered inside the auth flow
    assert len(oauth.issued) == 2
    assert 1 <= oauth.guarded["rejected"] <= 4 and oauth.guarded["accepted"] == 5


async def test_a_refused_secret_is_a_token_refusal_that_never_holds_the_secret(
    scim: ScimTestServer, oauth: OAuthTestServer
) -> None:
    with capture_logs() as logs:
        async with _client(scim, oauth, Clock(), secret="not-the-secret-3c1d") as client:
            with pytest.raises(TokenRefused) as refused:
                await client.count(ObjectKind.USER)
    text = str(refused.value)
    assert oauth.token_url in text and "client_id 'app'" in text and "invalid_client" in text
    assert "not-the-secret-3c1d" not in text + repr(refused.value) + repr(logs)
    assert refused.value.__cause__ is None and refused.value.__context__ is None
    assert sum(oauth.guarded.values()) == 0


async def test_a_token_endpoint_that_is_down_is_transient_and_named(
    scim: ScimTestServer, oauth: OAuthTestServer
) -> None:
    oauth.stop()
    async with _client(scim, oauth, Clock()) as client:
        with pytest.raises(TransientTargetError) as failed:
            await client.count(ObjectKind.USER)
    assert f"cannot get a token from {oauth.token_url}" in str(failed.value)
    assert not failed.value.maybe_processed  # nothing was sent to the target: a POST may be retried
