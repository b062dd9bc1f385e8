"""Third-party browser assets, served from installed Python packages — never from a CDN.

Plotly's JavaScript comes from the ``plotly`` package the figures are built with, so the two
versions always match. Swagger UI and ReDoc come from ``fastapi-offline``, which ships them as
package data; without it ``/docs`` falls back to a plain page that links ``/openapi.json``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from kizuna.errors import NotFoundError

VENDOR_PREFIX = "/static/vendor"
CACHE_CONTROL = "public, max-age=86400"


@dataclass(frozen=True)
class VendorAsset:
    """One file of an installed package, published under ``VENDOR_PREFIX/<name>``."""

    package: str
    resource: str
    media_type: str

    def available(self) -> bool:
        return importlib.util.find_spec(self.package) is not None

    def locate(self) -> Traversable:
        return resources.files(self.package).joinpath(self.resource)


ASSETS: dict[str, VendorAsset] = {
    "plotly.min.js": VendorAsset("plotly", "package_data/plotly.min.js", "text/javascript"),
    "swagger-ui-bundle.js": VendorAsset(
        "fastapi_offline", "static/swagger-ui-bundle.js", "text/javascript"
    ),
    "swagger-ui.css": VendorAsset("fastapi_offline", "static/swagger-ui.css", "text/css"),
    "redoc.standalone.js": VendorAsset(
        "fastapi_offline", "static/redoc.standalone.js", "text/javascript"
    ),
}


def vendor_url(name: str) -> str:
    return f"{VENDOR_PREFIX}/{name}"


def docs_assets_available() -> bool:
    """True when the Swagger UI and ReDoc files are installed."""
    return ASSETS["swagger-ui-bundle.js"].available()


def vendor_router() -> APIRouter:
    """Routes serving ``ASSETS`` with caching headers; add before the ``/static`` mount."""
    router = APIRouter()

    @router.get(VENDOR_PREFIX + "/{name}", include_in_schema=False)
    def vendor_asset(name: str) -> Response:
        asset = ASSETS.get(name)
        if asset is None or not asset.available():
            raise NotFoundError(
                f"no vendored asset {name!r}",
                hint="available: " + ", ".join(sorted(ASSETS)),
                asset=name,
            )
        headers = {"Cache-Control": CACHE_CONTROL}
        located = asset.locate()
        if isinstance(located, Path):
            return FileResponse(located, media_type=asset.media_type, headers=headers)
        return Response(located.read_bytes(), media_type=asset.media_type, headers=headers)

    return router
