"""``kizuna demo federation``: a Tokyo and a London node, peered, on two local ports.

Each node is a real ``kizuna serve`` app (uvicorn on 127.0.0.1) on its own SQLite store,
with its own CERT (``tokyo-cert``, ``london-ncsc``) and the partner's organisation known by
the identity it has at home. Each issues a key to the other's organisation; the keys go to
files the peers reference. Both pull from each other in the background every ``interval``
seconds. The story: Tokyo posts four objects over TAXII — TLP:GREEN, TLP:AMBER, a TLP:RED
one and a TLP:RED one naming London as recipient — and London's own TAXII API shows what
arrived, and when; the plain TLP:RED object stays in Tokyo. London answers with a sighting
that arrives in Tokyo.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from kizuna.errors import KizunaError
from kizuna.hub.contract import Actor
from kizuna.hub.federation import state as peer_state
from kizuna.hub.federation.peers import add_peer
from kizuna.hub.paging import MEDIA_TYPE_TAXII
from kizuna.hub.service import Hub
from kizuna.intel.stix.markings import TLP2_IDS
from kizuna.settings import Settings
from kizuna.store import Store, open_store

ADMIN = Actor(None, admin=True)
ROOT = "pact"
NODES = (("tokyo", "tokyo-cert", "Tokyo CERT"), ("london", "london-ncsc", "London NCSC"))
NAMESPACE = uuid.UUID("9d3c1a7e-4b2f-4e8d-a6c5-1f0e2d3c4b5a")


class DemoFailed(KizunaError):
    code = "demo-failed"


@dataclass
class DemoNode:
    name: str
    org: str
    store: Store
    hub: Hub
    collection: str
    own_key: str = ""  # the node's own CERT's key on its own node
    url: str = ""
    stop: Callable[[], None] = lambda: None

    @property
    def api_root(self) -> str:
        return f"{self.url}/taxii2/{ROOT}/"


@dataclass
class Story:
    """What the demo did, for the CLI to print (and ``--json``)."""

    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    posted: list[dict[str, Any]] = field(default_factory=list)
    stayed_home: list[str] = field(default_factory=list)
    reply_seconds: float | None = None
    status: dict[str, Any] = field(default_factory=dict)


def build(workdir: Path) -> list[DemoNode]:
    """Two nodes that know each other's CERT, each with a shared collection and keys."""
    nodes = []
    for name, org, title in NODES:
        store = open_store(f"sqlite:///{workdir / f'{name}.db'}")
        hub = Hub(store, node_name=name)
        hub.add_org(ADMIN, org, title=title)
        nodes.append(DemoNode(name, org, store, hub, str(uuid.uuid5(NAMESPACE, name))))
    identities = {n.org: n.hub.orgs(ADMIN)[0].identity_id for n in nodes}
    keydir = workdir / "keys"
    keydir.mkdir(exist_ok=True)
    for node in nodes:
        other = next(n for n in nodes if n is not node)
        node.hub.add_org(ADMIN, other.org, title=other.org, identity_id=identities[other.org])
        node.hub.add_root(ADMIN, ROOT, title="The pact's shared intelligence")
        node.hub.add_collection(ADMIN, ROOT, title=f"Shared with partners ({node.name})",
                                id=node.collection, readers=[node.org, other.org],
                                writers=[node.org, other.org])
        node.own_key = node.hub.create_key(ADMIN, node.org)[0]
        issued = node.hub.create_key(ADMIN, other.org)[0]
        key_file = keydir / f"{other.name}-at-{node.name}.key"
        key_file.write_text(issued + "\n", encoding="utf-8")
        key_file.chmod(0o600)
    return nodes


@contextlib.contextmanager
def running(nodes: list[DemoNode], interval: float, ports: tuple[int, int]) -> Iterator[None]:
    """Serve both nodes (each with its background sync) until the block ends."""
    import uvicorn  # noqa: PLC0415 - only when the demo runs

    from kizuna.web.app import create_app  # noqa: PLC0415

    servers = []
    try:
        for node, port in zip(nodes, ports, strict=True):
            settings = Settings(store="memory://", node_name=node.name, peer_sync=True,
                                peer_sync_interval=interval, demo=False)
            app = create_app(settings, store=node.store, hub=node.hub)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                                   lifespan="on"))
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
            thread.start()
            servers.append((server, thread, sock))
            node.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        deadline = time.monotonic() + 30
        while not all(server.started for server, _, _ in servers):
            if time.monotonic() > deadline:
                raise DemoFailed("the demo nodes did not start within 30 s")
            time.sleep(0.02)
        for node in nodes:  # FastAPI builds routes on first use, silencing pydantic's
            httpx.get(f"{node.url}/warm-up", timeout=30)  # warnings non-thread-safely:
        yield  # build both apps' routes now, one after the other, before the syncs start
    finally:
        for server, thread, sock in servers:
            server.should_exit = True
            thread.join(timeout=30)
            sock.close()


def peer_both(nodes: list[DemoNode], workdir: Path) -> None:
    for node in nodes:
        other = next(n for n in nodes if n is not node)
        add_peer(node.store, ADMIN, name=other.name, url=other.api_root,
                 key_ref=f"file:{workdir / 'keys' / f'{node.name}-at-{other.name}.key'}",
                 maps=[f"{ROOT}/{node.collection}={other.collection}"], org=other.org,
                 direction="pull")


def _objects(london_identity: str) -> list[tuple[str, dict[str, Any]]]:
    made = "2026-03-01T09:00:00.000Z"

    def indicator(number: int, name: str, address: str, level: int,
                  **extra: Any) -> dict[str, Any]:
        return {"type": "indicator", "spec_version": "2.1",
                "id": f"indicator--{uuid.uuid5(NAMESPACE, f'indicator-{number}')}",
                "created": made, "modified": made, "name": name,
                "pattern": f"[ipv4-addr:value = '{address}']", "pattern_type": "stix",
                "valid_from": made, "object_marking_refs": [TLP2_IDS[level]], **extra}

    return [
        ("TLP:GREEN", indicator(1, "Phishing relay seen by several members", "203.0.113.10",
                                1)),
        ("TLP:AMBER", indicator(2, "Loader C2 at a hosting provider", "203.0.113.20", 2)),
        ("TLP:RED", indicator(3, "Source inside an ongoing investigation", "198.51.100.30",
                              4)),
        ("TLP:RED for London", indicator(4, "Actor infrastructure, for London's eyes only",
                                         "198.51.100.40", 4,
                                         x_kizuna_recipients=[london_identity])),
    ]


def _client(node: DemoNode) -> httpx.Client:
    return httpx.Client(base_url=node.api_root, timeout=30.0, headers={
        "Accept": MEDIA_TYPE_TAXII, "Content-Type": MEDIA_TYPE_TAXII,
        "Authorization": f"Bearer {node.own_key}"})


def _ids_on(node: DemoNode) -> set[str]:
    with _client(node) as client:
        response = client.get(f"collections/{node.collection}/objects/",
                              params={"limit": "1000"})
        response.raise_for_status()
        return {obj["id"] for obj in response.json().get("objects", [])}


def _wait(node: DemoNode, wanted: set[str], timeout: float) -> float:
    started = time.monotonic()
    while not wanted <= _ids_on(node):
        if time.monotonic() - started > timeout:
            raise DemoFailed(f"{len(wanted - _ids_on(node))} objects did not reach "
                             f"{node.name} within {timeout:.0f} s",
                             hint="see kizuna hub peer status on both nodes")
        time.sleep(0.05)
    return time.monotonic() - started


def tell(nodes: list[DemoNode], *, timeout: float = 30.0,
         say: Callable[[str], None] = print) -> Story:
    """Post on Tokyo, watch London; answer from London, watch Tokyo."""
    tokyo, london = nodes
    story = Story(nodes={n.name: {"url": n.url, "org": n.org, "key": n.own_key,
                                  "collection": n.collection} for n in nodes})
    london_identity = london.hub.orgs(ADMIN)[0].identity_id
    objects = _objects(london_identity)
    with _client(tokyo) as client:
        posted = client.post(f"collections/{tokyo.collection}/objects/",
                             json={"objects": [obj for _, obj in objects]})
        posted.raise_for_status()
    say(f"Tokyo ({tokyo.url}) posted {len(objects)} objects as {tokyo.org}:")
    for label, obj in objects:
        say(f"  {label:<19} {obj['name']}")
    shared = {obj["id"] for label, obj in objects if label != "TLP:RED"}
    seconds = _wait(london, shared, timeout)
    say(f"London ({london.url}) has the {len(shared)} it may have after {seconds:.1f} s:")
    arrived = _ids_on(london)
    for label, obj in objects:
        where = "arrived" if obj["id"] in arrived else "stayed in Tokyo"
        story.posted.append({"label": label, "id": obj["id"], "name": obj["name"],
                             "on_london": obj["id"] in arrived, "seconds": seconds})
        say(f"  {label:<19} {where}")
        if obj["id"] not in arrived:
            story.stayed_home.append(obj["id"])
    if any(label == "TLP:RED" and obj["id"] in arrived for label, obj in objects):
        raise DemoFailed("a TLP:RED object left Tokyo: this is a bug, please report it")
    story.reply_seconds = _reply(london, tokyo, objects[0][1], timeout)
    say(f"London answered with a sighting of the GREEN indicator; it reached Tokyo after "
        f"{story.reply_seconds:.1f} s.")
    time.sleep(0.2)  # let the counters of the last round land
    story.status = {n.name: peer_state.load(n.store, next(o for o in nodes if o is not n).name)
                    for n in nodes}
    withheld = story.status["tokyo"].get("withheld", {})
    say(f"Tokyo's status for its peer london: out {story.status['tokyo']['out']}, withheld "
        f"by marking {', '.join(f'{k} {v}' for k, v in withheld.items()) or 'none'}.")
    return story


def _reply(london: DemoNode, tokyo: DemoNode, seen: dict[str, Any], timeout: float) -> float:
    sighting = {"type": "sighting", "spec_version": "2.1",
                "id": f"sighting--{uuid.uuid5(NAMESPACE, 'sighting-1')}",
                "created": "2026-03-01T10:00:00.000Z", "modified": "2026-03-01T10:00:00.000Z",
                "sighting_of_ref": seen["id"], "count": 3,
                "object_marking_refs": [TLP2_IDS[1]]}
    with _client(london) as client:
        client.post(f"collections/{london.collection}/objects/",
                    json={"objects": [sighting]}).raise_for_status()
    return _wait(tokyo, {sighting["id"]}, timeout)
