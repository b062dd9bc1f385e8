"""Federation test worlds: nodes with their own SQLite stores, served on real 127.0.0.1 ports.

Each node has one organisation of its own (``tokyo-cert`` on ``tokyo``...), knows every other
node's organisation by the identity it has at home, and holds one collection in API root
``pact`` (a different id on every node, so maps are exercised) that every organisation
reads and writes. Each node issues a key to every other node's organisation; the keys go
to files that the peers reference (``--key-ref file:...``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kizuna.hub.contract import Actor, Tlp
from kizuna.hub.federation.peers import add_peer
from kizuna.hub.service import Hub
from kizuna.intel.stix.markings import TLP2_IDS
from kizuna.settings import Settings
from kizuna.store import Store, open_store
from servetools import ThreadedServer

ADMIN = Actor(None, admin=True)
ROOT = "pact"
NAMESPACE = uuid.UUID("5b0e7d1a-2c3f-4e5a-9b8c-7d6e5f4a3b2c")


def collection_id(node: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"collection-{node}"))


@dataclass
class Node:
    name: str
    org: str
    store: Store
    hub: Hub
    collection: str
    keydir: Path
    identities: dict[str, str] = field(default_factory=dict)  # org -> identity id
    url: str = ""

    @property
    def api_root(self) -> str:
        return f"{self.url}/taxii2/{ROOT}/"

    @property
    def namespace(self) -> str:
        return f"taxii:{ROOT}:{self.collection}"

    def post(self, *objects: dict[str, Any], org: str | None = None) -> dict[str, Any]:
        """Post as this node's own organisation (or ``org``), in process."""
        return self.hub.add_objects(Actor(org or self.org), ROOT, self.collection,
                                    {"objects": list(objects)})

    def versions(self) -> set[tuple[str, str]]:
        """Every (id, normalised version) stored in the node's collection."""
        page = self.store.query(self.namespace, versions="all", raw=True)
        return {(record.key, record.version) for record in page.records}

    def records(self) -> dict[tuple[str, str], Any]:
        page = self.store.query(self.namespace, versions="all")
        return {(r.key, r.version): r for r in page.records}

    def key_file(self, issuer: Node) -> Path:
        """The file holding the key ``issuer`` gave this node's organisation."""
        return self.keydir / f"{self.org}-at-{issuer.name}.key"


def build_nodes(tmp: Path, names: Sequence[str], *, stores: dict[str, Store] | None = None
                ) -> list[Node]:
    """Nodes that know each other's organisations, with keys in files (no peers yet);
    each on a SQLite file of its own unless ``stores`` gives it another store."""
    keydir = tmp / "keys"
    keydir.mkdir(exist_ok=True)
    nodes = []
    for name in names:
        store = (stores or {}).get(name) or open_store(f"sqlite:///{tmp / f'{name}.db'}")
        hub = Hub(store, node_name=name)
        org = hub.add_org(ADMIN, f"{name}-cert", title=f"{name.title()} CERT")
        nodes.append(Node(name, org.name, store, hub, collection_id(name), keydir))
    everyone = {node.org: node.hub.orgs(ADMIN)[0].identity_id for node in nodes}
    for node in nodes:
        node.identities = dict(everyone)
        for other in nodes:
            if other is not node:
                node.hub.add_org(ADMIN, other.org, title=other.org,
                                 identity_id=everyone[other.org])
        node.hub.add_root(ADMIN, ROOT, title="Pact")
        node.hub.add_collection(ADMIN, ROOT, title=f"{node.name} shared", id=node.collection,
                                readers=list(everyone), writers=list(everyone))
        for other in nodes:
            if other is not node:
                secret, _ = node.hub.create_key(ADMIN, other.org)
                other.key_file(node).write_text(secret + "\n", encoding="utf-8")
    return nodes


def close_nodes(nodes: Sequence[Node]) -> None:
    for node in nodes:
        node.store.close()


def peer(node: Node, other: Node, *, direction: str = "pull",
         allow: str = "clear,green,amber") -> None:
    """``node`` syncs with ``other`` (it must be served: its URL is needed)."""
    assert other.url, f"serve {other.name} first"
    add_peer(node.store, ADMIN, name=other.name, url=other.api_root,
             key_ref=f"file:{node.key_file(other)}",
             maps=[f"{ROOT}/{node.collection}={other.collection}"], org=other.org,
             direction=direction, allow=allow)


# ---------------------------------------------------------------- servers


class NodeServer:
    """A node's app under uvicorn in a thread, on a port kept across stop and start."""

    def __init__(self, node: Node, *, peer_sync: bool = False, interval: float = 2.0) -> None:
        self.node = node
        self.settings = Settings(store="memory://", peer_sync=peer_sync,
                                 peer_sync_interval=interval, node_name=node.name)
        self._served: ThreadedServer | None = None

    @property
    def port(self) -> int:
        return self._served.port if self._served is not None else 0

    def start(self) -> str:
        from kizuna.web.app import create_app

        app = create_app(self.settings, store=self.node.store, hub=self.node.hub)
        self._served = ThreadedServer(app, self.port, f"the {self.node.name} node")
        self.node.url = self._served.start()
        warm_up(self.node.url)
        return self.node.url

    def stop(self) -> None:
        if self._served is not None:
            self._served.stop(timeout=30)


def warm_up(url: str) -> None:
    """One request that matches no route, so FastAPI builds every route now, alone.

    FastAPI builds a route's parameters lazily, on the first request that reaches it, and
    silences pydantic's warnings meanwhile with ``warnings.catch_warnings()``, which is not
    thread-safe: apps of several nodes in one process, building at the same moment, can
    restore each other's filters, and under ``filterwarnings = error`` a silenced warning
    becomes an error. (One ``kizuna serve`` per process matches routes on one thread.)"""
    import httpx

    httpx.get(f"{url}/warm-up-every-route", timeout=30)


@contextmanager
def serving_nodes(nodes: Sequence[Node], **options: Any) -> Iterator[list[NodeServer]]:
    servers = [NodeServer(node, **options) for node in nodes]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


# ---------------------------------------------------------------- objects


def indicator(tag: str, number: int, *, tlp: Tlp | None = Tlp.GREEN,
              modified: str = "2026-01-01T00:00:00.000Z",
              recipients: Sequence[str] = ()) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(NAMESPACE, f'{tag}-{number}')}",
        "created": "2026-01-01T00:00:00.000Z", "modified": modified,
        "name": f"{tag} {number}",
        "pattern": f"[ipv4-addr:value = '10.{number // 65536 % 256}.{number // 256 % 256}."
                   f"{number % 256}']",
        "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
    }
    if tlp is not None:
        obj["object_marking_refs"] = [TLP2_IDS[int(tlp)]]
    if recipients:
        obj["x_kizuna_recipients"] = list(recipients)
    return obj


def version_of(obj: dict[str, Any]) -> tuple[str, str]:
    from kizuna.intel.stix.objects import normalise_timestamp

    return obj["id"], normalise_timestamp(obj["modified"])

