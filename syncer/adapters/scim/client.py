"""The SCIM target over HTTP: auth, bounded concurrency, retries, pagination.

Everything SCIM means lives in :mod:`.protocol`; this module moves bytes and decides when to
try again. Only :class:`~syncer.errors.TransientTargetError` is retried, so a 401, 404 or 409
reaches the caller at once. The token lives in the httpx client's default headers and nowhere
else: not in a message, a log event or a ``repr``.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import Any

import httpx
import structlog

from syncer import __version__
from syncer.core.matching import verified_hits
from syncer.core.scimpath import equality_filter
from syncer.errors import (
    MalformedResponseError,
    TargetError,
    TransientTargetError,
    UnauthorizedError,
)
from syncer.types import ObjectKind, Pagination, Value

from . import filtering, paging, protocol, wire
from .oauth import ClientCredentialsAuth
from .pacing import MAX_RETRY_AFTER, AdaptiveLimit, Backoff, RateLimit, WriteBudgets
from .protocol import ScimRequest
from .retrying import retrying
from .wire import MAX_RESPONSE_BYTES

log = structlog.get_logger("syncer.scim")

SCIM_JSON = "application/scim+json"
WRITES = ("POST", "PUT", "PATCH", "DELETE")

RequestObserver = Callable[[str, int | None, float], None]
request_observer: contextvars.ContextVar[RequestObserver | None] = contextvars.ContextVar(
    "syncer_request_observer", default=None
)
"""Called with (method, status or ``None`` when no response came, seconds) after every attempt.

A context variable rather than a constructor argument, so the daemon's metrics see the requests of
every client a cycle opens without the engine passing anything along.
"""


@dataclass(frozen=True, slots=True)
class RequestStats:
    """Requests actually sent, each retry attempt included, so a benchmark can show the cost of a cycle."""

    by_method: Mapping[str, int]
    by_status: Mapping[int, int]
    writes: int
    total: int


class ScimClient:
    """An async client for one SCIM 2.0 target (base URL such as ``https://host/scim/v2``).

    ``concurrency`` bounds both the requests in flight and the connection pool; more than about
    8 does not help a typical target (see the ecosystem notes). ``retries`` is the number of
    attempts a request gets in all. ``timeout`` bounds each network step and ``deadline``
    (``timeout`` unless given) the whole of one attempt, connect to last byte; an answer larger
    than ``max_response_bytes`` is refused. ``transport`` is the test seam (``httpx.MockTransport``).
    ``pagination`` and ``max_page_size`` say how listings page (:meth:`page_like` changes them).
    ``write_budgets`` pace the write attempts (:class:`~.pacing.WriteBudgets`); the caller passes
    one budget to several clients when the target keeps one budget for all of them.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: float = 30.0,
        concurrency: int = 8,
        verify: bool | str = True,
        retries: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = f"syncer/{__version__}",
        backoff_initial: float = 0.2,
        backoff_max: float = 10.0,
        rate_limit: float | None = None,
        deadline: float | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        auth: ClientCredentialsAuth | None = None,
        pagination: Pagination = Pagination.INDEX,
        max_page_size: int | None = None,
        write_budgets: WriteBudgets | None = None,
        max_filter_nodes: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.base_url = base_url.rstrip("/")
        self._concurrency = concurrency
        headers = {"Accept": SCIM_JSON, "User-Agent": user_agent}
        self._secrets: tuple[str, ...] = ()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
            self._secrets = (token,)
        self.auth = auth
        """OAuth 2.0 client credentials (instead of ``token``): they put the token on each request."""
        self._http = _http_client(
            self.base_url,
            headers,
            timeout=httpx.Timeout(timeout),
            verify=verify,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            transport=transport,
            auth=auth,
        )
        self._deadline = deadline if deadline is not None else timeout
        self._max_bytes = max_response_bytes
        self._slots = AdaptiveLimit(concurrency)
        self._rate = RateLimit(rate_limit)
        self._budgets = write_budgets or WriteBudgets()
        self._attempts = max(1, retries)
        self._wait = Backoff(backoff_initial, backoff_max)
        self._paused_until = 0.0
        self._by_method: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._max_filter_nodes = max_filter_nodes
        """Nodes one filter may have (Databricks: 200); a bigger one is refused before it is sent."""
        self.pagination: Pagination
        self.max_page_size: int | None
        self.page_like(pagination, max_page_size)

    def page_like(self, pagination: Pagination, max_page_size: int | None = None) -> None:
        """Page every later listing and count this way, with pages of at most ``max_page_size``.

        Set once the target's ``/ServiceProviderConfig`` is known (a cycle discovers after the
        client is opened), so every listing of the cycle pages alike without each caller asking.
        """
        self.pagination = pagination
        self.max_page_size = max_page_size if max_page_size and max_page_size > 0 else None

    def _page_size(self, wanted: int) -> int:
        return min(wanted, self.max_page_size) if self.max_page_size else wanted

    @property
    def concurrency_now(self) -> int:
        """Requests allowed in flight right now (lower than configured after throttling)."""
        return self._slots.limit

    def __repr__(self) -> str:
        return f"ScimClient(base_url={self.base_url!r}, concurrency={self._concurrency})"

    async def __aenter__(self) -> ScimClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        if self.auth is not None:
            await self.auth.aclose()

    @property
    def stats(self) -> RequestStats:
        by_method = dict(self._by_method)
        return RequestStats(
            by_method=MappingProxyType(by_method),
            by_status=MappingProxyType(dict(self._by_status)),
            writes=sum(by_method.get(m, 0) for m in WRITES),
            total=sum(by_method.values()),
        )

    async def find(self, kind: ObjectKind, filter: str) -> list[dict[str, Any]]:
        """The resources matching a filter; more than one means duplicates on the target."""
        resources, *_ = protocol.parse_list(await self.send(protocol.prepare_find(kind, filter)))
        return resources

    async def lookup(self, kind: ObjectKind, path: str, value: Value) -> list[dict[str, Any]]:
        """The target objects whose ``path`` equals ``value``, each verified to carry it.

        A target that ignores ``filter`` answers with whatever it holds first; linking that would
        hand one account (often the admin) to every person looked up. So each answered resource
        must carry the value, compared as the attribute's ``caseExact`` says and in Unicode NFC
        (:func:`~syncer.core.matching.verified_hits`); otherwise the lookup fails. More than one
        hit is the caller's ``DuplicateTargetEntries``, never a link.
        """
        request = protocol.prepare_find(kind, equality_filter(path, value))
        resources, *_ = protocol.parse_list(await self.send(request))
        try:
            return [dict(r) for r in verified_hits(path, value, resources)]
        except MalformedResponseError as exc:
            raise MalformedResponseError(f"{request}: {exc}", status=200) from None

    async def count(self, kind: ObjectKind) -> int | None:
        """How many objects of a kind the target holds: its ``totalResults`` for a one-item page.

        ``None`` when it does not say, which a cursor page may (RFC 9865 §2): then only an empty
        last page still tells, and it means none.
        """
        if self.pagination is Pagination.CURSOR:
            page = protocol.parse_cursor_page(
                await self.send(protocol.prepare_cursor_page(kind, "", 1, attributes=["id"]))
            )
            if page.total is None and not page.resources and page.next_cursor is None:
                return 0
            return page.total
        request = protocol.prepare_list(kind, 1, 1, attributes=["id"])
        _, total, *_ = protocol.parse_list(await self.send(request))
        return total

    async def get(self, kind: ObjectKind, id: str, attributes: Sequence[str] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = await self.send(protocol.prepare_get(kind, id, attributes))
        return data

    async def member_ids(self, id: str) -> frozenset[str]:
        """A group's member ids on the target, in one GET with ``attributes=members``."""
        return protocol.member_ids(await self.get(ObjectKind.GROUP, id, attributes=["members"]))

    async def has_member(self, group_id: str, member_id: str) -> bool:
        """Whether the group holds the member, where group answers leave ``members`` empty (AWS)."""
        found, *_ = protocol.parse_list(await self.send(filtering.membership_request(group_id, member_id)))
        return any(str(r.get("id")) == group_id for r in found)

    async def create(self, kind: ObjectKind, body: Mapping[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = await self.send(protocol.prepare_create(kind, body))
        return data

    async def patch(self, kind: ObjectKind, id: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """The resource when the target returns it (200), ``None`` when it answers 204."""
        data = await self.send(protocol.prepare_patch(kind, id, body))
        return data if isinstance(data, dict) else None

    async def put(self, kind: ObjectKind, id: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """Replace the whole resource; the resource when the target returns it."""
        data = await self.send(protocol.prepare_put(kind, id, body))
        return data if isinstance(data, dict) else None

    async def delete(self, kind: ObjectKind, id: str) -> None:
        await self.send(protocol.prepare_delete(kind, id))

    async def test_connection(self) -> None:
        """Entra's Test Connection: a filter on a userName that cannot exist must find nothing.

        It proves the URL, the token and filtering at once; a target that ignores the filter
        and returns users would make every matching go wrong, so it fails here.
        """
        request = protocol.prepare_find(ObjectKind.USER, protocol.eq_filter("userName", str(uuid.uuid4())))
        resources, total, *_ = protocol.parse_list(await self.send(request))
        if resources or total:
            raise MalformedResponseError(
                f"{request}: a filter on a random userName returned {max(total, len(resources))} "
                "resources; the target does not support filtering on userName",
                status=200,
            )

    async def send(self, request: ScimRequest) -> Any:
        """Send one request with retries; the typed error of the last attempt if none succeeds.

        GET, PATCH and DELETE are idempotent here (PATCH replaces values and adds members as a
        set), so every transient failure and every malformed answer is retried. A POST is only
        retried when the target certainly did not act on it (no connection, 429, 503): otherwise
        the caller gets the error and looks the object up before creating it again.
        """
        filtering.refuse_oversized(request, self._max_filter_nodes)  # a 400 for sure: not sent
        async for attempt in retrying(request, self._attempts, self._wait):
            with attempt:
                return await self._attempt(request)
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    async def _attempt(self, request: ScimRequest) -> Any:
        await self._pace()
        if self.auth is not None:
            await self.auth.fresh()  # outside the request's deadline: a slow token endpoint says so itself
        await self._slots.acquire()
        try:
            await self._rate.wait()
            await self._budgets.spend(request.method, request.path)
            self._by_method[request.method] += 1
            started = time.perf_counter()
            status, headers, content = await self._exchange(request, started)
            elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        finally:
            await self._slots.release()
        _observe(request.method, status, elapsed_ms / 1000)
        self._by_status[status] += 1
        log.debug(
            "scim.request", method=request.method, path=request.path, status=status, elapsed_ms=elapsed_ms
        )
        try:
            result = protocol.interpret(request, status, headers, content)
        except TransientTargetError as exc:
            if exc.status in (429, 503):
                self._slots.throttled()
            if exc.retry_after:
                # A 429 speaks for the whole target: hold every request, not just this one.
                resume = time.monotonic() + min(exc.retry_after, MAX_RETRY_AFTER)
                self._paused_until = max(self._paused_until, resume)
            raise
        except UnauthorizedError as exc:
            if self.auth is None or exc.status != 401:
                raise
            raise self.auth.refused(exc) from None  # a 401 to a token just renewed
        self._slots.succeeded()
        return result

    async def _exchange(self, request: ScimRequest, started: float) -> tuple[int, httpx.Headers, bytes]:
        """One attempt's exchange, its failures as our errors; none of them chains a secret."""
        headers = {"Content-Type": SCIM_JSON} if request.body is not None else None
        error: TargetError
        try:
            return await wire.exchange(
                self._http, request, deadline=self._deadline, max_bytes=self._max_bytes, headers=headers
            )
        except wire.TooLarge as exc:
            error = wire.too_large(request, exc, self._max_bytes)
        except TimeoutError:
            error = wire.past_deadline(request, self._deadline)
        except httpx.HTTPError as exc:
            secrets = self._secrets + (self.auth.secrets if self.auth is not None else ())
            error, chain = wire.translate(request, exc, secrets)
            if chain:
                _observe(request.method, None, time.perf_counter() - started)
                raise error from exc
        # raised outside the except blocks, so the original is neither cause nor context
        _observe(request.method, None, time.perf_counter() - started)
        raise error

    async def _pace(self) -> None:
        delay = self._paused_until - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    async def list(
        self,
        kind: ObjectKind,
        *,
        page_size: int = 100,
        attributes: Sequence[str] | None = None,
        excluded_attributes: Sequence[str] | None = None,
        pagination: Pagination | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every resource of a kind, page by page, or :class:`MalformedResponseError` if it lies.

        Paged by ``pagination``, else as the client was told (:meth:`page_like`), in pages of at
        most the target's ``maxPageSize`` (:mod:`.paging`).

        The next page starts after what the server actually returned, not after the ``count``
        asked for: scim2-server caps ``count`` at 1000 without saying so. A listing must add up
        (:class:`~.listing.ListingCheck`): an empty page before ``totalResults``, a repeated id or
        page, a changing ``totalResults``, or a resource past it (one extra one-item page asks)
        fails it, so a listing can neither stop short nor run on.
        """
        page_size = self._page_size(page_size)
        if (pagination if pagination is not None else self.pagination) is Pagination.CURSOR:
            pages = paging.cursor_listing(self.send, kind, page_size, attributes, excluded_attributes)
        else:
            pages = paging.index_listing(self.send, kind, page_size, attributes, excluded_attributes)
        async for resource in pages:
            yield resource


def _http_client(base_url: str, headers: dict[str, str], **options: Any) -> httpx.AsyncClient:
    """The httpx client; a header httpx cannot encode is refused without its value (the token)."""
    try:
        return httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            follow_redirects=False,  # a redirect to a login page is a misconfiguration: report it
            **options,
        )
    except UnicodeError:
        pass
    # raised outside the except block: the UnicodeEncodeError holds the whole header value
    raise ValueError(
        "a request header is not ASCII: the token must be printable ASCII (its value is not shown)"
    )


def _observe(method: str, status: int | None, seconds: float) -> None:
    observer = request_observer.get()
    if observer is not None:
        observer(method, status, seconds)
