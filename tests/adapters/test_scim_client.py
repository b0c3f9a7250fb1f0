"""ScimClient against a real scim2-server: CRUD, pagination, typed errors, retries, stats, secrecy."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from structlog.testing import capture_logs

from syncer.adapters.scim.client import ScimClient
from syncer.errors import (
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    PermanentTargetError,
    TransientTargetError,
    UnauthorizedError,
)
from syncer.types import ObjectKind
from tests.support.scim_server import ScimTestServer

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

pytestmark = pytest.mark.anyio
USER, GROUP = ObjectKind.USER, ObjectKind.GROUP
TOKEN = "s3cret-token-never-shown"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class Flaky:
    """A proxy in front of the real app: fails the next requests on demand, records headers and load."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.failures: list[tuple[str, list[tuple[str, str]], bytes]] = []
        self.delay = 0.0
        self.in_flight = self.peak = 0
        self.headers: list[dict[str, str]] = []

    def fail_next(
        self, n: int, status: str = "503 Service Unavailable", retry_after: str | None = "0"
    ) -> None:
        headers = [("Retry-After", retry_after)] if retry_after is not None else []
        self.failures += [(status, headers, b"")] * n

    def answer_next(self, status: str, content_type: str, content: bytes) -> None:
        self.failures.append((status, [("Content-Type", content_type)], content))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.headers.append(
                {k: v for k, v in environ.items() if k.startswith(("HTTP_", "CONTENT_TYPE", "QUERY_STRING"))}
            )
            failure = self.failures.pop(0) if self.failures else None
        try:
            if self.delay:
                time.sleep(self.delay)
            if failure is not None:
                status, headers, content = failure
                start_response(status, headers)
                return [content]
            return list(self.app(environ, start_response))
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture(scope="module")
def flaky_server() -> Iterator[tuple[ScimTestServer, Flaky]]:
    proxies: list[Flaky] = []

    def wrap(app: WSGIApplication) -> WSGIApplication:
        proxies.append(Flaky(app))
        return proxies[0]

    with ScimTestServer(TOKEN, wrap=wrap) as server:
        yield server, proxies[0]


@pytest.fixture
def flaky(flaky_server: tuple[ScimTestServer, Flaky]) -> tuple[ScimTestServer, Flaky]:
    server, proxy = flaky_server
    server.reset()
    proxy.reset()
    return server, proxy


def client(server: ScimTestServer | str, token: str | None = None, **kw: Any) -> ScimClient:
    """A client with a fast backoff, so retry tests take milliseconds."""
    url = server if isinstance(server, str) else server.base_url
    kw.setdefault("backoff_initial", 0.01)
    kw.setdefault("backoff_max", 0.05)
    return ScimClient(url, token, **kw)


async def test_create_find_get_patch_delete(scim: ScimTestServer) -> None:
    """A user goes through its whole life on the target, and the server holds each step."""
    async with client(scim) as c:
        created = await c.create(
            USER, {"userName": "alice", "title": "Engineer", ENTERPRISE: {"department": "R&D"}}
        )
        assert created["id"] and created["userName"] == "alice"
        assert [u["id"] for u in await c.find(USER, 'userName eq "ALICE"')] == [created["id"]]
        assert await c.find(USER, 'userName eq "bob"') == []
        patch = {"Operations": [{"op": "replace", "path": "title", "value": "Lead"}]}
        assert await c.patch(USER, created["id"], patch) is None  # scim2-server answers 204
        assert (await c.get(USER, created["id"]))["title"] == "Lead"
        await c.delete(USER, created["id"])
    assert scim.resources("Users") == []


async def test_groups_hold_members(scim: ScimTestServer) -> None:
    """A group is created with members and a member added by PATCH, as the server then holds them."""
    a, b = scim.seed_user(userName="a"), scim.seed_user(userName="b")
    async with client(scim) as c:
        group = await c.create(GROUP, {"displayName": "eng", "members": [{"value": a["id"]}]})
        patch = {"Operations": [{"op": "add", "path": "members", "value": [{"value": b["id"]}]}]}
        await c.patch(GROUP, group["id"], patch)
    [held] = scim.resources("Groups")
    assert {m["value"] for m in held["members"]} == {a["id"], b["id"]}


async def test_list_pages_through_everything(scim: ScimTestServer) -> None:
    """25 users at page_size 10 arrive once each in 3 GETs, and a fourth shows nothing lies past them."""
    for i in range(25):
        scim.seed_user(userName=f"u{i:02d}")
    async with client(scim) as c:
        users = [u async for u in c.list(USER, page_size=10)]
        assert c.stats.by_method == {"GET": 4}
    assert sorted(u["userName"] for u in users) == [f"u{i:02d}" for i in range(25)]
    assert scim.counts() == {"GET": 4}


async def test_list_follows_the_server_page_cap(scim: ScimTestServer) -> None:
    """Asked for 5000 a page, scim2-server sends 1000; the next page starts at 1001, nothing is lost."""
    for i in range(1005):
        scim.seed_user(userName=f"u{i:04d}")
    async with client(scim) as c:
        users = [u async for u in c.list(USER, page_size=5000, attributes=["userName"])]
        assert c.stats.total == 2 + 1  # and the one-item page past the end
    assert len({u["id"] for u in users}) == 1005
    assert "meta" not in users[0]  # the projection was asked for


async def test_list_of_an_empty_target(scim: ScimTestServer) -> None:
    """An empty target lists nothing after one request."""
    async with client(scim) as c:
        assert [g async for g in c.list(GROUP)] == []
        assert c.stats.total == 1


async def test_duplicate_username_is_a_conflict(scim: ScimTestServer) -> None:
    """A second user with the same userName (any case) is a 409 ConflictError with scimType uniqueness."""
    scim.seed_user(userName="alice")
    async with client(scim) as c:
        with pytest.raises(ConflictError) as info:
            await c.create(USER, {"userName": "ALICE"})
        assert c.stats.total == 1
    assert (info.value.status, info.value.scim_type) == (409, "uniqueness")
    assert str(info.value).startswith("POST /Users: 409 uniqueness: ")


async def test_an_unknown_id_is_not_found(scim: ScimTestServer) -> None:
    """GET, PATCH or DELETE of an id the target does not hold raise NotFoundError at once."""
    async with client(scim) as c:
        with pytest.raises(NotFoundError, match="GET /Users/nope: 404"):
            await c.get(USER, "nope")
        with pytest.raises(NotFoundError):
            await c.patch(USER, "nope", {"Operations": [{"op": "replace", "path": "title", "value": "x"}]})
        with pytest.raises(NotFoundError):
            await c.delete(GROUP, "nope")
        assert c.stats.total == 3


async def test_an_invalid_body_is_permanent(scim: ScimTestServer) -> None:
    """An attribute the schema lacks is a 400 PermanentTargetError, not retried."""
    async with client(scim) as c:
        with pytest.raises(PermanentTargetError) as info:
            await c.create(USER, {"userName": "a", "shoeSize": 44})
        assert c.stats.total == 1
    assert info.value.scim_type == "invalidSyntax"


@pytest.mark.parametrize("token", ["wrong", None])
async def test_a_wrong_or_missing_token_is_unauthorized_without_retry(
    flaky: tuple[ScimTestServer, Flaky], token: str | None
) -> None:
    """A 401 raises UnauthorizedError after one request, and the message names no token."""
    server, _ = flaky
    async with client(server, token) as c:
        with pytest.raises(UnauthorizedError) as info:
            await c.find(USER, 'userName eq "a"')
        assert c.stats.total == 1
    assert server.counts() == {"GET": 1}
    assert str(info.value).startswith("GET /Users: 401")
    assert "wrong" not in str(info.value)


async def test_test_connection_passes_with_the_right_token(flaky: tuple[ScimTestServer, Flaky]) -> None:
    """Test Connection filters on a random userName and passes on an empty answer."""
    server, proxy = flaky
    async with client(server, TOKEN) as c:
        await c.test_connection()
    assert proxy.headers[0]["QUERY_STRING"].startswith("filter=userName+eq+%22")


async def test_test_connection_fails_with_a_wrong_token(flaky: tuple[ScimTestServer, Flaky]) -> None:
    """Test Connection with a wrong token raises UnauthorizedError."""
    async with client(flaky[0], "wrong") as c:
        with pytest.raises(UnauthorizedError):
            await c.test_connection()


async def test_test_connection_fails_when_the_filter_is_ignored() -> None:
    """A target that returns users for a userName that cannot exist does not filter: malformed."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"totalResults": 3, "Resources": [{"id": "1"}, {"id": "2"}]})

    async with client("https://scim.example/v2", TOKEN, transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(MalformedResponseError, match="returned 3 resources"):
            await c.test_connection()


async def test_headers_are_scim_json_and_bearer(flaky: tuple[ScimTestServer, Flaky]) -> None:
    """Requests carry the bearer token, SCIM JSON Accept and Content-Type, and the user agent."""
    server, proxy = flaky
    async with client(server, TOKEN, user_agent="syncer-test/1") as c:
        await c.create(USER, {"userName": "a"})
    sent = proxy.headers[0]
    assert sent["HTTP_AUTHORIZATION"] == f"Bearer {TOKEN}"
    assert sent["HTTP_ACCEPT"] == sent["CONTENT_TYPE"] == "application/scim+json"
    assert sent["HTTP_USER_AGENT"] == "syncer-test/1"


async def test_stats_count_what_the_server_received(scim: ScimTestServer) -> None:
    """Stats count requests by method and status, with writes apart, as the server counted them."""
    async with client(scim) as c:
        user = await c.create(USER, {"userName": "a"})
        await c.get(USER, user["id"])
        await c.patch(USER, user["id"], {"Operations": [{"op": "replace", "path": "title", "value": "x"}]})
        await c.delete(USER, user["id"])
        stats = c.stats
    assert stats.by_method == {"POST": 1, "GET": 1, "PATCH": 1, "DELETE": 1} == scim.counts()
    assert stats.by_status == {201: 1, 200: 1, 204: 2}
    assert (stats.writes, stats.total) == (3, 4) == (scim.writes(), 4)


async def test_a_transient_failure_is_retried(flaky: tuple[ScimTestServer, Flaky]) -> None:
    """Two 503s then success: the user is created once and each attempt is counted."""
    server, proxy = flaky
    proxy.fail_next(2)
    async with client(server, TOKEN) as c:
        created = await c.create(USER, {"userName": "a"})
        assert c.stats.by_status == {503: 2, 201: 1}
        assert c.stats.writes == 3
    assert [u["id"] for u in server.resources("Users")] == [created["id"]]


async def test_retries_stop_and_raise_the_last_error(flaky: tuple[ScimTestServer, Flaky]) -> None:
    """After `retries` attempts the last TransientTargetError is raised, with its status."""
    server, proxy = flaky
    proxy.fail_next(10, "502 Bad Gateway", retry_after=None)
    async with client(server, TOKEN, retries=3) as c:
        with pytest.raises(TransientTargetError) as info:
            await c.get(USER, "x")
        assert c.stats.total == 3
    assert str(info.value) == "GET /Users/x: 502 Bad Gateway"


async def test_retry_after_is_honoured(flaky: tuple[ScimTestServer, Flaky]) -> None:
    """A 429 with Retry-After holds the retry for that long, not the short backoff."""
    server, proxy = flaky
    proxy.fail_next(1, "429 Too Many Requests", retry_after="0.3")
    async with client(server, TOKEN) as c:
        started = time.monotonic()
        await c.find(USER, 'userName eq "a"')
        assert time.monotonic() - started >= 0.3
        assert c.stats.by_status == {429: 1, 200: 1}


async def test_a_timeout_is_transient(flaky: tuple[ScimTestServer, Flaky]) -> None:
    """A read timeout is retried, then raised as TransientTargetError."""
    server, proxy = flaky
    proxy.delay = 0.3
    async with client(server, TOKEN, timeout=0.05, retries=2) as c:
        with pytest.raises(TransientTargetError, match="timed out"):
            await c.get(USER, "x")
        assert c.stats.total == 2


async def test_a_refused_connection_is_transient() -> None:
    """Nothing listening is a TransientTargetError after the retries."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with client(f"http://127.0.0.1:{port}/v2", TOKEN, retries=2) as c:
        with pytest.raises(TransientTargetError, match="ConnectError"):
            await c.get(USER, "x")
        assert c.stats.total == 2


async def test_a_refused_certificate_is_permanent() -> None:
    """A TLS verification failure is permanent and says so: retrying cannot fix a certificate."""

    def handler(request: httpx.Request) -> httpx.Response:
        cause = ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate")
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]", request=request) from cause

    async with client("https://scim.example/v2", TOKEN, transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(PermanentTargetError, match="TLS verification failed") as info:
            await c.get(USER, "x")
        assert c.stats.total == 1
    assert not isinstance(info.value, TransientTargetError)


async def test_an_html_page_is_malformed(flaky: tuple[ScimTestServer, Flaky]) -> None:
    """A 200 HTML page on every attempt is a MalformedResponseError once the retries are spent."""
    server, proxy = flaky
    for _ in range(3):
        proxy.answer_next("200 OK", "text/html", b"<html>Sign in</html>")
    async with client(server, TOKEN, retries=3) as c:
        with pytest.raises(MalformedResponseError, match="not JSON"):
            await c.find(USER, 'userName eq "a"')
        assert c.stats.by_method == {"GET": 3}


async def test_a_malformed_answer_to_a_get_is_retried(flaky: tuple[ScimTestServer, Flaky]) -> None:
    """A gateway's HTML page once, then the real answer: an idempotent GET gets it on the retry."""
    server, proxy = flaky
    proxy.answer_next("200 OK", "text/html", b"<html>Bad gateway</html>")
    async with client(server, TOKEN) as c:
        assert await c.find(USER, 'userName eq "a"') == []
        assert c.stats.by_method == {"GET": 2}


async def test_a_post_whose_answer_was_lost_is_not_resent(flaky: tuple[ScimTestServer, Flaky]) -> None:
    """A POST answered by a 502 may have been acted on: the client returns the error instead of resending."""
    server, proxy = flaky
    proxy.answer_next("502 Bad Gateway", "text/html", b"<html>upstream</html>")
    async with client(server, TOKEN) as c:
        with pytest.raises(TransientTargetError) as caught:
            await c.create(USER, {"userName": "a"})
        assert caught.value.maybe_processed
        assert c.stats.by_method == {"POST": 1}


async def test_concurrency_is_bounded(flaky: tuple[ScimTestServer, Flaky]) -> None:
    """With concurrency=3, the server never sees more than 3 requests at once."""
    server, proxy = flaky
    proxy.delay = 0.02
    async with client(server, TOKEN, concurrency=3) as c:
        await asyncio.gather(*(c.create(USER, {"userName": f"u{i}"}) for i in range(12)))
    assert len(server.resources("Users")) == 12
    assert 1 < proxy.peak <= 3


async def test_the_token_stays_out_of_repr_errors_and_logs(flaky: tuple[ScimTestServer, Flaky]) -> None:
    """The token is in no repr, error message or log event, even through retries and failures."""
    server, proxy = flaky
    proxy.fail_next(1)
    with capture_logs() as logs:
        async with client(server, TOKEN) as c:
            await c.create(USER, {"userName": "a"})
            with pytest.raises(ConflictError) as info:
                await c.create(USER, {"userName": "a"})
    assert TOKEN not in repr(c) and TOKEN not in str(info.value) and TOKEN not in repr(info.value)
    assert {e["event"] for e in logs} == {"scim.request", "scim.retry"}
    assert TOKEN not in repr(logs)
    request_event = next(e for e in logs if e["event"] == "scim.request")
    assert {"method", "path", "status", "elapsed_ms"} <= request_event.keys()
