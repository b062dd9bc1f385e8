"""Federation when things go wrong: a peer killed mid-sync, and peers that cannot be used.

* ``kill -9`` of the peer (a real ``kizuna serve`` process) while a paged pull is under way:
  after it comes back on the same store and port, the sync resumes from the saved cursor
  (it does not start over), every version arrives once, and nothing is lost;
* an unreachable peer, a wrong key, a map to a collection the peer does not have, a key
  reference that points nowhere, a peer that answers with invalid STIX, a peer that answers
  with something that is not TAXII: each is on that peer's status with its reason, and the
  good peer in the same sync still syncs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response

from fedtools import ADMIN, ROOT, Node, build_nodes, close_nodes, indicator, peer, serving_nodes
from kizuna.hub.contract import Tlp
from kizuna.hub.federation import state as peer_state
from kizuna.hub.federation.peers import add_peer
from kizuna.hub.federation.sync import PeerResult, sync_all
from kizuna.hub.paging import MEDIA_TYPE_TAXII
from servetools import serving

KIZUNA = str(Path(sys.executable).parent / "kizuna")


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    nodes = build_nodes(tmp_path, ["tokyo", "london"])
    yield nodes[0], nodes[1]
    close_nodes(nodes)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_serve(node: Node, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``kizuna serve`` on the node's SQLite file, without its own background sync."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [KIZUNA, "serve", "--no-demo", "--host", "127.0.0.1", "--port", str(port),
             "--store", node.store.url],
            stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "KIZUNA_PEER_SYNC": "0", "KIZUNA_NODE_NAME": node.name})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"kizuna serve exited: {log.read_text(errors='replace')[-1500:]}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0)
            node.url = f"http://127.0.0.1:{port}"
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    pytest.fail("kizuna serve did not answer within 60 s")


def test_a_peer_killed_mid_sync_resumes_from_the_cursor_with_nothing_lost_or_doubled(
        pair: tuple[Node, Node], tmp_path: Path) -> None:
    tokyo, london = pair
    objects = [indicator("k", n, tlp=Tlp.GREEN, modified=f"2026-01-0{day}T00:00:00.000Z")
               for n in range(600) for day in (1, 2)]
    for start in range(0, len(objects), 200):
        assert tokyo.post(*objects[start:start + 200])["failure_count"] == 0
    wanted = {(o["id"], o["modified"].replace(".000Z", ".000000Z")) for o in objects}
    port = free_port()
    with serving_nodes([london]):  # tokyo's peer record needs london's URL
        peer(tokyo, london)
    process = start_serve(tokyo, port, tmp_path / "tokyo.log")
    try:
        peer(london, tokyo)
        results: list[PeerResult] = []
        thread = threading.Thread(target=lambda: results.extend(sync_all(london.hub, page=40)))
        thread.start()
        deadline = time.monotonic() + 60
        while len(london.versions()) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        thread.join(60)
        before = london.versions()
        assert 200 <= len(before) < len(wanted), "the kill did not land mid-sync"
        assert len(results) == 1 and not results[0].ok
        status = peer_state.load(london.store, "tokyo")
        assert status["last_error"]["kind"] == "unreachable"
        assert "tokyo" in status["last_error"]["reason"] or "127.0.0.1" in status[
            "last_error"]["reason"]
        process = start_serve(tokyo, port, tmp_path / "tokyo.log")
        second = sync_all(london.hub, page=40)[0]
    finally:
        process.kill()
        process.wait(10)
    assert second.ok, second.errors
    assert london.versions() == wanted
    # resumed: the second sync fetched what was missing plus at most the page in flight
    assert second.received <= len(wanted) - len(before) + 40
    status = peer_state.load(london.store, "tokyo")
    assert status["in"] == len(wanted)  # each version stored once, in total
    assert status["last_success"] == status["last_sync"]
    assert london.store.count(london.namespace) == len(wanted)


# ---------------------------------------------------------------- peers that cannot be used


def fake_peer(objects: list[Any] | None, *, garbage: bool = False) -> FastAPI:
    """A TAXII server that is not a Kizuna node: serves ``objects`` (or garbage) as is."""
    app = FastAPI()

    @app.get("/taxii2/fake/collections/{collection}/objects/")
    def objects_route(collection: str) -> Response:
        if garbage:
            return Response("<html>proxy error</html>", media_type="text/html")
        import json

        return Response(json.dumps({"more": False, "objects": objects}),
                        media_type=MEDIA_TYPE_TAXII,
                        headers={"X-TAXII-Date-Added-Last": "2026-01-01T00:00:00.000000Z"})

    return app


def add_bad_peer(london: Node, name: str, url: str, key_ref: str,
                 remote: str | None = None) -> None:
    identity = f"identity--{uuid.uuid5(uuid.NAMESPACE_URL, name)}"
    org = f"{name}-org"
    london.hub.add_org(ADMIN, org, identity_id=identity)
    london.hub.change_access(ADMIN, ROOT, london.collection, add_readers=[org],
                             add_writers=[org])
    add_peer(london.store, ADMIN, name=name, url=url, key_ref=key_ref, org=org,
             maps=[f"{ROOT}/{london.collection}={remote or str(uuid.uuid4())}"])


def test_each_unusable_peer_is_reported_with_its_reason_and_the_good_one_still_syncs(
        pair: tuple[Node, Node], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tokyo, london = pair
    good = indicator("g", 1, tlp=Tlp.GREEN)
    tokyo.post(good)
    wrong_key = tmp_path / "wrong.key"
    wrong_key.write_text("kz_0123456789ab_" + "x" * 43, encoding="utf-8")
    right_key = f"file:{london.key_file(tokyo)}"
    invalid = {**indicator("bad", 1), "pattern": "[ipv4-addr:value = "}
    valid_from_fake = indicator("fake", 2)
    monkeypatch.delenv("KIZUNA_NO_SUCH_KEY", raising=False)
    with serving_nodes([tokyo]), serving(fake_peer([invalid, valid_from_fake])) as fake, \
            serving(fake_peer(None, garbage=True)) as proxy:
        peer(london, tokyo)
        add_bad_peer(london, "ghost", f"http://127.0.0.1:{free_port()}/taxii2/pact/",
                     right_key)
        add_bad_peer(london, "wrongkey", tokyo.api_root, f"file:{wrong_key}")
        add_bad_peer(london, "nocollection", tokyo.api_root, right_key)
        add_bad_peer(london, "nokey", tokyo.api_root, "env:KIZUNA_NO_SUCH_KEY")
        add_bad_peer(london, "fake", f"{fake}/taxii2/fake/", right_key)
        add_bad_peer(london, "proxy", f"{proxy}/taxii2/fake/", right_key)
        results = {result.peer: result for result in sync_all(london.hub)}
    assert results["tokyo"].ok and results["tokyo"].received == 1
    reasons = {name: peer_state.load(london.store, name)["last_error"]
               for name in ("ghost", "wrongkey", "nocollection", "nokey", "proxy")}
    assert reasons["ghost"]["kind"] == "unreachable"
    assert "cannot reach the peer at http://127.0.0.1:" in reasons["ghost"]["reason"]
    assert reasons["wrongkey"]["kind"] == "auth"
    assert "refused our key (401" in reasons["wrongkey"]["reason"]
    assert reasons["nocollection"]["kind"] == "not-found"
    assert "the peer has no collection" in reasons["nocollection"]["reason"]
    assert reasons["nokey"]["kind"] == "key"
    assert "KIZUNA_NO_SUCH_KEY is not set" in reasons["nokey"]["reason"]
    assert reasons["proxy"]["kind"] == "invalid"
    assert "is not JSON" in reasons["proxy"]["reason"]
    for name in reasons:
        assert not results[name].ok and results[name].errors
        assert "kz_0123456789ab_" not in str(peer_state.load(london.store, name))
    fake_status = peer_state.load(london.store, "fake")
    assert results["fake"].ok and (results["fake"].received, results["fake"].refused) == (1, 1)
    assert fake_status["refused_in"] == 1 and fake_status["in"] == 1
    refusal = fake_status["refusals"][-1]
    assert refusal["id"] == invalid["id"] and "pattern" in refusal["reason"]
    stored = {key for key, _ in london.versions()}
    assert stored == {good["id"], valid_from_fake["id"]}
    assert london.records()[(valid_from_fake["id"], "2026-01-01T00:00:00.000000Z")].attrs[
        "producer"] == "fake-org"  # a server that names no producer: its organisation answers
