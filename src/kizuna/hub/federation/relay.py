"""The hub's side of federation: what leaves for a peer, and how what a peer relays comes in.

Both directions go through the hub's ordinary TAXII calls made as the peer's organisation,
so the peer's pull (a GET of objects) and our push (the same read, done in process) apply
one rule, and a peer's push (a POST) and our pull (the same ingest, done in process) accept
by one rule:

* out — ``read_for_peer`` scans the collection in ``added`` order with the peer's compiled
  ``ReadView`` (``kizuna.hub.access.read_view`` with the ``PeerPolicy``): every version, the
  levels the peer may receive, never what came from it. Next to the objects the envelope
  carries ``x_kizuna_relay`` — per object, the producer's STIX identity and the level this
  node gave it — and ``x_kizuna_examined``, the ``date_added`` of the last record examined
  (the puller's cursor, so a stretch it may not see is not scanned again). Other TAXII
  clients ignore both properties; the objects themselves are exactly as stored.
* in — ``relay_in`` turns each claim into a producer of this hub (an organisation of another
  node, known here by that identity, or the peer's own organisation) or a refusal, and hands
  the envelope to ``ingest`` with them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kizuna.errors import InputError
from kizuna.hub import registry as reg
from kizuna.hub.access import PeerPolicy, ReadView, tlp_name
from kizuna.hub.contract import Actor, Collection, ObjectFilter, Page, Tlp
from kizuna.hub.federation import state as peer_state
from kizuna.hub.ingest import Claim, Relayed, ingest, objects_of
from kizuna.hub.paging import decode_next, encode_next, format_added, parse_timestamp
from kizuna.hub.reads import SCAN_BUDGET, ReadRequest
from kizuna.store import Store, StoredRecord, Transaction
from kizuna.store.values import encode_cursor, to_micros

RELAY_KEY = "x_kizuna_relay"
EXAMINED_KEY = "x_kizuna_examined"
_MAX_CHUNK = 5000


def is_sync_query(query: ObjectFilter) -> bool:
    """A peer's sync read: every version, by ``added_after``/``next`` only."""
    return (not query.ids and not query.types and not query.spec_versions
            and list(query.versions) == ["all"])


@dataclass(frozen=True)
class Served:
    page: Page
    sent: int
    withheld: dict[str, int]  # "TLP:RED" -> versions not sent because of their markings
    examined: str | None  # date_added of the last record examined


def read_for_peer(store: Store, request: ReadRequest, *, budget: int = SCAN_BUDGET) -> Served:
    """One page of what may leave for the peer ``request.view`` stands for."""
    view, query = request.view, request.query
    added_after = parse_timestamp(query.added_after, "added_after") if query.added_after else None
    cursor = None
    if query.next:
        cursor = encode_cursor(to_micros(decode_next(query.next, request.print_)))
    chunk = min(max(request.limit, 100), _MAX_CHUNK)
    found: list[StoredRecord] = []
    withheld: Counter[str] = Counter()
    examined, last, more = 0, None, False
    while True:
        page = store.query(request.namespace, versions="all", added_after=added_after,
                           limit=chunk, after_cursor=cursor, raw=request.raw)
        stop = _take(view, page.records, found, withheld, request.limit)
        if page.records:
            last = page.records[len(page.records) - 1 if stop is None else stop].added
        if stop is not None:
            more = page.more or stop < len(page.records) - 1
            break
        examined += len(page.records)
        if not page.more or examined >= budget:
            more = page.more
            break
        cursor = page.next_cursor
    body: dict[str, Any] = {"more": more}
    if more and last is not None:
        body["next"] = encode_next(last, request.print_)
    if last is not None:
        body[EXAMINED_KEY] = format_added(last)
    if found:
        body[RELAY_KEY] = _claims_out(store, found)
        body["objects"] = [record.doc for record in found]
    page_out = Page(body, format_added(found[0].added) if found else None,
                    format_added(found[-1].added) if found else None)
    names = {tlp_name(Tlp(int(level))): count for level, count in withheld.items()}
    return Served(page_out, len(found), names, body.get(EXAMINED_KEY))


def _take(view: ReadView, records: list[StoredRecord], found: list[StoredRecord],
          withheld: Counter[str], limit: int) -> int | None:
    """Add the records the peer may receive to ``found``; count the ones withheld by their
    markings. Returns the index of the record that filled the page, else None."""
    for index, record in enumerate(records):
        attrs = record.attrs
        tlp, producer = attrs.get("tlp", "4"), attrs.get("producer", "")
        origin = attrs.get("origin", "")
        if view.sees(tlp, producer, attrs.get("recipients", ""), origin):
            found.append(record)
            if len(found) == limit:
                return index
        elif origin != view.peer and producer != view.org:
            withheld[tlp] += 1
    return None


def _claims_out(store: Store, records: list[StoredRecord]) -> list[dict[str, Any]]:
    identities: dict[str, str] = {}
    claims = []
    for record in records:
        producer = record.attrs.get("producer", "")
        if producer not in identities:
            org = store.kv_get(reg.ORGS, producer) if reg.is_slug(producer) else None
            identities[producer] = org["identity_id"] if org else ""
        claims.append({"producer": identities[producer],
                       "tlp": int(record.attrs.get("tlp", "4"))})
    return claims


def serve(store: Store, request: ReadRequest, at: str) -> Page:
    """A peer's pull: the page, counted on the peer's status (sent and withheld)."""
    served = read_for_peer(store, request)
    if served.sent or served.withheld:
        def edit(state: peer_state.State) -> None:
            state["out"] += served.sent
            peer_state.add_withheld(state, served.withheld)
            state["last_served"] = at

        peer_state.change(store, request.view.peer, edit)
    return served.page


# ---------------------------------------------------------------- in


def claims_in(store: Store, peer: PeerPolicy, raw: Any, count: int,
              default: Tlp = Tlp.AMBER) -> list[Claim | str]:
    """Per object: who produced it here, or why the claim is refused.

    Without ``x_kizuna_relay`` (a TAXII server that is not a Kizuna node, or a node that has
    not made this one its peer) the peer's own organisation answers for every object, and
    an object without a TLP marking is kept at least TLP:AMBER (``default`` is the
    collection's): its origin's level is unknown, so it fails towards restriction. A claim
    may name an organisation of another node (added here with its identity there) or the
    peer's organisation, never an organisation whose home is this node: only that
    organisation posts its objects here.
    """
    if raw is None:
        return [Claim(peer.org, int(max(default, Tlp.AMBER)))] * count
    if not isinstance(raw, list) or len(raw) != count:
        raise InputError(f"{RELAY_KEY} must be a list with one claim per object",
                         field=RELAY_KEY)
    known: dict[str, Claim | str] = {}
    claims: list[Claim | str] = []
    for item in raw:
        identity = item.get("producer") if isinstance(item, Mapping) else None
        level = item.get("tlp") if isinstance(item, Mapping) else None
        if not isinstance(identity, str) or not (
            level is None or (isinstance(level, int) and not isinstance(level, bool)
                              and 0 <= level <= int(Tlp.RED))):
            claims.append(f"the peer's {RELAY_KEY} claim {item!r} is malformed")
            continue
        if identity not in known:
            known[identity] = _producer(store, peer, identity)
        found = known[identity]
        claims.append(found if isinstance(found, str) else Claim(found.producer, level))
    return claims


def _producer(store: Store, peer: PeerPolicy, identity: str) -> Claim | str:
    name = store.kv_get(reg.IDENTITY_ORGS, identity) if len(identity) < 100 else None
    if name is None:
        return (f"the producer {identity} is not an organisation of this node (add it with: "
                f"kizuna hub org add NAME --identity {identity})")
    org = store.kv_get(reg.ORGS, name)
    if name != peer.org and not (org and org.get("remote")):
        return (f"the peer {peer.name} may not relay objects of {name}, an organisation of "
                "this node (only it adds versions of its objects here)")
    return Claim(name)


def relay_in(store: Store, actor: Actor, peer: PeerPolicy, collection: Collection,
             envelope: Mapping[str, Any], at: str) -> dict[str, Any]:
    """Ingest what a peer relays, counting it on the peer's status in the same transaction."""
    objects = objects_of(envelope)
    claims = claims_in(store, peer, envelope.get(RELAY_KEY), len(objects),
                       collection.default_tlp)

    def on_commit(tx: Transaction, stored: int, failures: list[dict[str, str]]) -> None:
        if not stored and not failures:
            return

        def edit(state: peer_state.State) -> None:
            state["in"] += stored
            peer_state.add_refusals(state, at, "in", failures)

        peer_state.change_in(tx, peer.name, edit)

    return ingest(store, actor, collection, envelope, at,
                  relay=Relayed(peer.name, claims, on_commit))
