"""An in-process client for the web app: requests go through ASGI, no server or socket.

Used by the tests and by ``kizuna serve --get PATH`` style one-shot requests. It runs the
app's lifespan (store opened at start, closed at exit) on its own event loop thread.

    with WebClient(create_app(settings)) as client:
        response = client.get("/api/concentration")
"""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack
from types import TracebackType
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

BASE_URL = "http://kizuna.local"


class WebClient:
    """A synchronous client for one app; use it as a context manager."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._stack = ExitStack()
        self._portal: BlockingPortal | None = None
        self._client: httpx.AsyncClient | None = None

    def __enter__(self) -> WebClient:
        portal_cm: AbstractContextManager[BlockingPortal] = start_blocking_portal()
        self._portal = self._stack.enter_context(portal_cm)
        self._stack.enter_context(
            self._portal.wrap_async_context_manager(self.app.router.lifespan_context(self.app))
        )
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
        self._stack.enter_context(self._portal.wrap_async_context_manager(self._client))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stack.close()
        self._portal = None
        self._client = None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._portal is None or self._client is None:
            raise RuntimeError("use WebClient as a context manager")
        client = self._client
        return self._portal.call(lambda: client.request(method, path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)
