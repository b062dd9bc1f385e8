"""Per-peer state: cursors, counters and errors, in ``hub:peer-state`` (one JSON value per peer).

Every change is a read-modify-write inside one store transaction (which holds the store's
write lock), so the sync thread, the requests a peer makes and a ``kizuna hub sync`` run at
the same time never lose each other's counts. Counters:

* ``in`` — object versions stored here that came from the peer (pulled or pushed to us);
* ``out`` — object versions sent to the peer (served to its pulls, or accepted by it from
  our pushes);
* ``withheld`` — versions examined for the peer but not sent because of their markings, by
  level (loop-freedom exclusions are not counted: the peer has those already);
* ``refused_in`` / ``refused_out`` — versions refused by us / by the peer, with the last
  reasons in ``refusals``;
* ``errors`` — the last sync problems (unreachable, wrong key, missing collection, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from kizuna.hub.registry import KvReader
from kizuna.store import Store, Transaction

if TYPE_CHECKING:
    from kizuna.hub.federation.peers import Peer

PEER_STATE = "hub:peer-state"
KEEP = 20  # errors and refusals kept per peer

State = dict[str, Any]


def empty() -> State:
    return {
        "last_sync": None,
        "last_success": None,
        "last_error": None,
        "last_served": None,
        "in": 0,
        "out": 0,
        "refused_in": 0,
        "refused_out": 0,
        "withheld": {},
        "errors": [],
        "refusals": [],
        "maps": {},
    }


def load(kv: KvReader, name: str) -> State:
    state = empty()
    state.update(kv.kv_get(PEER_STATE, name) or {})
    return state


def change_in(tx: Transaction, name: str, change: Callable[[State], None]) -> None:
    state = load(tx, name)
    change(state)
    tx.kv_put(PEER_STATE, name, state)


def change(store: Store, name: str, edit: Callable[[State], None]) -> None:
    with store.transaction() as tx:
        change_in(tx, name, edit)


def map_state(state: State, key: str) -> dict[str, Any]:
    found: dict[str, Any] = state["maps"].setdefault(
        key, {"pull_after": None, "pull_next": None, "push_after": None})
    return found


def add_withheld(state: State, withheld: Mapping[str, int]) -> None:
    for level, count in withheld.items():
        state["withheld"][level] = state["withheld"].get(level, 0) + count


def add_refusals(state: State, at: str, direction: str,
                 failures: Iterable[Mapping[str, Any]]) -> int:
    """Count refused versions and keep the last few reasons; returns how many."""
    count = 0
    for failure in failures:
        count += 1
        state["refusals"].append({"at": at, "direction": direction,
                                  "id": str(failure.get("id", "")),
                                  "reason": str(failure.get("message", ""))[:300]})
    del state["refusals"][:-KEEP]
    state["refused_in" if direction == "in" else "refused_out"] += count
    return count


def add_error(state: State, at: str, reason: str, kind: str, where: str = "") -> None:
    error = {"at": at, "kind": kind, "reason": reason[:500], "map": where}
    state["last_error"] = error
    state["errors"].append(error)
    del state["errors"][:-KEEP]


def status_row(peer: Peer, state: Mapping[str, Any], keys: set[str] | None = None
               ) -> dict[str, Any]:
    """One peer's configuration and status as plain data (the CLI and the page share it)."""
    maps = []
    for mapped in peer.maps:
        if keys is not None and mapped.key not in keys:
            continue
        cursor = state.get("maps", {}).get(mapped.key, {})
        maps.append({"local": mapped.key, "remote": mapped.remote,
                     "pull_cursor": cursor.get("pull_after"),
                     "push_cursor": cursor.get("push_after")})
    withheld = dict(state.get("withheld", {}))
    return {
        "name": peer.name, "org": peer.org, "url": peer.url, "direction": peer.direction,
        "allow": peer.to_json()["allow"],
        "maps": maps,
        "last_sync": state.get("last_sync"), "last_success": state.get("last_success"),
        "failing": bool(state.get("last_sync"))
                   and state.get("last_success") != state.get("last_sync"),
        "last_served": state.get("last_served"),
        "in": state.get("in", 0), "out": state.get("out", 0),
        "withheld": withheld, "withheld_total": sum(withheld.values()),
        "refused_in": state.get("refused_in", 0), "refused_out": state.get("refused_out", 0),
        "last_error": state.get("last_error"), "errors": list(state.get("errors", [])),
        "refusals": list(state.get("refusals", [])),
    }  # fmt: skip
