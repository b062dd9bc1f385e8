"""Importer for the compiled critical-mineral lists (shared/data/critical_mineral_lists)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from kizuna.data.importers.source_csv import read_source_csv, records
from kizuna.data.reference import ListSpec, Reference
from kizuna.errors import DataError

DATA_FILE = Path("critical_mineral_lists") / "critical_mineral_lists.csv"
COLUMNS = ("list_id", "jurisdiction", "list_name", "year", "mineral", "category", "status",
           "source", "note")  # fmt: skip
STATUSES = ("confirmed", "unconfirmed")
_GRADE = re.compile(r"\s+[–-]\s+[\w -]*grade$")


def mineral_index(ref: Reference) -> dict[str, str]:
    """Case-folded slug, name and alias -> slug."""
    index: dict[str, str] = {}
    for mineral in ref.minerals.values():
        for name in (mineral.slug, mineral.name, *mineral.aliases):
            index[name.casefold()] = mineral.slug
    return index


def resolve_entry(name: str, ref: Reference, index: dict[str, str]) -> tuple[str, ...]:
    """The mineral slug(s) a list entry names; () when it names nothing known."""
    if name in ref.list_expansions:
        return ref.list_expansions[name]
    text = _GRADE.sub("", name.strip()).casefold()
    return (index[text],) if text in index else ()


def _spec_for(row: dict[str, str], specs: tuple[ListSpec, ...]) -> ListSpec | None:
    for spec in specs:
        if spec.source_list_id == row["list_id"] and spec.list_name in (None, row["list_name"]):
            return spec
    return None


def _members(row: dict[str, str], spec: ListSpec, slugs: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            "list_id": spec.list_id,
            "mineral": slug,
            "listed_as": row["mineral"],
            "category": row["category"] or None,
            "status": row["status"],
            "source": row["source"],
            "note": row["note"] or None,
        }
        for slug in slugs
    ]


def _check_row(
    path: Path, line: int, row: dict[str, str], spec: ListSpec | None, slugs: tuple[str, ...]
) -> ListSpec:
    where = f"{path.name}, line {line}"
    if spec is None:
        raise DataError(
            f"{where}: list {row['list_id']!r} ({row['list_name']!r}) in field 'list_id' "
            "is not mapped",
            hint="add it to kizuna/data/reference/lists.yaml",
            file=str(path), line=line, field="list_id",
        )  # fmt: skip
    if row["status"] not in STATUSES:
        raise DataError(f"{where}: bad status {row['status']!r} in field 'status'",
                        file=str(path), line=line, field="status")  # fmt: skip
    if not slugs:
        raise DataError(
            f"{where}: list entry {row['mineral']!r} in field 'mineral' names no known mineral",
            hint="add an alias to minerals.yaml or an expansion to lists.yaml",
            file=str(path), line=line, field="mineral",
        )  # fmt: skip
    return spec


def import_lists(source_dir: Path, ref: Reference) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The lists table and the list_members table."""
    path = source_dir / DATA_FILE
    raw = read_source_csv(path, "utf-8", COLUMNS)
    index = mineral_index(ref)
    members: list[dict[str, Any]] = []
    lists: dict[str, dict[str, Any]] = {}
    for line, row in records(raw):
        slugs = resolve_entry(row["mineral"], ref, index)
        spec = _check_row(path, line, row, _spec_for(row, ref.lists), slugs)
        members.extend(_members(row, spec, slugs))
        entry = lists.setdefault(spec.list_id, {
            "list_id": spec.list_id, "source_list_id": row["list_id"],
            "jurisdiction": row["jurisdiction"], "name": row["list_name"],
            "year": int(row["year"]), "entries": 0, "complete": spec.complete, "note": spec.note,
        })  # fmt: skip
        entry["entries"] += 1
    unused = sorted({s.list_id for s in ref.lists} - set(lists))
    if unused:
        raise DataError(
            f"{path.name}: lists {unused} named in lists.yaml are absent", file=str(path)
        )
    return pd.DataFrame(list(lists.values())), pd.DataFrame(members)
