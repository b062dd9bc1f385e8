"""Scan telemetry files with compiled indicators: locally on threads, or on a Dask cluster.

Every file is planned first (an unknown format or a missing field mapping is an error before
any work starts), then cut into byte ranges; each range is read and matched on its own and
the partial counts are merged in range order, so threads, local Dask workers and a remote
scheduler give the same report.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from kizuna.errors import MissingExtraError
from kizuna.intel.matcher.compile import Lookup, UnsupportedIndicator
from kizuna.intel.matcher.readers import (
    CHUNK_BYTES,
    MAX_BAD_EXAMPLES,
    FilePlan,
    narrow,
    plan_file,
    ranges,
)
from kizuna.intel.matcher.scan import Partial, merge, scan_range

Progress = Callable[[int], None]  # bytes done
TRIM_SETTING = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


@dataclass(frozen=True)
class Match:
    indicator_id: str
    count: int
    first_seen: str
    last_seen: str

    def to_json(self) -> dict[str, Any]:
        return {"indicator_id": self.indicator_id, "count": self.count,
                "first_seen": self.first_seen, "last_seen": self.last_seen}


@dataclass(frozen=True)
class BadLine:
    file: str
    line: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


@dataclass
class MatchReport:
    """What a scan found: the issue's JSON shape plus where the broken lines are."""

    events: int
    bad_lines: int
    matches: list[Match]
    unsupported: list[UnsupportedIndicator]
    bad_examples: list[BadLine] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    indicators: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "bad_lines": self.bad_lines,
            "matches": [m.to_json() for m in self.matches],
            "unsupported": [{"indicator_id": u.indicator_id, "reason": u.reason}
                            for u in self.unsupported],
            "bad_line_examples": [b.to_json() for b in self.bad_examples],
            "files": self.files,
            "indicators": self.indicators,
            "seconds": round(self.seconds, 3),
        }


def stix_time(seconds: float) -> str:
    """A STIX timestamp (millisecond precision) of seconds since the epoch."""
    stamp = datetime.fromtimestamp(seconds, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def plan_files(paths: Sequence[str | os.PathLike[str]], fmt: str,
               field_map: Mapping[str, str] | None = None) -> list[FilePlan]:
    """Plan every file before any work (all format and mapping errors surface here)."""
    return [plan_file(path, fmt, field_map) for path in paths]


def scan(plans: Sequence[FilePlan], lookup: Lookup, *, workers: int | None = None,
         scheduler: str | None = None, chunk_bytes: int = CHUNK_BYTES,
         progress: Progress | None = None) -> MatchReport:
    """Match every file; ``scheduler`` (a Dask address) or ``workers`` > 0 with ``dask``
    spreads the ranges over Dask workers, else threads (``workers`` of them) do."""
    started = time.perf_counter()
    needed = lookup.columns
    workers_hint = max(1, workers or os.cpu_count() or 1)
    tasks: list[tuple[int, FilePlan, int, int]] = []
    for number, plan in enumerate(plans):
        size = max(1 << 20, _range_size(plan.size, chunk_bytes, workers_hint))
        tasks.extend((number, narrow(plan, needed), start, end)
                     for start, end in ranges(plan, size))
    if scheduler is not None:
        partials = _on_dask(lookup, tasks, scheduler, workers, progress)
    else:
        partials = _on_threads(lookup, tasks, workers, progress)
    return _report(plans, lookup, tasks, partials, time.perf_counter() - started)


def _range_size(size: int, chunk_bytes: int, workers: int) -> int:
    """Bytes per range: at most ``chunk_bytes``, and a multiple of ``workers`` ranges (at
    least two each), so that no worker is left alone with the last range while the others
    wait — with 13 ranges on 2 threads the last round ran on one core."""
    rounds = max(2, -(-size // (chunk_bytes * workers)))
    return -(-size // (rounds * workers)) + 1


def _on_threads(lookup: Lookup, tasks: Sequence[tuple[int, FilePlan, int, int]],
                workers: int | None, progress: Progress | None) -> list[Partial]:
    count = max(1, workers or os.cpu_count() or 1)

    def one(task: tuple[int, FilePlan, int, int]) -> Partial:
        _number, plan, start, end = task
        return scan_range(lookup, plan, start, end)

    if count == 1 or len(tasks) <= 1:
        out = []
        for task in tasks:
            out.append(one(task))
            if progress:
                progress(task[3] - task[2])
        return out
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(one, task) for task in tasks]
        results = []
        for task, future in zip(tasks, futures, strict=True):
            results.append(future.result())
            if progress:
                progress(task[3] - task[2])
    return results


def _on_dask(lookup: Lookup, tasks: Sequence[tuple[int, FilePlan, int, int]],
             scheduler: str, workers: int | None, progress: Progress | None) -> list[Partial]:
    try:
        import dask  # noqa: PLC0415 - optional extra
        from distributed import (  # noqa: PLC0415 - optional extra
            Client,
            LocalCluster,
            as_completed,
        )
    except ImportError:  # pragma: no cover - the dask extra is installed in development
        raise MissingExtraError("--scheduler needs Dask: pip install 'kizuna[dask]'",
                                extra="dask") from None
    cluster = None
    if scheduler == "local":
        # Dask's MALLOC_TRIM_THRESHOLD_ makes every large temporary array an mmap/munmap
        # pair (docs/architecture.md); the workers start without it.
        with dask.config.set({TRIM_SETTING: None}):
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1,
                                   threads_per_worker=1, processes=True,
                                   dashboard_address=None)
        address: Any = cluster
    else:
        address = scheduler
    try:
        with Client(address) as client:
            # the workers need the tables, not the compiled indicators (ids stay here)
            shared = client.scatter(replace(lookup, indicators=[]), broadcast=True)
            futures = [client.submit(scan_range, shared, plan, start, end, pure=False)
                       for _number, plan, start, end in tasks]
            position = {future.key: index for index, future in enumerate(futures)}
            results: list[Partial | None] = [None] * len(futures)
            for future in as_completed(futures):
                index = position[future.key]
                results[index] = future.result()
                if progress:
                    progress(tasks[index][3] - tasks[index][2])
            return [r for r in results if r is not None]
    finally:
        if cluster is not None:
            cluster.close()


def _report(plans: Sequence[FilePlan], lookup: Lookup,
            tasks: Sequence[tuple[int, FilePlan, int, int]], partials: Sequence[Partial],
            seconds: float) -> MatchReport:
    total = merge(partials)
    bad: list[BadLine] = []
    lines_before: dict[int, int] = {}
    for (number, plan, _start, _end), partial in zip(tasks, partials, strict=True):
        first = plan.header_lines + lines_before.get(number, 0)
        lines_before[number] = lines_before.get(number, 0) + partial.lines
        for line, reason in partial.bad:
            if len(bad) < MAX_BAD_EXAMPLES:
                bad.append(BadLine(plan.path, first + line, reason))
    matches = [Match(lookup.indicators[int(i)].indicator_id, int(c), stix_time(float(f)),
                     stix_time(float(last)))
               for i, c, f, last in zip(total.indicators, total.counts, total.first, total.last,
                                        strict=True)]
    matches.sort(key=lambda m: (-m.count, m.indicator_id))
    return MatchReport(total.events, total.bad_count, matches, list(lookup.unsupported), bad,
                       [p.path for p in plans], len(lookup.indicators), seconds)
