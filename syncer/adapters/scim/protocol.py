"""SCIM 2.0 as data: requests to send, what a response means, and the bodies (RFC 7644).

The one door to the wire: the request envelope and the reading of responses live here; the
create bodies (:mod:`.resources`), PatchOps and dialects (:mod:`.patchops`) and the PUT
emulation (:mod:`.putpatch`) live beside it and are re-exported, as is the equality filter
whose grammar :mod:`syncer.core.scimpath` owns.

Sans-I/O, after scim2-client: this module builds request descriptions and turns
``(status, headers, content)`` into a value or a typed :mod:`syncer.errors` error, with no
network, so every status class and every malformed answer is tested without a server.
``client.py`` only moves the bytes.

Error messages name the method, the path and what the target said
(``POST /Users: 409 uniqueness: ...``). They never hold the query string (a filter holds a
personal value), the request body or a credential.
"""

from __future__ import annotations

import datetime
import email.utils
import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from syncer.core.scimpath import CORE_GROUP, CORE_USER, equality_filter
from syncer.errors import (
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    PermanentTargetError,
    TargetError,
    TransientTargetError,
    UnauthorizedError,
)
from syncer.types import ObjectKind, thaw

from .listresponse import CursorPage, parse_cursor_page, parse_list
from .patchops import DIALECTS, PATCH_OP, build_patch_operations, member_operations, patch_body
from .putpatch import apply_operations
from .resources import build_resource

__all__ = [
    "CORE_GROUP",
    "CORE_USER",
    "DIALECTS",
    "ERROR",
    "LIST_RESPONSE",
    "PATCH_OP",
    "CursorPage",
    "Returns",
    "ScimRequest",
    "apply_operations",
    "build_patch_operations",
    "build_resource",
    "eq_filter",
    "equality_filter",
    "error_for",
    "interpret",
    "is_scim_error",
    "member_operations",
    "parse_cursor_page",
    "parse_list",
    "parse_retry_after",
    "patch_body",
    "prepare_create",
    "prepare_cursor_page",
    "prepare_delete",
    "prepare_find",
    "prepare_get",
    "prepare_list",
    "prepare_patch",
    "prepare_put",
]

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Worth a retry. 408 is here too: it is the server's own timeout, and timeouts are transient."""
MAX_DETAIL = 300
"""Longest target ``detail`` kept in a message: a provisioning log line, not a page dump."""


class Returns(enum.Enum):
    """What a successful response must carry, so a wrong answer fails here and not in the planner."""

    RESOURCE = "resource"  # a JSON object with an "id"
    LIST = "list"  # a ListResponse
    CURSOR_LIST = "cursor_list"  # a ListResponse of a cursor page: totalResults optional (RFC 9865 §2)
    OPTIONAL = "optional"  # anything or nothing (PATCH, DELETE)


@dataclass(frozen=True, slots=True)
class ScimRequest:
    """One SCIM call, described: ``path`` is relative to the base URL and already URL-quoted.

    ``body`` stays out of ``repr`` because it holds personal values.
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    body: Mapping[str, Any] | None = field(default=None, repr=False)
    expected: frozenset[int] = frozenset({200})
    returns: Returns = Returns.RESOURCE

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_write(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH", "DELETE"}

    def content(self) -> bytes | None:
        """The JSON body as bytes (tuples and read-only maps from the flow types are fine)."""
        if self.body is None:
            return None
        return json.dumps(thaw(self.body), ensure_ascii=False, separators=(",", ":")).encode()


def eq_filter(path: str, value: str) -> str:
    """A ``path eq "value"`` filter with the value quoted as a JSON string (RFC 7644 §3.4.2.2)."""
    return f"{path} eq {json.dumps(value, ensure_ascii=False)}"


def _resource_path(kind: ObjectKind, id: str) -> str:
    if not id:
        raise ValueError("a SCIM resource id cannot be empty")
    return f"{kind.endpoint}/{quote(id, safe='')}"


def prepare_find(kind: ObjectKind, filter: str, count: int = 2) -> ScimRequest:
    """A filtered search; ``count=2`` is enough to tell one match from duplicates, as Entra does."""
    params = (("filter", filter), ("count", str(count)))
    return ScimRequest("GET", kind.endpoint, params, returns=Returns.LIST)


def prepare_get(kind: ObjectKind, id: str, attributes: Sequence[str] | None = None) -> ScimRequest:
    """A GET of one resource; ``attributes`` asks for just those (a group's ``members``, say)."""
    params = (("attributes", ",".join(attributes)),) if attributes else ()
    return ScimRequest("GET", _resource_path(kind, id), params)


def member_ids(group: Mapping[str, Any]) -> frozenset[str]:
    """The member ids of a group as answered; a target that leaves ``members`` out holds none."""
    members = group.get("members")
    if not isinstance(members, list):
        return frozenset()
    return frozenset(str(m["value"]) for m in members if isinstance(m, dict) and m.get("value") is not None)


def prepare_create(kind: ObjectKind, body: Mapping[str, Any]) -> ScimRequest:
    """A POST; 200 is accepted besides 201 because several real targets answer a create with it."""
    return ScimRequest("POST", kind.endpoint, body=body, expected=frozenset({200, 201}))


def prepare_patch(kind: ObjectKind, id: str, body: Mapping[str, Any]) -> ScimRequest:
    """A PatchOp; 204 without a body is as good as 200 with one (RFC 7644 §3.5.2)."""
    return ScimRequest(
        "PATCH", _resource_path(kind, id), body=body, expected=frozenset({200, 204}), returns=Returns.OPTIONAL
    )


def prepare_put(kind: ObjectKind, id: str, body: Mapping[str, Any]) -> ScimRequest:
    """A full replace (RFC 7644 §3.5.1), for targets that take PUT but not PATCH."""
    return ScimRequest(
        "PUT", _resource_path(kind, id), body=body, expected=frozenset({200, 204}), returns=Returns.OPTIONAL
    )


def prepare_delete(kind: ObjectKind, id: str) -> ScimRequest:
    return ScimRequest(
        "DELETE", _resource_path(kind, id), expected=frozenset({200, 204}), returns=Returns.OPTIONAL
    )


def prepare_list(
    kind: ObjectKind,
    start_index: int,
    count: int,
    attributes: Sequence[str] | None = None,
    excluded_attributes: Sequence[str] | None = None,
) -> ScimRequest:
    """One page of an index-paginated listing (RFC 7644 §3.4.2.4); ``start_index`` is 1-based."""
    params = [("startIndex", str(start_index)), ("count", str(count))]
    if attributes:
        params.append(("attributes", ",".join(attributes)))
    if excluded_attributes:
        params.append(("excludedAttributes", ",".join(excluded_attributes)))
    return ScimRequest("GET", kind.endpoint, tuple(params), returns=Returns.LIST)


def prepare_cursor_page(
    kind: ObjectKind,
    cursor: str,
    count: int,
    attributes: Sequence[str] | None = None,
    excluded_attributes: Sequence[str] | None = None,
) -> ScimRequest:
    """One page of a cursor-paginated listing (RFC 9865 §2): ``cursor`` is empty for the first page.

    The empty ``cursor=`` is sent rather than left out: it is what asks a target that offers both
    methods for cursors, and later pages repeat every other parameter unchanged, as the RFC wants.
    """
    params = [("cursor", cursor), ("count", str(count))]
    if attributes:
        params.append(("attributes", ",".join(attributes)))
    if excluded_attributes:
        params.append(("excludedAttributes", ",".join(excluded_attributes)))
    return ScimRequest("GET", kind.endpoint, tuple(params), returns=Returns.CURSOR_LIST)


def parse_retry_after(value: str | None, now: datetime.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an obsolete date form without a zone means GMT
        when = when.replace(tzinfo=datetime.UTC)
    now = now or datetime.datetime.now(datetime.UTC)
    return max(0.0, (when - now).total_seconds())


def interpret(
    request: ScimRequest,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    now: datetime.datetime | None = None,
) -> Any:
    """The parsed JSON of a successful response (``None`` when there is none), else a typed error.

    ``now`` is only read to turn an HTTP-date ``Retry-After`` into seconds.
    """
    if 200 <= status < 300:
        return _success(request, status, headers, content)
    raise error_for(request, status, headers, content, now=now)


def _success(request: ScimRequest, status: int, headers: Mapping[str, str], content: bytes) -> Any:
    if status not in request.expected:
        raise MalformedResponseError(
            f"{request}: unexpected status {status}, expected {_statuses(request.expected)}", status=status
        )
    if status == 204 or not content.strip():
        if request.returns is Returns.OPTIONAL:
            return None
        raise MalformedResponseError(
            f"{request}: {status} with an empty body, expected SCIM JSON", status=status
        )
    try:
        data = json.loads(content)
    except (UnicodeDecodeError, ValueError):
        kind = _header(headers, "content-type") or "no content type"
        raise MalformedResponseError(
            f"{request}: {status} with a body that is not JSON ({kind}); is the base URL the SCIM endpoint?",
            status=status,
        ) from None
    if request.returns in (Returns.LIST, Returns.CURSOR_LIST):
        try:
            parse_list(data) if request.returns is Returns.LIST else parse_cursor_page(data)
        except MalformedResponseError as exc:
            raise MalformedResponseError(f"{request}: {status}: {exc}", status=status) from None
    elif request.returns is Returns.RESOURCE and not (
        isinstance(data, dict) and isinstance(data.get("id"), str) and data["id"]
    ):
        raise MalformedResponseError(f"{request}: {status}: the resource has no id", status=status)
    return data


def error_for(
    request: ScimRequest,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    now: datetime.datetime | None = None,
) -> TargetError:
    """The typed error of a non-2xx response, with the target's SCIM error fields (RFC 7644 §3.12)."""
    scim_type, detail = _scim_error(content)
    text = f"{status} {scim_type}" if scim_type else str(status)
    if detail:
        text += f": {detail}"
    else:
        text += f" {_phrase(status)}"
    message = f"{request}: {text}"
    fields: dict[str, Any] = {
        "status": status,
        "scim_type": scim_type,
        "detail": detail,
        "scim_error": is_scim_error(content, status),
    }
    if status in TRANSIENT_STATUSES:
        retry_after = parse_retry_after(_header(headers, "retry-after"), now)
        return TransientTargetError(
            message, retry_after=retry_after, maybe_processed=status not in (429, 503), **fields
        )
    if status in (401, 403):
        return UnauthorizedError(message, **fields)
    if status == 404:
        return NotFoundError(message, **fields)
    if status == 409:
        return ConflictError(message, **fields)
    return PermanentTargetError(message, **fields)


def is_scim_error(content: bytes, status: int) -> bool:
    """The body is a SCIM error for ``status``: ``schemas`` holds the Error URN, ``status`` matches.

    What tells the application's own 404 ("no such resource") from a gateway's HTML page or a
    bare 404 from something in front of it: only the former proves an object is gone.
    """
    try:
        data = json.loads(content) if content.strip() else None
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    schemas = data.get("schemas")
    said = data.get("status")
    return (
        isinstance(schemas, list)
        and ERROR in schemas
        and not isinstance(said, bool)
        and isinstance(said, str | int)
        and str(said).strip() == str(status)
    )


def _scim_error(content: bytes) -> tuple[str | None, str | None]:
    """``(scimType, detail)`` of an error body, or ``(None, None)`` when it is not SCIM JSON."""
    try:
        data = json.loads(content) if content.strip() else None
    except (UnicodeDecodeError, ValueError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    scim_type = data.get("scimType")
    detail = data.get("detail")
    return (
        scim_type if isinstance(scim_type, str) and scim_type else None,
        _shorten(detail) if isinstance(detail, str) and detail.strip() else None,
    )


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name whatever its case, as a plain dict of headers may hold it in any case."""
    value = headers.get(name)
    if value is not None:
        return value
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


def _statuses(statuses: frozenset[int]) -> str:
    return " or ".join(str(s) for s in sorted(statuses))
