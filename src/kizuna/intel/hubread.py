"""What an organisation may read from the hub: the inputs of the threat picture and exposure.

Everything goes through the hub's service contract as the actor, so the TLP rules of
docs/access.md apply exactly as on the TAXII routes: an object the actor may not see is
simply absent. Objects of the same id in several collections count once (the newest).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
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
                 places: Sequence[Place] | None = None, *,
                 cache: ObjectCache | None = None) -> list[dict[str, Any]]:
    """The latest version of every object of ``types`` the actor can read, once per id.

    With a ``cache`` (a long-lived server's), each collection is read in full once and then
    only for what was added since (``added_after``), as the actor, every time."""
    kinds = tuple(sorted(set(types)))
    newest: dict[str, dict[str, Any]] = {}
    for place in readable_collections(hub, actor) if places is None else places:
        found = (cache.read(hub, actor, place, kinds) if cache is not None
                 else _read_place(hub, actor, place, kinds, None)[0])
        for object_id, obj in found.items():
            known = newest.get(object_id)
            if known is None or _version(obj) > _version(known):
                newest[object_id] = obj
    return list(newest.values())


def _read_place(hub: HubService, actor: Actor, place: Place, kinds: tuple[str, ...],
                added_after: str | None) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Objects of ``kinds`` in one collection (newest version per id), and the date the last
    one was added (for the next ``added_after``)."""
    found: dict[str, dict[str, Any]] = {}
    last = added_after
    query = ObjectFilter(types=kinds, limit=PAGE, added_after=added_after)
    token: str | None = None
    while True:
        page = hub.get_objects(actor, place.root, place.collection, replace(query, next=token))
        for obj in page.body.get("objects", []):
            known = found.get(obj["id"])
            if known is None or _version(obj) > _version(known):
                found[obj["id"]] = obj
        last = page.date_added_last or last
        token = page.body.get("next")
        if not page.body.get("more") or not token:
            break
    return found, last


@dataclass
class _Entry:
    objects: dict[str, dict[str, Any]]
    last: str | None
    at: float


class ObjectCache:
    """What each organisation read from each collection, for the pages of ``kizuna serve``.

    Reading every object of the real feeds took the intel pages 1.3-2.4 s a request. Here a
    collection is read in full once per ``ttl`` seconds and in between only for objects
    added after the last one seen, always through ``get_objects`` as the actor, so access
    control decides every read (a withdrawn right is a 404 at once). A full re-read every
    ``ttl`` seconds also picks up deletions.
    """

    def __init__(self, ttl: float = 60.0, *, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = 256) -> None:
        self.ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._entries: dict[tuple[str, str, str, tuple[str, ...]], _Entry] = {}
        self._lock = threading.Lock()

    def read(self, hub: HubService, actor: Actor, place: Place, kinds: tuple[str, ...]
             ) -> dict[str, dict[str, Any]]:
        key = (str(actor.org), place.root, place.collection, kinds)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or now - entry.at > self.ttl:
            objects, last = _read_place(hub, actor, place, kinds, None)
            entry = _Entry(objects, last, now)
        else:
            added, last = _read_place(hub, actor, place, kinds, entry.last)
            merged = dict(entry.objects)
            for object_id, obj in added.items():
                known = merged.get(object_id)
                if known is None or _version(obj) > _version(known):
                    merged[object_id] = obj
            entry = _Entry(merged, last, entry.at)
        with self._lock:
            if key not in self._entries and len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = entry
        return entry.objects


def _version(obj: dict[str, Any]) -> str:
    try:
        return normalise_timestamp(obj.get("modified", obj.get("created")))
    except ValueError:
        return ""
