"""``kizuna serve``: run the web app under uvicorn."""

from __future__ import annotations

import uvicorn

from kizuna.settings import Settings
from kizuna.web.app import create_app


def server_url(settings: Settings) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}/"


def serve(settings: Settings) -> None:
    """Build the app, print where it is served, and run uvicorn until interrupted."""
    app = create_app(settings)
    print(f"Kizuna is serving at {server_url(settings)}", flush=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info" if settings.debug else "warning",
        access_log=settings.debug,
    )


def get_once(settings: Settings, path: str) -> tuple[int, str]:
    """Answer one GET request in process, without a server (``kizuna serve --get PATH``).

    Returns the status code and the body text; errors come back as their error body.
    """
    from kizuna.web.client import WebClient  # noqa: PLC0415 - needs httpx, only for --get

    with WebClient(create_app(settings)) as client:
        response = client.get(path if path.startswith("/") else "/" + path)
    return response.status_code, response.text
