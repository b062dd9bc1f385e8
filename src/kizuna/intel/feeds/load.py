"""Posting a converted feed into a hub collection, through the hub's public service API.

``import_feed(hub, actor, root, collection, feed)`` posts the feed's objects as the actor
(an organisation that writes the collection) in envelopes of at most 500, exactly as a TAXII
client would, so validation, markings, access control and the audit log all apply. Before
posting it asks the hub which versions the collection already holds, so the report can say
what is new: new objects, new versions of stored objects, and versions already stored (a
re-import of the same release reports everything as already stored and writes nothing).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kizuna.errors import InputError
from kizuna.hub.contract import Actor, HubService, ObjectFilter
from kizuna.intel.feeds.extensions import KEV_EXTENSION
from kizuna.intel.feeds.feed import Feed, settle
from kizuna.intel.feeds.kev import CATALOG_PROPERTIES
from kizuna.intel.stix.markings import TLP_LEVEL_OF
from kizuna.intel.stix.objects import normalise_timestamp

ENVELOPE = 500
Progress = Callable[[int], None]  # called with the number of objects just posted


@dataclass
class ImportReport:
    """What an import did, for the CLI to print (``to_json``) and tests to check."""

    kind: str
    release: str
    source: str
    root: str
    collection: str
    total: int = 0
    new_objects: int = 0
    new_versions: int = 0
    unchanged: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)  # the first 20
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "release": self.release, "source": self.source,
            "root": self.root, "collection": self.collection, "total": self.total,
            "new_objects": self.new_objects, "new_versions": self.new_versions,
            "unchanged": self.unchanged, "failed": self.failed, "failures": self.failures,
            "counts": self.counts, "notes": self.notes, "seconds": round(self.seconds, 3),
        }  # fmt: skip


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _pages(call: Callable[[ObjectFilter], Any], query: ObjectFilter) -> Iterator[dict[str, Any]]:
    token = None
    while True:
        body = call(replace(query, next=token)).body
        yield body
        if not body.get("more"):
            return
        token = body.get("next")
        if not token:
            return


def stored_versions(hub: HubService, actor: Actor, root: str, collection: str,
                    ids: Sequence[str]) -> dict[str, set[str]]:
    """id -> normalised versions the actor can see in the collection (manifest, by id)."""
    found: dict[str, set[str]] = {}
    for batch in _chunks(list(dict.fromkeys(ids)), ENVELOPE):
        query = ObjectFilter(ids=list(batch), versions=("all",), limit=10_000)
        for body in _pages(lambda q: hub.manifest(actor, root, collection, q), query):
            for entry in body.get("objects", []):
                found.setdefault(entry["id"], set()).add(normalise_timestamp(entry["version"]))
    return found


def latest_stored(hub: HubService, actor: Actor, root: str, collection: str,
                  ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """id -> the latest stored document of each id the actor can see."""
    found: dict[str, dict[str, Any]] = {}
    for batch in _chunks(list(dict.fromkeys(ids)), ENVELOPE):
        query = ObjectFilter(ids=list(batch), limit=10_000)
        for body in _pages(lambda q: hub.get_objects(actor, root, collection, q), query):
            for obj in body.get("objects", []):
                found[obj["id"]] = obj
    return found


def _version(obj: dict[str, Any]) -> str:
    value = obj.get("modified", obj.get("created", ""))
    try:
        return normalise_timestamp(value)
    except ValueError:
        return str(value)


def import_feed(hub: HubService, actor: Actor, root: str, collection: str, feed: Feed, *,
                progress: Progress | None = None, envelope: int = ENVELOPE) -> ImportReport:
    """Post ``feed`` into ``root``/``collection`` as ``actor``; see the module docstring."""
    if not 1 <= envelope <= ENVELOPE:
        raise InputError(f"an envelope holds 1 to {ENVELOPE} objects, not {envelope}")
    started = time.perf_counter()
    objects = feed.objects
    ids = [obj["id"] for obj in objects]
    if feed.versionless:
        stored_docs = latest_stored(hub, actor, root, collection, ids)
        objects = settle(objects, stored_docs, {KEV_EXTENSION: CATALOG_PROPERTIES})
    known = stored_versions(hub, actor, root, collection, ids)
    report = ImportReport(feed.kind, feed.release, feed.source, root, collection,
                          total=len(objects), counts=dict(feed.counts), notes=list(feed.notes))
    for batch in _chunks(objects, envelope):
        status = hub.add_objects(actor, root, collection, {"objects": list(batch)})
        failed = {(item.get("id"), item.get("version")) for item in status.get("failures", [])}
        for item in status.get("failures", []):
            if len(report.failures) < 20:
                report.failures.append({"id": str(item.get("id", "")),
                                        "message": str(item.get("message", ""))})
        report.failed += len(status.get("failures", []))
        for obj in batch:
            if (obj["id"], obj.get("modified", obj.get("created"))) in failed:
                continue
            versions = known.setdefault(obj["id"], set())
            version = _version(obj)
            if version in versions or obj["id"] in TLP_LEVEL_OF:  # TLP: preloaded by the hub
                report.unchanged += 1
            elif versions:
                report.new_versions += 1
            else:
                report.new_objects += 1
            versions.add(version)
        if progress is not None:
            progress(len(batch))
    report.seconds = time.perf_counter() - started
    return report
