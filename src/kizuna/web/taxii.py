"""The TAXII 2.1 routes at ``/taxii2/``: thin HTTP over :class:`kizuna.hub.contract.HubService`.

Each route checks ``Accept`` (406), authenticates (401), calls the hub and serialises the
resource it returns with the TAXII media type; paged resources carry the
``X-TAXII-Date-Added-First/Last`` headers. Access control, filtering and pagination are the
hub's. Errors on ``/taxii2/`` paths — the hub's, bad input, unknown paths, wrong methods and
unexpected failures — are TAXII error messages (:func:`install_taxii_handlers`); the rest of
the app keeps its own error body.

Hub calls are synchronous and run in the threadpool (plain ``def`` routes, and
``anyio.to_thread`` in the one ``async`` route that has to read the body itself).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from kizuna.errors import InputError, KizunaError, NotFoundError
from kizuna.hub.contract import Actor, HubService, Page, PayloadTooLarge
from kizuna.jsontext import JSONDecodeError, parse
from kizuna.web.context import WebContext, web_context
from kizuna.web.handlers import validation_error
from kizuna.web.taxii_http import (
    TAXII_MEDIA,
    MethodNotAllowed,
    TaxiiResponse,
    Unprocessable,
    check_accept,
    check_content_type,
    credentials,
    error_response,
    object_filter,
)

LOG = logging.getLogger(__name__)
PREFIX = "/taxii2"
Handler = Callable[[Request, Exception], Awaitable[Response]]
Resource = dict[str, Any]


# The dependencies that do no I/O are ``async`` so they run on the event loop rather than
# one thread-pool hop each (see web_context); actor_of reads the store and stays in the pool.
async def _negotiate(
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    check_accept(accept)


async def hub_of(context: Annotated[WebContext, Depends(web_context)]) -> HubService:
    return context.hub()


def actor_of(
    hub: Annotated[HubService, Depends(hub_of)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Actor:
    """Who is asking: anonymous without credentials, else the key's organisation (or 401)."""
    return hub.authenticate(credentials(authorization))


async def _filters_documented(
    match_id: Annotated[str | None, Query(
        alias="match[id]", description="STIX ids, comma-separated")] = None,
    match_type: Annotated[str | None, Query(
        alias="match[type]", description="STIX types, comma-separated")] = None,
    match_version: Annotated[str | None, Query(
        alias="match[version]",
        description="last, first, all or timestamps, comma-separated")] = None,
    match_spec_version: Annotated[str | None, Query(
        alias="match[spec_version]", description="e.g. 2.1")] = None,
    added_after: Annotated[str | None, Query(
        description="Only objects added after this timestamp")] = None,
    limit: Annotated[str | None, Query(description="Page size (the server caps it)")] = None,
    next_: Annotated[str | None, Query(
        alias="next", description="The 'next' token of the previous page")] = None,
) -> None:
    """Declares the TAXII filter parameters for the OpenAPI document only: the routes read
    them from the query string with :func:`object_filter`, so every bad value gets the same
    TAXII 400 (as text here, FastAPI would answer its own 422 first)."""


Filtered = [Depends(_filters_documented)]
Hub = Annotated[HubService, Depends(hub_of)]
Who = Annotated[Actor, Depends(actor_of)]
Root = Annotated[str, Path(description="API root name")]
CollectionId = Annotated[str, Path(description="Collection id (a UUID)")]
ObjectId = Annotated[str, Path(description="STIX id, e.g. indicator--<uuid>")]
StatusId = Annotated[str, Path(description="Status id returned by a POST of objects")]


def taxii(body: Resource, status_code: int = 200) -> TaxiiResponse:
    return TaxiiResponse(body, status_code=status_code)


def _date_headers(page: Page) -> dict[str, str]:
    headers = {}
    if page.date_added_first is not None:
        headers["X-TAXII-Date-Added-First"] = page.date_added_first
    if page.date_added_last is not None:
        headers["X-TAXII-Date-Added-Last"] = page.date_added_last
    return headers


def paged(page: Page) -> TaxiiResponse:
    """A page with the date-added headers the spec asks of objects, manifest and versions."""
    return TaxiiResponse(page.body, headers=_date_headers(page))


def raw_envelope(page: Page) -> Response:
    """An envelope whose objects are stored JSON texts, joined without parsing them again.

    Reading back is dominated by JSON work: parsing every stored object only to serialise it
    again cost about half of each page. The hub hands over the stored texts
    (``get_objects(raw=True)``) and they are spliced into the envelope here.
    """
    body = dict(page.body)
    objects = body.pop("objects", None)
    head = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if objects:
        head = f'{head[:-1]},"objects":[{",".join(objects)}]}}'
    return Response(head.encode("utf-8"), media_type=TaxiiResponse.media_type,
                    headers=_date_headers(page))


def taxii_router() -> APIRouter:
    """The ``/taxii2`` routes (TAXII 2.1, OASIS Standard)."""
    router = APIRouter(
        prefix=PREFIX,
        tags=["taxii"],
        dependencies=[Depends(_negotiate)],
        default_response_class=TaxiiResponse,
    )

    @router.get("/", summary="Server discovery")
    def discovery(hub: Hub, actor: Who) -> TaxiiResponse:
        """Title, default API root and the API roots this server offers."""
        return taxii(hub.discovery(actor))

    @router.get("/{root}/", summary="API root information")
    def api_root(hub: Hub, actor: Who, root: Root) -> TaxiiResponse:
        """Title, versions and max_content_length of one API root."""
        return taxii(hub.api_root(actor, root))

    @router.get("/{root}/collections/", summary="Collections the caller can see")
    def collections(hub: Hub, actor: Who, root: Root) -> TaxiiResponse:
        return taxii(hub.collections(actor, root))

    @router.get("/{root}/collections/{collection_id}/", summary="One collection")
    def collection(hub: Hub, actor: Who, root: Root, collection_id: CollectionId
                   ) -> TaxiiResponse:
        return taxii(hub.collection(actor, root, collection_id))

    @router.get("/{root}/collections/{collection_id}/objects/", summary="Objects (an envelope)",
                dependencies=Filtered)
    def get_objects(request: Request, hub: Hub, actor: Who, root: Root,
                    collection_id: CollectionId) -> Response:
        """Filter with ``match[id|type|version|spec_version]`` (comma-separated),
        ``added_after``; page with ``limit`` and ``next``."""
        query = object_filter(request.query_params)
        return raw_envelope(hub.get_objects(actor, root, collection_id, query, raw=True))

    @router.post(
        "/{root}/collections/{collection_id}/objects/",
        summary="Add objects (an envelope); answers 202 with a status resource",
        status_code=202,
    )
    async def add_objects(request: Request, hub: Hub, actor: Who, root: Root,
                          collection_id: CollectionId) -> TaxiiResponse:
        """The body is a TAXII envelope in ``application/taxii+json;version=2.1``."""
        info = await anyio.to_thread.run_sync(_writable, hub, actor, root, collection_id)
        context: WebContext = request.app.state.kizuna
        limit = min(int(info.get("max_content_length") or 0) or _cap(context), _cap(context))
        check_content_type(request.headers.get("content-type"))
        envelope = _envelope(await _read_body(request, limit))
        status = await anyio.to_thread.run_sync(
            hub.add_objects, actor, root, collection_id, envelope
        )
        return taxii(status, status_code=202)

    @router.get("/{root}/collections/{collection_id}/objects/{object_id}/",
                summary="One object's versions (an envelope)",
                dependencies=Filtered)
    def get_object(request: Request, hub: Hub, actor: Who, root: Root,
                   collection_id: CollectionId, object_id: ObjectId) -> TaxiiResponse:
        query = object_filter(request.query_params)
        return paged(hub.get_object(actor, root, collection_id, object_id, query))

    @router.delete("/{root}/collections/{collection_id}/objects/{object_id}/",
                   summary="Delete an object (match[version], match[spec_version])",
                   dependencies=Filtered)
    def delete_object(request: Request, hub: Hub, actor: Who, root: Root,
                      collection_id: CollectionId, object_id: ObjectId) -> Response:
        query = object_filter(request.query_params)
        hub.delete_object(actor, root, collection_id, object_id, query)
        return Response(status_code=200, media_type=TAXII_MEDIA)

    @router.get("/{root}/collections/{collection_id}/objects/{object_id}/versions/",
                summary="Version timestamps of one object",
                dependencies=Filtered)
    def versions(request: Request, hub: Hub, actor: Who, root: Root,
                 collection_id: CollectionId, object_id: ObjectId) -> TaxiiResponse:
        query = object_filter(request.query_params, default_versions=("all",))
        return paged(hub.versions(actor, root, collection_id, object_id, query))

    @router.get("/{root}/collections/{collection_id}/manifest/",
                summary="Manifest: id, date_added, version, media_type per object version",
                dependencies=Filtered)
    def manifest(request: Request, hub: Hub, actor: Who, root: Root,
                 collection_id: CollectionId) -> TaxiiResponse:
        query = object_filter(request.query_params)
        return paged(hub.manifest(actor, root, collection_id, query))

    @router.get("/{root}/status/{status_id}/", summary="Status of a POST of objects")
    def status(hub: Hub, actor: Who, root: Root, status_id: StatusId) -> TaxiiResponse:
        return taxii(hub.status(actor, root, status_id))

    return router


def _writable(hub: HubService, actor: Actor, root: str, collection_id: str) -> dict[str, Any]:
    """The API root's information, after checking the collection (404/403 before the body is
    read); one thread hop for both lookups."""
    info = hub.api_root(actor, root)
    hub.collection(actor, root, collection_id)
    return info


def _cap(context: WebContext) -> int:
    return int(context.settings.taxii_max_content_length)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing with 413 before reading when Content-Length says it is too big
    and while reading once more than ``limit`` bytes have arrived."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise InputError("the Content-Length header is not a number",
                             value=declared) from None
        if size > limit:
            raise _too_large(size, limit)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(received, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the body has {size:,} bytes or more; this API root accepts at most {limit:,}",
        hint="post the objects in smaller envelopes",
        size=size,
        max_content_length=limit,
    )


def _envelope(body: bytes) -> dict[str, Any]:
    """The parsed envelope: malformed JSON is 400, JSON that is not an envelope is 422."""
    try:
        parsed = parse(body)
    except JSONDecodeError as error:
        raise InputError(f"the body is not valid JSON: {error}",
                         hint="send a TAXII envelope: {\"objects\": [...]}") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("objects", []), list):
        raise Unprocessable(
            "the body is JSON but not a TAXII envelope",
            hint="send a JSON object whose 'objects' is a list of STIX objects",
        )
    return parsed


# --------------------------------------------------------------------------- errors


def is_taxii(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def install_taxii_handlers(app: FastAPI) -> None:
    """Render errors on ``/taxii2`` paths as TAXII error messages; delegate the rest.

    Wraps the handlers ``kizuna.web.handlers.install_handlers`` registered, so the JSON API
    and the pages keep their own error body.
    """

    def wrap(kind: type[Exception], taxii_error: Callable[[Request, Exception], Response]
             ) -> None:
        previous = app.exception_handlers.get(kind)

        async def handler(request: Request, exc: Exception) -> Response:
            if is_taxii(request) or previous is None:
                return taxii_error(request, exc)
            result = previous(request, exc)
            if inspect.isawaitable(result):
                result = await result
            assert isinstance(result, Response)
            return result

        app.add_exception_handler(kind, handler)

    def on_kizuna(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, KizunaError)
        return error_response(exc)

    def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(validation_error(exc))

    def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 404:
            error: KizunaError = NotFoundError(
                f"nothing at {request.url.path}",
                hint="TAXII URLs end with '/'; discovery is at /taxii2/",
                path=request.url.path,
            )
        elif exc.status_code == 405:
            allowed = headers.get("allow", headers.get("Allow", ""))
            error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}",
                                     hint=f"allowed: {allowed}" if allowed else None,
                                     path=request.url.path)
        else:
            error = KizunaError(str(exc.detail), path=request.url.path)
        return error_response(error, exc.status_code, headers)

    wrap(KizunaError, on_kizuna)
    wrap(RequestValidationError, on_validation)
    wrap(StarletteHTTPException, on_http)
    if Exception in app.exception_handlers:

        def on_unexpected(request: Request, exc: Exception) -> Response:
            LOG.error("unexpected error on %s: %s", request.url.path, type(exc).__name__)
            return error_response(KizunaError("internal error", hint="see the server log",
                                              path=request.url.path))

        wrap(Exception, on_unexpected)
