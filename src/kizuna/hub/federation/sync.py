"""The sync engine: move envelopes between this hub and its peers over TAXII 2.1.

For each peer and each mapped collection:

* **pull** — GET the peer's objects (``match[version]=all``, ``added_after`` the persisted
  cursor, following ``next``) and hand each envelope to ``Hub.add_objects`` as the peer's
  organisation, which accepts relayed objects by the federation rule
  (``hub.federation.relay.relay_in``). After each page the cursor — ``added_after``, the
  ``next`` token and the newest ``date_added`` seen — is saved, so a sync that fails at any
  point resumes where it stopped; a page fetched twice stores nothing twice (a stored
  version is never stored again).
* **push** — read what may leave for the peer (the same read its pull would get,
  ``relay.read_for_peer``) after the persisted push cursor, POST it in envelopes that fit
  the peer's ``max_content_length``, and move the cursor once the peer accepted them.

A problem with one peer (unreachable, our key refused, a collection missing, an answer that
is not TAXII) is recorded on that peer's status with the reason, and the other peers go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from kizuna.errors import KizunaError
from kizuna.hub import registry as reg
from kizuna.hub.access import read_view
from kizuna.hub.contract import Actor, ObjectFilter
from kizuna.hub.federation import state as peer_state
from kizuna.hub.federation.client import TaxiiPeer
from kizuna.hub.federation.peers import (
    CollectionMap,
    Peer,
    PeerProblem,
    list_peers,
    load_peer,
    resolve_key,
)
from kizuna.hub.federation.relay import EXAMINED_KEY, RELAY_KEY, Served, read_for_peer
from kizuna.hub.paging import fingerprint, stix_now
from kizuna.hub.reads import ReadRequest
from kizuna.hub.service import Hub
from kizuna.intel.stix.objects import normalise_timestamp
from kizuna.jsontext import canonical

PAGE = 5000  # objects per page pulled or pushed
DEFAULT_MAX_CONTENT = 10 * 1024 * 1024
_ABORT = ("unreachable", "auth", "key")  # problems that end the sync with this peer

PeerFactory = Callable[[Peer, str], TaxiiPeer]


@dataclass
class PeerResult:
    """What one sync with one peer did."""

    peer: str
    received: int = 0  # versions the peer sent that this hub accepted (new or already here)
    refused: int = 0  # versions refused here
    sent: int = 0  # versions pushed that the peer accepted
    rejected: int = 0  # versions pushed that the peer refused
    withheld: int = 0  # versions not pushed because of their markings
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {"peer": self.peer, "ok": self.ok, "received": self.received,
                "refused": self.refused, "sent": self.sent, "rejected": self.rejected,
                "withheld": self.withheld, "errors": list(self.errors),
                "seconds": round(self.seconds, 3)}


def sync_all(hub: Hub, names: Sequence[str] | None = None, *, page: int = PAGE,
             connect: PeerFactory | None = None) -> list[PeerResult]:
    """Sync with every peer (or the ones named), one after the other."""
    peers = list_peers(hub.store) if not names else [load_peer(hub.store, n) for n in names]
    return [sync_peer(hub, peer, page=page, connect=connect) for peer in peers]


def sync_peer(hub: Hub, peer: Peer, *, page: int = PAGE,
              connect: PeerFactory | None = None) -> PeerResult:
    """One sync with ``peer``; every problem is on the result and the peer's status."""
    result = PeerResult(peer.name)
    started = time.monotonic()
    try:
        key = resolve_key(peer.key_ref)
        with (connect or TaxiiPeer)(peer, key) as remote:
            for mapped in peer.maps:
                try:
                    _sync_map(hub, peer, mapped, remote, page, result)
                except PeerProblem as problem:
                    _failed(hub, peer, result, problem, mapped.text())
                    if problem.kind in _ABORT:
                        break
    except PeerProblem as problem:
        _failed(hub, peer, result, problem)
    result.seconds = time.monotonic() - started
    at = stix_now(hub.clock())

    def finish(state: peer_state.State) -> None:
        state["last_sync"] = at
        if result.ok:
            state["last_success"] = at

    peer_state.change(hub.store, peer.name, finish)
    return result


def _failed(hub: Hub, peer: Peer, result: PeerResult, problem: PeerProblem,
            where: str = "") -> None:
    result.errors.append(f"{where}: {problem.reason}" if where else problem.reason)
    at = stix_now(hub.clock())
    peer_state.change(hub.store, peer.name,
                      lambda state: peer_state.add_error(state, at, problem.reason,
                                                         problem.kind, where))


def _sync_map(hub: Hub, peer: Peer, mapped: CollectionMap, remote: TaxiiPeer, page: int,
              result: PeerResult) -> None:
    if reg.load_collection(hub.store, mapped.root, mapped.local) is None:
        raise PeerProblem(f"the local collection {mapped.key} no longer exists", kind="config")
    if peer.pulls:
        _pull(hub, peer, mapped, remote, page, result)
    if peer.pushes:
        _push(hub, peer, mapped, remote, page, result)


# ---------------------------------------------------------------- pull


def _pull(hub: Hub, peer: Peer, mapped: CollectionMap, remote: TaxiiPeer, page: int,
          result: PeerResult) -> None:
    """Pull page after page; the next page is fetched while this one is stored (its request
    is known as soon as this one has arrived), and the cursor saved after each is stored."""
    actor = Actor(peer.org)
    cursor = peer_state.map_state(peer_state.load(hub.store, peer.name), mapped.key)
    after, token, newest = cursor["pull_after"], cursor["pull_next"], cursor.get("pull_newest")
    with ThreadPoolExecutor(1, thread_name_prefix="kizuna-pull") as prefetch:
        coming: Future[_Fetched] | None = prefetch.submit(_fetch, remote, mapped, after, token,
                                                          page)
        while coming is not None:
            envelope, headers, token = coming.result()
            newest = _newest(newest, envelope.get(EXAMINED_KEY),
                             headers.get("X-TAXII-Date-Added-Last"))
            more, previous, token = envelope.get("more") is True, token, envelope.get("next")
            if more and token == previous:
                raise PeerProblem("the peer's next token did not move on; the pull stops here",
                                  kind="invalid")
            if not (more and isinstance(token, str) and token):
                after, token = newest or after, None
            coming = (None if token is None else
                      prefetch.submit(_fetch, remote, mapped, after, token, page))
            if envelope.get("objects"):
                status = _store(hub, actor, mapped, envelope)
                result.received += int(status.get("success_count", 0))
                result.refused += int(status.get("failure_count", 0))
            _save_pull(hub, peer, mapped, after, token, newest)


_Fetched = tuple[dict[str, Any], Any, "str | None"]


def _fetch(remote: TaxiiPeer, mapped: CollectionMap, after: str | None, token: str | None,
           page: int) -> _Fetched:
    """One page, and the token it was asked with; a token the peer no longer takes (400)
    is dropped and the page asked again from the cursor."""
    try:
        envelope, headers = remote.objects(mapped.remote, added_after=after,
                                           next_token=token, limit=page)
    except PeerProblem as problem:
        if not (token and problem.kind == "bad-request"):
            raise
        token = None
        envelope, headers = remote.objects(mapped.remote, added_after=after, next_token=None,
                                           limit=page)
    return envelope, headers, token


def _store(hub: Hub, actor: Actor, mapped: CollectionMap,
           envelope: dict[str, Any]) -> dict[str, Any]:
    try:
        return hub.add_objects(actor, mapped.root, mapped.local, envelope)
    except KizunaError as error:
        kind = "forbidden" if error.status in (401, 403, 404) else "invalid"
        raise PeerProblem(f"this node cannot take the peer's envelope for {mapped.key}: "
                          f"{error}", kind=kind) from None


def _newest(*stamps: Any) -> str | None:
    found = []
    for stamp in stamps:
        if isinstance(stamp, str) and stamp:
            try:
                found.append(normalise_timestamp(stamp))
            except ValueError:
                continue
    return max(found) if found else None


def _save_pull(hub: Hub, peer: Peer, mapped: CollectionMap, after: str | None,
               token: str | None, newest: str | None) -> None:
    def edit(state: peer_state.State) -> None:
        cursor = peer_state.map_state(state, mapped.key)
        cursor.update(pull_after=after, pull_next=token, pull_newest=newest)

    peer_state.change(hub.store, peer.name, edit)


# ---------------------------------------------------------------- push


def _push(hub: Hub, peer: Peer, mapped: CollectionMap, remote: TaxiiPeer, page: int,
          result: PeerResult) -> None:
    request = _push_request(hub, peer, mapped, page)
    limit = _max_content(remote)
    after = peer_state.map_state(peer_state.load(hub.store, peer.name), mapped.key)["push_after"]
    while True:
        query = replace(request.query, added_after=after)
        served = read_for_peer(hub.store, replace(request, query=query))
        accepted, refusals = _post_all(remote, mapped.remote, served, limit)
        after = served.examined or after
        _save_push(hub, peer, mapped, after, accepted, refusals, served)
        result.sent += accepted
        result.rejected += len(refusals)
        result.withheld += sum(served.withheld.values())
        if not served.page.body.get("more"):
            return


def _push_request(hub: Hub, peer: Peer, mapped: CollectionMap, page: int) -> ReadRequest:
    collection = reg.load_collection(hub.store, mapped.root, mapped.local)
    assert collection is not None
    group = reg.load_group(hub.store, collection.sharing_group)
    view = read_view(Actor(peer.org), collection, group, peer.policy)
    if view is None:
        raise PeerProblem(f"the peer's organisation {peer.org} is not a reader of {mapped.key}, "
                          "so nothing in it may leave for the peer (grant it with: kizuna hub "
                          f"collection grant {mapped.local} --root {mapped.root} --read "
                          f"{peer.org})", kind="forbidden")
    query = ObjectFilter(versions=("all",), limit=page)
    return ReadRequest(namespace=reg.namespace_of(collection), view=view, query=query,
                       print_=fingerprint("push", mapped.root, mapped.local, None, query),
                       limit=page, raw=True)


def _max_content(remote: TaxiiPeer) -> int:
    value = remote.api_root().get("max_content_length")
    size = value if isinstance(value, int) and value > 0 else DEFAULT_MAX_CONTENT
    return min(size, DEFAULT_MAX_CONTENT) - 1024  # room for the envelope's own bytes


def _post_all(remote: TaxiiPeer, collection: str, served: Served,
              limit: int) -> tuple[int, list[dict[str, Any]]]:
    """POST the page in envelopes under ``limit`` bytes: (versions accepted, refusals)."""
    docs = served.page.body.get("objects", [])
    claims = [canonical(claim) for claim in served.page.body.get(RELAY_KEY, [])]
    accepted, refusals = 0, []
    for chunk in _chunks(docs, claims, limit):
        if len(chunk) == 1 and chunk[0][2] > limit:
            refusals.append({"id": _object_id(chunk[0][0]),
                             "message": f"the object is {chunk[0][2]:,} bytes; the peer "
                                        f"accepts envelopes of at most {limit:,}"})
            continue
        done, refused = _post(remote, collection, chunk)
        accepted += done
        refusals.extend(refused)
    return accepted, refusals


def _post(remote: TaxiiPeer, collection: str, chunk: list[tuple[str, str, int]]
          ) -> tuple[int, list[dict[str, Any]]]:
    """POST one envelope; halve it while the peer finds it too large (its server's own cap
    can be below the API root's ``max_content_length``)."""
    try:
        status = remote.post(collection, _envelope(chunk))
    except PeerProblem as problem:
        if problem.kind != "too-large" or len(chunk) == 1:
            raise
        half = len(chunk) // 2
        first, second = _post(remote, collection, chunk[:half]), _post(remote, collection,
                                                                       chunk[half:])
        return first[0] + second[0], first[1] + second[1]
    failures = [f for f in status.get("failures", []) if isinstance(f, dict)]
    return int(status.get("success_count", 0)), failures


def _chunks(docs: list[str], claims: list[str], limit: int
            ) -> Iterator[list[tuple[str, str, int]]]:
    chunk: list[tuple[str, str, int]] = []
    size = 0
    for doc, claim in zip(docs, claims, strict=True):
        item = (doc, claim, len(doc.encode("utf-8")) + len(claim) + 2)
        if chunk and size + item[2] > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item[2]
    if chunk:
        yield chunk


def _envelope(chunk: list[tuple[str, str, int]]) -> bytes:
    docs = ",".join(doc for doc, _, _ in chunk)
    claims = ",".join(claim for _, claim, _ in chunk)
    return f'{{"objects":[{docs}],"{RELAY_KEY}":[{claims}]}}'.encode()


def _object_id(doc: str) -> str:
    start = doc.find('"id":"')
    return doc[start + 6:doc.find('"', start + 6)] if start >= 0 else ""


def _save_push(hub: Hub, peer: Peer, mapped: CollectionMap, after: str | None, accepted: int,
               refusals: list[dict[str, Any]], served: Served) -> None:
    at = stix_now(hub.clock())

    def edit(state: peer_state.State) -> None:
        peer_state.map_state(state, mapped.key)["push_after"] = after
        state["out"] += accepted
        peer_state.add_withheld(state, served.withheld)
        peer_state.add_refusals(state, at, "out", refusals)

    peer_state.change(hub.store, peer.name, edit)
