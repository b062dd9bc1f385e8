"""The app factory behind ``kizuna serve``.

``create_app(settings)`` builds a new FastAPI app each call — nothing happens at import time.
Run it with ``uvicorn --factory`` style callers or :func:`kizuna.web.server.serve`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import anyio.to_thread
import jinja2
from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from kizuna.settings import Settings
from kizuna.web.api import api_router, health_router
from kizuna.web.assets import docs_assets_available, vendor_router, vendor_url
from kizuna.web.context import WebContext
from kizuna.web.exposure_page import exposure_router
from kizuna.web.formatting import FILTERS
from kizuna.web.gate import mineral_reader
from kizuna.web.handlers import install_handlers
from kizuna.web.intel_page import intel_router
from kizuna.web.pages import pages_router
from kizuna.web.partners_page import partners_router
from kizuna.web.peers_page import peer_sync, peers_router
from kizuna.web.scenario_page import scenario_router
from kizuna.web.sightings_page import sightings_router
from kizuna.web.sourcing_page import sourcing_router
from kizuna.web.taxii import install_taxii_handlers, taxii_router

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset
    from kizuna.hub.contract import HubService
    from kizuna.store.base import Store

TITLE = "Kizuna"
DESCRIPTION = (
    "Critical-mineral supply analytics: who produces and refines each mineral, how "
    "concentrated supply is, and how much of it sits with countries of concern. Every figure "
    "carries its year, unit and source."
)
FAVICON = "/static/favicon.svg"
NAV = (
    ("overview", "Overview", "/"),
    ("minerals", "Minerals", "/minerals"),
    ("exposure", "Products", "/exposure"),
    ("partners", "Partners", "/partners"),
    ("sourcing", "Sourcing", "/sourcing"),
    ("intel", "Threat intel", "/intel"),
    ("scenarios", "Scenarios", "/scenarios"),
    ("federation", "Federation", "/federation"),
    ("api", "API", "/docs"),
)


def make_templates() -> Jinja2Templates:
    """Jinja templates from the package (works from a wheel as well as a checkout)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kizuna.web", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals.update(nav=NAV, plotly_js=vendor_url("plotly.min.js"), favicon=FAVICON)
    return Jinja2Templates(env=env)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the store (and warm the dataset) at startup; close the store at shutdown."""
    context: WebContext = app.state.kizuna
    await anyio.to_thread.run_sync(context.open_store)
    try:
        await anyio.to_thread.run_sync(context.dataset)
        async with peer_sync(context):  # the background sync with the hub's peers
            yield
    finally:
        await anyio.to_thread.run_sync(context.close_store)


def _docs_routes(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` with locally served assets; a plain page if they are absent."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        if not docs_assets_available():
            return _plain_docs(openapi_url)
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{TITLE} API",
            swagger_js_url=vendor_url("swagger-ui-bundle.js"),
            swagger_css_url=vendor_url("swagger-ui.css"),
            swagger_favicon_url=FAVICON,
            swagger_ui_parameters={"validatorUrl": None, "defaultModelsExpandDepth": 0},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        if not docs_assets_available():
            return _plain_docs(openapi_url)
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{TITLE} API",
            redoc_js_url=vendor_url("redoc.standalone.js"),
            redoc_favicon_url=FAVICON,
            with_google_fonts=False,
        )


def _plain_docs(openapi_url: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>{TITLE} API</title><h1>{TITLE} API</h1>"
        f'<p>The OpenAPI description is at <a href="{openapi_url}">{openapi_url}</a>. '
        "Install fastapi-offline for the interactive documentation.</p>"
    )


def create_app(
    settings: Settings,
    *,
    dataset: Dataset | None = None,
    store: Store | None = None,
    hub: HubService | None = None,
) -> FastAPI:
    """A new Kizuna web app.

    ``dataset`` defaults to the bundled one (``settings.tables_dir`` if set), loaded at
    startup or on first use. ``store`` defaults to ``open_store(settings.store)``, opened at
    startup and closed at shutdown; a store passed in is left open for its owner to close.
    ``hub`` (the TAXII hub at ``/taxii2/``) defaults to ``kizuna.hub.service.Hub`` built on
    the store when it is opened, named ``settings.node_name``.
    """
    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version=_version(),
        debug=settings.debug,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.kizuna = WebContext(settings, dataset=dataset, store=store, hub=hub)
    templates = make_templates()
    install_handlers(app, templates, debug=settings.debug)
    install_taxii_handlers(app)
    app.include_router(health_router())
    private = [Depends(mineral_reader)]  # a no-op while settings.minerals_public
    app.include_router(api_router(), dependencies=private)
    app.include_router(taxii_router())
    app.include_router(pages_router(templates), dependencies=private)
    app.include_router(exposure_router(templates), dependencies=private)
    app.include_router(partners_router(templates), dependencies=private)
    app.include_router(sourcing_router(templates), dependencies=private)
    app.include_router(scenario_router(templates), dependencies=private)
    app.include_router(intel_router(templates))  # its own login: the hub's API key
    app.include_router(sightings_router(templates))  # the same login
    app.include_router(peers_router(templates))  # the same login
    app.include_router(vendor_router())
    _docs_routes(app)
    app.mount(
        "/static",
        StaticFiles(packages=[("kizuna.web", "static")]),
        name="static",
    )
    return app


def _version() -> str:
    try:
        return version("kizuna")
    except PackageNotFoundError:
        return "0+unknown"
