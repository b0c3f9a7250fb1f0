"""A SaaS target's documented quirks, emulated by a proxy in front of the real scim2-server.

Each :class:`Behaviour` is one documented quirk (AWS IAM Identity Center answers an empty
``members``, GitHub EMU refuses a second writer, Zoom refuses a request without ``Accept:
application/scim+json`` ...), and a profile's emulation is the list of them
(:data:`tests.support.quirks.EMULATIONS`). The proxy forwards every request to the real server
unless a behaviour answers it first; behaviours may rewrite the request on its way (``DELETE``
becoming a deactivating ``PATCH``) and bend the answer on its way back. So a test proves the
profile against the behaviour of the target, on the real server's data, and counts what syncer
sent in :attr:`QuirkTarget.seen`.

Behaviours are tried in order: the first :meth:`Behaviour.refuse` that answers decides; every
:meth:`Behaviour.rewrite` then applies in order, and every :meth:`Behaviour.bend` in reverse
order, as layers would.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from tests.support.serving import ProxyHandler, ProxyServer

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "te", "upgrade"})
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


@dataclass(frozen=True)
class Request:
    """One request as it reached the proxy; ``path`` is below the base URL's ``/v2`` (``/Users/1``)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    body: bytes = b""

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.query if k.lower() == name.lower()), None)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def resource(self) -> str:
        """``Users``, ``Groups``, ``ServiceProviderConfig`` ...: the path's first segment."""
        return self.path.strip("/").split("/", 1)[0]

    @property
    def id(self) -> str | None:
        parts = self.path.strip("/").split("/")
        return parts[1] if len(parts) > 1 else None

    @property
    def is_write(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/scim+json"})

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def with_json(self, data: Any) -> Response:
        return replace(self, body=json.dumps(data).encode())


def scim_error(status: int, detail: str, scim_type: str | None = None) -> Response:
    """The RFC 7644 §3.12 error a target answers (``status`` as a string, as the RFC has it)."""
    data: dict[str, Any] = {"schemas": [SCIM_ERROR], "status": str(status), "detail": detail}
    if scim_type is not None:
        data["scimType"] = scim_type
    return Response(status, json.dumps(data).encode())


class Behaviour:
    """One documented quirk of a target; each hook's default leaves the exchange alone."""

    def refuse(self, request: Request, target: QuirkTarget) -> Response | None:
        """The answer the target gives instead of doing the request, or ``None``."""
        return None

    def rewrite(self, request: Request, target: QuirkTarget) -> Request:
        """The request as the target really performs it."""
        return request

    def bend(self, request: Request, response: Response, target: QuirkTarget) -> Response:
        """The answer as the target gives it."""
        return response

    def done(self, request: Request, target: QuirkTarget) -> None:
        """The exchange is over (answered or not): release what :meth:`refuse` held."""


class QuirkTarget:
    """A threaded proxy on 127.0.0.1 in front of ``upstream`` (``http://host:port/v2``)."""

    def __init__(self, upstream: str, behaviours: Sequence[Behaviour] = ()) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        self._up = (parts.hostname, parts.port or 80)
        self._suffix = parts.path.rstrip("/")
        self.behaviours = list(behaviours)
        self.lock = threading.Lock()
        """For behaviours that keep counts across the proxy's threads."""
        self._seen: list[Request] = []
        self._refused: list[tuple[Request, Response]] = []
        self._server: ProxyServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the quirk target is not started")
        return f"http://127.0.0.1:{self._server.server_port}{self._suffix}"

    def seen(self) -> list[Request]:
        """Every request that reached the proxy, as syncer sent it."""
        with self.lock:
            return list(self._seen)

    def refused(self) -> list[tuple[Request, Response]]:
        """Every request a behaviour refused (answered with an error) instead of the server."""
        with self.lock:
            return [(q, a) for q, a in self._refused if a.status >= 400]

    def answered(self) -> list[tuple[Request, Response]]:
        """Every request a behaviour answered itself, refusals and answers (AWS's membership filter)."""
        with self.lock:
            return list(self._refused)

    def clear(self) -> None:
        with self.lock:
            self._seen.clear()
            self._refused.clear()

    def __enter__(self) -> QuirkTarget:
        self._server = ProxyServer(("127.0.0.1", 0), ProxyHandler)
        self._server.target = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="quirk-target", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- upstream, for behaviours that need the server's view ---------------------------------

    def upstream(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Response:
        """One request straight to the real server (``path`` below ``/v2``, query included)."""
        sent = {"Accept": "application/scim+json"}
        if body is not None:
            sent["Content-Type"] = "application/scim+json"
        sent.update({k: v for k, v in (headers or {}).items() if k.lower() == "authorization"})
        content = json.dumps(body).encode() if body is not None else None
        conn = http.client.HTTPConnection(*self._up, timeout=30)
        try:
            conn.request(method, self._suffix + path, body=content, headers=sent)
            answer = conn.getresponse()
            kept = {k: v for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP | {"date", "server"}}
            return Response(answer.status, answer.read(), kept)
        finally:
            conn.close()

    # --- one request ---------------------------------------------------------------------------

    def _handle(self, h: ProxyHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        split = urlsplit(h.path)
        path = unquote(split.path)
        if path.startswith(self._suffix):
            path = path[len(self._suffix) :]
        headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
        request = Request(
            h.command, path, tuple(parse_qsl(split.query, keep_blank_values=True)), headers, body
        )
        with self.lock:
            self._seen.append(request)
        try:
            response = self._answer(request)
        finally:
            for behaviour in self.behaviours:
                behaviour.done(request, self)
        self._respond(h, response)

    def _answer(self, request: Request) -> Response:
        for behaviour in self.behaviours:
            refusal = behaviour.refuse(request, self)
            if refusal is not None:
                with self.lock:
                    self._refused.append((request, refusal))
                return refusal
        performed = request
        for behaviour in self.behaviours:
            performed = behaviour.rewrite(performed, self)
        response = self._forward(performed)
        for behaviour in reversed(self.behaviours):
            response = behaviour.bend(performed, response, self)
        return response

    def _forward(self, request: Request) -> Response:
        target = self._suffix + request.path + ("?" + urlencode(request.query) if request.query else "")
        conn = http.client.HTTPConnection(*self._up, timeout=30)
        try:
            conn.request(request.method, target, body=request.body or None, headers=request.headers)
            answer = conn.getresponse()
            kept = {k: v for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP | {"date", "server"}}
            return Response(answer.status, answer.read(), kept)
        finally:
            conn.close()

    def _respond(self, h: ProxyHandler, response: Response) -> None:
        h.send_response(response.status)
        for name, value in response.headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(response.body)))
        h.end_headers()
        if response.status not in (204, 304):
            h.wfile.write(response.body)
