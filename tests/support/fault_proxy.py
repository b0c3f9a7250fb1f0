"""A fault-injection HTTP proxy between a SCIM client and a :class:`ScimTestServer`, for the fault tests.

It is a real HTTP server on 127.0.0.1 (a free port): the client under test speaks HTTP/1.1 to it
over real sockets, so a fault is exactly what a client meets on the wire, dropped connections and
withheld answers included. Requests that are not faulted are forwarded, unchanged, to the server's
base URL (one upstream connection per request: the server speaks HTTP/1.0); ``base_url`` has the
same ``/v2`` suffix as the server's.

Faults are injected **by rule**. A :class:`Rule` is a fault kind, when it fires and to which requests:

* ``probability``: each matching request is faulted with this chance, drawn from one
  ``random.Random(seed)`` per proxy, so a run with the same seed and request order is reproducible;
* ``every=N``: the Nth, 2Nth, ... matching request; ``first=K``: the first K matching requests;
* ``burst=B``: once the rule fires, the next B-1 matching requests are faulted too (an outage);
* ``limit``: at most this many faults from the rule, then it is spent;
* ``methods`` (``{"POST", "PATCH"}``) and ``path`` (a regex searched in the path, query excluded)
  choose the requests the rule applies to and counts.

Rules are tried in order; the first that fires decides the request. ``cap=N`` (on the proxy or in
``set_rules``) faults no identical request (method, path and query, body) more than N times: with
N below the client's attempts, every request gets through within its retry budget, so a test
exercises what the client does with faults rather than the odds of N faults in a row.

Fault kinds:

``500``, ``502``, ``503``
    That status with a SCIM error body (``status`` as a string, RFC 7644 §3.12); use ``burst`` for
    bursts. Not forwarded: the server never sees the request. Transient for a client.
``429``
    429 with ``Retry-After: <retry_after>`` (seconds, ``1`` by default) and a SCIM error body
    (``scimType: tooMany``). Not forwarded.
``timeout``
    Reads the request, then holds it ``hold`` seconds (3 s by default, more than the 2 s client
    timeout of the tests) without a byte of answer and drops the connection. Not forwarded.
``reset``
    Reads the request and closes the socket with ``SO_LINGER`` 0: a TCP RST, no response at all.
    Not forwarded.
``401``
    401 with ``WWW-Authenticate: Bearer realm="SCIM"`` and a SCIM error body. Not forwarded.
``malformed_json``
    200 ``application/scim+json`` whose body is JSON cut off in the middle. Not forwarded.
``html``
    An HTML error page (``text/html``) with status ``status``: 502 by default (a gateway's error
    page), or 200 (a login or maintenance page answered with success). Not forwarded.
``lost_response``
    Forwarded to the server, so the write **happens**, and then the answer is withheld: the
    connection is dropped at once (``hold=None``) or after ``hold`` seconds. The client sees a
    failure for a request that succeeded: a create it retries meets its own object (409).

``404``
    404 with a SCIM error body; with ``forward=True`` the write happened (a route that lies).
``400``
    400 with a SCIM error body whose ``scimType`` and ``detail`` are the rule's ``scim_type``
    (``invalidValue`` by default) and ``detail``: a target refusing a write it cannot take.
    Not forwarded. ``500`` also takes the rule's ``detail`` when one is given.
``down``
    The target dies: this connection is reset, the proxy stops listening (later connections are
    refused) and every request on a connection still open is reset. Not forwarded.

Every kind except ``lost_response`` and ``down`` can also be given ``forward=True``: the request reaches the
server first and only its answer is replaced by the fault (a 201 whose body a gateway mangled).

Counters (thread-safe, read with :meth:`FaultProxy.stats`): requests received and forwarded by
method, faults injected by kind. ``set_rules()`` replaces the rules (``set_rules()`` with none turns
faults off); ``reset_counters()`` zeroes the counters.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import random
import re
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from tests.support.serving import ServerThread

STATUS_KINDS = ("500", "502", "503", "429", "401", "404", "400")
KINDS = (*STATUS_KINDS, "timeout", "reset", "malformed_json", "html", "lost_response", "down")
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "te", "upgrade"}
)
MALFORMED_BODY = (
    b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1, '
    b'"Resources": [{"id": "2819c223-7f76-453a-919d-41'
)
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>\n"
    "<body><h1>{status} {reason}</h1><p>The upstream server is not available.</p>"
    "<hr><address>nginx</address></body></html>\n"
)
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class Rule:
    """One fault, when it fires (probability / every / first, burst, limit) and for which requests."""

    fault: str
    probability: float = 0.0
    every: int | None = None
    first: int | None = None
    burst: int = 1
    limit: int | None = None
    methods: Iterable[str] | None = None
    path: str | None = None
    retry_after: int | str = 1
    hold: float | None = None
    status: int | None = None
    forward: bool = False
    scim_type: str | None = None
    detail: str | None = None
    # bookkeeping, under the proxy's lock
    seen: int = field(default=0, init=False, repr=False)
    fired: int = field(default=0, init=False, repr=False)
    burst_left: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.fault not in KINDS:
            raise ValueError(f"unknown fault kind {self.fault!r}; one of {', '.join(KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability is between 0 and 1")
        if self.burst < 1 or (self.every is not None and self.every < 1):
            raise ValueError("burst and every are at least 1")
        if self.fault in ("lost_response", "down") and self.forward:
            raise ValueError(f"{self.fault} cannot be combined with forward")
        self.methods = frozenset(m.upper() for m in self.methods) if self.methods is not None else None
        self._path = re.compile(self.path) if self.path is not None else None

    def applies(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self._path is None or self._path.search(path) is not None

    def decide(self, rng: random.Random) -> bool:
        """Whether this matching request is faulted; call once per matching request, under the lock."""
        self.seen += 1
        if self.limit is not None and self.fired >= self.limit:
            return False
        if self.burst_left > 0:
            self.burst_left -= 1
            fire = True
        else:
            fire = (
                (self.first is not None and self.seen <= self.first)
                or (self.every is not None and self.seen % self.every == 0)
                or (self.probability > 0 and rng.random() < self.probability)
            )
            if fire:
                self.burst_left = self.burst - 1
        if fire:
            self.fired += 1
        return fire


@dataclass(frozen=True)
class ProxyStats:
    received: dict[str, int]
    forwarded: dict[str, int]
    injected: dict[str, int]

    @property
    def faults(self) -> int:
        return sum(self.injected.values())

    @property
    def requests(self) -> int:
        return sum(self.received.values())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    proxy: FaultProxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive towards the client, as a real target or gateway offers
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _any(self) -> None:
        self.server.proxy._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any


class FaultProxy:
    """A threaded HTTP proxy on 127.0.0.1 in front of ``upstream`` (a base URL such as ``.../v2``)."""

    def __init__(
        self,
        upstream: str,
        rules: Iterable[Rule] = (),
        *,
        seed: int = 0,
        cap: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        upstream_timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self._up_host, self._up_port = parts.hostname, parts.port or 80
        self._suffix = parts.path.rstrip("/")
        self._host, self._port = host, port
        self.upstream_timeout = upstream_timeout
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._rules: list[Rule] = list(rules)
        self._cap = cap
        self._faulted: Counter[str] = Counter()  # faults per identical request, for the cap
        self._received: Counter[str] = Counter()
        self._forwarded: Counter[str] = Counter()
        self._injected: Counter[str] = Counter()
        self._closing = threading.Event()
        self.down = threading.Event()
        """Set once a ``down`` fault fired: the target is dead from then on."""
        self._serving: ServerThread | None = None

    def __repr__(self) -> str:
        return f"FaultProxy({self.upstream!r}, rules={len(self._rules)})"

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        server = _Server((self._host, self._port), _Handler)
        server.proxy = self
        self._port = server.server_port
        self._closing.clear()
        self._serving = ServerThread(server, "fault-proxy")

    def stop(self) -> None:
        self._closing.set()  # held requests let go at once
        if self._serving is not None:
            self._serving.stop()
            self._serving = None

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._serving is None:
            raise RuntimeError("the proxy is not started")
        return f"http://{self._host}:{self._port}{self._suffix}"

    # --- rules and counters -------------------------------------------------------------------

    def set_rules(self, *rules: Rule, seed: int | None = None, cap: int | None = None) -> None:
        """Replace the rules (none: faults off); ``seed`` restarts the random draws; ``cap`` as in
        the constructor (its count starts again)."""
        with self._lock:
            self._rules = list(rules)
            self._cap = cap
            self._faulted.clear()
            if seed is not None:
                self._rng = random.Random(seed)

    def reset_counters(self) -> None:
        with self._lock:
            self._received.clear()
            self._forwarded.clear()
            self._injected.clear()

    def stats(self) -> ProxyStats:
        with self._lock:
            return ProxyStats(dict(self._received), dict(self._forwarded), dict(self._injected))

    def _choose(self, method: str, target: str, body: bytes) -> Rule | None:
        path = urlsplit(target).path
        key = f"{method} {target} {hashlib.sha256(body).hexdigest()}"
        with self._lock:
            self._received[method] += 1
            capped = self._cap is not None and self._faulted[key] >= self._cap
            chosen = None
            for rule in self._rules:
                if not rule.applies(method, path):
                    continue
                if chosen is None and not capped:
                    if rule.decide(self._rng):
                        chosen = rule
                else:
                    rule.seen += 1  # "every Nth" counts every matching request, faulted or not
            if chosen is not None:
                self._injected[chosen.fault] += 1
                if self._cap is not None:
                    self._faulted[key] += 1
            return chosen

    # --- one request --------------------------------------------------------------------------

    def _handle(self, h: _Handler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        method = h.command
        if self.down.is_set():
            self._reset(h)
            return
        rule = self._choose(method, h.path, body)
        if rule is None:
            self._relay(h, *self._forward(h, body))
            return
        if rule.forward or rule.fault == "lost_response":
            with contextlib.suppress(OSError):  # the server is gone: the client gets the fault anyway
                self._forward(h, body)
        kind = rule.fault
        if kind in STATUS_KINDS:
            self._respond_status(h, rule, int(kind))
        elif kind == "malformed_json":
            self._respond(h, 200, {"Content-Type": "application/scim+json"}, MALFORMED_BODY)
        elif kind == "html":
            status = rule.status or 502
            page = HTML_PAGE.format(status=status, reason=REASONS.get(status, "Error")).encode()
            self._respond(h, status, {"Content-Type": "text/html; charset=utf-8"}, page)
        elif kind == "timeout":
            self._closing.wait(3.0 if rule.hold is None else rule.hold)
            self._drop(h)
        elif kind == "lost_response":
            if rule.hold:
                self._closing.wait(rule.hold)
            self._drop(h)
        elif kind == "reset":
            self._reset(h)
        elif kind == "down":
            self.down.set()
            self._reset(h)
            threading.Thread(target=self._stop_listening, daemon=True).start()

    def _respond_status(self, h: _Handler, rule: Rule, status: int) -> None:
        """An injected HTTP error status with a SCIM error body (and Retry-After on a 429)."""
        headers = {"Content-Type": "application/scim+json"}
        scim_type = rule.scim_type
        if status == 400:
            scim_type = scim_type or "invalidValue"
        elif status == 429:
            headers["Retry-After"] = str(rule.retry_after)
            scim_type = "tooMany"
        elif status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="SCIM"'
        error: dict[str, Any] = {
            "schemas": [SCIM_ERROR],
            "status": str(status),
            "detail": rule.detail or f"fault injected by the test proxy: {REASONS[status]}",
        }
        if scim_type:
            error["scimType"] = scim_type
        self._respond(h, status, headers, json.dumps(error).encode())

    def _stop_listening(self) -> None:
        """Close the listening socket: from now on a connection attempt is refused, as by a dead host."""
        serving = self._serving
        if serving is not None:
            serving.server.shutdown()
            serving.server.socket.close()

    def _forward(self, h: _Handler, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "host"}
        headers["Host"] = f"{self._up_host}:{self._up_port}"
        conn = http.client.HTTPConnection(self._up_host, self._up_port, timeout=self.upstream_timeout)
        try:
            conn.request(h.command, h.path, body=body or None, headers=headers)
            response = conn.getresponse()
            content = response.read()
            result = (response.status, response.getheaders(), content)
        finally:
            conn.close()
        with self._lock:
            self._forwarded[h.command] += 1
        return result

    def _relay(self, h: _Handler, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
        skip = HOP_BY_HOP | {"date", "server"}
        kept = {k: v for k, v in headers if k.lower() not in skip}
        self._respond(h, status, kept, content)

    def _respond(self, h: _Handler, status: int, headers: dict[str, str], content: bytes) -> None:
        h.send_response(status, REASONS.get(status))
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(content)))
        h.end_headers()
        if h.command != "HEAD" and status not in (204, 304):
            h.wfile.write(content)

    def _drop(self, h: _Handler) -> None:
        """Close the connection without a byte of response (an orderly FIN)."""
        h.close_connection = True

    def _reset(self, h: _Handler) -> None:
        """Abort the connection: SO_LINGER 0 makes close() send a TCP RST."""
        h.close_connection = True
        sock = h.connection
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
