"""Federation figures (issue 9): propagation of 100,000 objects node -> node -> node, and the
steady-state lag of a write under a continuous write load.

Three ``kizuna serve`` processes on 127.0.0.1 (tokyo, london, paris), each on its own SQLite
file in a temp dir, each with its background sync at ``--interval`` (default: the setting's
default, 2 s). They are peered in a chain, tokyo <-> london <-> paris, every link configured
on both sides and pulled by both (the recommended set-up).

1. **Propagation.** ``--objects`` indicators (CLEAR, GREEN and AMBER, so every one may travel)
   are stored on tokyo first (in process, not timed), with the peers not yet configured.
   At t0 the peers are written to the three stores; each node's next background round picks
   them up. Printed: seconds until london has them all (one hop, including the wait for the
   next round) and until paris has them all (two hops), objects/s.
2. **Lag.** A client posts to tokyo over TAXII for ``--seconds`` at ``--rate`` objects/s
   (envelopes every 0.1 s; one object in ten TLP:RED, which must stay home). For each
   envelope, the time from the 202 to the moment its first object is on london and on paris
   (the stores are polled every 20 ms). Printed: p50, p95 and max per node, and a check
   that no RED object left tokyo.
3. **Baseline** (``--no-baseline`` skips it): the same objects POSTed straight to a fresh
   node over TAXII in envelopes of 5,000 (the sync's page) by one client — what moving them
   costs without federation. Ratio: propagation one hop / baseline.

    .venv/bin/python benchmarks/federation.py [--objects 100000] [--interval 2]
        [--rate 200] [--seconds 30] [--no-baseline]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from machine import cpu_model

from kizuna.hub.contract import Actor
from kizuna.hub.federation.peers import add_peer
from kizuna.hub.service import Hub
from kizuna.intel.stix.markings import TLP2_IDS
from kizuna.settings import Settings
from kizuna.store import Store, open_store

ADMIN = Actor(None, admin=True)
ROOT = "pact"
NAMES = ("tokyo", "london", "paris")
TAXII = "application/taxii+json;version=2.1"
KIZUNA = str(Path(sys.executable).parent / "kizuna")
NAMESPACE = uuid.UUID("7f1e2d3c-4b5a-4e6f-8a9b-0c1d2e3f4a5b")
TARGET_HOP_S = 30.0
TARGET_LAG_S = 5.0


@dataclass
class BenchNode:
    name: str
    org: str
    store: Store
    hub: Hub
    collection: str
    port: int
    key: str = ""  # the node's own organisation's key on the node
    process: subprocess.Popen[bytes] | None = None

    @property
    def api_root(self) -> str:
        return f"http://127.0.0.1:{self.port}/taxii2/{ROOT}/"

    @property
    def namespace(self) -> str:
        return f"taxii:{ROOT}:{self.collection}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build(workdir: Path, names: tuple[str, ...] = NAMES) -> list[BenchNode]:
    nodes = []
    for name in names:
        store = open_store(f"sqlite:///{workdir / f'{name}.db'}")
        hub = Hub(store, node_name=name)
        hub.add_org(ADMIN, f"{name}-cert")
        nodes.append(BenchNode(name, f"{name}-cert", store, hub,
                               str(uuid.uuid5(NAMESPACE, name)), free_port()))
    identities = {n.org: n.hub.orgs(ADMIN)[0].identity_id for n in nodes}
    for node in nodes:
        for other in nodes:
            if other is not node:
                node.hub.add_org(ADMIN, other.org, identity_id=identities[other.org])
        node.hub.add_root(ADMIN, ROOT)
        node.hub.add_collection(ADMIN, ROOT, title="shared", id=node.collection,
                                readers=list(identities), writers=list(identities))
        node.key = node.hub.create_key(ADMIN, node.org)[0]
        for other in nodes:
            if other is not node:
                path = workdir / f"{other.name}-at-{node.name}.key"
                path.write_text(node.hub.create_key(ADMIN, other.org)[0], encoding="utf-8")
    return nodes


def peer_chain(nodes: list[BenchNode], workdir: Path) -> None:
    for left, right in itertools.pairwise(nodes):
        for node, other in ((left, right), (right, left)):
            add_peer(node.store, ADMIN, name=other.name, url=other.api_root,
                     key_ref=f"file:{workdir / f'{node.name}-at-{other.name}.key'}",
                     maps=[f"{ROOT}/{node.collection}={other.collection}"], org=other.org)


def start(node: BenchNode, workdir: Path, interval: float) -> None:
    config = workdir / "config.toml"
    config.write_text("", encoding="utf-8")
    env = {**os.environ, "KIZUNA_CONFIG": str(config), "KIZUNA_NODE_NAME": node.name,
           "KIZUNA_PEER_SYNC_INTERVAL": str(interval)}
    log = (workdir / f"{node.name}.log").open("wb")
    node.process = subprocess.Popen(
        [KIZUNA, "serve", "--no-demo", "--host", "127.0.0.1", "--port", str(node.port),
         "--store", f"sqlite:///{workdir / f'{node.name}.db'}"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{node.port}/healthz", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{node.name} did not start; see {workdir / f'{node.name}.log'}")


def stop(nodes: list[BenchNode]) -> None:
    for node in nodes:
        if node.process is not None and node.process.poll() is None:
            node.process.terminate()
            node.process.wait(30)


def indicator(tag: str, number: int, level: int) -> dict[str, Any]:
    made = "2026-04-01T00:00:00.000Z"
    return {"type": "indicator", "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid5(NAMESPACE, f'{tag}-{number}')}",
            "created": made, "modified": made, "name": f"{tag} {number}",
            "pattern": f"[ipv4-addr:value = '10.{number // 65536 % 256}."
                       f"{number // 256 % 256}.{number % 256}']",
            "pattern_type": "stix", "valid_from": made,
            "object_marking_refs": [TLP2_IDS[level]]}


def load(node: BenchNode, count: int) -> float:
    started = time.perf_counter()
    for begin in range(0, count, 1000):
        batch = [indicator("bulk", n, n % 3) for n in range(begin, min(count, begin + 1000))]
        status = node.hub.add_objects(Actor(node.org), ROOT, node.collection,
                                      {"objects": batch})
        assert status["failure_count"] == 0, status["failures"][:3]
    return time.perf_counter() - started


def wait_count(node: BenchNode, count: int, since: float, timeout: float) -> float:
    while node.store.count(node.namespace) < count:
        if time.perf_counter() - since > timeout:
            raise SystemExit(f"{node.name} has {node.store.count(node.namespace):,} of "
                             f"{count:,} after {timeout:.0f} s")
        time.sleep(0.1)
    return time.perf_counter() - since


# ---------------------------------------------------------------- lag


def lag(nodes: list[BenchNode], rate: int, seconds: float) -> dict[str, list[float]]:
    tokyo, watched = nodes[0], nodes[1:]
    per_envelope = max(1, rate // 10)
    posted: dict[str, float] = {}  # first object's id -> time of the 202
    red: list[str] = []
    seen: dict[str, dict[str, float]] = {node.name: {} for node in watched}
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(watched, posted, seen, done))
    watcher.start()
    headers = {"Accept": TAXII, "Content-Type": TAXII, "Authorization": f"Bearer {tokyo.key}"}
    number = 0
    with httpx.Client(base_url=tokyo.api_root, headers=headers, timeout=60) as client:
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            tick = time.perf_counter()
            batch = [indicator("live", number + i, 4 if (number + i) % 10 == 9 else (i % 3))
                     for i in range(per_envelope)]
            red += [obj["id"] for obj in batch if obj["object_marking_refs"] == [TLP2_IDS[4]]]
            response = client.post(f"collections/{tokyo.collection}/objects/",
                                   json={"objects": batch})
            response.raise_for_status()
            posted[batch[0]["id"]] = time.perf_counter()
            number += per_envelope
            time.sleep(max(0.0, 0.1 - (time.perf_counter() - tick)))
    deadline = time.perf_counter() + 60
    while any(len(seen[n.name]) < len(posted) for n in watched) and time.perf_counter() < deadline:
        time.sleep(0.1)
    done.set()
    watcher.join()
    leaked = sum(len(n.store.query(n.namespace, keys=red, versions="all").records)
                 for n in watched)
    if leaked:
        raise SystemExit(f"{leaked} TLP:RED objects left tokyo: this is a bug")
    return {name: [seen[name][key] - posted[key] for key in seen[name]] for name in seen}


def _watch(watched: list[BenchNode], posted: dict[str, float],
           seen: dict[str, dict[str, float]], done: threading.Event) -> None:
    while not done.is_set():
        for node in watched:
            waiting = [key for key in list(posted) if key not in seen[node.name]]
            if waiting:
                page = node.store.query(node.namespace, keys=waiting, raw=True)
                now = time.perf_counter()
                for record in page.records:
                    seen[node.name].setdefault(record.key, now)
        time.sleep(0.02)


# ---------------------------------------------------------------- baseline


def baseline(workdir: Path, count: int) -> float:
    """POST the same objects straight to a fresh node, in envelopes of 5,000."""
    (workdir / "baseline").mkdir()
    [node] = build(workdir / "baseline", ("direct",))
    start(node, workdir / "baseline", 2.0)
    headers = {"Accept": TAXII, "Content-Type": TAXII, "Authorization": f"Bearer {node.key}"}
    try:
        with httpx.Client(base_url=node.api_root, headers=headers, timeout=300) as client:
            started = time.perf_counter()
            for begin in range(0, count, 5000):
                batch = [indicator("bulk", n, n % 3)
                         for n in range(begin, min(count, begin + 5000))]
                client.post(f"collections/{node.collection}/objects/",
                            json={"objects": batch}).raise_for_status()
            return time.perf_counter() - started
    finally:
        stop([node])
        node.store.close()


def quantiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"p50 {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, max {ordered[-1]:.2f} s "
            f"({len(ordered)} envelopes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--interval", type=float, default=Settings().peer_sync_interval)
    parser.add_argument("--rate", type=int, default=200, help="objects/s posted in the lag leg")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    print(f"# federation benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# Python {platform.python_version()}, kizuna {version('kizuna')}, httpx "
          f"{version('httpx')}, uvicorn {version('uvicorn')}, {os.cpu_count()} cores "
          f"({cpu_model() or 'unknown CPU'}), SQLite stores, sync interval {args.interval:g} s")
    with tempfile.TemporaryDirectory(prefix="kizuna-fed-bench-") as tmp:
        workdir = Path(tmp)
        nodes = build(workdir)
        loaded = load(nodes[0], args.objects)
        print(f"loaded {args.objects:,} objects on tokyo in {loaded:.1f} s (in process, "
              "not part of the figures)")
        try:
            for node in nodes:
                start(node, workdir, args.interval)
            t0 = time.perf_counter()
            peer_chain(nodes, workdir)
            one = wait_count(nodes[1], args.objects, t0, 600)
            two = wait_count(nodes[2], args.objects, t0, 600)
            print(f"propagation: tokyo -> london {one:.1f} s ({args.objects / one:,.0f} "
                  f"objects/s), -> paris {two:.1f} s ({args.objects / two:,.0f} objects/s); "
                  f"target < {TARGET_HOP_S:.0f} s node to node: "
                  f"{'met' if one < TARGET_HOP_S else 'NOT met'}")
            lags = lag(nodes, args.rate, args.seconds)
            for name, values in lags.items():
                print(f"lag at {args.rate} objects/s, tokyo -> {name}: {quantiles(values)}")
            p95 = sorted(lags["london"])[int(0.95 * (len(lags["london"]) - 1))]
            print(f"target: lag < {TARGET_LAG_S:.0f} s node to node at the default interval: "
                  f"{'met' if p95 < TARGET_LAG_S else 'NOT met'} (p95 {p95:.2f} s); no "
                  "TLP:RED object left tokyo")
        finally:
            stop(nodes)
            for node in nodes:
                node.store.close()
        if not args.no_baseline:
            direct = baseline(workdir, args.objects)
            print(f"baseline: the same {args.objects:,} POSTed straight to a fresh node in "
                  f"envelopes of 5,000: {direct:.1f} s ({args.objects / direct:,.0f} "
                  f"objects/s); one hop of federation / direct POST = {one / direct:.2f}x")


if __name__ == "__main__":
    main()
