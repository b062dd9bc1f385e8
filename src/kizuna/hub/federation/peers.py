"""The peer registry: which nodes this hub syncs with, and the boundary towards each.

A peer is another node, reached at the URL of its TAXII API root with a key it issued to us
(given only by reference: ``env:VAR`` or ``file:PATH``). It is represented here by one
organisation of this hub (``org``): the organisation whose key the peer uses on this node,
the "named partner" that must be a reader of a collection for anything in it to leave, and
a writer of it for anything to arrive. Configuration lives in the store's key-value side:
``hub:peers`` (name → config) and ``hub:peer-orgs`` (organisation → peer name), written
together in one transaction with the audit entry, so a failed add writes nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from kizuna.errors import ConflictError, InputError, NotFoundError
from kizuna.hub import registry as reg
from kizuna.hub.access import PeerPolicy, allowed, tlp_name
from kizuna.hub.audit import audit_record
from kizuna.hub.contract import Actor, Collection, ForbiddenError, Tlp
from kizuna.hub.paging import stix_now
from kizuna.store import Store
from kizuna.store.values import utc_now

PEERS = "hub:peers"
PEER_ORGS = "hub:peer-orgs"
DIRECTIONS = ("pull", "push", "both")
Direction = Literal["pull", "push", "both"]
DEFAULT_ALLOW = frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER})
ALLOW_NAMES = {"clear": Tlp.CLEAR, "white": Tlp.CLEAR, "green": Tlp.GREEN, "amber": Tlp.AMBER}
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PeerProblem(Exception):
    """Why a sync with one peer could not go on (recorded on the peer's status)."""

    def __init__(self, reason: str, *, kind: str = "error") -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind  # "unreachable", "auth", "not-found", "forbidden", "invalid", ...


@dataclass(frozen=True)
class CollectionMap:
    """A local collection (``root``/``local``) synced with the peer's collection ``remote``."""

    root: str
    local: str
    remote: str

    @property
    def key(self) -> str:
        return f"{self.root}/{self.local}"

    def text(self) -> str:
        return f"{self.root}/{self.local}={self.remote}"


@dataclass(frozen=True)
class Peer:
    name: str
    url: str  # the peer's TAXII API root, ending with "/"
    key_ref: str  # env:VAR or file:PATH, never the key
    org: str
    maps: tuple[CollectionMap, ...]
    direction: Direction = "pull"
    allow: frozenset[Tlp] = DEFAULT_ALLOW
    created: str = ""

    @property
    def policy(self) -> PeerPolicy:
        return PeerPolicy(self.name, self.org, self.allow)

    @property
    def pulls(self) -> bool:
        return self.direction in ("pull", "both")

    @property
    def pushes(self) -> bool:
        return self.direction in ("push", "both")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "key_ref": self.key_ref,
            "org": self.org,
            "maps": [{"root": m.root, "local": m.local, "remote": m.remote} for m in self.maps],
            "direction": self.direction,
            "allow": allow_names(self.allow),
            "created": self.created,
        }


def peer_from_json(value: dict[str, Any]) -> Peer:
    return Peer(
        name=value["name"],
        url=value["url"],
        key_ref=value["key_ref"],
        org=value["org"],
        maps=tuple(CollectionMap(m["root"], m["local"], m["remote"]) for m in value["maps"]),
        direction=value.get("direction", "pull"),
        allow=frozenset(ALLOW_NAMES[name] for name in value.get("allow", ())),
        created=value.get("created", ""),
    )


def allow_names(levels: Iterable[Tlp]) -> list[str]:
    return [tlp_name(level).removeprefix("TLP:").lower() for level in sorted(levels)]


# ---------------------------------------------------------------- checks of each field


def check_url(url: str) -> str:
    """The peer's API root URL: http(s), a host, a path ending in '/' (added if missing)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"--url {url!r} is not an http(s) URL",
                         hint="give the peer's TAXII API root, e.g. "
                              "http://london.example:8000/taxii2/pact/", field="--url")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise InputError(f"--url {url!r} has a query, fragment or credentials",
                         hint="give only the API root URL; the key goes in --key-ref",
                         field="--url")
    text = url.strip()
    return text if text.endswith("/") else text + "/"


def check_key_ref(ref: str) -> str:
    """``env:VAR`` or ``file:PATH``: the key is never given or stored itself."""
    kind, _, value = ref.partition(":")
    if kind == "env" and _ENV.match(value):
        return ref
    if kind == "file" and value.strip():
        return ref
    if ref.startswith("kz_"):
        raise InputError("--key-ref takes a reference to the key, never the key itself",
                         hint="put the key in an environment variable or a file and give "
                              "env:VAR or file:PATH", field="--key-ref")
    raise InputError(f"--key-ref {ref!r} is neither env:VAR nor file:PATH",
                     hint="e.g. --key-ref env:KIZUNA_PEER_LONDON_KEY or "
                          "--key-ref file:/etc/kizuna/london.key", field="--key-ref")


def resolve_key(ref: str) -> str:
    """The key a reference points at, read now (so a rotated key is picked up)."""
    kind, _, value = ref.partition(":")
    if kind == "env":
        secret = os.environ.get(value, "").strip()
        if not secret:
            raise PeerProblem(f"key-ref {ref}: the environment variable {value} is not set "
                              "where the sync runs", kind="key")
        return secret
    try:
        secret = Path(value).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise PeerProblem(f"key-ref {ref}: cannot read the file ({reason})", kind="key") from None
    if not secret:
        raise PeerProblem(f"key-ref {ref}: the file is empty", kind="key")
    return secret


def check_direction(direction: str) -> Direction:
    if direction not in DIRECTIONS:
        raise InputError(f"--direction {direction!r} is not pull, push or both",
                         field="--direction")
    return direction  # type: ignore[return-value]


def check_allow(text: str | Sequence[str]) -> frozenset[Tlp]:
    """Levels a peer may receive: a subset of clear, green and amber."""
    items = text.split(",") if isinstance(text, str) else list(text)
    levels: set[Tlp] = set()
    for item in items:
        name = item.strip().lower().removeprefix("tlp:")
        if name in ("amber+strict", "red"):
            raise InputError(
                f"--allow cannot include {item.strip()!r}: TLP:AMBER+STRICT and TLP:RED leave "
                "a node only for the recipients their producer named",
                hint="use a subset of clear,green,amber", field="--allow")
        if name not in ALLOW_NAMES:
            raise InputError(f"--allow has {item.strip()!r}, which is not clear, green or amber",
                             hint="e.g. --allow clear,green", field="--allow")
        levels.add(ALLOW_NAMES[name])
    if not levels:
        raise InputError("--allow names no level", hint="e.g. --allow clear,green",
                         field="--allow")
    return frozenset(levels)


def parse_map(text: str, collections: Sequence[Collection]) -> CollectionMap:
    """``LOCAL=REMOTE``: LOCAL a collection of this hub (``ID`` or ``ROOT/ID``), REMOTE the
    peer's collection id (checked when syncing: only the peer knows it)."""
    local, sep, remote = text.partition("=")
    if not sep or not local.strip() or not remote.strip():
        raise InputError(f"--map {text!r} is not LOCAL=REMOTE",
                         hint="e.g. --map pact/5a1e2f0c-...=7c3e4a1d-... (collection ids)",
                         field="--map")
    root, slash, local_id = local.strip().rpartition("/")
    try:
        local_id = reg.check_uuid(local_id.strip(), "local collection id")
        remote_id = reg.check_uuid(remote.strip(), "remote collection id")
    except InputError as error:
        raise InputError(f"--map {text!r}: {error.message}", field="--map") from None
    found = [c for c in collections if c.id == local_id and (not slash or c.root == root)]
    if not found:
        where = f" in API root {root!r}" if slash else ""
        raise InputError(f"--map {text!r}: there is no local collection {local_id}{where}",
                         hint="list them with: kizuna hub collection list", field="--map")
    if len(found) > 1:
        raise InputError(f"--map {text!r}: the collection {local_id} is in several API roots",
                         hint="write LOCAL as ROOT/ID", field="--map")
    return CollectionMap(found[0].root, local_id, remote_id)


def _check_rights(org: str, direction: Direction, collection: Collection) -> None:
    """The peer's organisation reads what may leave and writes what arrives."""
    actor = Actor(org)
    needed = []
    if direction in ("push", "both") and not allowed(actor, "read", collection):
        needed.append(("read", "--read"))
    if direction in ("pull", "both") and not allowed(actor, "write", collection):
        needed.append(("write", "--write"))
    if needed:
        words = " and ".join(word for word, _ in needed)
        flags = " ".join(f"{flag} {org}" for _, flag in needed)
        raise InputError(
            f"--map: the peer's organisation {org} may not {words} the collection "
            f"{collection.root}/{collection.id}",
            hint=f"grant it first: kizuna hub collection grant {collection.id} "
                 f"--root {collection.root} {flags}", field="--map")


# ---------------------------------------------------------------- the registry


def add_peer(store: Store, actor: Actor, *, name: str, url: str, key_ref: str,
             maps: Sequence[str], org: str | None = None, direction: str = "pull",
             allow: str | Sequence[str] | None = None, at: str = "") -> Peer:
    """Check every field, then write the peer in one transaction (nothing on an error)."""
    _admin(store, actor, f"peer:{name}")
    name = reg.check_slug(name, "peer")
    checked_url = check_url(url)
    ref = check_key_ref(key_ref)
    way = check_direction(direction)
    levels = DEFAULT_ALLOW if allow is None else check_allow(allow)
    org_name = reg.check_slug(org or name, "organisation")
    if store.kv_get(reg.ORGS, org_name) is None:
        raise InputError(f"--org: there is no organisation {org_name!r} on this hub",
                         hint="add the peer's organisation with its identity on its own node: "
                              f"kizuna hub org add {org_name} --identity identity--...",
                         field="--org")
    if not maps:
        raise InputError("name at least one collection with --map LOCAL=REMOTE", field="--map")
    collections = [reg.collection_from_json(store.kv_get(reg.COLLECTIONS, key))
                   for key in store.kv_keys(reg.COLLECTIONS)]
    parsed = [parse_map(text, collections) for text in maps]
    if len({m.key for m in parsed}) != len(parsed):
        raise InputError("--map names the same local collection twice", field="--map")
    by_key = {f"{c.root}/{c.id}": c for c in collections}
    for item in parsed:
        _check_rights(org_name, way, by_key[item.key])
    at = at or stix_now(utc_now())
    peer = Peer(name, checked_url, ref, org_name, tuple(parsed), way, levels, at)
    with store.transaction() as tx:
        if tx.kv_get(PEERS, name) is not None:
            raise ConflictError(f"the peer {name!r} already exists",
                                hint=f"remove it first: kizuna hub peer remove {name}",
                                field="name")
        taken = tx.kv_get(PEER_ORGS, org_name)
        if taken is not None:
            raise ConflictError(f"--org: the organisation {org_name!r} already stands for the "
                                f"peer {taken!r}", hint="a peer node has one organisation; "
                                "use another organisation or remove that peer", field="--org")
        tx.kv_put(PEERS, name, peer.to_json())
        tx.kv_put(PEER_ORGS, org_name, name)
        tx.put_many(reg.AUDIT, [audit_record(at, actor, "peer.add", f"peer:{name}", "ok",
                                             {"url": checked_url, "org": org_name})])
    return peer


def remove_peer(store: Store, actor: Actor, name: str, *, at: str = "") -> Peer:
    """Forget a peer, its cursors and counters (objects it brought stay, as they are)."""
    _admin(store, actor, f"peer:{name}")
    from kizuna.hub.federation.state import PEER_STATE  # noqa: PLC0415 - avoids a cycle

    at = at or stix_now(utc_now())
    with store.transaction() as tx:
        value = tx.kv_get(PEERS, name) if reg.is_slug(name) else None
        if value is None:
            raise NotFoundError(f"no peer {name!r}", hint="list them: kizuna hub peer list",
                                field="name")
        peer = peer_from_json(value)
        tx.kv_delete(PEERS, name)
        tx.kv_delete(PEER_ORGS, peer.org)
        tx.kv_delete(PEER_STATE, name)
        tx.put_many(reg.AUDIT, [audit_record(at, actor, "peer.remove", f"peer:{name}", "ok")])
    return peer


def list_peers(store: Store) -> list[Peer]:
    return [peer_from_json(store.kv_get(PEERS, name)) for name in store.kv_keys(PEERS)]


def load_peer(store: Store, name: str) -> Peer:
    value = store.kv_get(PEERS, name) if reg.is_slug(name) else None
    if value is None:
        raise NotFoundError(f"no peer {name!r}", hint="list them: kizuna hub peer list",
                            field="peer")
    return peer_from_json(value)


def peer_policy(kv: reg.KvReader, org: str | None) -> PeerPolicy | None:
    """The policy of the peer ``org`` stands for; None for an ordinary organisation."""
    if org is None:
        return None
    name = kv.kv_get(PEER_ORGS, org)
    value = kv.kv_get(PEERS, name) if name is not None else None
    return None if value is None else peer_from_json(value).policy


def _admin(store: Store, actor: Actor, target: str) -> None:
    decision = allowed(actor, "admin")
    if not decision:
        store.put_many(reg.AUDIT, [audit_record(stix_now(utc_now()), actor, "peer", target,
                                                "denied",
                                                {"reason": decision.reason})])
        raise ForbiddenError(decision.reason, reason=decision.reason)
