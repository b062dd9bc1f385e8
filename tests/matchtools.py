"""Helpers for the matcher tests: indicators and small telemetry files written in code."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from kizuna.intel.matcher import MatchReport, build_lookup, plan_files, scan
from kizuna.intel.stix.markings import TLP2_IDS

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
VALID_FROM = "2025-01-01T00:00:00Z"
CONN_FIELDS = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto",
               "service", "duration")


def indicator(number: int, pattern: str, *, tlp: int | None = None, **extra: Any
              ) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=number, version=4)}",
        "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z",
        "name": f"indicator {number}", "pattern": pattern, "pattern_type": "stix",
        "valid_from": VALID_FROM,
    }
    if tlp is not None:
        obj["object_marking_refs"] = [TLP2_IDS[tlp]]
    obj.update(extra)
    return obj


def zeek_tsv(path: Path, fields: Sequence[str], rows: Iterable[Sequence[Any]], *,
             log: str = "conn", close: bool = True, extra_lines: Sequence[tuple[int, str]] = ()
             ) -> Path:
    """A Zeek TSV log; ``extra_lines`` are (index among data lines, raw text) inserted."""
    header = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)",
              "#unset_field\t-", f"#path\t{log}", "#open\t2026-01-01-00-00-00",
              "#fields\t" + "\t".join(fields), "#types\t" + "\t".join("string" for _ in fields)]
    lines = ["\t".join("-" if v is None else str(v) for v in row) for row in rows]
    for index, text in sorted(extra_lines, reverse=True):
        lines.insert(index, text)
    body = "\n".join(header + lines) + "\n" + ("#close\t2026-01-01-01-00-00\n" if close else "")
    path.write_text(body, encoding="utf-8")
    return path


def conn_row(second: float, src: str, dst: str, dport: int = 443, *, sport: int = 50000,
             proto: str = "tcp") -> tuple[Any, ...]:
    return (f"{T0 + second:.6f}", "C1", src, sport, dst, dport, proto, "-", "0.1")


def jsonl(path: Path, records: Iterable[dict[str, Any] | str]) -> Path:
    path.write_bytes(b"".join((r.encode() if isinstance(r, str) else orjson.dumps(r)) + b"\n"
                             for r in records))
    return path


def run(paths: Sequence[Path], fmt: str, objects: Iterable[dict[str, Any]],
        field_map: dict[str, str] | None = None, **options: Any) -> MatchReport:
    return scan(plan_files(paths, fmt, field_map), build_lookup(objects), **options)


def counts(report: MatchReport) -> dict[str, int]:
    return {m.indicator_id: m.count for m in report.matches}
