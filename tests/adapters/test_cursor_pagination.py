"""Cursor pagination (RFC 9865): the client lists a cursor-only target (the hostile proxy in front of
the real scim2-server), the listing checks hold for cursor pages, and discovery reads the section."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from syncer.adapters.scim import protocol
from syncer.adapters.scim.client import ScimClient
from syncer.adapters.scim.discovery import (
    DiscoveryAnswers,
    PaginationFeature,
    capabilities_from,
    discover,
)
from syncer.adapters.scim.listing import ListingCheck
from syncer.errors import MalformedResponseError, PermanentTargetError
from syncer.types import ObjectKind, Pagination
from tests.support import cursor_bends
from tests.support.hostile import HostileTarget
from tests.support.scim_server import ScimTestServer

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


@pytest.fixture
def cursor_only(scim: ScimTestServer) -> Iterator[HostileTarget]:
    with HostileTarget(scim.base_url, mode="cursor_only") as target:
        yield target


def _list(
    base_url: str, pagination: Pagination, page_size: int = 100, **options: Any
) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        async with ScimClient(base_url, None, retries=1, pagination=pagination, **options) as client:
            return [r async for r in client.list(ObjectKind.USER, page_size=page_size)]

    return asyncio.run(run())


def _listings(target: HostileTarget) -> list[dict[str, str]]:
    return [
        dict(parse_qsl(urlsplit(p).query, keep_blank_values=True))
        for m, p in target.seen()
        if m == "GET" and urlsplit(p).path.endswith("/Users")
    ]


def test_a_cursor_only_target_is_listed_whole_by_cursor(
    scim: ScimTestServer, cursor_only: HostileTarget
) -> None:
    """250 users in pages capped at 100: the first asks ``cursor=`` empty, each next its nextCursor."""
    ids = {scim.seed_user(userName=f"u{n:03}@example.org")["id"] for n in range(250)}
    listed = _list(cursor_only.base_url, Pagination.CURSOR, page_size=500)
    assert [r["id"] for r in listed] == [r["id"] for r in listed if r["id"] in ids]
    assert len(listed) == 250 and {r["id"] for r in listed} == ids
    pages = _listings(cursor_only)
    assert len(pages) == 3 and all("startIndex" not in p for p in pages)
    assert pages[0]["cursor"] == ""
    assert [cursor_bends.decode(p["cursor"]) for p in pages[1:]] == [101, 201]


def test_index_paging_against_it_gets_the_400_aws_answers(cursor_only: HostileTarget) -> None:
    with pytest.raises(PermanentTargetError, match=r"400 invalidValue.*set `pagination: cursor`"):
        _list(cursor_only.base_url, Pagination.INDEX)


def test_a_refused_cursor_says_the_next_cycle_lists_again() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["cursor"] == "":
            body: dict[str, Any] = {"schemas": [LIST_RESPONSE], "Resources": [{"id": "a"}], "nextCursor": "n"}
            return httpx.Response(200, content=json.dumps(body).encode())
        error = {"schemas": [protocol.ERROR], "status": "400", "scimType": "expiredCursor", "detail": "late"}
        return httpx.Response(400, content=json.dumps(error).encode())

    async def run() -> None:
        transport = httpx.MockTransport(handler)
        async with ScimClient("http://t.example/v2", None, transport=transport) as client:
            [r async for r in client.list(ObjectKind.USER, pagination=Pagination.CURSOR)]

    with pytest.raises(PermanentTargetError, match=r"400 expiredCursor: late; .*next cycle lists again"):
        asyncio.run(run())


def test_the_page_size_is_held_within_the_target_max_page_size(
    scim: ScimTestServer, cursor_only: HostileTarget
) -> None:
    for n in range(12):
        scim.seed_user(userName=f"u{n}@example.org")
    assert len(_list(cursor_only.base_url, Pagination.CURSOR, page_size=50, max_page_size=5)) == 12
    assert [p["count"] for p in _listings(cursor_only)] == ["5", "5", "5"]


def test_a_repeated_cursor_fails_the_listing_instead_of_looping(
    scim: ScimTestServer, cursor_only: HostileTarget
) -> None:
    for n in range(7):
        scim.seed_user(userName=f"u{n}@example.org")
    cursor_only.set_mode("repeat_cursor")
    with pytest.raises(MalformedResponseError, match="nextCursor it had answered before"):
        _list(cursor_only.base_url, Pagination.CURSOR, page_size=3)
    assert cursor_only.requests() == 2


def test_count_by_cursor_reads_the_total_of_a_one_item_page(
    scim: ScimTestServer, cursor_only: HostileTarget
) -> None:
    for n in range(3):
        scim.seed_user(userName=f"u{n}@example.org")

    async def run() -> int | None:
        async with ScimClient(cursor_only.base_url, None, retries=1, pagination=Pagination.CURSOR) as c:
            return await c.count(ObjectKind.USER)

    assert asyncio.run(run()) == 3
    assert [p["count"] for p in _listings(cursor_only)] == ["1"]


def test_discovery_reads_the_pagination_section(cursor_only: HostileTarget) -> None:
    async def run() -> PaginationFeature:
        async with ScimClient(cursor_only.base_url, None, retries=1) as client:
            return (await discover(client)).pagination

    assert asyncio.run(run()) == PaginationFeature(
        cursor=True,
        index=False,
        default_method=Pagination.CURSOR,
        default_page_size=100,
        max_page_size=100,
        cursor_timeout=600,
    )


# --- no server: pages as data -----------------------------------------------------------------


def _page(*ids: str) -> list[dict[str, str]]:
    return [{"id": i} for i in ids]


def test_an_honest_cursor_listing_ends_without_a_next_cursor() -> None:
    check = ListingCheck("GET /Users")
    check.cursor_page(_page("a", "b"), None, "c1")
    check.cursor_page(_page("c"), None, None)
    assert check.seen == 3


@pytest.mark.parametrize(
    ("pages", "error"),
    [
        pytest.param([(_page("a", "b"), None, "c1"), (_page("b"), None, None)], "again", id="repeated-id"),
        pytest.param(
            [(_page("a"), 3, "c1"), (_page("b"), 4, "c2")], "changed from 3 to 4", id="total-changes"
        ),
        pytest.param([(_page("a"), 3, "c1"), (_page("b"), 3, None)], "ended after 2", id="ends-short"),
        pytest.param([(_page("a", "b"), 1, "c1")], "more than its totalResults", id="outruns-total"),
        pytest.param(
            [(_page("a"), None, "c1"), (_page("b"), None, "c1")], "answered before", id="cursor-repeats"
        ),
        pytest.param([([], None, "c1")], "empty, yet it answered a nextCursor", id="empty-page-points-on"),
    ],
)
def test_a_cursor_listing_that_does_not_add_up_fails(
    pages: list[tuple[list[dict[str, str]], int | None, str | None]], error: str
) -> None:
    check = ListingCheck("GET /Users")
    with pytest.raises(MalformedResponseError, match=error) as info:
        for resources, total, next_cursor in pages:
            check.cursor_page(resources, total, next_cursor)
    assert str(info.value).startswith("GET /Users: the listing does not add up")


def test_a_cursor_page_may_leave_out_total_results_but_not_send_a_broken_cursor() -> None:
    page = protocol.parse_cursor_page(
        {"schemas": [LIST_RESPONSE], "Resources": [{"id": "a"}], "nextCursor": "x"}
    )
    assert (page.total, page.next_cursor, len(page.resources)) == (None, "x", 1)
    for broken in (7, "", None):
        data = {"schemas": [LIST_RESPONSE], "totalResults": 1, "nextCursor": broken}
        if broken is None:
            assert protocol.parse_cursor_page(data).next_cursor is None
        else:
            with pytest.raises(MalformedResponseError, match="nextCursor"):
                protocol.parse_cursor_page(data)


def test_the_first_cursor_request_sends_an_empty_cursor() -> None:
    request = protocol.prepare_cursor_page(ObjectKind.GROUP, "", 100, excluded_attributes=["members"])
    assert request.params == (("cursor", ""), ("count", "100"), ("excludedAttributes", "members"))


def test_a_cursor_page_without_total_results_counts_as_unknown_unless_it_is_empty() -> None:
    """count() by cursor: a one-item page that does not say totalResults leaves the count unknown."""
    answers = iter([{"Resources": [{"id": "a"}], "nextCursor": "n"}, {"Resources": []}])

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["cursor"] == "" and request.url.params["count"] == "1"
        body = {"schemas": [LIST_RESPONSE], **next(answers)}
        return httpx.Response(200, content=json.dumps(body).encode())

    async def run() -> list[int | None]:
        transport = httpx.MockTransport(handler)
        async with ScimClient(
            "http://t.example/v2", None, transport=transport, pagination=Pagination.CURSOR
        ) as client:
            return [await client.count(ObjectKind.USER), await client.count(ObjectKind.USER)]

    assert asyncio.run(run()) == [None, 0]


def test_the_cached_discovery_keeps_the_pagination_section() -> None:
    config = {
        "pagination": {
            "cursor": "true",
            "index": False,
            "defaultPaginationMethod": "Cursor",
            "maxPageSize": 0,
        }
    }
    again = DiscoveryAnswers.from_json(json.loads(json.dumps(DiscoveryAnswers(config).to_json())))
    assert again.capabilities.pagination == PaginationFeature(
        cursor=True, index=False, default_method=Pagination.CURSOR
    )
    assert capabilities_from({}, None, None).pagination == PaginationFeature()
