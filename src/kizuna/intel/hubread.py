"""What an organisation may read from the hub: the inputs of the threat picture and exposure.

Everything goes through the hub's service contract as the actor, so the TLP rules of
docs/access.md apply exactly as on the TAXII routes: an object the actor may not see is
simply absent. Objects of the same id in several collections count once (the newest).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kizuna.errors import NotFoundError
from kizuna.hub.contract import Actor, HubService, ObjectFilter
from kizuna.intel.stix.objects import normalise_timestamp

PAGE = 10_000


@dataclass(frozen=True)
class Place:
    """A collection the actor can read."""

    root: str
    collection: str
    title: str


def readable_collections(hub: HubService, actor: Actor, *, right: str = "can_read"
                         ) -> list[Place]:
    """Every collection of every API root that ``actor`` can read (or, with
    ``right="can_write"``, write)."""
    places = []
    for url in hub.discovery(actor).get("api_roots", []):
        root = str(url).rstrip("/").rsplit("/", 1)[-1]
        for item in hub.collections(actor, root).get("collections", []):
            if item.get(right):
                places.append(Place(root, str(item["id"]), str(item.get("title", ""))))
    return places


def pick_collections(hub: HubService, actor: Actor, wanted: Sequence[str] = (), *,
                     right: str = "can_read") -> list[Place]:
    """The readable (writable) collections, or the ones named by id or title; a name that is
    none of them is an error listing them."""
    places = readable_collections(hub, actor, right=right)
    if not wanted:
        return places
    chosen = []
    for name in wanted:
        found = [p for p in places if name in (p.collection, p.title)]
        if not found:
            verb = "read" if right == "can_read" else "write"
            raise NotFoundError(f"no collection {name!r} that {actor.org} can {verb}",
                                hint=f"it can {verb}: " + (", ".join(
                                    f"{p.title} ({p.collection})" for p in places) or "none"),
                                field="collection", value=name)
        chosen.extend(found)
    return list(dict.fromkeys(chosen))


def read_objects(hub: HubService, actor: Actor, types: Iterable[str],
                 places: Sequence[Place] | None = None) -> list[dict[str, Any]]:
    """The latest version of every object of ``types`` the actor can read, once per id."""
    kinds = sorted(set(types))
    newest: dict[str, dict[str, Any]] = {}
    for place in readable_collections(hub, actor) if places is None else places:
        query = ObjectFilter(types=kinds, limit=PAGE)
        token: str | None = None
        while True:
            page = hub.get_objects(actor, place.root, place.collection, replace(query, next=token))
            for obj in page.body.get("objects", []):
                known = newest.get(obj["id"])
                if known is None or _version(obj) > _version(known):
                    newest[obj["id"]] = obj
            token = page.body.get("next")
            if not page.body.get("more") or not token:
                break
    return list(newest.values())


def _version(obj: dict[str, Any]) -> str:
    try:
        return normalise_timestamp(obj.get("modified", obj.get("created")))
    except ValueError:
        return ""
