"""Importers' sources by origin: USGS import sources (United States) and HMRC (United Kingdom).

* **USGS MCS 2026**, section ``Import Sources``: the share of US imports of a product by
  country, 2021–24, as printed (percent of quantity). A commodity is mapped to a mineral
  through the same USGS commodity names ``minerals.yaml`` uses for the world tables; the
  stage follows the product: ores, concentrates, chromite, bauxite and natural graphite are
  ``mining``, everything else (metal, oxides, salts, chemicals) ``refining``. Where one
  mineral and stage has several products, the headline is the one USGS totals (``All``,
  ``All forms``, ``Total ...``), else the first in the order USGS prints them; the others are
  kept. Commodities that map to no mineral (cement, abrasives ...) are left out and listed in
  ``UNMAPPED_NOTE`` by the build's caller.
* **HMRC** (UK Overseas Trade Statistics, via the compiled
  ``imports/uk_critical_mineral_imports_by_origin.csv``): the top origins of UK imports by
  value (GBP) over 24 months, per family of HS codes. Families mix ores and refined forms;
  they are placed at the refining stage except natural graphite (HS 2504, mined), and
  ``minor-metals`` (Cr, Ga, Ge, In, Nb, V together) is not a mineral and is left out. The
  rest of the family total beyond the top origins is an ``OTHER`` row, so shares sum to 1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from kizuna.data.importers.source_csv import read_source_csv, records
from kizuna.data.reference import Reference
from kizuna.errors import DataError
from kizuna.model.countries import to_iso3

USGS_SOURCE = "usgs-mcs2026"
HMRC_SOURCE = "hmrc-uk-ots"
USGS_FILE = "MCS2026_Commodities_Data.csv"
HMRC_FILE = "uk_critical_mineral_imports_by_origin.csv"
_MINED = re.compile(r"\b(ores?|concentrates?|chromite|bauxite|natural|mine)\b", re.IGNORECASE)
_TOTAL = re.compile(r"^(all\b|total\b)", re.IGNORECASE)
HMRC_FAMILIES = {
    "lithium": ("lithium", "refining"),
    "cobalt": ("cobalt", "refining"),
    "rare-earths": ("rare-earths", "refining"),
    "nickel": ("nickel", "refining"),
    "tungsten": ("tungsten", "refining"),
    "magnesium": ("magnesium", "refining"),
    "graphite": ("graphite", "mining"),
    "silicon": ("silicon", "refining"),
    "antimony": ("antimony", "refining"),
    "bismuth": ("bismuth", "refining"),
    "tantalum": ("tantalum", "refining"),
    "tellurium": ("tellurium", "refining"),
    "tin": ("tin", "refining"),
}
"""HMRC family -> (mineral, stage). Families not listed (``all``, ``minor-metals``) are
not one mineral and are skipped on purpose."""
_HMRC_SKIPPED = frozenset({"all", "minor-metals"})
_HMRC_COLUMNS = (
    "mineral_family", "mineral_label", "hs6_codes", "rank", "origin_iso3", "origin_name",
    "import_value_gbp", "share_of_family_pct", "family_total_gbp", "window_first_month",
    "window_last_month",
)  # fmt: skip
_USGS_COLUMNS = ("Section", "Commodity", "Country", "Statistics_detail", "Unit", "Year", "Value")


def _commodity_minerals(ref: Reference) -> dict[str, str]:
    """USGS commodity name -> mineral slug, where the name belongs to one mineral only."""
    seen: dict[str, set[str]] = {}
    for mapping in ref.usgs:
        seen.setdefault(mapping.commodity.casefold(), set()).add(mapping.mineral)
    return {name: next(iter(slugs)) for name, slugs in seen.items() if len(slugs) == 1}


def import_usgs_import_sources(usgs_dir: Path, ref: Reference) -> pd.DataFrame:
    """The ``Import Sources`` rows of the MCS data file as ``imports`` rows (importer USA)."""
    path = usgs_dir / USGS_FILE
    frame = read_source_csv(path, "cp1252", _USGS_COLUMNS)
    frame = frame[frame["Section"] == "Import Sources"]
    minerals = _commodity_minerals(ref)
    rows: list[dict[str, object]] = []
    for line, row in records(frame):
        slug = minerals.get(row["Commodity"].casefold())
        if slug is None:
            continue
        if row["Unit"] != "percent":
            raise DataError(f"{path.name} line {line}: import source unit {row['Unit']!r} is "
                            "not percent", file=str(path), line=line)
        value = row["Value"].strip()
        share = 0.0 if value in ("—", "-", "") else _number(value, path, line)
        detail = row["Statistics_detail"].strip()
        stage = "mining" if _MINED.search(f"{row['Commodity']} {detail}") else "refining"
        country = row["Country"].strip()
        origin = _origin(country)
        rows.append({
            "importer": "USA", "mineral": slug, "stage": stage, "product": detail,
            "origin": origin, "origin_name": country, "is_aggregate": origin == "OTHER",
            "share": share / 100.0, "basis": "quantity", "period": "2021-24",
            "source": USGS_SOURCE,
            "citation": f"MCS 2026, {row['Commodity']}, Import Sources (2021–24): {detail}",
        })  # fmt: skip
    out = pd.DataFrame(rows)
    return _mark_headlines(out)


def _origin(country: str) -> str:
    """ISO3 of one country; OTHER for "Other countries" and for USGS's combined entries such
    as "China, Germany, and Russia" (a share that cannot be split between them)."""
    if country.casefold().startswith("other") or "," in country or " and " in country:
        return "OTHER"
    return to_iso3(country)


def _number(text: str, path: Path, line: int) -> float:
    try:
        return float(text.replace(",", "").lstrip("<>"))
    except ValueError:
        raise DataError(f"{path.name} line {line}: import share {text!r} is not a number",
                        file=str(path), line=line) from None


def _mark_headlines(frame: pd.DataFrame) -> pd.DataFrame:
    """One headline product per importer, mineral and stage (see the module docstring)."""
    if frame.empty:
        return frame.assign(headline=pd.Series(dtype="boolean"))
    headline: dict[tuple[str, str, str], str] = {}
    for (importer, mineral, stage), group in frame.groupby(
        ["importer", "mineral", "stage"], sort=False
    ):
        products = list(dict.fromkeys(group["product"]))
        totals = [p for p in products if _TOTAL.match(p)]
        headline[(str(importer), str(mineral), str(stage))] = (totals or products)[0]
    keys = zip(frame["importer"], frame["mineral"], frame["stage"], frame["product"], strict=True)
    return frame.assign(headline=[headline[(i, m, s)] == p for i, m, s, p in keys])


def import_hmrc(imports_dir: Path) -> pd.DataFrame:
    """UK imports by origin (value, GBP) as ``imports`` rows (importer GBR)."""
    path = imports_dir / HMRC_FILE
    frame = read_source_csv(path, "utf-8", _HMRC_COLUMNS)
    rows: list[dict[str, object]] = []
    covered: dict[str, float] = {}
    totals: dict[str, tuple[float, str, str, str]] = {}
    for line, row in records(frame):
        family = row["mineral_family"]
        if family in _HMRC_SKIPPED:
            continue
        if family not in HMRC_FAMILIES:
            raise DataError(f"{path.name} line {line}: unknown mineral family {family!r}",
                            hint="map it in kizuna.data.importers.imports.HMRC_FAMILIES",
                            file=str(path), line=line)
        mineral, stage = HMRC_FAMILIES[family]
        value = _number(row["import_value_gbp"], path, line)
        total = _number(row["family_total_gbp"], path, line)
        if total <= 0:
            raise DataError(f"{path.name} line {line}: family total is not positive",
                            file=str(path), line=line)
        period = f"{row['window_first_month']}..{row['window_last_month']}"
        totals[family] = (total, period, row["hs6_codes"], row["mineral_label"])
        covered[family] = covered.get(family, 0.0) + value
        rows.append(_hmrc_row(family, mineral, stage, row["origin_iso3"], row["origin_name"],
                              value / total, period, row["hs6_codes"]))
    for family, (total, period, codes, _label) in totals.items():
        rest = total - covered[family]
        if rest > 0:
            mineral, stage = HMRC_FAMILIES[family]
            rows.append(_hmrc_row(family, mineral, stage, "OTHER", "Other origins (beyond the "
                                  "top 12)", rest / total, period, codes))
    out = pd.DataFrame(rows)
    return out.assign(headline=True)


def _hmrc_row(family: str, mineral: str, stage: str, origin: str, name: str, share: float,
              period: str, codes: str) -> dict[str, object]:
    return {
        "importer": "GBR", "mineral": mineral, "stage": stage,
        "product": f"{family} (HS {codes.replace(';', ', ')})",
        "origin": origin, "origin_name": name, "is_aggregate": origin == "OTHER",
        "share": share, "basis": "value-gbp", "period": period, "source": HMRC_SOURCE,
        "citation": f"HMRC UK Overseas Trade Statistics, imports by country of origin, family "
                    f"{family}, {period} (compiled in shared/data/imports/{HMRC_FILE})",
    }  # fmt: skip


def import_imports(source_dir: Path, ref: Reference) -> pd.DataFrame:
    """Both importers' tables together."""
    return pd.concat(
        [import_usgs_import_sources(source_dir / "usgs_mcs2026", ref),
         import_hmrc(source_dir / "imports")],
        ignore_index=True,
    )  # fmt: skip
