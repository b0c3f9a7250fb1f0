"""Start and stop the tests' in-process servers one way: a socketserver on a daemon thread.

Every test server (scim2-server behind wsgiref, the fault proxy, webhook receivers, the SMTP
sink) listens on 127.0.0.1, port 0 unless told (the kernel picks a free one, so parallel test
processes never collide), polls for shutdown every 50 ms and is stopped by ``shutdown()``,
``server_close()`` and a bounded join, so a test's exit never hangs on a server.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

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
