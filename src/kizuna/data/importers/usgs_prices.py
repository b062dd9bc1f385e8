"""Importer for the US prices in the USGS MCS 2026 salient statistics, in USD per tonne.

USGS prints one or more prices per commodity in its own unit (cents per pound, dollars per
troy ounce, dollars per metric ton unit of WO3, dollars per kilogram of oxide ...). ``PRICES``
below picks, per mineral and stage, the price that matches the basis of Kizuna's supply
tonnes, and says how it is turned into US dollars per metric ton of that basis. A listed
series that is missing from the source is a ``DataError`` (a new release is noticed, not
silently dropped); prices whose basis does not match the supply tonnes are left out on purpose
(see ``SKIPPED``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kizuna.data.importers.source_csv import records
from kizuna.data.importers.usgs import DATA_FILE, SOURCE_ID, read_raw
from kizuna.data.importers.usgs_values import is_estimated, parse_value
from kizuna.errors import DataError

PRICE_STATISTIC = "Price"
LB_PER_T = 2204.62262185
"""Pounds (avoirdupois) in a metric ton."""
TROY_OZ_PER_T = 32150.7466
"""Troy ounces in a metric ton."""
LCE_PER_LI = 5.323
"""Tonnes of lithium carbonate per tonne of lithium (as kizuna.products.units.LCE_PER_LI)."""


def _oxide(metal: float, metal_atoms: int, oxygen_atoms: int) -> float:
    """Mass fraction of the metal in an oxide MxOy (standard atomic weights)."""
    return metal * metal_atoms / (metal * metal_atoms + 15.999 * oxygen_atoms)


@dataclass(frozen=True)
class PriceSeries:
    """One USGS price series and how it becomes USD per tonne of the supply basis."""

    mineral: str
    stage: str  # the stage of the product priced (ore/concentrate: mining; metal: refining)
    commodity: str  # USGS `Commodity`
    detail: str  # USGS `Statistics_detail`
    factor: float  # USD per tonne of the basis = published value x factor
    conversion: str  # how, in words
    basis: str  # what one tonne is
    #: (content, gross) ``Statistics_detail`` of the US mine production rows: the price per
    #: gross tonne is divided by that year's content/gross ratio (the grade) as well
    grade: tuple[str, str] | None = None


_CENTS_LB = LB_PER_T / 100
PRICES: tuple[PriceSeries, ...] = (
    PriceSeries("aluminium", "refining", "Aluminum",
                "Price, ingot, average U.S. market (spot), cents per pound", _CENTS_LB,
                "cents per pound x 22.046", "t Al metal"),
    PriceSeries("antimony", "refining", "Antimony", "Price, metal, average, dollars per pound",
                LB_PER_T, "dollars per pound x 2,204.6", "t Sb metal"),
    PriceSeries("bauxite", "mining", "Bauxite", "Price, average unit value of imports, free "
                "alongside ship (f.a.s.), dollars per metric ton", 1.0,
                "dollars per metric ton as published", "t bauxite, dry weight"),
    PriceSeries("beryllium", "refining", "Beryllium", "Price, annual average unit value, "
                "beryllium-copper master alloy, dollars per kilogram of contained beryllium",
                1000.0, "dollars per kg of contained Be x 1,000", "t Be content"),
    PriceSeries("bismuth", "refining", "Bismuth", "Price, average, dollars per pound", LB_PER_T,
                "dollars per pound x 2,204.6", "t Bi metal"),
    PriceSeries("chromium", "mining", "Chromium",
                "Price: Chromite ore (gross weight), dollars per metric ton", 1.0,
                "dollars per metric ton as published", "t chromite, gross weight"),
    PriceSeries("cobalt", "refining", "Cobalt",
                "Price, average, dollars per pound: London Metal Exchange (LME), cash",
                LB_PER_T, "dollars per pound x 2,204.6", "t Co metal"),
    PriceSeries("copper", "refining", "Copper", "Price, annual average, cents per pound: "
                "London Metal Exchange, grade A, cash", _CENTS_LB, "cents per pound x 22.046",
                "t Cu metal"),
    PriceSeries("gallium", "refining", "Gallium",
                "Price, average unit value of imports, dollars per kilogram", 1000.0,
                "dollars per kg x 1,000", "t Ga metal"),
    PriceSeries("germanium", "refining", "Germanium",
                "Price, annual average, dollars per kilogram: Germanium metal", 1000.0,
                "dollars per kg x 1,000", "t Ge metal"),
    PriceSeries("graphite", "mining", "Graphite (Natural)", "Price, average unit value of "
                "imports, dollars per metric ton at foreign ports: Flake", 1.0,
                "dollars per metric ton of flake graphite as published", "t natural graphite "
                "(flake price)"),
    PriceSeries("indium", "refining", "Indium",
                "Price, annual average, dollars per kilogram: U.S. warehouse, free on board",
                1000.0, "dollars per kg x 1,000", "t In metal"),
    PriceSeries("lithium", "refining", "Lithium", "Price, annual average-real, battery-grade "
                "lithium carbonate, dollars per metric ton", LCE_PER_LI,
                f"dollars per t of lithium carbonate x {LCE_PER_LI} (t LCE per t Li)",
                "t Li content"),
    PriceSeries("magnesium", "refining", "Magnesium Metal",
                "Price, annual average: European free market, dollars per metric ton", 1.0,
                "dollars per metric ton as published", "t Mg metal"),
    PriceSeries("manganese", "mining", "Manganese", "Price, average, manganese content, cost, "
                "insurance, and freight, China, dollars per metric ton unit", 100.0,
                "dollars per metric ton unit (10 kg Mn) x 100", "t Mn content"),
    PriceSeries("nickel", "refining", "Nickel", "Price, average annual, London Metal Exchange "
                "(LME), cash: Dollars per metric ton", 1.0,
                "dollars per metric ton as published", "t Ni metal"),
    PriceSeries("palladium", "refining", "Palladium", "Price, dollars per troy ounce: Palladium",
                TROY_OZ_PER_T, "dollars per troy ounce x 32,150.7", "t Pd metal"),
    PriceSeries("phosphate-rock", "mining", "Phosphate Rock",
                "Price, average value, f.o.b. mine, dollars per metric ton", 1.0,
                "dollars per metric ton as published", "t marketable phosphate rock"),
    PriceSeries("platinum", "refining", "Platinum", "Price, dollars per troy ounce: Platinum",
                TROY_OZ_PER_T, "dollars per troy ounce x 32,150.7", "t Pt metal"),
    PriceSeries("rhenium", "refining", "Rhenium", "Price, average value, gross weight, dollars "
                "per kilogram: Metal, 99.99% pure", 1000.0, "dollars per kg x 1,000",
                "t Re metal"),
    PriceSeries("silicon", "refining", "Silicon",
                "Price, average, cents per pound of silicon: Silicon metal", _CENTS_LB,
                "cents per pound x 22.046", "t Si content"),
    PriceSeries("tantalum", "mining", "Tantalum", "Price, tantalite, annual average, dollars "
                "per kilogram of tantalum oxide (Ta2O5) content", 1000.0 / _oxide(180.948, 2, 5),
                "dollars per kg Ta2O5 x 1,000 / 0.819 (Ta in Ta2O5)", "t Ta content"),
    PriceSeries("tin", "refining", "Tin",
                "Price, average, cents per pound: London Metal Exchange (LME), cash", _CENTS_LB,
                "cents per pound x 22.046", "t Sn metal"),
    PriceSeries("titanium", "refining", "Titanium sponge metal", "Price, dollars per kilogram",
                1000.0, "dollars per kg x 1,000", "t Ti sponge"),
    PriceSeries("tungsten", "mining", "Tungsten", "Price, concentrate, average in-warehouse "
                "Rotterdam, dollars per dry metric ton unit of tungsten trioxide", 1000.0 / 7.93,
                "dollars per metric ton unit of WO3 x 1,000 / 7.93 (kg W per mtu, USGS)",
                "t W content"),
    PriceSeries("vanadium", "refining", "Vanadium",
                "Price, average, vanadium pentoxide, dollars per pound",
                LB_PER_T / _oxide(50.9415, 2, 5),
                "dollars per pound V2O5 x 2,204.6 / 0.560 (V in V2O5)", "t V content"),
    PriceSeries("zinc", "refining", "Zinc",
                "Price, average, cents per pound: London Metal Exchange (LME), cash", _CENTS_LB,
                "cents per pound x 22.046", "t Zn metal"),
    PriceSeries("iron-ore", "mining", "Iron Ore", "Price, average unit value reported by "
                "mines, dollars per metric ton", 1.0, "dollars per t usable ore / the US "
                "iron content of usable ore (per row)", "t Fe content",
                grade=("Mine production: Iron content", "Mine production: Usable ore")),
    PriceSeries("molybdenum", "mining", "Molybdenum", "Price, average, dollars per kilogram",
                1000.0, "dollars per kg of contained Mo x 1,000 (technical-grade MoO3, 57% Mo, "
                "is traded per unit of Mo content: 54.32 $/kg in 2023 is 24.6 $/lb Mo)",
                "t Mo content"),
    PriceSeries("neodymium", "refining", "Neodymium",
                "Price, average, dollars per kilogram: Neodymium oxide, 99.5% minimum",
                1000.0 / _oxide(144.242, 2, 3), "dollars per kg Nd2O3 x 1,000 / 0.857 (Nd in "
                "Nd2O3)", "t Nd content"),
    PriceSeries("praseodymium", "refining", "Praseodymium",
                "Price, average, dollars per kilogram: Praseodymium oxide, 99.99% minimum",
                1000.0 / _oxide(140.908, 6, 11), "dollars per kg Pr6O11 x 1,000 / 0.828 (Pr "
                "in Pr6O11)", "t Pr content"),
    PriceSeries("dysprosium", "refining", "Dysprosium",
                "Price, average, dollars per kilogram: Dysprosium oxide, 99.5% minimum",
                1000.0 / _oxide(162.500, 2, 3), "dollars per kg Dy2O3 x 1,000 / 0.871 (Dy in "
                "Dy2O3)", "t Dy content"),
    PriceSeries("terbium", "refining", "Terbium",
                "Price, average, dollars per kilogram: Terbium oxide, 99.99% minimum",
                1000.0 / _oxide(158.925, 4, 7), "dollars per kg Tb4O7 x 1,000 / 0.850 (Tb in "
                "Tb4O7)", "t Tb content"),
    PriceSeries("samarium", "refining", "Samarium",
                "Price, average, dollars per kilogram: Samarium oxide, 99.5% minimum",
                1000.0 / _oxide(150.36, 2, 3), "dollars per kg Sm2O3 x 1,000 / 0.862 (Sm in "
                "Sm2O3)", "t Sm content"),
)  # fmt: skip
"""The price series imported; each row of the prices table cites its series and year."""

SKIPPED: dict[str, str] = {
    "niobium": "the ferroniobium unit value is per tonne of gross weight, not Nb content",
    "rare-earths": "no basket price for all rare-earth oxides; the element oxides are imported",
    "titanium (mining)": "ilmenite is priced per tonne of concentrate; Kizuna's tonnes are TiO2",
}
"""Minerals whose USGS price does not match the basis of their supply tonnes."""

COLUMNS = ("mineral", "stage", "year", "usd_per_t", "value", "unit", "factor", "conversion",
           "basis", "product", "estimated", "source", "citation")


def import_prices(usgs_dir: Path) -> pd.DataFrame:
    """The prices table from ``usgs_dir/MCS2026_Commodities_Data.csv``."""
    path = Path(usgs_dir) / DATA_FILE
    raw = read_raw(path)
    prices = raw[raw["Statistics"] == PRICE_STATISTIC]
    rows: list[dict[str, object]] = []
    for series in PRICES:
        found = prices[(prices["Commodity"] == series.commodity)
                       & (prices["Statistics_detail"].str.strip() == series.detail)]
        if found.empty:
            raise DataError(
                f"{DATA_FILE}: no price series {series.detail!r} for {series.commodity}",
                hint="update PRICES in kizuna/data/importers/usgs_prices.py",
                file=str(path), field="Statistics_detail", value=series.detail,
            )  # fmt: skip
        grades = _us_grades(raw, series, str(path)) if series.grade else {}
        for line, row in records(found):
            rows.append(_row(series, line, row, str(path), grades))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _us_grades(raw: pd.DataFrame, series: PriceSeries, file: str) -> dict[int, float]:
    """Year -> content/gross ratio of US mine production (``series.grade``)."""
    assert series.grade is not None
    us = raw[(raw["Commodity"] == series.commodity) & (raw["Country"] == "United States")
             & (raw["Statistics"] == "Production")]
    tonnes: list[dict[int, float]] = []
    for detail in series.grade:
        by_year: dict[int, float] = {}
        for line, row in records(us[us["Statistics_detail"].str.strip() == detail]):
            value = parse_value(row["Value"], file=file, line=line).value
            if value:
                by_year[int(row["Year"])] = value
        if not by_year:
            raise DataError(f"{DATA_FILE}: no US {detail!r} for {series.commodity}",
                            hint="update PRICES in kizuna/data/importers/usgs_prices.py",
                            file=file, field="Statistics_detail", value=detail)
        tonnes.append(by_year)
    content, gross = tonnes
    grades = {year: content[year] / gross[year] for year in content.keys() & gross.keys()}
    if not grades:
        raise DataError(f"{DATA_FILE}: no year with both {series.grade[0]!r} and "
                        f"{series.grade[1]!r} for {series.commodity}", file=file,
                        field="Statistics_detail", value=series.grade[0])
    return grades


def _row(series: PriceSeries, line: int, row: dict[str, str], file: str,
         grades: dict[int, float]) -> dict[str, object]:
    parsed = parse_value(row["Value"], file=file, line=line)
    value = parsed.value
    year = int(row["Year"])
    factor = series.factor
    conversion = series.conversion
    if series.grade:  # production tables give the two latest years: the nearest one's grade
        nearest = min(grades, key=lambda known: (abs(known - year), -known))
        factor /= grades[nearest]
        conversion = (f"dollars per t usable ore / {grades[nearest]:.3f} (US iron content of "
                      f"usable ore, {nearest})")
    return {
        "mineral": series.mineral, "stage": series.stage, "year": year,
        "usd_per_t": None if value is None else value * factor,
        "value": value, "unit": row["Unit"], "factor": factor,
        "conversion": conversion, "basis": series.basis,
        "product": series.detail, "estimated": is_estimated(row["Notes"]),
        "source": SOURCE_ID,
        "citation": f"USGS MCS 2026, {series.commodity}, salient statistics: {series.detail}",
    }  # fmt: skip
