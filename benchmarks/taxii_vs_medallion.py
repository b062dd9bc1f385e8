"""TAXII 2.1 hub figures: Kizuna against medallion (the OASIS reference server), one run.

The same seeded workload (benchmarks/taxii_workload.py: envelopes of 500; 80% indicators, 30%
of them with compound or qualified patterns; malware and relationships; mixed TLP 2.0
markings) goes over HTTP to medallion (memory backend, capped at 20,000 objects: it is
quadratic) and to ``kizuna serve --no-demo`` (SQLite in a temp dir, or ``--store``), both
subprocesses on 127.0.0.1. Printed per server:

* ingest objects/s — POST of envelopes of 500, each timed until its status is complete: the
  status resource in the POST's response when it says so (as the OASIS ``taxii2-client``'s
  ``add_objects`` takes it), else polled with GET; ``--confirm-status`` GETs it every time;
* read-back objects/s through pagination — pages of 1,000 following ``next``; on Kizuna the
  reader is an organisation that is not the producer (it sees CLEAR, GREEN and AMBER, so
  access control is applied to every record);
* p50/p95 of filtered queries — ``match[type]``, ``match[id]``, ``added_after``.

Kizuna is measured at the medallion scale first (ratios Kizuna/medallion from the same run),
then the ingest goes on to ``--objects`` (default 100,000; the issue's targets are stated at
1,000,000) and the same figures are taken again, with the last-quarter/first-quarter ingest
rate. ``--in-process`` adds a leg that drives ``kizuna.hub.service.Hub`` directly (no HTTP),
to separate HTTP cost from hub cost. ``--profile FILE`` writes a cProfile of that leg.

    .venv/bin/python benchmarks/taxii_vs_medallion.py [--objects 100000] [--in-process]
        [--store postgresql://postgres@127.0.0.1:5432/test] [--no-medallion]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import psycopg
from machine import cpu_model
from taxii_servers import (
    Server,
    kizuna_env,
    prepare_kizuna,
    start_kizuna,
    start_medallion,
)
from taxii_workload import envelopes, share_compound, stix_id, visible_count

from kizuna.hub.contract import Actor, ObjectFilter
from kizuna.hub.service import Hub
from kizuna.store import open_store

MEDALLION_CAP = 20_000
ENVELOPE = 500
PAGE = 1000
TARGET_INGEST = 10_000
TARGET_QUARTER = 0.80
TARGET_READ = 50_000
TARGET_P95_MS = 50.0


# --------------------------------------------------------------------------- drivers


class HttpDriver:
    """One server over HTTP: a writer client and a reader client with keep-alive."""

    def __init__(self, server: Server, timeout: float, confirm: bool = False) -> None:
        self.server = server
        self.confirm = confirm
        self.writer = server.client("writer", timeout)
        self.reader = server.client("reader", timeout)

    def prepare(self, envelope: dict[str, Any]) -> bytes:
        return json.dumps(envelope).encode()

    def post(self, body: bytes) -> dict[str, Any]:
        response = self.writer.post(self.server.objects_url(), content=body)
        if response.status_code != 202:
            raise RuntimeError(f"{self.server.name} POST: {response.status_code} "
                               f"{response.text[:300]}")
        status: dict[str, Any] = response.json()
        if status.get("status") == "complete" and not self.confirm:
            return status  # as taxii2-client's add_objects: the POST's status is final
        while status.get("status") != "complete":
            time.sleep(0.01)
            status = self.status(status["id"])
        # --confirm-status: GET the status resource even when the POST's was complete
        return self.status(status["id"])

    def status(self, status_id: str) -> dict[str, Any]:
        response = self.writer.get(self.server.status_url(status_id))
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def get(self, params: dict[str, str]) -> dict[str, Any]:
        response = self.reader.get(self.server.objects_url(), params=params)
        if response.status_code != 200:
            raise RuntimeError(f"{self.server.name} GET {params}: {response.status_code} "
                               f"{response.text[:300]}")
        result: dict[str, Any] = response.json()
        return result

    def close(self) -> None:
        self.writer.close()
        self.reader.close()


class HubDriver:
    """``kizuna.hub.service.Hub`` in this process: the hub's cost without HTTP or JSON."""

    def __init__(self, store_url: str) -> None:
        self.store = open_store(store_url)
        self.hub = Hub(self.store, node_name="bench")
        admin = Actor(None, admin=True)
        self.hub.add_org(admin, "bench-producer")
        self.hub.add_org(admin, "bench-reader")
        self.hub.add_root(admin, "bench")
        self.collection = self.hub.add_collection(
            admin, "bench", title="bench", readers=["bench-producer", "bench-reader"],
            writers=["bench-producer"]).id
        self.writer = Actor("bench-producer")
        self.reader = Actor("bench-reader")

    def prepare(self, envelope: dict[str, Any]) -> dict[str, Any]:
        return envelope

    def post(self, envelope: dict[str, Any]) -> dict[str, Any]:
        status = self.hub.add_objects(self.writer, "bench", self.collection, envelope)
        return self.hub.status(self.writer, "bench", status["id"])

    def get(self, params: dict[str, str]) -> dict[str, Any]:
        query = ObjectFilter(
            ids=tuple(params["match[id]"].split(",")) if "match[id]" in params else (),
            types=tuple(params["match[type]"].split(",")) if "match[type]" in params else (),
            added_after=params.get("added_after"),
            limit=int(params["limit"]) if "limit" in params else None,
            next=params.get("next"),
        )
        return self.hub.get_objects(self.reader, "bench", self.collection, query).body

    def close(self) -> None:
        self.store.close()


Driver = HttpDriver | HubDriver


# --------------------------------------------------------------------------- measures


@dataclass
class Ingest:
    objects: int = 0
    seconds: float = 0.0
    failures: int = 0
    steps: list[tuple[int, float]] = field(default_factory=list)  # per envelope
    mid_stamp: str | None = None  # an added_after between the two halves

    @property
    def rate(self) -> float:
        return self.objects / self.seconds if self.seconds else 0.0

    def quarter_rates(self) -> tuple[float, float]:
        """Objects/s over the first and over the last quarter of the objects ingested."""
        quarter = self.objects / 4
        first = [s for s in _cumulative(self.steps) if s[0] <= quarter]
        last = [s for s in _cumulative(self.steps) if s[0] > self.objects - quarter]
        return _rate(first), _rate(last)


def _cumulative(steps: list[tuple[int, float]]) -> list[tuple[int, int, float]]:
    done, out = 0, []
    for count, seconds in steps:
        done += count
        out.append((done, count, seconds))
    return out


def _rate(rows: list[tuple[int, int, float]]) -> float:
    seconds = sum(row[2] for row in rows)
    return sum(row[1] for row in rows) / seconds if seconds else 0.0


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ingest(driver: Driver, count: int, start: int, seed: int, result: Ingest,
           progress: str) -> Ingest:
    half = start + count // 2
    for offset, envelope in zip(range(start, start + count, ENVELOPE),
                                envelopes(count, ENVELOPE, seed=seed, start=start), strict=True):
        body = driver.prepare(envelope)  # not timed: the client's JSON encoding
        size = len(envelope["objects"])
        if result.mid_stamp is None and offset >= half:
            result.mid_stamp = stamp()
        began = time.perf_counter()
        status = driver.post(body)  # type: ignore[arg-type]
        spent = time.perf_counter() - began
        result.steps.append((size, spent))
        result.objects += size
        result.seconds += spent
        result.failures += int(status.get("failure_count", 0))
        if status.get("success_count") != size:
            raise RuntimeError(f"{progress}: status says {status.get('success_count')}/{size} "
                               f"succeeded: {status.get('failures', [])[:2]}")
        if result.objects % 50_000 == 0:
            print(f"  {progress}: {result.objects:,} objects, {result.rate:,.0f}/s so far",
                  flush=True)
    return result


@dataclass
class ReadBack:
    objects: int = 0
    pages: int = 0
    seconds: float = 0.0
    complete: bool = True
    note: str = ""

    @property
    def rate(self) -> float:
        return self.objects / self.seconds if self.seconds else 0.0


def read_back(driver: Driver, budget: float) -> ReadBack:
    """Every object the reader may see, in pages of 1,000 following ``next``."""
    result = ReadBack()
    params: dict[str, str] = {"limit": str(PAGE)}
    began = time.perf_counter()
    while True:
        try:
            body = driver.get(params)
        except httpx.TimeoutException:
            result.complete = False
            result.note = f"no page within {budget:.0f} s"
            break
        result.pages += 1
        result.objects += len(body.get("objects", []))
        if not body.get("more") or not body.get("next"):
            break
        params = {"limit": str(PAGE), "next": str(body["next"])}
        if time.perf_counter() - began > budget:
            result.complete = False
            result.note = f"stopped after {budget:.0f} s"
            break
    result.seconds = time.perf_counter() - began
    return result


@dataclass
class Latency:
    samples: dict[str, list[float]] = field(default_factory=dict)
    note: str = ""

    def quantile(self, kind: str | None, q: float) -> float:
        values = sorted(v for k, vs in self.samples.items() if kind in (None, k) for v in vs)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, round(q * (len(values) - 1)))] * 1000


def queries(driver: Driver, total: int, seed: int, mid_stamp: str, count: int,
            budget: float) -> Latency:
    """``count`` of each kind, interleaved, limit 100; stop early past ``budget`` seconds."""
    rng = random.Random(seed)
    result = Latency({"match[type]": [], "match[id]": [], "added_after": []})
    began = time.perf_counter()
    for index in range(count):
        number = rng.randrange(total)
        slot = number % 100
        kind = "indicator" if slot < 80 else "malware" if slot < 92 else "relationship"
        asks = {
            "match[type]": {"match[type]": rng.choice(["malware", "relationship"]),
                            "limit": "100"},
            "match[id]": {"match[id]": stix_id(kind, seed, number)},
            "added_after": {"added_after": mid_stamp, "limit": "100"},
        }
        for name, params in asks.items():
            start = time.perf_counter()
            try:
                driver.get(params)
            except httpx.TimeoutException:
                result.note = f"a {name} query timed out"
                return result
            result.samples[name].append(time.perf_counter() - start)
            if time.perf_counter() - began > budget:
                result.note = (f"{index + 1} rounds within the {budget:.0f} s budget "
                               f"(a round is one query of each kind)")
                return result
    return result


@dataclass
class Figures:
    label: str
    objects: int
    ingest: Ingest
    read: ReadBack
    latency: Latency


def measure(label: str, driver: Driver, count: int, start: int, seed: int, result: Ingest,
            args: argparse.Namespace, *, slow: bool = False) -> Figures:
    ingest(driver, count, start, seed, result, label)
    total = start + count
    read = read_back(driver, args.read_budget if slow else 3600.0)
    assert result.mid_stamp is not None
    latency = queries(driver, total, seed, result.mid_stamp,
                      args.queries, args.query_budget if slow else 600.0)
    return Figures(label, total, result, read, latency)


# --------------------------------------------------------------------------- report


def machine() -> str:
    cpu = cpu_model() or "?"
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.machine()}"


def versions(store: str) -> str:
    parts = [f"Python {platform.python_version()}", f"kizuna {version('kizuna')}",
             f"medallion {version('medallion')}", f"httpx {version('httpx')}",
             f"SQLite {sqlite3.sqlite_version}"]
    if store.startswith("postgres"):
        parts.append(f"psycopg {version('psycopg')}")
    return ", ".join(parts)


def fmt(value: float, unit: str = "") -> str:
    if math.isnan(value):
        return "—"
    if value == 0:
        return "0"
    return f"{value:,.0f}{unit}" if value >= 100 else f"{value:,.1f}{unit}"


def ratio(a: float, b: float) -> str:
    if not b or math.isnan(a) or math.isnan(b):
        return "—"
    return f"{a / b:,.1f}×"


def rows(figures: Figures) -> dict[str, tuple[float, str]]:
    read_note = "" if figures.read.complete else f" ({figures.read.note})"
    out: dict[str, tuple[float, str]] = {
        "ingest objects/s": (figures.ingest.rate, fmt(figures.ingest.rate)),
        "read-back objects/s": (figures.read.rate, fmt(figures.read.rate) + read_note),
    }
    for kind in (None, "match[type]", "match[id]", "added_after"):
        name = kind or "all filtered"
        for q in (0.5, 0.95):
            value = figures.latency.quantile(kind, q)
            out[f"{name} p{round(q * 100)} ms"] = (value, fmt(value))
    return out


def table(columns: list[Figures], baseline: Figures | None) -> str:
    heads = [f"{f.label} ({f.objects:,})" for f in columns]
    lines = ["| figure | " + " | ".join(heads) + (" | Kizuna/medallion |" if baseline else " |"),
             "|---|" + "---|" * (len(columns) + (1 if baseline else 0))]
    data = [rows(f) for f in columns]
    base = rows(baseline) if baseline else None
    for key in data[0]:
        cells = [d[key][1] for d in data]
        line = f"| {key} | " + " | ".join(cells) + " |"
        if base is not None:
            others = [f for f in columns if f is not baseline]
            compared = next((f for f in others if f.label == "kizuna"), others[0])
            kizuna = data[columns.index(compared)][key][0]
            medallion = base[key][0]
            # latency: how many times faster (medallion / kizuna); rates: kizuna / medallion
            shown = ratio(medallion, kizuna) if "ms" in key else ratio(kizuna, medallion)
            line += f" {shown} |"
        lines.append(line)
    return "\n".join(lines)


def targets(big: Figures, scale_note: str) -> str:
    first, last = big.ingest.quarter_rates()
    share = last / first if first else 0.0
    p95 = big.latency.quantile(None, 0.95)
    worst = max(big.latency.quantile(k, 0.95) for k in big.latency.samples)
    checks = [
        (f"ingest ≥ {TARGET_INGEST:,} validated objects/s", fmt(big.ingest.rate),
         big.ingest.rate >= TARGET_INGEST),
        (f"last quarter ≥ {TARGET_QUARTER:.0%} of first", f"{fmt(first)} → {fmt(last)}/s "
         f"({share:.0%})", share >= TARGET_QUARTER),
        (f"read-back ≥ {TARGET_READ:,} objects/s (access control on)", fmt(big.read.rate),
         big.read.rate >= TARGET_READ),
        (f"p95 < {TARGET_P95_MS:.0f} ms filtered query", f"{fmt(p95)} ms overall, worst kind "
         f"{fmt(worst)} ms", worst < TARGET_P95_MS),
    ]
    lines = [f"Targets (issue 3) at {big.objects:,} objects{scale_note}:",
             "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'yes' if ok else 'NO'} |" for name, value, ok in checks]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def store_url(arg: str | None, tmp: Path, name: str) -> tuple[str, Callable[[], None]]:
    """The store for one Kizuna leg and how to clean it up."""
    if arg is None or arg.startswith("sqlite"):
        return arg or f"sqlite:///{tmp / (name + '.db')}", lambda: None
    if arg.startswith("postgres"):
        schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        joiner = "&" if "?" in arg else "?"

        def drop() -> None:
            with psycopg.connect(arg.split("?", 1)[0], autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

        return f"{arg}{joiner}schema={schema}", drop
    raise SystemExit(f"--store must be sqlite:/// or postgresql://, not {arg!r}")


def kizuna_leg(label: str, driver: Driver, args: argparse.Namespace, small: int
               ) -> tuple[Figures | None, Figures]:
    """Figures at the medallion scale (if any), then at ``--objects``."""
    result = Ingest()
    at_small = None
    if small:
        at_small = measure(label, driver, small, 0, args.seed, result, args)
        at_small = Figures(label, small, _copy(result), at_small.read, at_small.latency)
    rest = Ingest(result.objects, result.seconds, result.failures, list(result.steps))
    big = measure(label, driver, args.objects - small, small, args.seed, rest, args)
    return at_small, big


def _copy(result: Ingest) -> Ingest:
    return Ingest(result.objects, result.seconds, result.failures, list(result.steps),
                  result.mid_stamp)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=100_000,
                        help="Kizuna's full scale (default 100,000; targets are at 1,000,000)")
    parser.add_argument("--medallion-objects", type=int, default=MEDALLION_CAP,
                        help=f"medallion's leg (at most {MEDALLION_CAP:,})")
    parser.add_argument("--no-medallion", action="store_true")
    parser.add_argument("--no-http", action="store_true", help="skip the kizuna serve leg")
    parser.add_argument("--in-process", action="store_true",
                        help="also drive kizuna.hub.service.Hub directly (no HTTP)")
    parser.add_argument("--store", help="Kizuna's store: sqlite:///... (default: a temp "
                        "file) or postgresql://... (a fresh schema, dropped afterwards)")
    parser.add_argument("--queries", type=int, default=100, help="queries of each kind")
    parser.add_argument("--read-budget", type=float, default=180.0,
                        help="seconds medallion gets to page through its objects")
    parser.add_argument("--query-budget", type=float, default=60.0,
                        help="seconds medallion gets for its filtered queries")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--confirm-status", action="store_true",
                        help="GET each envelope's status resource even when the POST's "
                        "response already says complete (taxii2-client does not)")
    parser.add_argument("--profile", help="write a cProfile of the in-process leg here")
    return parser.parse_args()


@dataclass
class Run:
    small: int  # the medallion scale (0: no medallion leg)
    columns: list[Figures] = field(default_factory=list)  # at the medallion scale
    big: list[Figures] = field(default_factory=list)  # Kizuna at --objects
    baseline: Figures | None = None


def run_medallion(tmp: Path, args: argparse.Namespace, run: Run) -> None:
    medallion = start_medallion(tmp)
    driver = HttpDriver(medallion, timeout=args.read_budget, confirm=args.confirm_status)
    try:
        print("medallion ...", flush=True)
        run.baseline = measure("medallion", driver, run.small, 0, args.seed, Ingest(), args,
                               slow=True)
        run.columns.append(run.baseline)
    finally:
        driver.close()
        medallion.stop()


def run_kizuna_http(tmp: Path, args: argparse.Namespace, run: Run) -> None:
    url, cleanup = store_url(args.store, tmp, "http")
    env = kizuna_env(tmp)
    setup = prepare_kizuna(url, env)
    server = start_kizuna(tmp, url, setup, env)
    driver = HttpDriver(server, timeout=600, confirm=args.confirm_status)
    try:
        print("kizuna serve ...", flush=True)
        at_small, big = kizuna_leg("kizuna", driver, args, run.small)
        if at_small:
            run.columns.append(at_small)
        run.big.append(big)
    finally:
        driver.close()
        server.stop()
        cleanup()


def run_hub(tmp: Path, args: argparse.Namespace, run: Run) -> None:
    url, cleanup = store_url(args.store, tmp, "hub")
    hub = HubDriver(url)
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    try:
        print("kizuna Hub in-process ...", flush=True)
        at_small, big = kizuna_leg("Hub in-process", hub, args, run.small)
        if at_small:
            run.columns.append(at_small)
        run.big.append(big)
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        hub.close()
        cleanup()


def report(run: Run, args: argparse.Namespace) -> None:
    if run.columns:
        print(f"\nSame workload at {run.small:,} objects (ratio: the HTTP Kizuna against "
              "medallion; for latency, how many times faster):")
        print(table(run.columns, run.baseline if len(run.columns) > 1 else None))
        for figures in run.columns:
            if figures.latency.note or not figures.read.complete:
                print(f"  {figures.label}: read-back {figures.read.note or 'complete'}; "
                      f"queries {figures.latency.note or 'all'}")
    if run.big:
        print(f"\nKizuna at {args.objects:,} objects:")
        print(table(run.big, None))
        for figures in run.big:
            first, last = figures.ingest.quarter_rates()
            print(f"  {figures.label}: ingest first quarter {fmt(first)}/s, last quarter "
                  f"{fmt(last)}/s ({last / first:.0%}); read-back {figures.read.objects:,} "
                  f"visible objects in {figures.read.pages:,} pages")
        scale = "" if args.objects >= 1_000_000 else " (the issue states them at 1,000,000)"
        for figures in run.big:
            print(f"\n{figures.label}: " + targets(figures, scale))


def main() -> None:
    args = parse_args()
    small = 0 if args.no_medallion else min(args.medallion_objects, MEDALLION_CAP,
                                            args.objects)
    if args.objects % ENVELOPE or small % ENVELOPE:
        raise SystemExit(f"object counts must be multiples of {ENVELOPE}")
    sample = [o for e in envelopes(10_000, ENVELOPE, seed=args.seed) for o in e["objects"]]
    print(f"TAXII 2.1 benchmark, {datetime.now(UTC):%Y-%m-%d}; {machine()}")
    print(f"versions: {versions(args.store or 'sqlite')}")
    print(f"workload: envelopes of {ENVELOPE}, pages of {PAGE}; "
          f"{share_compound(sample):.0%} of indicators compound/qualified; "
          f"reader sees {visible_count(sample) / len(sample):.0%} (TLP CLEAR/GREEN/AMBER)")
    print(f"store: {args.store or 'SQLite (temp file)'}; medallion: memory backend, "
          f"{small:,} objects; Kizuna: {args.objects:,} objects\n", flush=True)
    run = Run(small)
    with tempfile.TemporaryDirectory(prefix="taxii-bench-") as name:
        tmp = Path(name)
        if small:
            run_medallion(tmp, args, run)
        if not args.no_http:
            run_kizuna_http(tmp, args, run)
        if args.in_process:
            run_hub(tmp, args, run)
    report(run, args)


if __name__ == "__main__":
    main()
