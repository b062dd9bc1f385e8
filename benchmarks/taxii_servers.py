"""Start the two TAXII servers the benchmark compares, as subprocesses on 127.0.0.1.

* medallion (the OASIS reference server) with its memory backend and a generated config;
* ``kizuna serve --no-demo`` on a store prepared through the ``kizuna hub`` CLI: a producer
  and a reader organisation, a key for each, one API root and one collection that both read
  and only the producer writes (so the reader is a non-producer under access control).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from taxii_workload import TAXII

BIN = Path(sys.executable).parent
KIZUNA = str(BIN / "kizuna")
MEDALLION = str(BIN / "medallion")
MEDALLION_ROOT = "api1"
MEDALLION_COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str  # e.g. http://127.0.0.1:8123/taxii2/
    root: str
    collection: str
    writer: httpx.Auth | dict[str, str]  # headers or auth
    reader: httpx.Auth | dict[str, str]
    log: Path

    def objects_url(self) -> str:
        return f"{self.base}{self.root}/collections/{self.collection}/objects/"

    def status_url(self, status_id: str) -> str:
        return f"{self.base}{self.root}/status/{status_id}/"

    def client(self, who: str, timeout: float = 300.0) -> httpx.Client:
        creds = self.writer if who == "writer" else self.reader
        headers = {"Accept": TAXII, "Content-Type": TAXII}
        if isinstance(creds, dict):
            return httpx.Client(headers={**headers, **creds}, timeout=timeout)
        return httpx.Client(headers=headers, auth=creds, timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path,
               timeout: float = 60.0, **kwargs: object) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: "
                               f"{log.read_text(errors='replace')[-2000:]}")
        try:
            httpx.get(url, timeout=2.0, headers={"Accept": TAXII}, **kwargs)  # type: ignore[arg-type]
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def start_medallion(tmp: Path) -> Server:
    """medallion 3 with the memory backend, one root and one read/write collection."""
    port = free_port()
    data = {
        "/discovery": {
            "title": "bench", "description": "", "contact": "",
            "default": f"http://127.0.0.1:{port}/{MEDALLION_ROOT}/",
            "api_roots": [f"http://127.0.0.1:{port}/{MEDALLION_ROOT}/"],
        },
        MEDALLION_ROOT: {
            "information": {"title": "bench", "description": "",
                            "versions": [TAXII], "max_content_length": 100 * 1024 * 1024},
            "status": [],
            "collections": [{
                "id": MEDALLION_COLLECTION, "title": "bench", "description": "",
                "can_read": True, "can_write": True,
                "media_types": ["application/stix+json;version=2.1"],
                "objects": [], "manifest": [],
            }],
        },
    }
    data_path = tmp / "medallion-data.json"
    data_path.write_text(json.dumps(data))
    config = {
        "backend": {"module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend", "filename": str(data_path)},
        "users": {"writer": "writer-pass", "reader": "reader-pass"},
        "taxii": {"max_page_size": 1000},
    }
    config_path = tmp / "medallion.json"
    config_path.write_text(json.dumps(config))
    log = tmp / "medallion.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [MEDALLION, "--host", "127.0.0.1", "--port", str(port), "--log-level", "ERROR",
             str(config_path)],
            stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/"
    server = Server("medallion", process, base, MEDALLION_ROOT, MEDALLION_COLLECTION,
                    httpx.BasicAuth("writer", "writer-pass"),
                    httpx.BasicAuth("reader", "reader-pass"), log)
    wait_ready(f"{base}taxii2/", process, log)
    return server


def hub_cli(store: str, *args: str, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [KIZUNA, "hub", *args, "--store", store, "--json"],
        capture_output=True, text=True, env=env, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"kizuna hub {' '.join(args)}: {done.stderr.strip()}")
    result = json.loads(done.stdout)
    assert isinstance(result, dict)
    return result


@dataclass
class KizunaSetup:
    writer_key: str
    reader_key: str
    root: str
    collection: str


def prepare_kizuna(store: str, env: dict[str, str]) -> KizunaSetup:
    """Organisations, keys, root and collection through the ``kizuna hub`` CLI."""
    hub_cli(store, "org", "add", "bench-producer", env=env)
    hub_cli(store, "org", "add", "bench-reader", env=env)
    writer = hub_cli(store, "key", "create", "--org", "bench-producer", env=env)
    reader = hub_cli(store, "key", "create", "--org", "bench-reader", env=env)
    hub_cli(store, "root", "add", "bench", "--title", "Benchmark", env=env)
    collection = hub_cli(store, "collection", "add", "--root", "bench", "--title", "bench",
                         "--read", "bench-producer,bench-reader", "--write", "bench-producer",
                         env=env)
    return KizunaSetup(str(writer["key"]), str(reader["key"]), "bench", str(collection["id"]))


def kizuna_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIZUNA_")}
    config = tmp / "kizuna.toml"  # empty: never the user's own config
    config.touch()
    env["KIZUNA_CONFIG"] = str(config)
    env.update(extra)
    return env


def start_kizuna(tmp: Path, store: str, setup: KizunaSetup, env: dict[str, str]) -> Server:
    port = free_port()
    log = tmp / f"kizuna-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [KIZUNA, "serve", "--no-demo", "--host", "127.0.0.1", "--port", str(port),
             "--store", store],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    base = f"http://127.0.0.1:{port}/taxii2/"
    wait_ready(base, process, log)
    return Server("kizuna", process, base, setup.root, setup.collection,
                  {"Authorization": f"Bearer {setup.writer_key}"},
                  {"Authorization": f"Bearer {setup.reader_key}"}, log)
