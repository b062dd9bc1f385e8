"""An app served by uvicorn in a thread on a free 127.0.0.1 port, for tests that need a real
server (browsers, TAXII clients)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest


class ThreadedServer:
    """``app`` under uvicorn (lifespan on) in a thread on 127.0.0.1:``port`` (0: a free one);
    the port is kept across stop and start, so a test can restart a server where it was."""

    def __init__(self, app: Any, port: int = 0, what: str = "the test web server") -> None:
        self.app, self.port, self.what = app, port, what
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False,
                                               lifespan="on"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail(f"{self.what} did not start (see the log above)")
            time.sleep(0.02)
        self._server, self._thread, self._sock = server, thread, sock
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is None or self._thread is None or self._sock is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=timeout)
        self._sock.close()
        self._server = self._thread = self._sock = None


@contextmanager
def serving(app: Any, what: str = "the test web server") -> Iterator[str]:
    """Serve ``app`` (lifespan on) until the block ends; yields its base URL."""
    server = ThreadedServer(app, what=what)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()
