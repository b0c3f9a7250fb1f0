"""A real scim2-server on 127.0.0.1 for the tests and ``make demo``.

It serves scim2-server's own WSGI application, unchanged, behind a counting middleware, on a
threaded wsgiref server whose listen backlog is 1024 (the stock CLI's backlog of 5 drops
connections at concurrency 32). The store is in memory: ``reset()`` empties it between tests.

scim2-server behaviour a test may trip on (0.8.3):

* error bodies carry ``status`` as a string (``"409"``), as RFC 7644 §3.12 shows;
* PATCH answers 204 with no body unless ``attributes`` is asked for;
* ``count`` above 1000 is capped to 1000 silently; no ``count`` means up to 1000;
* deleting a user leaves it in the groups' ``members``; unknown member ids are accepted;
* unknown attributes are refused (400 ``invalidSyntax``), ``manager`` must be ``{"value": id}``;
* wsgiref decodes ``%2F`` in a path before routing, so an id holding ``/`` cannot be served.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from socketserver import ThreadingMixIn
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import setup_testing_defaults

from scim2_models import ScimProvider
from scim2_server.memory import InMemoryStorage
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.utils import (
    load_default_resource_types,
    load_default_schemas,
    load_default_service_provider_config,
)

from tests.support.serving import ServerThread

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

WRITES = ("POST", "PUT", "PATCH", "DELETE")
DISCOVERY_ENDPOINTS = frozenset({"ServiceProviderConfig", "ResourceTypes", "Schemas"})
KINDS = {"Users": "User", "Groups": "Group"}
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# Building the provider compiles pydantic models; on CPython 3.11 two threads doing so at once can
# fail with "SystemError: AST constructor recursion depth mismatch" (seen in test_faults, which
# starts servers from a thread pool), so servers are built one at a time.
_BUILDING = threading.Lock()


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 1024


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _Counting:
    """Counts requests by method as the server receives them, whatever the client claims."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.counts: Counter[str] = Counter()
        self.discovery = 0
        self.lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        endpoint = str(environ.get("PATH_INFO", "")).rstrip("/").rsplit("/", 1)[-1]
        with self.lock:
            self.counts[environ["REQUEST_METHOD"]] += 1
            self.discovery += endpoint in DISCOVERY_ENDPOINTS
        return self.app(environ, start_response)


def _provider(token: str | None) -> ScimProvider:
    config = load_default_service_provider_config()
    if token is not None:
        # Announcing the scheme is what makes a 401 carry WWW-Authenticate: Bearer realm="SCIM".
        config.authentication_schemes = [*(config.authentication_schemes or []), BEARER_TOKEN_SCHEME]
    return ScimProvider.from_discovery(
        load_default_schemas().values(), load_default_resource_types().values(), config=config
    )


class ScimTestServer:
    """scim2-server's WSGI app on a threaded wsgiref server on 127.0.0.1 (free port by default)."""

    def __init__(
        self,
        token: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        wrap: Callable[[WSGIApplication], WSGIApplication] | None = None,
    ) -> None:
        """``wrap`` puts a test's middleware (a flaky proxy, say) between the counters and the app."""
        self.token = token
        self.storage = InMemoryStorage()
        with _BUILDING:
            provider = _provider(token)
        self.app = BearerTokenApplication(
            self.storage, provider, bearer_tokens=[token] if token is not None else []
        )
        self._counting = _Counting(wrap(self.app) if wrap is not None else self.app)
        self._host, self._port = host, port
        self._serving: ServerThread | None = None
        self.base_url = ""

    def __repr__(self) -> str:
        return f"ScimTestServer(base_url={self.base_url!r})"

    def start(self) -> None:
        server = make_server(
            self._host, self._port, self._counting, server_class=_Server, handler_class=_QuietHandler
        )
        assert isinstance(server, _Server)
        self._port = server.server_port  # a restart keeps the port the clients know
        self.base_url = f"http://{self._host}:{self._port}/v2"
        self._serving = ServerThread(server, "scim2-server")

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.stop()
            self._serving = None

    def __enter__(self) -> ScimTestServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Empty the store and zero the counters; the setter also drops the uniqueness indexes."""
        with self.storage.lock:
            self.storage.resources = []
        self.reset_counts()

    def reset_counts(self) -> None:
        """Zero the request counters (the store stays), so a test counts only what follows."""
        with self._counting.lock:
            self._counting.counts.clear()
            self._counting.discovery = 0

    def counts(self) -> dict[str, int]:
        with self._counting.lock:
            return dict(self._counting.counts)

    def discovery_requests(self) -> int:
        """How many of the counted requests asked /ServiceProviderConfig, /ResourceTypes or /Schemas."""
        with self._counting.lock:
            return self._counting.discovery

    def writes(self) -> int:
        counts = self.counts()
        return sum(counts.get(method, 0) for method in WRITES)

    def resources(self, kind: str) -> list[dict[str, Any]]:
        """Everything the server holds of ``"Users"`` or ``"Groups"``, read from the store, uncounted."""
        resource_type = KINDS[kind]
        return [
            r.model_dump()
            for r in self.storage.resources
            if r.meta is not None and r.meta.resource_type == resource_type
        ]

    def seed_user(self, **resource: Any) -> dict[str, Any]:
        """Create a user through the app itself (validation, uniqueness), bypassing the counters."""
        created: dict[str, Any] = self.call("POST", "/Users", resource)
        return created

    def seed_group(self, **resource: Any) -> dict[str, Any]:
        created: dict[str, Any] = self.call("POST", "/Groups", resource)
        return created

    def call(self, method: str, path: str, body: Any = None, query: str = "") -> Any:
        """One request to the app in-process, uncounted and authenticated; raises on a non-2xx."""
        environ: dict[str, Any] = {}
        setup_testing_defaults(environ)
        data = b"" if body is None else json.dumps(body).encode()
        port = str(self._port or 80)
        environ.update(
            REQUEST_METHOD=method,
            PATH_INFO="/v2" + path,
            QUERY_STRING=query,
            CONTENT_TYPE="application/scim+json",
            CONTENT_LENGTH=str(len(data)),
            HTTP_HOST=f"{self._host}:{port}",
            SERVER_PORT=port,
        )
        environ["wsgi.input"] = io.BytesIO(data)
        if self.token is not None:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        status: list[str] = []

        def start_response(line: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(line)

        content = b"".join(self.app(environ, start_response))
        if not status[0].startswith("2"):
            raise RuntimeError(f"{method} {path}: {status[0]}: {content.decode(errors='replace')}")
        return json.loads(content) if content else None


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve scim2-server on 127.0.0.1 until SIGTERM/SIGINT.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", type=Path, help="write the base URL here once listening")
    parser.add_argument("--token-env", metavar="VAR", help="require 'Bearer $VAR' (the token stays off argv)")
    args = parser.parse_args()

    token = None
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            parser.error(f"--token-env: ${args.token_env} is not set")

    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with ScimTestServer(token, host=args.host, port=args.port) as server:
        if args.port_file:
            # Written whole then renamed, so a script polling for the file never reads half a URL.
            partial = args.port_file.with_name(args.port_file.name + ".partial")
            partial.write_text(server.base_url + "\n")
            partial.replace(args.port_file)
        print(f"Serving SCIM on {server.base_url}", file=sys.stderr, flush=True)
        while not stopping.wait(0.5):
            pass


if __name__ == "__main__":
    main()
