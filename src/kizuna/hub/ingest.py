"""POST of an envelope: validate every object, resolve markings, store the valid ones at once.

The flow for one envelope (docs/hub.md, "Ingest"):

1. ``check_object`` on each item (plain dicts, no ``stix2`` objects), before any lock;
2. then, inside one write transaction (which holds the store's write lock, so what it reads
   cannot change under it):
3. resolve ``object_marking_refs``: preloaded TLP ids, marking definitions of the same
   envelope, or ones stored earlier (``hub:markings``); anything else rejects the object
   (fail closed); the TLP level is the most restrictive one, else the collection's default;
4. map ``x_kizuna_recipients`` identity ids to organisations (unknown ids reject);
5. one lookup of the ids already in the collection (``tx.existing``, which the following
   ``put_many`` reuses): a re-post of a stored version is a success without a write; a
   different document with the same id and version is a conflict; a version of an object
   another organisation produced is refused;
6. ``put_many`` of the accepted objects, the new marking definitions, the status resource
   and the audit entry; they commit together.

Objects a peer node relays (``relay=Relayed(...)``, docs/federation.md) name their producer
per object instead of taking the posting organisation; the producer rule is the same, except
that a version already stored unchanged is a success whoever relays it (a copy that came by
another route), and an object without a TLP marking keeps the level its origin gave it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kizuna.errors import InputError, StoreError
from kizuna.hub.access import recipients_attr
from kizuna.hub.audit import audit_record
from kizuna.hub.contract import Actor, Collection
from kizuna.hub.registry import AUDIT, IDENTITY_ORGS, MARKINGS, STATUS, namespace_of
from kizuna.intel.stix.markings import (
    TLP_LEVEL_OF,
    claims_tlp,
    level_name,
    level_of,
    official_marking,
)
from kizuna.intel.stix.objects import Checked, Rejected, check_object
from kizuna.jsontext import canonical, load
from kizuna.store import Record, Store
from kizuna.store.base import Transaction


@dataclass
class _Outcome:
    successes: list[dict[str, str]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    markings: dict[str, dict[str, Any]] = field(default_factory=dict)

    def fail(self, object_id: str | None, version: str | None, reason: str) -> None:
        self.failures.append({"id": object_id or "", "version": version or "", "message": reason})


@dataclass(frozen=True)
class Claim:
    """Who produced one relayed object (an organisation of this hub), and the TLP level its
    origin gave it when it carries no TLP marking (None: this collection's default)."""

    producer: str
    tlp: int | None = None


@dataclass(frozen=True)
class Relayed:
    """An envelope relayed by a peer node: ``claims`` per object (a string is the reason the
    claim is refused); ``origin`` the peer, stored as the ``origin`` attribute;
    ``on_commit(tx, stored, failures)`` runs inside the write transaction with the number of
    versions stored and the status's failures."""

    origin: str
    claims: Sequence[Claim | str]
    on_commit: Callable[[Transaction, int, list[dict[str, str]]], None] | None = None


def objects_of(envelope: Mapping[str, Any]) -> list[Any]:
    if not isinstance(envelope, Mapping):
        raise InputError("the request body must be a TAXII envelope (a JSON object)")
    objects = envelope.get("objects", [])
    if not isinstance(objects, list):
        raise InputError("the envelope's 'objects' must be a list", field="objects")
    return objects


def ingest(
    store: Store,
    actor: Actor,
    collection: Collection,
    envelope: Mapping[str, Any],
    request_timestamp: str,
    *,
    relay: Relayed | None = None,
) -> dict[str, Any]:
    """Store an envelope's valid objects and return the (stored) status resource."""
    objects = objects_of(envelope)
    assert actor.org is not None
    if relay is not None and len(relay.claims) != len(objects):
        raise InputError("a relayed envelope needs one producer claim per object",
                         field="x_kizuna_relay")
    results = [check_object(item) for item in objects]
    namespace = namespace_of(collection)
    with store.transaction() as tx:
        outcome = _plan(tx, actor.org, collection, results, relay)
        status = _status(request_timestamp, len(objects), outcome)
        _commit(tx, namespace, actor, collection, outcome, status, request_timestamp)
        if relay is not None and relay.on_commit is not None:
            relay.on_commit(tx, len(outcome.records), outcome.failures)
    return status


def _status(request_timestamp: str, total: int, outcome: _Outcome) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "status": "complete",
        "request_timestamp": request_timestamp,
        "total_count": total,
        "success_count": len(outcome.successes),
        "successes": outcome.successes,
        "failure_count": len(outcome.failures),
        "failures": outcome.failures,
        "pending_count": 0,
        "pendings": [],
    }


def _commit(
    tx: Transaction,
    namespace: str,
    actor: Actor,
    collection: Collection,
    outcome: _Outcome,
    status: dict[str, Any],
    at: str,
) -> None:
    detail = {
        "status": status["id"],
        "total": status["total_count"],
        "success": status["success_count"],
        "failure": status["failure_count"],
    }
    entry = audit_record(
        at, actor, "objects.add", f"{collection.root}/{collection.id}", "ok", detail
    )
    if outcome.records:
        results = tx.put_many(namespace, outcome.records)
        if any(result.status != "created" for result in results):
            # _plan saw the stored versions inside this transaction, under the write lock
            raise StoreError("a version planned as new was found stored while writing",
                             hint="report this as a bug; nothing was stored")
    for marking_id, value in outcome.markings.items():
        tx.kv_put(MARKINGS, marking_id, value)
    tx.kv_put(STATUS, status["id"], {"org": actor.org, "root": collection.root, "status": status})
    tx.put_many(AUDIT, [entry])


def _plan(tx: Transaction, poster: str, collection: Collection,
          results: Sequence[Checked | Rejected], relay: Relayed | None = None) -> _Outcome:
    outcome = _Outcome()
    checked: list[Checked] = []
    claims: list[Claim | str | None] = []
    for index, result in enumerate(results):
        if isinstance(result, Rejected):
            outcome.fail(result.id, result.version, result.reason)
        else:
            checked.append(result)
            claims.append(None if relay is None else relay.claims[index])
    resolver = _Resolver(tx, checked)
    existing = _existing(tx, namespace_of(collection), [item.id for item in checked])
    seen: dict[tuple[str, str], Mapping[str, Any]] = {}
    for item, claim in zip(checked, claims, strict=True):
        shown = _shown_version(item)
        if item.id in TLP_LEVEL_OF and official_marking(item.id) == dict(item.obj):
            outcome.successes.append({"id": item.id, "version": shown})  # preloaded already
            continue
        if isinstance(claim, str):
            outcome.fail(item.id, shown, claim)
            continue
        org = poster if claim is None else claim.producer
        reason = resolver.marking_problem(item) or _version_problem(
            item, org, existing, seen, relayed=relay is not None)
        if reason == "":
            outcome.successes.append({"id": item.id, "version": shown})
            continue
        if reason is not None:
            outcome.fail(item.id, shown, reason)
            continue
        recipients = resolver.recipient_orgs(item)
        if isinstance(recipients, str):
            outcome.fail(item.id, shown, recipients)
            continue
        attrs = _attrs(item, org, collection, recipients, claim, relay)
        outcome.records.append(Record(item.id, item.obj, item.version, attrs))
        outcome.successes.append({"id": item.id, "version": shown})
        if item.type == "marking-definition" and item.id not in TLP_LEVEL_OF:
            outcome.markings[item.id] = {"tlp": None, "org": org}
    return outcome


def _attrs(item: Checked, org: str, collection: Collection, recipients: list[str],
           claim: Claim | None, relay: Relayed | None) -> dict[str, str]:
    """The stored attributes access control reads (never the document)."""
    level = level_of(item.marking_refs)
    if level is None and claim is not None and claim.tlp is not None:
        level = claim.tlp  # the level its origin gave it: a node never re-marks
    tlp = int(collection.default_tlp) if level is None else level
    attrs = {
        "type": item.type,
        "spec_version": item.spec_version,
        "tlp": str(tlp),
        "producer": org,
    }
    if recipients:
        attrs["recipients"] = recipients_attr(recipients)
    if relay is not None:
        attrs["origin"] = relay.origin
    return attrs


def _shown_version(item: Checked) -> str:
    value = item.obj.get("modified", item.obj.get("created", ""))
    return value if isinstance(value, str) else ""


def _canonical(doc: Any) -> str:
    return canonical(doc)  # the store's form, so texts compare equal


def _version_problem(
    item: Checked,
    org: str,
    existing: Mapping[str, tuple[str, dict[str, str]]],
    seen: dict[tuple[str, str], Mapping[str, Any]],
    *,
    relayed: bool = False,
) -> str | None:
    """None: store it; "": already stored (idempotent success); otherwise the reason.

    ``relayed``: a version stored unchanged is a success whoever relays it."""
    stored = existing.get(item.id)
    if stored is not None and stored[0] != org:
        if relayed and stored[1].get(item.version) == _canonical(item.obj):
            return ""
        return (
            "this object was produced by another organisation; only its producer may add versions"
        )
    name = (item.id, item.version)
    earlier = seen.get(name)
    before = _canonical(earlier) if earlier is not None else None
    if before is None and stored is not None:
        before = stored[1].get(item.version)
    if before is None:
        seen[name] = item.obj
        return None
    try:
        same = before == _canonical(item.obj)
    except (TypeError, ValueError):
        return "the object cannot be stored as JSON"
    return "" if same else "a different object with this id and modified already exists"


def _existing(
    tx: Transaction, namespace: str, ids: list[str]
) -> dict[str, tuple[str, dict[str, str]]]:
    """id -> (producer, {version: canonical JSON}) for the ids already in the collection."""
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for (key, version), old in tx.existing(namespace, ids).items():
        if key not in found:
            found[key] = (load(old.attrs_json).get("producer", ""), {})
        found[key][1][version] = old.doc
    return found


class _Resolver:
    """Marking definitions and recipients known to the hub or to this envelope."""

    def __init__(self, tx: Transaction, checked: Sequence[Checked]) -> None:
        self._store = tx
        self._known: dict[str, str | None] = {}  # id -> None (resolves) or why it does not
        self._orgs: dict[str, str | None] = {}
        for item in checked:
            if item.type == "marking-definition":
                self._known[item.id] = _marking_definition_problem(item)

    def marking_problem(self, item: Checked) -> str | None:
        if item.type == "marking-definition":
            return self._known.get(item.id)
        for ref in item.marking_refs:
            if ref in TLP_LEVEL_OF:
                continue
            if ref not in self._known:
                stored = self._store.kv_get(MARKINGS, ref)
                self._known[ref] = (
                    None
                    if stored is not None
                    else (
                        f"the marking-definition {ref} is unknown to this hub (fail closed: post "
                        "the marking definition first or use a TLP marking)"
                    )
                )
            problem = self._known[ref]
            if problem is not None:
                return (
                    problem
                    if problem.startswith("the marking-definition")
                    else (f"the marking-definition {ref} it references is invalid: {problem}")
                )
        return None

    def recipient_orgs(self, item: Checked) -> list[str] | str:
        orgs: list[str] = []
        for identity in item.recipients:
            if identity not in self._orgs:
                self._orgs[identity] = self._store.kv_get(IDENTITY_ORGS, identity)
            name = self._orgs[identity]
            if name is None:
                return (
                    f"x_kizuna_recipients names {identity}, which is not an organisation "
                    "of this hub"
                )
            orgs.append(name)
        return orgs


def _marking_definition_problem(item: Checked) -> str | None:
    official = official_marking(item.id)
    if official is not None:
        if dict(item.obj) != official:
            level = level_name(TLP_LEVEL_OF[item.id])
            return f"this id is the official {level} marking definition, but the content differs"
        return None
    if claims_tlp(item.obj):
        return "a TLP marking definition must use the official id of its level"
    return None
