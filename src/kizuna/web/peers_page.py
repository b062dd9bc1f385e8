"""The federation page (``GET /federation``) and the background sync of ``kizuna serve``.

The page shows, per peer, the last sync, the cursors, what came in and went out, what was
withheld because of its markings, and the last errors — the same figures as
``kizuna hub peer status``. It takes the hub's API key like the threat-intelligence pages
(HTTP Basic with the key as the password, or Bearer), and an organisation sees only the
peers and mapped collections of collections it may read (``hub.access.allowed``); it is a
page for the CERT that runs the node, not for every partner.

``peer_sync(context)`` runs :class:`kizuna.hub.federation.schedule.SyncLoop` for as long as
the app is up, when ``settings.peer_sync`` is on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kizuna.hub import registry as reg
from kizuna.hub.access import allowed
from kizuna.hub.contract import Actor
from kizuna.hub.federation import state as peer_state
from kizuna.hub.federation.peers import list_peers
from kizuna.store import Store
from kizuna.web.context import WebContext, web_context
from kizuna.web.intel_page import intel_reader

Context = Annotated[WebContext, Depends(web_context)]
Reader = Annotated[Actor, Depends(intel_reader)]


def peers_router(templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    @router.get("/federation")
    def federation_page(request: Request, context: Context, actor: Reader) -> HTMLResponse:
        hub = context.hub()
        assert context.store is not None
        rows = peer_rows(context.store, actor)
        return templates.TemplateResponse(request, "peers.html", {
            "title": "Federation", "nav_current": "federation", "org": actor.org,
            "node": hub.node, "peers": rows, "settings": context.settings,
        })  # fmt: skip

    return router


def peer_rows(store: Store, actor: Actor) -> list[dict[str, Any]]:
    """The peers of collections ``actor`` may read, each with its status and those maps."""
    rows = []
    for peer in list_peers(store):
        maps = [m for m in peer.maps if _readable(store, actor, m.root, m.local)]
        if maps:
            rows.append(peer_state.status_row(peer, peer_state.load(store, peer.name),
                                              {m.key for m in maps}))
    return rows


def _readable(store: Store, actor: Actor, root: str, collection_id: str) -> bool:
    collection = reg.load_collection(store, root, collection_id)
    return collection is not None and bool(allowed(actor, "read", collection))


@asynccontextmanager
async def peer_sync(context: WebContext) -> AsyncIterator[None]:
    """Sync with the peers in the background while the app runs (``settings.peer_sync``)."""
    from kizuna.hub.federation.schedule import SyncLoop  # noqa: PLC0415 - httpx, only if on
    from kizuna.hub.service import Hub  # noqa: PLC0415

    loop = None
    hub = context.hub() if context.store is not None else None
    if context.settings.peer_sync and isinstance(hub, Hub):
        loop = SyncLoop(hub, context.settings.peer_sync_interval)
        loop.start()
    try:
        yield
    finally:
        if loop is not None:
            await anyio.to_thread.run_sync(loop.stop)
