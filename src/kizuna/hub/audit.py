"""The audit log: every write, key change and denied request, stored in the store.

Entries are records of the namespace ``hub:audit`` (one per event, ordered by the store's
``added``), with ``outcome`` and ``action`` as attributes so they filter in SQL. Callers pass
only names, ids and counts in ``detail``: never a key, a password or an object's content.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kizuna.hub.contract import Actor, AuditEntry
from kizuna.hub.registry import AUDIT
from kizuna.store import Record, Store

OUTCOMES = ("ok", "denied", "error")
_SCAN = 1000


def actor_label(actor: Actor) -> str:
    if actor.admin:
        return "admin"
    if actor.org is None:
        return "anonymous"
    return actor.org if actor.key_id is None else f"{actor.org} ({actor.key_id})"


def audit_record(
    at: str,
    actor: Actor | str,
    action: str,
    target: str,
    outcome: str,
    detail: Mapping[str, Any] | None = None,
) -> Record:
    """One entry, ready for ``put_many(AUDIT, ...)`` (alone or inside a transaction)."""
    label = actor if isinstance(actor, str) else actor_label(actor)
    doc = {
        "at": at,
        "actor": label,
        "action": action,
        "target": target,
        "outcome": outcome,
        "detail": dict(detail or {}),
    }
    return Record(uuid.uuid4().hex, doc, attrs={"outcome": outcome, "action": action})


def read_audit(
    store: Store,
    *,
    limit: int = 100,
    since: datetime | None = None,
    outcome: str | None = None,
) -> list[AuditEntry]:
    """Entries oldest first: the first ``limit`` after ``since``, or the last ``limit``."""
    attrs = {"outcome": [outcome]} if outcome is not None else None
    if since is not None:
        page = store.query(AUDIT, attrs=attrs, added_after=since, limit=limit)
        return [_entry(record.doc) for record in page.records]
    kept: deque[Any] = deque(maxlen=limit)
    cursor: str | None = None
    while True:
        page = store.query(AUDIT, attrs=attrs, limit=_SCAN, after_cursor=cursor)
        kept.extend(record.doc for record in page.records)
        if not page.more:
            break
        cursor = page.next_cursor
    return [_entry(doc) for doc in kept]


def _entry(doc: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(
        at=doc["at"],
        actor=doc["actor"],
        action=doc["action"],
        target=doc["target"],
        outcome=doc["outcome"],
        detail=dict(doc.get("detail", {})),
    )
