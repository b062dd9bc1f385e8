"""Who may see mineral supply data: everyone by default, hub key holders when private.

Mineral figures come from public sources, so they are public unless the operator sets
``minerals_public = false`` (e.g. a node that adds partners' private figures later). Then
every minerals page and ``/api`` route asks for a hub API key exactly as the TAXII routes do
(``Authorization: Bearer KEY``, or HTTP Basic with the key as the password, which lets a
browser prompt for it).
"""

from __future__ import annotations

from fastapi import Request

from kizuna.hub.contract import Actor, AuthError
from kizuna.web.context import context_of
from kizuna.web.taxii_http import credentials


def mineral_reader(request: Request) -> Actor | None:
    """A FastAPI dependency: None when minerals are public, else the authenticated actor."""
    context = context_of(request)
    if context.settings.minerals_public:
        return None
    secret = credentials(request.headers.get("authorization"))
    if secret is None:
        raise AuthError(
            "mineral data on this node is private: an API key is required",
            hint="send Authorization: Bearer KEY (or HTTP Basic with the key as password)",
        )
    actor = context.hub().authenticate(secret)
    if actor.org is None:
        raise AuthError("mineral data on this node is private: an API key is required")
    return actor
