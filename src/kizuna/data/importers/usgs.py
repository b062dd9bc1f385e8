"""Importer for the USGS Mineral Commodity Summaries 2026 data release.

Reads ``MCS2026_Commodities_Data.csv`` (cp1252) and keeps the world production, refinery,
smelter, capacity and reserves tables, mapped to minerals, stages and measures by
``minerals.yaml``. The US salient-statistics and import-source sections are not imported
(Kizuna does not use them yet). USGS's published revisions are applied from an explicit list,
each checked against ``MCS2026_version_history.txt`` first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kizuna.data.importers.source_csv import read_source_csv, records
from kizuna.data.importers.usgs_values import is_estimated, parse_value
from kizuna.data.reference import Reference, UsgsMapping
from kizuna.errors import DataError, InputError
from kizuna.model.countries import is_aggregate, to_iso3

SOURCE_ID = "usgs-mcs2026"
DATA_FILE = "MCS2026_Commodities_Data.csv"
HISTORY_FILE = "MCS2026_version_history.txt"
ENCODING = "cp1252"
COLUMNS = (
    "MCS chapter", "Section", "Commodity", "Country", "Statistics",
    "Statistics_detail", "Unit", "Year", "Value", "Notes",
)  # fmt: skip
WORLD_SECTION_PREFIX = "World"
_ROUNDED = re.compile(r"[:,]\s*rounded\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Revision:
    """One published USGS correction to a value of the data release."""

    version: str
    commodity: str
    detail: str  # Statistics_detail without the ': rounded' suffix
    country: str
    year: str
    old: str
    new: str
    page: str


REVISIONS: tuple[Revision, ...] = (
    Revision("1.3", "Rare Earths", "Reserves", "Brazil", "2025",
             "21,000,000", "11,000,000", "p. 153"),
    Revision("1.3", "Rare Earths", "Reserves", "World total", "2025",
             ">85,000,000", ">75,000,000", "p. 153"),
)  # fmt: skip
"""USGS MCS 2026 v1.3 (reposted May 27, 2026): rare-earth reserves for Brazil and the world
total. Earlier versions (1.1, 1.2) changed only footnotes and text, no table values."""


def base_detail(detail: str) -> str:
    """`Statistics_detail` without the ': rounded' / ', rounded' suffix of world-total rows."""
    return " ".join(_ROUNDED.sub("", detail).split())


def read_raw(path: Path) -> pd.DataFrame:
    """Read the data release as text, checking the columns the importer needs."""
    return read_source_csv(path, ENCODING, COLUMNS)


def _version_blocks(text: str) -> dict[str, str]:
    parts = re.split(r"as version (\d+\.\d+)", text)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def check_revisions(history: Path) -> tuple[Revision, ...]:
    """Return the revisions the version history documents; raise if one is not found."""
    try:
        blocks = _version_blocks(history.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"{history.name}: cannot read ({exc})", file=str(history)) from exc
    for rev in REVISIONS:
        block = blocks.get(rev.version, "")
        if not all(f'"{v}"' in block for v in (rev.old, rev.new)) or rev.page not in block:
            raise DataError(
                f"{history.name}: version {rev.version} does not document "
                f"{rev.commodity} {rev.detail} {rev.country} {rev.old} -> {rev.new}",
                file=str(history),
                field="version",
            )
    return REVISIONS


def _apply_revisions(raw: pd.DataFrame, revisions: tuple[Revision, ...], file: str) -> pd.Series:
    """Rewrite revised Value cells in place; return a per-line revision note ('' if none)."""
    notes = pd.Series("", index=raw.index, dtype=object)
    details = raw["Statistics_detail"].map(base_detail)
    for rev in revisions:
        hit = (
            (raw["Commodity"] == rev.commodity)
            & (details == rev.detail)
            & (raw["Country"] == rev.country)
            & (raw["Year"] == rev.year)
            & raw["Section"].str.startswith(WORLD_SECTION_PREFIX)
        )
        if hit.sum() != 1 or raw.loc[hit, "Value"].iloc[0] not in (rev.old, rev.new):
            found = raw.loc[hit, "Value"].tolist()
            raise DataError(
                f"{file}: revision v{rev.version} expects {rev.commodity} {rev.detail} "
                f"{rev.country} {rev.year} = {rev.old!r}, found {found}",
                file=file,
                field="Value",
            )
        raw.loc[hit, "Value"] = rev.new
        notes[hit] = (
            f"; revised per USGS MCS 2026 v{rev.version} version history ({rev.page}): "
            f"{rev.old} -> {rev.new}"
        )
    return notes


def _mapping_index(ref: Reference) -> dict[tuple[str, str], UsgsMapping]:
    return {(m.commodity, base_detail(d).casefold()): m for m in ref.usgs for d in m.details}


def _area(country: str, file: str, line: int) -> str:
    try:
        return to_iso3(country)
    except InputError as exc:
        raise DataError(
            f"{file}, line {line}: unknown country {country!r} in field 'Country'",
            hint=exc.hint,
            file=file,
            line=line,
            field="Country",
            value=country,
        ) from exc


def _row(line: int, cells: dict[str, str], mapping: UsgsMapping, file: str) -> dict[str, Any]:
    if cells["Unit"].strip() != mapping.source_unit:
        raise DataError(
            f"{file}, line {line}: unit {cells['Unit']!r} in field 'Unit' does not match "
            f"{mapping.source_unit!r} expected for {mapping.commodity} {mapping.series}",
            file=file,
            line=line,
            field="Unit",
        )
    parsed = parse_value(cells["Value"], file=file, line=line)
    area = _area(cells["Country"], file, line)
    return {
        "mineral": mapping.mineral,
        "stage": mapping.stage,
        "measure": mapping.measure,
        "series": mapping.series,
        "headline": mapping.headline,
        "area": area,
        "is_aggregate": is_aggregate(area),
        "area_name": cells["Country"].strip(),
        "year": int(cells["Year"]),
        "value": parsed.value,
        "value_min": parsed.value_min,
        "value_max": parsed.value_max,
        "value_code": parsed.code,
        "unit": mapping.unit,
        "estimated": is_estimated(cells["Notes"]),
        "confidence": None,  # USGS does not grade its figures
        "source": SOURCE_ID,
        "citation": f"MCS 2026, {cells['Section'].strip()}: {cells['Statistics_detail'].strip()}",
    }


def _mapping_for(
    cells: dict[str, str], index: dict[tuple[str, str], UsgsMapping], file: str, line: int
) -> UsgsMapping:
    key = (cells["Commodity"], base_detail(cells["Statistics_detail"]).casefold())
    mapping = index.get(key)
    if mapping is None:
        raise DataError(
            f"{file}, line {line}: no mapping for Commodity {key[0]!r}, field "
            f"'Statistics_detail' {cells['Statistics_detail']!r}",
            hint="map it in minerals.yaml (usgs) or list the commodity under "
            "skipped_usgs_commodities",
            file=file,
            line=line,
            field="Statistics_detail",
        )
    return mapping


def import_usgs(source_dir: Path, ref: Reference) -> pd.DataFrame:
    """Supply rows from the USGS world tables, with the published revisions applied."""
    path = source_dir / DATA_FILE
    raw = read_raw(path)
    revisions = check_revisions(source_dir / HISTORY_FILE)
    world = raw[raw["Section"].str.startswith(WORLD_SECTION_PREFIX)].copy()
    notes = _apply_revisions(world, revisions, path.name)
    index = _mapping_index(ref)
    rows = []
    for line, cells in records(world):
        if cells["Commodity"] in ref.skipped_usgs:
            continue
        mapping = _mapping_for(cells, index, path.name, line)
        row = _row(line, cells, mapping, path.name)
        row["citation"] += notes[line]
        rows.append(row)
    return pd.DataFrame(rows)
