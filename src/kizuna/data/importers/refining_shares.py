"""Importer for the compiled refining / processing shares (shared/data/refining_shares).

Rows stay shares (fractions), never converted to tonnages: stage ``refining``, measure
``share``, unit ``fraction``, series = the product text, one source id per publisher, and the
compiler's grade (high/medium/low) in ``confidence``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kizuna.data.importers.source_csv import read_source_csv, records
from kizuna.errors import DataError, InputError
from kizuna.model.countries import is_aggregate, to_iso3

DATA_FILE = Path("refining_shares") / "refining_shares.csv"
COLUMNS = ("mineral", "stage", "product", "iso3", "country", "share", "year", "kind", "source",
           "source_detail", "confidence")  # fmt: skip
SOURCE_IDS: dict[str, str] = {
    "IEA, Critical Minerals Dataset": "iea-cmd-2025",
    "IEA, Global Critical Minerals Outlook 2024": "iea-gcmo-2024",
    "USGS, Mineral Commodity Summaries 2026": "usgs-mcs2026",
    "Stratas Advisors, Battery-Grade Manganese": "stratas-2023",
}
"""Publisher text (prefix of the `source` column) -> Kizuna source id."""
CONFIDENCE = ("high", "medium", "low")
"""The compiler's grades; kept per row in the supply table's ``confidence`` column."""
TOLERANCE = 0.0005  # shares are rounded to 4 (or 2) decimals; each group must sum to 1


def source_id(text: str, *, file: str, line: int) -> str:
    for prefix, sid in SOURCE_IDS.items():
        if text.startswith(prefix):
            return sid
    raise DataError(
        f"{file}, line {line}: unknown publisher {text[:60]!r} in field 'source'",
        hint="add it to SOURCE_IDS in kizuna/data/importers/refining_shares.py and sources",
        file=file, line=line, field="source",
    )  # fmt: skip


def _read(path: Path) -> pd.DataFrame:
    raw = read_source_csv(path, "utf-8", COLUMNS)
    for line, row in records(raw):
        if row["stage"] != "refining":
            raise DataError(f"{path.name}, line {line}: stage {row['stage']!r} in field 'stage' "
                            "(only 'refining' is supported)", file=str(path), line=line,
                            field="stage")  # fmt: skip
        if row["confidence"] not in CONFIDENCE:
            raise DataError(f"{path.name}, line {line}: confidence {row['confidence']!r} in field "
                            f"'confidence' (use one of: {', '.join(CONFIDENCE)})", file=str(path),
                            line=line, field="confidence")  # fmt: skip
    return raw


def _check_sums(frame: pd.DataFrame, file: str) -> None:
    sums = frame.groupby(["mineral", "series", "year", "source"])["value"].sum()
    off = sums[(sums - 1).abs() > TOLERANCE]
    if len(off):
        raise DataError(f"{file}: shares do not sum to 1 for {off.index[0]} ({off.iloc[0]:.4f})",
                        file=file, field="share")  # fmt: skip


def import_refining_shares(source_dir: Path, known_minerals: set[str]) -> pd.DataFrame:
    """Supply rows (measure 'share') from the compiled refining shares."""
    path = source_dir / DATA_FILE
    raw = _read(path)
    unknown = sorted(set(raw["mineral"]) - known_minerals)
    if unknown:
        raise DataError(f"{path.name}: unknown mineral slug(s) {unknown} in field 'mineral'",
                        file=str(path), field="mineral")  # fmt: skip
    try:
        areas = [to_iso3(code) for code in raw["iso3"]]
        values = pd.to_numeric(raw["share"], errors="raise")
    except (InputError, ValueError, TypeError) as exc:
        raise DataError(f"{path.name}: bad iso3 or share ({exc})", file=str(path)) from exc
    frame = pd.DataFrame({
        "mineral": raw["mineral"], "stage": "refining", "measure": "share",
        "series": raw["product"], "headline": True, "area": areas,
        "is_aggregate": [is_aggregate(a) for a in areas], "area_name": raw["country"],
        "year": raw["year"].astype(int), "value": values, "value_min": None, "value_max": None,
        "value_code": None, "unit": "fraction", "estimated": False,
        "confidence": raw["confidence"],
        "source": [source_id(r["source"], file=path.name, line=n) for n, r in records(raw)],
        "citation": raw["source_detail"] + " (kind: " + raw["kind"] + ")",
    })  # fmt: skip
    _check_sums(frame, path.name)
    return frame
