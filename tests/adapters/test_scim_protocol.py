"""The sans-I/O SCIM protocol: requests as data, responses into values or typed errors, no server."""

from __future__ import annotations

import datetime
import json
from types import MappingProxyType
from typing import Any

import pytest

from syncer.adapters.scim import protocol
from syncer.adapters.scim.protocol import Returns, ScimRequest, interpret, parse_list, parse_retry_after
from syncer.errors import (
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    PermanentTargetError,
    TargetError,
    TransientTargetError,
    UnauthorizedError,
)
from syncer.types import ObjectKind

USER, GROUP = ObjectKind.USER, ObjectKind.GROUP
NOW = datetime.datetime(2026, 11, 29, 12, 0, 0, tzinfo=datetime.UTC)
JSON = {"Content-Type": "application/scim+json"}


def body(data: Any) -> bytes:
    return json.dumps(data).encode()


def scim_error(status: int, scim_type: str | None = None, detail: str | None = None) -> bytes:
    error: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": str(status),
    }
    if scim_type:
        error["scimType"] = scim_type
    if detail:
        error["detail"] = detail
    return body(error)


def listing(resources: list[dict[str, Any]], total: int | None = None) -> bytes:
    return body(
        {
            "schemas": [protocol.LIST_RESPONSE],
            "totalResults": len(resources) if total is None else total,
            "startIndex": 1,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


# --- requests ---------------------------------------------------------------------------------


def test_find_asks_for_two_so_duplicates_show() -> None:
    """A find sends the filter with count=2, enough to tell one match from duplicates."""
    request = protocol.prepare_find(USER, 'userName eq "a@example.org"')
    assert (request.method, request.path, request.returns) == ("GET", "/Users", Returns.LIST)
    assert request.params == (("filter", 'userName eq "a@example.org"'), ("count", "2"))


@pytest.mark.parametrize(
    ("id", "path"),
    [
        ("2819c223", "/Users/2819c223"),
        ("a/b", "/Users/a%2Fb"),
        ("x y?z#1", "/Users/x%20y%3Fz%231"),
        ("é", "/Users/%C3%A9"),
    ],
)
def test_ids_are_url_quoted_in_paths(id: str, path: str) -> None:
    """An id is one path segment whatever it holds: '/', '?', '#', spaces and non-ASCII are quoted."""
    assert protocol.prepare_get(USER, id).path == path
    assert protocol.prepare_patch(USER, id, {}).path == path
    assert protocol.prepare_delete(USER, id).path == path


def test_a_group_s_members_are_asked_for_alone_and_read_whatever_the_answer_holds() -> None:
    """``attributes=members``: one GET; a target that leaves members out holds none as far as we know."""
    request = protocol.prepare_get(ObjectKind.GROUP, "g1", ["members"])
    assert (request.path, request.params) == ("/Groups/g1", (("attributes", "members"),))
    assert protocol.prepare_get(ObjectKind.GROUP, "g1").params == ()
    held = {"id": "g1", "members": [{"value": "u1"}, {"value": "u2", "display": "Ann"}, {"display": "?"}]}
    assert protocol.member_ids(held) == {"u1", "u2"}
    assert protocol.member_ids({"id": "g1"}) == protocol.member_ids({"members": None}) == frozenset()


def test_an_empty_id_is_refused() -> None:
    """An empty id would turn a DELETE of one resource into a request on the whole collection."""
    with pytest.raises(ValueError):
        protocol.prepare_delete(USER, "")


def test_groups_go_to_their_endpoint() -> None:
    """A group request goes to /Groups."""
    assert protocol.prepare_create(GROUP, {"displayName": "g"}).path == "/Groups"


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (protocol.prepare_create(USER, {}), {200, 201}),
        (protocol.prepare_patch(USER, "1", {}), {200, 204}),
        (protocol.prepare_delete(USER, "1"), {200, 204}),
        (protocol.prepare_get(USER, "1"), {200}),
    ],
)
def test_expected_statuses(request_: ScimRequest, expected: set[int]) -> None:
    """PATCH and DELETE accept 200 or 204 (RFC 7644 §3.5.2, §3.6); a create accepts 201 or 200."""
    assert request_.expected == frozenset(expected)


def test_list_params_name_attributes() -> None:
    """A page asks for startIndex and count, and joins attribute lists with commas."""
    request = protocol.prepare_list(USER, 101, 100, ["userName", "externalId"], ["groups"])
    assert request.params == (
        ("startIndex", "101"),
        ("count", "100"),
        ("attributes", "userName,externalId"),
        ("excludedAttributes", "groups"),
    )


def test_eq_filter_escapes_quotes() -> None:
    """A value with a quote or a backslash stays one JSON string in the filter (RFC 7644 §3.4.2.2)."""
    assert protocol.eq_filter("userName", 'a"b\\c') == 'userName eq "a\\"b\\\\c"'


def test_body_encodes_frozen_values_and_stays_out_of_repr() -> None:
    """Tuples and read-only maps from the flow types encode as JSON; the body never shows in repr."""
    request = protocol.prepare_create(USER, MappingProxyType({"userName": "secret@x", "emails": ({"v": 1},)}))
    assert json.loads(request.content() or b"") == {"userName": "secret@x", "emails": [{"v": 1}]}
    assert "secret" not in repr(request)
    assert str(request) == "POST /Users"


# --- successful responses ---------------------------------------------------------------------


def test_a_resource_is_returned_parsed() -> None:
    """A 200 with a SCIM resource returns the parsed JSON."""
    assert interpret(protocol.prepare_get(USER, "1"), 200, JSON, body({"id": "1"})) == {"id": "1"}


@pytest.mark.parametrize("status", [200, 204])
def test_patch_succeeds_with_or_without_a_body(status: int) -> None:
    """A PATCH answered 204 or with an empty 200 returns None."""
    assert interpret(protocol.prepare_patch(USER, "1", {}), status, {}, b"") is None


def test_create_without_an_id_is_malformed() -> None:
    """A created resource without an id cannot be linked, so the response is malformed."""
    with pytest.raises(MalformedResponseError, match="no id"):
        interpret(protocol.prepare_create(USER, {}), 201, JSON, body({"userName": "a"}))


def test_an_html_page_is_malformed() -> None:
    """A 200 HTML page (a login portal, a wrong base URL) is a MalformedResponseError naming its type."""
    with pytest.raises(MalformedResponseError, match="not JSON \\(text/html\\)") as info:
        interpret(protocol.prepare_get(USER, "1"), 200, {"content-type": "text/html"}, b"<html>login</html>")
    assert info.value.status == 200


def test_an_empty_body_where_json_is_due_is_malformed() -> None:
    """A GET answered 200 with no body carries no resource, so it is malformed."""
    with pytest.raises(MalformedResponseError, match="200 with an empty body"):
        interpret(protocol.prepare_get(USER, "1"), 200, {}, b"")


def test_an_unexpected_2xx_is_malformed() -> None:
    """A 202 Accepted is not a SCIM answer to a GET."""
    with pytest.raises(MalformedResponseError, match="unexpected status 202, expected 200"):
        interpret(protocol.prepare_get(USER, "1"), 202, JSON, body({"id": "1"}))


@pytest.mark.parametrize(
    "data",
    [{"Resources": []}, {"totalResults": "1", "Resources": []}, {"totalResults": 1, "Resources": {}}, [1, 2]],
)
def test_a_list_without_the_list_shape_is_malformed(data: Any) -> None:
    """A search answer needs an integer totalResults and a Resources list."""
    with pytest.raises(MalformedResponseError, match="GET /Users: 200"):
        interpret(protocol.prepare_find(USER, "x"), 200, JSON, body(data))


def test_parse_list_reads_the_paging_fields() -> None:
    """parse_list returns the resources, totalResults, itemsPerPage and startIndex."""
    data = {"totalResults": 7, "itemsPerPage": 2, "startIndex": 3, "Resources": [{"id": "a"}, {"id": "b"}]}
    assert parse_list(data) == ([{"id": "a"}, {"id": "b"}], 7, 2, 3)


def test_parse_list_accepts_an_empty_page_without_resources() -> None:
    """Resources may be left out of an empty page; missing paging fields take their defaults."""
    assert parse_list({"totalResults": 0}) == ([], 0, 0, 1)


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, PermanentTargetError),
        (401, UnauthorizedError),
        (403, UnauthorizedError),
        (404, NotFoundError),
        (408, TransientTargetError),
        (409, ConflictError),
        (412, PermanentTargetError),
        (415, PermanentTargetError),
        (429, TransientTargetError),
        (500, TransientTargetError),
        (501, PermanentTargetError),
        (502, TransientTargetError),
        (503, TransientTargetError),
        (504, TransientTargetError),
        (302, PermanentTargetError),
    ],
)
def test_each_status_class_has_its_error(status: int, error: type[TargetError]) -> None:
    """Each status maps to the error class that decides its handling (retry, link, quarantine, escrow)."""
    with pytest.raises(error) as info:
        interpret(protocol.prepare_get(USER, "1"), status, JSON, scim_error(status))
    assert type(info.value) is error
    assert info.value.status == status


def test_scim_error_fields_are_carried() -> None:
    """The error keeps the target's status, scimType and detail (RFC 7644 §3.12) in a one-line message."""
    content = scim_error(409, "uniqueness", "One or more of the attribute values are already in use")
    with pytest.raises(ConflictError) as info:
        interpret(protocol.prepare_create(USER, {"userName": "a"}), 409, JSON, content)
    error = info.value
    assert (error.status, error.scim_type, error.detail) == (
        409,
        "uniqueness",
        "One or more of the attribute values are already in use",
    )
    assert str(error) == "POST /Users: 409 uniqueness: One or more of the attribute values are already in use"


def test_an_error_without_a_scim_body_uses_the_reason_phrase() -> None:
    """A proxy's HTML 502 page gives 'GET /Users/1: 502 Bad Gateway', with no page text."""
    with pytest.raises(TransientTargetError) as info:
        interpret(protocol.prepare_get(USER, "1"), 502, {"content-type": "text/html"}, b"<h1>oops</h1>")
    assert str(info.value) == "GET /Users/1: 502 Bad Gateway"
    assert (info.value.scim_type, info.value.detail) == (None, None)


def test_an_error_message_holds_no_body_and_no_filter() -> None:
    """Neither the request body nor the filter (both personal values) reaches the message."""
    request = protocol.prepare_find(USER, 'userName eq "alice@secret.example"')
    with pytest.raises(PermanentTargetError) as info:
        interpret(request, 400, JSON, scim_error(400, "invalidFilter", "bad filter"))
    assert str(info.value) == "GET /Users: 400 invalidFilter: bad filter"
    create = protocol.prepare_create(USER, {"userName": "alice@secret.example"})
    with pytest.raises(PermanentTargetError) as info:
        interpret(create, 400, JSON, scim_error(400, "invalidValue"))
    assert "secret" not in str(info.value)


def test_a_long_detail_is_shortened() -> None:
    """A detail of a whole stack trace is cut to one readable line."""
    with pytest.raises(PermanentTargetError) as info:
        interpret(protocol.prepare_get(USER, "1"), 400, JSON, scim_error(400, None, "x\n" * 1000))
    assert info.value.detail is not None
    assert len(info.value.detail) == protocol.MAX_DETAIL
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Sun, 29 Nov 2026 12:00:30 GMT", 30.0),
        ("Sun, 29 Nov 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_as_seconds_or_http_date(header: str, seconds: float | None) -> None:
    """Retry-After is delay-seconds or an HTTP-date (RFC 9110 §10.2.3); a past date means now."""
    assert parse_retry_after(header, NOW) == seconds


@pytest.mark.parametrize("name", ["Retry-After", "retry-after", "RETRY-AFTER"])
def test_a_429_carries_retry_after(name: str) -> None:
    """A 429 is transient and carries Retry-After in seconds, whatever the header's case."""
    with pytest.raises(TransientTargetError) as info:
        interpret(protocol.prepare_get(USER, "1"), 429, {name: "Sun, 29 Nov 2026 12:01:00 GMT"}, b"", now=NOW)
    assert info.value.retry_after == 60.0
    assert str(info.value) == "GET /Users/1: 429 Too Many Requests"


def test_a_503_without_retry_after_leaves_it_to_backoff() -> None:
    """Without Retry-After, retry_after is None and the client's backoff decides."""
    with pytest.raises(TransientTargetError) as info:
        interpret(protocol.prepare_get(USER, "1"), 503, {}, b"")
    assert info.value.retry_after is None


@pytest.mark.parametrize(
    ("content", "scim"),
    [
        (b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404"}', True),
        (b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": 404}', True),
        (b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "500"}', False),
        (b'{"detail": "not found"}', False),
        (b"<html><h1>404 Not Found</h1><hr>nginx</html>", False),
        (b"", False),
    ],
)
def test_a_404_is_the_applications_only_with_a_scim_error_body(content: bytes, scim: bool) -> None:
    error = protocol.error_for(protocol.prepare_get(ObjectKind.USER, "x1"), 404, {}, content)
    assert isinstance(error, NotFoundError) and error.scim_error is scim
