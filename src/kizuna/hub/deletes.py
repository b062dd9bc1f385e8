"""DELETE of an object's versions: only its producer, and only as a writer of the collection.

A version the actor may not delete stops the whole request (nothing is deleted). When the
actor cannot even see any of the selected versions the answer is 404, as if the object did
not exist; otherwise 403 with the reason. Deletions and their audit entry commit together.
"""

from __future__ import annotations

from kizuna.errors import NotFoundError
from kizuna.hub.access import allowed, read_view
from kizuna.hub.audit import audit_record
from kizuna.hub.contract import (
    Actor,
    Collection,
    Decision,
    ObjectAccess,
    ObjectFilter,
    SharingGroup,
    Tlp,
)
from kizuna.hub.paging import version_selector
from kizuna.hub.reads import version_filter
from kizuna.hub.registry import AUDIT, namespace_of
from kizuna.store import Store, StoredRecord


def object_access(collection: Collection, record: StoredRecord) -> ObjectAccess:
    """The access-control view of one stored record, from its attributes."""
    attrs = record.attrs
    return ObjectAccess(
        collection=collection,
        producer=attrs.get("producer", ""),
        tlp=Tlp(int(attrs.get("tlp", str(int(Tlp.RED))))),
        recipients=frozenset(name for name in attrs.get("recipients", "").split(",") if name),
    )


def delete_versions(
    store: Store,
    actor: Actor,
    collection: Collection,
    group: SharingGroup | None,
    object_id: str,
    query: ObjectFilter,
    at: str,
) -> tuple[Decision, bool] | None:
    """Delete, or return (the refusing decision, whether to answer 404)."""
    namespace = namespace_of(collection)
    selector = version_selector(query.versions)
    versions = selector.store if isinstance(selector.store, str) else list(selector.store)
    attrs = {"spec_version": list(query.spec_versions)} if query.spec_versions else None
    page = store.query(namespace, keys=[object_id], attrs=attrs, versions=versions)
    keep = version_filter(store, namespace, selector)
    records = [record for record in page.records if keep(record)]
    view = read_view(actor, collection, group)
    if view is not None:
        seen = [
            r for r in records if allowed(actor, "read", object_access(collection, r), group=group)
        ]
    else:
        seen = []
    for record in records:
        decision = allowed(actor, "delete", object_access(collection, record), group=group)
        if not decision:
            return decision, not seen
    if not records:
        raise NotFoundError(f"no object {object_id!r} in this collection", field="object")
    entry = audit_record(
        at,
        actor,
        "objects.delete",
        f"{collection.root}/{collection.id}",
        "ok",
        {"object": object_id, "versions": [r.version for r in records]},
    )
    with store.transaction() as tx:
        for record in records:
            tx.delete(namespace, record.key, record.version)
        tx.put_many(AUDIT, [entry])
    return None
