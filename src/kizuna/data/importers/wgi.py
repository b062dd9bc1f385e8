"""Importer for the World Bank Worldwide Governance Indicators (long-format CSV)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kizuna.data.importers.source_csv import read_source_csv
from kizuna.errors import DataError
from kizuna.model.countries import wgi_to_iso3

SOURCE_ID = "wgi-2024"
DATA_FILE = Path("wgi") / "wgidataset.csv"
INDICATORS = ("va", "pv", "ge", "rq", "rl", "cc")
COLUMNS = ("code", "year", "indicator", "estimate")
MISSING = ".."
FIRST_YEAR = 2014
"""Years kept in the shipped table: the latest ten data years keep it compact while leaving
room to pick the latest year per country or compare recent years."""


def import_wgi(source_dir: Path, first_year: int = FIRST_YEAR) -> pd.DataFrame:
    """Governance estimates, wide: one row per ISO3 and year, one column per indicator."""
    path = source_dir / DATA_FILE
    raw = read_source_csv(path, "utf-8-sig", COLUMNS)
    unknown = sorted(set(raw["indicator"]) - set(INDICATORS))
    if unknown:
        raise DataError(
            f"{path.name}: unknown indicator(s) {unknown} in field 'indicator'",
            file=str(path),
            field="indicator",
        )
    estimate = raw["estimate"].str.strip()
    numeric = pd.to_numeric(estimate.mask(estimate == MISSING), errors="coerce")
    bad = numeric.isna() & (estimate != MISSING)
    if bad.any():
        line = int(raw.index[bad.to_numpy()][0])
        raise DataError(
            f"{path.name}, line {line}: bad estimate {estimate[line]!r} in field 'estimate'",
            file=str(path),
            line=line,
            field="estimate",
        )
    long = pd.DataFrame(
        {
            "iso3": raw["code"].map(wgi_to_iso3),
            "year": raw["year"].astype(int),
            "indicator": raw["indicator"],
            "estimate": numeric,
        }
    )
    wide = long.pivot(index=["iso3", "year"], columns="indicator", values="estimate")
    wide = wide.reindex(columns=list(INDICATORS)).reset_index()
    wide.columns.name = None
    wide = wide[wide["year"] >= first_year].dropna(subset=list(INDICATORS), how="all")
    wide["source"] = SOURCE_ID
    return wide
