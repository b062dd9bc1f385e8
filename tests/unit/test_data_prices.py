"""The prices table: USGS US prices turned into USD per tonne of the supply tonnes' basis."""

from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.data.bundle import load_dataset
from kizuna.data.importers.usgs import COLUMNS, DATA_FILE
from kizuna.data.importers.usgs_prices import PRICES, import_prices
from kizuna.errors import DataError


def price(mineral: str, year: int = 2025) -> dict:
    prices = load_dataset().prices
    rows = prices[(prices["mineral"] == mineral) & (prices["year"] == year)]
    assert len(rows) == 1
    return rows.iloc[0].to_dict()


@pytest.mark.parametrize(("mineral", "expected"), [
    ("cobalt", 15 * 2204.62262185),            # 15 dollars per pound (LME cash)
    ("copper", 440 / 100 * 2204.62262185),     # 440 cents per pound
    ("platinum", 1200 * 32150.7466),           # 1,200 dollars per troy ounce
    ("lithium", 9000 * 5.323),                 # 9,000 dollars per t Li2CO3, t LCE per t Li
    ("tungsten", 380 * 1000 / 7.93),           # 380 dollars per mtu WO3, 7.93 kg W per mtu
    ("manganese", 4.5 * 100),                  # 4.5 dollars per mtu (10 kg) of Mn
    ("gallium", 580 * 1000),                   # 580 dollars per kg
    ("molybdenum", 51 * 1000),                 # 51 dollars per kg of contained Mo
    ("iron-ore", 89 / (24_000 / 38_000)),      # 89 dollars per t usable ore, US ore 63% Fe
])
def test_each_price_is_converted_to_dollars_per_tonne_of_the_supply_basis(
        mineral: str, expected: float) -> None:
    row = price(mineral)
    assert row["usd_per_t"] == pytest.approx(expected, rel=1e-9)
    assert row["usd_per_t"] == pytest.approx(row["value"] * row["factor"], rel=1e-12)
    assert row["source"] == "usgs-mcs2026" and row["citation"].startswith("USGS MCS 2026, ")
    assert bool(row["estimated"])  # 2025 figures are USGS estimates


def test_every_series_has_five_years_and_a_citation() -> None:
    prices = load_dataset().prices
    counts = prices.groupby(["mineral", "stage"]).size()
    assert set(counts) == {5}
    assert len(counts) == len(PRICES)
    assert prices["citation"].str.len().min() > 20


def test_a_series_missing_from_the_source_stops_the_build(tmp_path: Path) -> None:
    folder = tmp_path / "usgs_mcs2026"
    folder.mkdir()
    header = ",".join(f'"{c}"' for c in COLUMNS)
    (folder / DATA_FILE).write_text(header + "\n", encoding="cp1252")
    with pytest.raises(DataError) as info:
        import_prices(folder)
    assert "no price series" in str(info.value)
    assert info.value.fields["field"] == "Statistics_detail"


def test_iron_ore_takes_the_grade_of_the_nearest_year_with_production() -> None:
    row = price("iron-ore", 2022)  # US production is given for 2024 and 2025 only
    assert row["usd_per_t"] == pytest.approx(156.42 / (28_600 / 45_100), rel=1e-9)
    assert "2024" in row["conversion"]
