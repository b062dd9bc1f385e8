"""Store throughput: batched writes, paged filtered reads and point gets on every backend.

Prints records/s per backend and the ratio to the in-memory store measured in the same run,
so the hub (next issue) can see what each store costs. Run:

    .venv/bin/python benchmarks/store_throughput.py [--records 20000] [--pg URL]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
import uuid
from importlib.metadata import version
from pathlib import Path

import psycopg

from kizuna.store import Record, Store, open_store

TYPES = ("indicator", "malware", "attack-pattern", "relationship")


def records(count: int) -> list[Record]:
    return [
        Record(
            key=f"{TYPES[i % 4]}--{uuid.UUID(int=i)}",
            doc={"type": TYPES[i % 4], "id": i, "name": f"object {i}", "pattern": "[x:y = 'z']"},
            version="2026-01-01T00:00:00.000Z",
            attrs={"type": TYPES[i % 4], "spec_version": "2.1"},
        )
        for i in range(count)
    ]


def measure(store: Store, batch: list[Record]) -> dict[str, float]:
    start = time.perf_counter()
    for offset in range(0, len(batch), 1000):
        store.put_many("bench", batch[offset : offset + 1000])
    write = len(batch) / (time.perf_counter() - start)
    start = time.perf_counter()
    seen, cursor = 0, None
    while True:
        page = store.query("bench", attrs={"type": ["indicator"]}, limit=1000,
                           after_cursor=cursor)
        seen += len(page.records)
        if not page.more:
            break
        cursor = page.next_cursor
    read = seen / (time.perf_counter() - start)
    keys = [item.key for item in batch[:: max(1, len(batch) // 2000)]]
    start = time.perf_counter()
    for key in keys:
        store.get("bench", key)
    get = len(keys) / (time.perf_counter() - start)
    return {"write/s": write, "paged read/s": read, "get/s": get}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    batch = records(args.records)
    print(f"kizuna store benchmark: {args.records:,} records, batches of 1,000; "
          f"Python {platform.python_version()}, {platform.machine()}, "
          f"psycopg {version('psycopg')}")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        urls = {
            "memory": "memory://",
            "sqlite": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "postgres": args.pg,
        }
        for name, url in urls.items():
            options = {"schema": schema} if name == "postgres" else {}
            with open_store(url, **options) as store:
                results[name] = measure(store, batch)
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    baseline = results["memory"]
    print(f"{'store':<10}" + "".join(f"{metric:>26}" for metric in baseline))
    for name, figures in results.items():
        cells = "".join(
            f"{value:>14,.0f} ({value / baseline[metric]:>6.2f}x)"
            .rjust(26) for metric, value in figures.items()
        )
        print(f"{name:<10}{cells}")


if __name__ == "__main__":
    main()
