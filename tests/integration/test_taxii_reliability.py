"""Reliability of the TAXII hub against a real ``kizuna serve`` subprocess on 127.0.0.1.

* ``kill -9`` in the middle of a long ingest: after a restart on the same SQLite file every
  object whose status said success is there with all its versions, the file passes SQLite's
  integrity check, and each envelope is either wholly stored with its status or not at all;
* 50 concurrent clients for a bounded time: no error responses, no lost writes;
* bad input (malformed JSON, wrong media types, an envelope over the configured
  ``KIZUNA_TAXII_MAX_CONTENT_LENGTH``, unknown root or collection, bad or missing
  credentials, a reader posting, invalid STIX): the right 4xx as a TAXII error message,
  and the stored objects do not change.

The in-process route tests (test_taxii_routes.py) check the statuses in detail; these check
the same through the real server and that nothing changed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from kizuna.hub.contract import Actor
from kizuna.hub.service import Hub
from kizuna.store import open_store

TAXII = "application/taxii+json;version=2.1"
ADMIN = Actor(None, admin=True)
ROOT = "rel"
COLLECTION = "3f9a1c2e-7b4d-4e5f-8a6b-9c0d1e2f3a4b"
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
KIZUNA = str(Path(sys.executable).parent / "kizuna")
MAX_BODY = 64 * 1024  # the small cap the bad-input server runs with


@dataclass(frozen=True)
class Keys:
    producer: str
    reader: str
    outsider: str


@dataclass
class Live:
    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    log: Path
    keys: Keys

    @property
    def objects(self) -> str:
        return f"{self.url}/taxii2/{ROOT}/collections/{COLLECTION}/objects/"

    def client(self, key: str | None, **headers: str) -> httpx.Client:
        base = {"Accept": TAXII, "Content-Type": TAXII}
        if key is not None:
            base["Authorization"] = f"Bearer {key}"
        return httpx.Client(headers={**base, **headers}, timeout=30.0)


def prepare(db: Path) -> Keys:
    """Three organisations: a producer that writes, a reader, and one with no access."""
    with open_store(f"sqlite:///{db}") as store:
        hub = Hub(store)
        for name in ("producer", "reader", "outsider"):
            hub.add_org(ADMIN, name)
        keys = Keys(*(hub.create_key(ADMIN, org)[0] for org in ("producer", "reader", "outsider")))
        hub.add_root(ADMIN, ROOT)
        hub.add_collection(ADMIN, ROOT, title="reliability", id=COLLECTION,
                           readers=["producer", "reader"], writers=["producer"])
    return keys


def start(db: Path, keys: Keys, tmp: Path, **env: str) -> Live:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp / f"serve-{port}.log"
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [KIZUNA, "serve", "--no-demo", "--host", "127.0.0.1", "--port", str(port),
             "--store", f"sqlite:///{db}"],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"kizuna serve exited: {log.read_text(errors='replace')[-1500:]}")
        try:
            httpx.get(f"{url}/healthz", timeout=1.0)
            return Live(url, process, log, keys)
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    pytest.fail("kizuna serve did not answer within 60 s")


def stop(live: Live) -> None:
    if live.process.poll() is None:
        live.process.terminate()
        try:
            live.process.wait(10)
        except subprocess.TimeoutExpired:
            live.process.kill()
            live.process.wait()


def indicator(tag: str, number: int, modified: str = "2026-01-01T00:00:00.000Z"
              ) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'{tag}-{number}')}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "name": f"{tag} {number}",
        "pattern": f"[ipv4-addr:value = '10.{number // 65536 % 256}.{number // 256 % 256}."
                   f"{number % 256}'] AND [domain-name:value = 'x{number}.example']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00.000Z",
        "object_marking_refs": [TLP_GREEN],
    }


def stored(live: Live) -> set[tuple[str, str]]:
    """Every (id, version) in the collection, all versions, as the producer sees them."""
    found: set[tuple[str, str]] = set()
    params = {"match[version]": "all", "limit": "10000"}
    with live.client(live.keys.producer) as client:
        while True:
            response = client.get(f"{live.url}/taxii2/{ROOT}/collections/{COLLECTION}/manifest/",
                                  params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            found.update((item["id"], item["version"]) for item in body.get("objects", []))
            if not body.get("more"):
                return found
            params = {**params, "next": body["next"]}


# --------------------------------------------------------------------------- kill -9


def test_kill_9_during_a_long_ingest_loses_no_acknowledged_write(tmp_path: Path) -> None:
    """Envelopes of 200 (150 new objects, 50 newer versions of the previous envelope's)
    are posted in a loop from a thread; the server is killed with SIGKILL while a POST is
    in flight. After a restart on the same file, every acknowledged (id, version) is there,
    and every envelope is stored whole (with its status) or not at all."""
    db = tmp_path / "hub.db"
    keys = prepare(db)
    live = start(db, keys, tmp_path)
    sent: list[list[tuple[str, str]]] = []  # per envelope, in order
    acknowledged: list[tuple[list[tuple[str, str]], str]] = []  # (objects, status id)
    in_flight = threading.Event()
    stop_posting = threading.Event()

    def envelope(index: int) -> list[dict[str, Any]]:
        items = [indicator("kill", index * 150 + n) for n in range(150)]
        if index:
            newer = f"2026-01-02T00:00:{index % 60:02d}.{index // 60:03d}Z"
            items += [indicator("kill", (index - 1) * 150 + n, newer) for n in range(50)]
        return items

    def poster() -> None:
        with live.client(keys.producer) as client:
            for index in range(10_000):
                if stop_posting.is_set():
                    return
                items = envelope(index)
                sent.append([(item["id"], item["modified"]) for item in items])
                body = json.dumps({"objects": items}).encode()
                if len(acknowledged) >= 8:
                    in_flight.set()
                try:
                    response = client.post(live.objects, content=body)
                except httpx.TransportError:
                    return
                assert response.status_code == 202, response.text
                status = response.json()
                assert status["success_count"] == len(items), status
                acknowledged.append((sent[-1], status["id"]))

    thread = threading.Thread(target=poster, daemon=True)
    thread.start()
    assert in_flight.wait(60), "the ingest did not get going"
    time.sleep(0.015)  # into the next POST (one takes some tens of ms)
    os.kill(live.process.pid, signal.SIGKILL)
    live.process.wait(10)
    stop_posting.set()
    thread.join(30)
    assert not thread.is_alive()
    assert len(acknowledged) >= 8

    with sqlite3.connect(db) as conn:  # WAL recovery on open, then a full check
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    live = start(db, keys, tmp_path)
    try:
        present = stored(live)
        for objects, _status in acknowledged:
            missing = set(objects) - present
            assert not missing, f"acknowledged but lost: {sorted(missing)[:3]}"
        with live.client(keys.producer) as client:
            for _objects, status_id in acknowledged:
                response = client.get(f"{live.url}/taxii2/{ROOT}/status/{status_id}/")
                assert response.status_code == 200
                assert response.json()["status"] == "complete"
            # versions intact: an object of the first envelope has both of its versions
            first = sent[0][0][0]
            response = client.get(f"{live.objects}{first}/versions/")
            assert response.status_code == 200
            assert len(response.json()["versions"]) == 2
        # nothing half-written: each envelope's objects are all there or none of them
        # (the in-flight one may have committed without its answer reaching us)
        whole = 0
        for objects in sent:
            here = [pair in present for pair in objects]
            assert all(here) or not any(here), "an envelope was stored in part"
            whole += all(here)
        assert whole in (len(acknowledged), len(acknowledged) + 1)
        assert present == {pair for objects in sent[:whole] for pair in objects}
    finally:
        stop(live)
    # and every stored envelope has its status (one objects.add audit entry with a status id)
    with open_store(f"sqlite:///{db}") as store:
        hub = Hub(store)
        adds = [e for e in hub.audit(ADMIN, limit=10_000) if e.action == "objects.add"]
        assert len(adds) == whole
        for entry in adds:
            status = hub.status(Actor("producer"), ROOT, entry.detail["status"])
            assert status["success_count"] == entry.detail["success"]


# --------------------------------------------------------------------------- shared server


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One server with a small body cap for the concurrency and bad-input tests."""
    tmp = tmp_path_factory.mktemp("taxii-live")
    db = tmp / "hub.db"
    keys = prepare(db)
    server = start(db, keys, tmp, KIZUNA_TAXII_MAX_CONTENT_LENGTH=str(MAX_BODY))
    yield server
    stop(server)


@dataclass
class Load:
    """What the concurrent clients saw."""

    deadline: float
    errors: list[str] = field(default_factory=list)
    written: list[tuple[str, str]] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def running(self) -> bool:
        return time.monotonic() < self.deadline


def _writer(live: Live, load: Load, number: int) -> None:
    """Envelopes of 20 new objects in a loop until the deadline."""
    with live.client(live.keys.producer) as client:
        round_ = 0
        while load.running():
            items = [indicator(f"c{number}-{round_}", n) for n in range(20)]
            round_ += 1
            try:
                response = client.post(live.objects, json={"objects": items})
            except httpx.TransportError as exc:
                load.errors.append(f"writer {number}: {type(exc).__name__}")
                return
            if response.status_code != 202:
                load.errors.append(f"POST {response.status_code}: {response.text[:200]}")
                continue
            status = response.json()
            if status["success_count"] != len(items):
                load.errors.append(f"status {status['failures'][:1]}")
            with load.lock:
                load.written.extend((s["id"], s["version"]) for s in status["successes"])
                load.statuses.append(status["id"])


def _reader(live: Live, load: Load, number: int) -> None:
    """Pages, a type filter and the manifest in turn until the deadline."""
    asks = [
        (live.objects, {"limit": "200"}),
        (live.objects, {"match[type]": "indicator", "limit": "50"}),
        (f"{live.url}/taxii2/{ROOT}/collections/{COLLECTION}/manifest/", {"limit": "100"}),
    ]
    with live.client(live.keys.reader) as client:
        round_ = number
        while load.running():
            url, params = asks[round_ % len(asks)]
            round_ += 1
            try:
                response = client.get(url, params=params)
            except httpx.TransportError as exc:
                load.errors.append(f"reader {number}: {type(exc).__name__}")
                return
            if response.status_code != 200:
                load.errors.append(f"GET {response.status_code}: {response.text[:200]}")


def test_fifty_concurrent_clients_get_no_errors_and_lose_no_writes(live: Live) -> None:
    """25 writers post envelopes of 20 new objects, 25 readers page, filter and read the
    manifest, for 8 seconds; every response is a success and every acknowledged object is
    stored (what is new in the collection is exactly what the statuses reported)."""
    before = stored(live)
    load = Load(deadline=time.monotonic() + 8.0)
    threads = [threading.Thread(target=_writer, args=(live, load, n)) for n in range(25)]
    threads += [threading.Thread(target=_reader, args=(live, load, n)) for n in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert not load.errors, f"{len(load.errors)} errors, e.g. {load.errors[:3]}"
    assert len(load.statuses) >= 25, "too few writes got through to mean anything"
    assert len(set(load.written)) == len(load.written)
    assert stored(live) - before == set(load.written)
    with live.client(live.keys.producer) as client:
        for status_id in load.statuses[:: max(1, len(load.statuses) // 20)]:
            response = client.get(f"{live.url}/taxii2/{ROOT}/status/{status_id}/")
            assert response.status_code == 200


# --------------------------------------------------------------------------- bad input


def _bad_requests(live: Live) -> list[tuple[str, int, dict[str, Any]]]:
    """(what, expected status, httpx request arguments)."""
    good = json.dumps({"objects": [indicator("bad", 1)]}).encode()
    big = json.dumps({"objects": [indicator("big", n) for n in range(400)]}).encode()
    assert len(big) > MAX_BODY
    keys = live.keys
    auth = {"Authorization": f"Bearer {keys.producer}", "Accept": TAXII, "Content-Type": TAXII}
    unknown = f"{live.url}/taxii2/{ROOT}/collections/{uuid.uuid4()}/objects/"
    return [
        ("malformed JSON", 400, {"headers": auth, "content": b'{"objects": [{"type": '}),
        ("JSON that is not an envelope", 422, {"headers": auth, "content": b"[1, 2, 3]"}),
        ("wrong Content-Type", 415,
         {"headers": {**auth, "Content-Type": "application/json"}, "content": good}),
        ("wrong Accept", 406, {"headers": {**auth, "Accept": "text/html"}, "content": good}),
        ("envelope over max_content_length", 413, {"headers": auth, "content": big}),
        ("unknown collection", 404, {"headers": auth, "content": good, "url": unknown}),
        ("unknown API root", 404, {"headers": auth, "content": good,
                                   "url": f"{live.url}/taxii2/nosuchroot/collections/"
                                          f"{COLLECTION}/objects/"}),
        ("no credentials", 401,
         {"headers": {"Accept": TAXII, "Content-Type": TAXII}, "content": good}),
        ("unknown key", 401, {"headers": {**auth, "Authorization": "Bearer kz_000000_nope"},
                              "content": good}),
        ("malformed Authorization", 401,
         {"headers": {**auth, "Authorization": "Bearer"}, "content": good}),
        ("wrong Basic password", 401,
         {"headers": {**auth, "Authorization": "Basic " + "eDp5"}, "content": good}),
        ("a reader that may not write", 403,
         {"headers": {**auth, "Authorization": f"Bearer {keys.reader}"}, "content": good}),
        ("an organisation that may not see the collection", 404,
         {"headers": {**auth, "Authorization": f"Bearer {keys.outsider}"}, "content": good}),
    ]


def test_bad_requests_get_the_right_taxii_error_and_change_nothing(live: Live) -> None:
    before = stored(live)
    wrong = []
    with httpx.Client(timeout=30.0) as client:
        for what, expected, args in _bad_requests(live):
            url = args.pop("url", live.objects)
            response = client.post(url, **args)
            if response.status_code != expected:
                wrong.append(f"{what}: {response.status_code} (wanted {expected}) "
                             f"{response.text[:160]}")
                continue
            assert response.headers["content-type"].startswith("application/taxii+json"), what
            body = response.json()
            assert body.get("title") and body.get("http_status") == str(expected), (what, body)
    assert not wrong, "\n".join(wrong)
    assert stored(live) == before


def test_invalid_stix_is_reported_per_object_and_stores_nothing(live: Live) -> None:
    """An envelope whose objects are all invalid STIX: 202 with a failure (and a reason)
    for each, and nothing stored — a valid sibling would be stored (issue 3, item 2)."""
    bad = [
        {**indicator("inv", 1), "pattern": "[ipv4-addr:value = '1.2.3.4'"},  # unclosed
        {**indicator("inv", 2), "id": "indicator--not-a-uuid"},
        {**indicator("inv", 3), "spec_version": "2.0"},
        {**indicator("inv", 4), "created": "yesterday"},
        {k: v for k, v in indicator("inv", 5).items() if k != "pattern"},
        {**indicator("inv", 6), "object_marking_refs": [f"marking-definition--{uuid.uuid4()}"]},
        "not an object",
    ]
    before = stored(live)
    with live.client(live.keys.producer) as client:
        response = client.post(live.objects, json={"objects": bad})
    assert response.status_code == 202, response.text
    status = response.json()
    assert status["success_count"] == 0
    assert status["failure_count"] == len(bad)
    assert all(failure["message"] for failure in status["failures"])
    assert stored(live) == before
