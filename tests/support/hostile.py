"""A hostile SCIM target: an HTTP proxy in front of a real scim2-server that lies in one chosen way.

Where :mod:`tests.support.fault_proxy` makes a target fail, this one makes it answer wrongly,
as a broken or malicious target (or SCIM source) does. Requests are forwarded to the real
server (``base_url`` keeps its ``/v2`` suffix); the mode bends the request or the answer:

``honest``
    Forward unchanged.
``ignore_filter``
    Drop ``filter`` from every query: a filtered search answers the start of the listing.
``case_exact_filter``
    Keep only the answered resources whose attribute equals an ``attr eq "value"`` filter's value
    exactly (case and Unicode form), as a target with byte-wise comparison does.
``repeat_page``
    The second page of a listing (``startIndex`` past 1) answers the first page again, once per
    listing: the page that should have come is never seen.
``under_report``
    ``totalResults`` is reported as ``total - under_by``.
``endless``
    Every page answers the first page again, with a ``totalResults`` always one page ahead.
``huge``
    Every GET answers 200 with a ListResponse of ``huge_bytes`` bytes, streamed without a
    ``Content-Length`` and generated as it goes (the proxy holds none of it).
``drip``
    The real answer, one byte every ``drip_interval`` seconds.
``no_enterprise``, ``no_filter``, ``no_discovery``, ``broken_discovery``, ``small_pages``
    Discovery endpoints (and writes) bent as :mod:`tests.support.discovery_bends` describes.
``duplicate_member_add``
    A member ``add`` of a member the group holds lists it twice (:mod:`tests.support.member_bends`).
``cursor_only``, ``repeat_cursor``
    Listings page by cursor only (RFC 9865), as :mod:`tests.support.cursor_bends` describes.

Counters (:meth:`HostileTarget.requests`) say how many requests reached the proxy, which is what
a test bounds when it says a listing "stops"; :meth:`HostileTarget.seen` lists them (method and
path with its query) since the last :meth:`~HostileTarget.set_mode`.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from tests.support import cursor_bends, discovery_bends, member_bends
from tests.support.discovery_bends import DISCOVERY_MODES
from tests.support.serving import ProxyHandler, ProxyServer

MODES = (
    "honest",
    "ignore_filter",
    "case_exact_filter",
    "repeat_page",
    "under_report",
    "endless",
    "huge",
    "drip",
    *DISCOVERY_MODES,
    member_bends.MODE,
    *cursor_bends.MODES,
)
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "te", "upgrade"})
_EQ = re.compile(r'^\s*([A-Za-z][\w.:-]*)\s+eq\s+(".*")\s*$', re.IGNORECASE)
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


class HostileTarget:
    """A threaded proxy on 127.0.0.1 in front of ``upstream`` (``http://host:port/v2``)."""

    def __init__(self, upstream: str, mode: str = "honest") -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        self._up = (parts.hostname, parts.port or 80)
        self._suffix = parts.path.rstrip("/")
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ProxyServer | None = None
        self._thread: threading.Thread | None = None
        self._count = 0
        self._seen: list[tuple[str, str]] = []
        self._repeated: set[str] = set()
        self.duplicates = member_bends.Duplicates()
        self.under_by = 1
        self.huge_bytes = 400 * 1024 * 1024
        self.drip_interval = 1.0
        self.set_mode(mode)

    def set_mode(self, mode: str, **settings: Any) -> None:
        """Switch behaviour (and settings such as ``under_by``); the counters start again."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        for name, value in settings.items():
            if not hasattr(self, name):
                raise ValueError(f"unknown setting {name!r}")
            setattr(self, name, value)
        with self._lock:
            self.mode = mode
            self._count = 0
            self._seen.clear()
            self._repeated.clear()
        self.duplicates.clear()

    def requests(self) -> int:
        with self._lock:
            return self._count

    def seen(self) -> list[tuple[str, str]]:
        """Every request that reached the proxy: its method, and its path with the query decoded."""
        with self._lock:
            return list(self._seen)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the hostile target is not started")
        return f"http://127.0.0.1:{self._server.server_port}{self._suffix}"

    def __enter__(self) -> HostileTarget:
        self._server = ProxyServer(("127.0.0.1", 0), ProxyHandler)
        self._server.target = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="hostile-target", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- one request ---------------------------------------------------------------------------

    def _handle(self, h: ProxyHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        with self._lock:
            self._count += 1
            self._seen.append((h.command, unquote(h.path)))
            mode = self.mode
        if mode == "huge" and h.command == "GET":
            self._huge(h)
            return
        split = urlsplit(h.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        params = dict(query)
        listing = (
            h.command == "GET"
            and "filter" not in params
            and split.path.rstrip("/").endswith(("Users", "Groups"))
        )
        if mode in ("ignore_filter", "no_filter"):
            query = [(k, v) for k, v in query if k != "filter"]
        later_page = listing and int(params.get("startIndex", "1")) > 1
        if later_page and (mode == "endless" or (mode == "repeat_page" and self._first_repeat(split.path))):
            query = [(k, "1" if k == "startIndex" else v) for k, v in query]
        served = cursor_bends.serve(query) if mode in cursor_bends.MODES and listing else None
        if isinstance(served, cursor_bends.Refused):
            self._respond(h, served.status, {"Content-Type": "application/scim+json"}, served.body)
            return
        query = served.query if served is not None else query
        target = split.path + ("?" + urlencode(query) if query else "")
        refusal = discovery_bends.refuse_write(mode, h.command, body)
        if refusal is not None:
            self._respond(h, 400, {"Content-Type": "application/scim+json"}, refusal)
            return
        if mode == member_bends.MODE and h.command == "PATCH":
            self.duplicates.before_patch(self._up, self._suffix, split.path, body, dict(h.headers.items()))
        status, headers, content = self._forward(h, target, body)
        if mode == member_bends.MODE and h.command == "GET" and status == 200:
            content = self.duplicates.bend(content)
        endpoint = discovery_bends.endpoint_of(split.path)
        if mode in DISCOVERY_MODES and endpoint and h.command == "GET" and status == 200:
            status, content = discovery_bends.bend(mode, endpoint, content)
        elif mode in cursor_bends.MODES and h.command == "GET" and status == 200:
            content = cursor_bends.answer(mode, served, endpoint, content)
        elif status == 200 and h.command == "GET":
            content = self._bend(mode, params, listing, content)
        if mode == "drip":
            self._respond(h, status, headers, content, drip=self.drip_interval)
        else:
            self._respond(h, status, headers, content)

    def _first_repeat(self, path: str) -> bool:
        with self._lock:
            if path in self._repeated:
                return False
            self._repeated.add(path)
            return True

    def _bend(self, mode: str, params: dict[str, str], listing: bool, content: bytes) -> bytes:
        try:
            data = json.loads(content)
        except ValueError:
            return content
        if not isinstance(data, dict) or data.get("schemas") != [LIST_RESPONSE]:
            return content
        if mode == "case_exact_filter" and (found := _EQ.match(params.get("filter", ""))):
            attribute, value = found.group(1), json.loads(found.group(2))
            kept = [r for r in data.get("Resources", []) if r.get(attribute) == value]
            data["Resources"], data["totalResults"] = kept, len(kept)
        elif mode == "under_report" and listing:
            data["totalResults"] = max(0, data["totalResults"] - self.under_by)
        elif mode == "endless" and listing:
            start = int(params.get("startIndex", "1"))
            data["totalResults"] = start + 2 * max(1, len(data.get("Resources", [])))
        else:
            return content
        return json.dumps(data).encode()

    def _forward(self, h: ProxyHandler, target: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        conn = http.client.HTTPConnection(*self._up, timeout=30)
        try:
            conn.request(h.command, target, body=body or None, headers=headers)
            response = conn.getresponse()
            content = response.read()
            kept = {
                k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP | {"date", "server"}
            }
            return response.status, kept, content
        finally:
            conn.close()

    def _respond(
        self, h: ProxyHandler, status: int, headers: dict[str, str], content: bytes, drip: float | None = None
    ) -> None:
        h.send_response(status)
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(content)))
        h.end_headers()
        if status in (204, 304):
            return
        if drip is None:
            h.wfile.write(content)
            return
        for i in range(len(content)):
            if self._closing.wait(drip):
                return
            h.wfile.write(content[i : i + 1])
            h.wfile.flush()

    def _huge(self, h: ProxyHandler) -> None:
        """A ListResponse too big to hold: sent as it is made, ended by closing the connection."""
        h.close_connection = True
        h.send_response(200)
        h.send_header("Content-Type", "application/scim+json")
        h.send_header("Connection", "close")
        h.end_headers()
        for chunk in _huge_body(self.huge_bytes):
            if self._closing.is_set():
                return
            h.wfile.write(chunk)


def _huge_body(size: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    head = (f'{{"schemas":["{LIST_RESPONSE}"],"totalResults":1,"Resources":[{{"id":"x","userName":"').encode()
    tail = b'"}]}'
    yield head
    left = max(0, size - len(head) - len(tail))
    block = b"a" * chunk
    while left > 0:
        yield block[: min(chunk, left)]
        left -= chunk
    yield tail
