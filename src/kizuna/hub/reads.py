"""The read paths (objects, object, versions, manifest) with access control applied.

One scanner serves all of them: it asks the store for records in ``added`` order with the
TAXII filters pushed into the query, drops the records the actor may not see (a
``ReadView`` set lookup on the ``tlp``/``producer``/``recipients`` attributes, never the
document), and keeps reading forward until the page is full or the collection is exhausted
(or a scan budget is spent; then the page is short but ``next`` still moves forward). The
``next`` token is based on the last record *examined*, so records the actor cannot see are
never scanned twice and never show up later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kizuna.hub.access import ReadView
from kizuna.hub.contract import ObjectFilter, Page
from kizuna.hub.paging import (
    MEDIA_TYPE_STIX,
    VersionSelector,
    decode_next,
    encode_next,
    format_added,
    parse_timestamp,
    version_selector,
)
from kizuna.store import Store, StoredRecord
from kizuna.store.values import encode_cursor, to_micros

SCAN_BUDGET = 200_000  # records examined per request at most
_MAX_CHUNK = 2000
_MIN_CHUNK = 100
_MIN_FOLLOW_UP = 16


@dataclass(frozen=True)
class ReadRequest:
    namespace: str
    view: ReadView
    query: ObjectFilter
    print_: str  # fingerprint of the request, for next tokens
    limit: int
    object_id: str | None = None
    raw: bool = False  # documents as their stored JSON text (see Hub.get_objects)


@dataclass(frozen=True)
class Scan:
    records: list[StoredRecord]
    more: bool
    last_examined: datetime | None


def scan(store: Store, request: ReadRequest, *, budget: int | None = None) -> Scan:
    """Up to ``limit`` visible records after the token's position, in ``added`` order."""
    budget = SCAN_BUDGET if budget is None else budget
    query, view = request.query, request.view
    selector = version_selector(query.versions)
    keys = [request.object_id] if request.object_id is not None else list(query.ids) or None
    attrs: dict[str, list[str]] = {}
    if query.types:
        attrs["type"] = list(query.types)
    if query.spec_versions:
        attrs["spec_version"] = list(query.spec_versions)
    added_after = parse_timestamp(query.added_after, "added_after") if query.added_after else None
    cursor = None
    if query.next:
        cursor = encode_cursor(to_micros(decode_next(query.next, request.print_)))
    versions: str | list[str] = (
        selector.store if isinstance(selector.store, str) else list(selector.store)
    )
    keep = version_filter(store, request.namespace, selector)
    chunk = min(max(request.limit, _MIN_CHUNK), _MAX_CHUNK)
    found: list[StoredRecord] = []
    examined, last = 0, None
    while True:
        page = store.query(
            request.namespace,
            keys=keys,
            attrs=attrs or None,
            versions=versions,
            added_after=added_after,
            limit=chunk,
            after_cursor=cursor,
            raw=request.raw,
        )
        for index, record in enumerate(page.records):
            last = record.added
            if _visible(view, record) and keep(record):
                found.append(record)
                if len(found) == request.limit:
                    rest = page.records[index + 1 :]
                    more = page.more or any(_visible(view, r) and keep(r) for r in rest)
                    return Scan(found, more, last)
        examined += len(page.records)
        if not page.more:
            return Scan(found, False, last)
        if examined >= budget:
            return Scan(found, True, last)
        cursor = page.next_cursor
        chunk = _next_chunk(request.limit - len(found), len(found), examined)


def _next_chunk(remaining: int, visible: int, examined: int) -> int:
    """How many records to fetch next: enough for the rest of the page at the visible rate
    seen so far, plus a fifth. Records fetched past the page's last one are read for
    nothing (the next page starts after the last record examined), so a fixed chunk of the
    page size made a reader who sees 80% fetch two pages' worth for every page."""
    rate = max(visible / examined, 0.05) if examined else 1.0
    return min(_MAX_CHUNK, max(_MIN_FOLLOW_UP, int(remaining / rate * 1.2) + 1))


def _visible(view: ReadView, record: StoredRecord) -> bool:
    attrs = record.attrs
    return view.sees(attrs.get("tlp", "4"), attrs.get("producer", ""), attrs.get("recipients", ""),
                     attrs.get("origin", "") if view.peer else "")


def version_filter(
    store: Store, namespace: str, selector: VersionSelector
) -> Callable[[StoredRecord], bool]:
    """For ``first,last`` style combinations: keep a record if any asked version matches."""
    if not selector.words:
        return lambda record: True
    known: dict[str, list[str]] = {}

    def keep(record: StoredRecord) -> bool:
        if record.version in selector.exact:
            return True
        stored = known.get(record.key)
        if stored is None:
            stored = known[record.key] = store.versions(namespace, record.key)
        if not stored:
            return False
        return ("first" in selector.words and record.version == stored[0]) or (
            "last" in selector.words and record.version == stored[-1]
        )

    return keep


def _page(result: Scan, request: ReadRequest, body: dict[str, Any]) -> Page:
    body["more"] = result.more
    if result.more and result.last_examined is not None:
        body["next"] = encode_next(result.last_examined, request.print_)
    records = result.records
    return Page(
        body=body,
        date_added_first=format_added(records[0].added) if records else None,
        date_added_last=format_added(records[-1].added) if records else None,
    )


def objects_page(store: Store, request: ReadRequest) -> Page:
    result = scan(store, request)
    body: dict[str, Any] = {}
    if result.records:
        body["objects"] = [record.doc for record in result.records]
    return _page(result, request, body)


def manifest_page(store: Store, request: ReadRequest) -> Page:
    result = scan(store, request)
    body: dict[str, Any] = {}
    if result.records:
        body["objects"] = [manifest_entry(record) for record in result.records]
    return _page(result, request, body)


def versions_page(store: Store, request: ReadRequest) -> Page:
    result = scan(store, request)
    body: dict[str, Any] = {}
    if result.records:
        body["versions"] = [shown_version(record) for record in result.records]
    return _page(result, request, body)


def shown_version(record: StoredRecord) -> str:
    """The version TAXII shows: ``modified``, else ``created``, else the date added."""
    doc = record.doc
    value = doc.get("modified") or doc.get("created") if isinstance(doc, dict) else None
    return value if isinstance(value, str) else format_added(record.added)


def manifest_entry(record: StoredRecord) -> dict[str, str]:
    return {
        "id": record.key,
        "date_added": format_added(record.added),
        "version": shown_version(record),
        "media_type": MEDIA_TYPE_STIX,
    }
