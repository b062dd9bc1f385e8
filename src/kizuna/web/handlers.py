"""Exception handlers: one error body for the JSON API, a small error page for HTML routes.

Every error a user can cause becomes a :class:`~kizuna.errors.KizunaError`: the API renders
``err.to_dict()`` with ``err.status``; pages render ``error.html`` with the message and hint.
No tracebacks are shown unless ``settings.debug``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from kizuna.errors import InputError, KizunaError, NotFoundError
from kizuna.web.taxii_http import CHALLENGE

LOG = logging.getLogger(__name__)
JSON_PATHS = ("/api/", "/healthz", "/openapi.json")
# Pages challenge with Basic alone: chromium did not answer "Bearer ..., Basic ..." with the
# user's password at all (seen with Playwright's http_credentials); with Basic first it does.
PAGE_CHALLENGE = 'Basic realm="kizuna", charset="UTF-8"'


def wants_json(request: Request) -> bool:
    """API routes answer in JSON; everything else is a page."""
    return request.url.path.startswith(JSON_PATHS)


def validation_error(exc: RequestValidationError) -> InputError:
    """FastAPI's validation errors as one InputError naming the first bad parameter."""
    errors = list(exc.errors())
    first: dict[str, Any] = errors[0] if errors else {}
    location = [str(part) for part in first.get("loc", ())]
    where = location[0] if location else "request"
    name = ".".join(location[1:]) or where
    value = first.get("input")
    message = f"invalid {where} parameter {name!r}: {first.get('msg', 'invalid value')}"
    if value is not None and isinstance(value, str | int | float):
        message += f" (got {value!r})"
    return InputError(message, parameter=name, location=where)


def http_error(exc: StarletteHTTPException, request: Request) -> KizunaError:
    """Starlette's HTTP errors (unknown path, wrong method) in the same error shape."""
    if exc.status_code == 404:
        return NotFoundError(
            f"nothing at {request.url.path}", hint="see / or /docs", path=request.url.path
        )
    return KizunaError(str(exc.detail), path=request.url.path)


def install_handlers(app: FastAPI, templates: Jinja2Templates, *, debug: bool) -> None:
    """Register the handlers on ``app``."""

    def render(request: Request, error: KizunaError, status: int | None = None) -> Response:
        status = error.status if status is None else status
        challenge = CHALLENGE if wants_json(request) else PAGE_CHALLENGE
        headers = {"WWW-Authenticate": challenge} if status == 401 else None
        if wants_json(request):
            return JSONResponse(error.to_dict(), status_code=status, headers=headers)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"error": error, "status": status, "title": f"Error {status}", "nav_current": ""},
            status_code=status,
            headers=headers,
        )

    async def on_kizuna_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KizunaError)
        return render(request, exc)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return render(request, validation_error(exc))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return render(request, http_error(exc, request), exc.status_code)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        LOG.error("unexpected error on %s: %s", request.url.path, type(exc).__name__)
        error = KizunaError("internal error", hint="see the server log", path=request.url.path)
        return render(request, error)

    app.add_exception_handler(KizunaError, on_kizuna_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    if not debug:
        app.add_exception_handler(Exception, on_unexpected)
