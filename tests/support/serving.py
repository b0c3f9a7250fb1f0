"""Start and stop the tests' in-process servers one way: a socketserver on a daemon thread.

Every test server (scim2-server behind wsgiref, the fault proxy, webhook receivers, the SMTP
sink) listens on 127.0.0.1, port 0 unless told (the kernel picks a free one, so parallel test
processes never collide), polls for shutdown every 50 ms and is stopped by ``shutdown()``,
``server_close()`` and a bounded join, so a test's exit never hangs on a server.
"""

from __future__ import annotations

import contextlib
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, TypeVar

S = TypeVar("S", bound=socketserver.BaseServer)


class ServerThread:
    """One socketserver served on a daemon thread until :meth:`stop`."""

    def __init__(self, server: socketserver.BaseServer, name: str) -> None:
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def serving(server: S, name: str = "test-server") -> Iterator[S]:
    """Serve ``server`` for the ``with`` block, then stop it (also when the block fails)."""
    thread = ServerThread(server, name)
    try:
        yield server
    finally:
        thread.stop()


class Proxy(Protocol):
    """What a proxy server hands each request to (the hostile and the quirk targets)."""

    def _handle(self, h: ProxyHandler) -> None: ...


class ProxyServer(ThreadingHTTPServer):
    """A threaded HTTP server whose every request goes to ``target._handle``."""

    daemon_threads = True
    request_queue_size = 256
    target: Proxy


class ProxyHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as httpx speaks it; a client that gave up is not an error."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _any(self) -> None:
        with contextlib.suppress(OSError):  # the client gave up: nothing left to answer
            self.server.target._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any
