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
