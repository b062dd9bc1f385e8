"""The demo seed: two partner organisations sharing one collection, with a key each.

``seed_demo(hub)`` is what ``kizuna`` runs on an empty store unless told ``--no-demo``; every
organisation and key it creates is flagged ``demo``, so ``Hub.has_demo_keys()`` lets a server
in production mode refuse to start while one is still usable.
"""

from __future__ import annotations

from typing import Any

from kizuna.errors import ConflictError
from kizuna.hub.contract import Actor
from kizuna.hub.service import Hub

DEMO_ORGS = (("tokyo-cert", "Tokyo (demo)"), ("london-ncsc", "London (demo)"))
DEMO_ROOT = "pact"
DEMO_COLLECTION_ID = "5a1d4e0c-7d2b-4c1e-9f3a-0d3e6b8c2a71"  # stable, so docs can link it
DEMO_COLLECTION_TITLE = "Shared indicators (demo)"


def seed_demo(hub: Hub) -> dict[str, Any]:
    """Create the demo partners; returns their keys (shown once) and where to find things."""
    admin = Actor(None, admin=True)
    if any(org.name in dict(DEMO_ORGS) for org in hub.orgs(admin)):
        raise ConflictError(
            "the demo organisations already exist",
            hint="the demo is seeded once, on an empty store",
        )
    orgs = [hub.add_org(admin, name, title=title, demo=True) for name, title in DEMO_ORGS]
    names = [org.name for org in orgs]
    if DEMO_ROOT not in {root.name for root in hub.roots(admin)}:
        hub.add_root(admin, DEMO_ROOT, title="Partners' pact (demo)")
    collection = hub.add_collection(
        admin,
        DEMO_ROOT,
        title=DEMO_COLLECTION_TITLE,
        id=DEMO_COLLECTION_ID,
        readers=names,
        writers=names,
        description="A collection both demo partners read and write.",
    )
    keys = {name: hub.create_key(admin, name, demo=True)[0] for name in names}
    return {
        "demo": True,
        "orgs": [
            {"name": org.name, "title": org.title, "identity_id": org.identity_id} for org in orgs
        ],
        "root": DEMO_ROOT,
        "collection": collection.id,
        "collection_title": collection.title,
        "keys": keys,
    }
