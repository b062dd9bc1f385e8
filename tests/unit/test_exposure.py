"""Exposure: tonnes by mineral, stage and country, the mixes behind them, and the summary."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.data.bundle import load_dataset
from kizuna.errors import InputError
from kizuna.exposure.compute import NO_DATA, NOT_ADDITIVE, exposure
from kizuna.exposure.mixes import OTHER, perspective_of, world_mix
from kizuna.products.model import Line, Product

DS = load_dataset()
MINERALS = ["cobalt", "lithium", "nickel", "graphite", "neodymium", "rhenium", "copper",
            "manganese", "dysprosium", "hafnium"]


def product(*lines: Line, volume: float = 1.0) -> Product:
    return Product("test", "Test product", "one unit", volume, lines)


def test_cobalt_mining_is_led_by_congo_with_the_usgs_share() -> None:
    result = exposure(DS, product(Line("cobalt", 10.0, "cathode")), volume=1000)
    mining = result.rows[(result.rows["mineral"] == "cobalt") & (result.rows["stage"] == "mining")]
    assert mining.iloc[0]["iso3"] == "COD"
    mix = world_mix(DS, "cobalt", "mining", None)
    assert mix is not None
    assert math.isclose(mining.iloc[0]["share"], mix.shares["COD"])
    assert math.isclose(mining["tonnes"].sum(), 10.0)  # 10 kg x 1000 units = 10 t
    summary = result.minerals.set_index(["mineral", "stage"]).loc[("cobalt", "mining")]
    assert summary["top_iso3"] == "COD" and summary["top_share"] > 0.6
    assert 0 < summary["hhi"] <= 10_000


def test_element_without_supply_data_uses_the_rare_earth_proxy_and_says_so() -> None:
    result = exposure(DS, product(Line("neodymium", 0.3, "magnet")))
    summary = result.minerals.set_index(["mineral", "stage"])
    assert summary.loc[("neodymium", "mining"), "proxy"] == "rare-earths"
    assert summary.loc[("neodymium", "mining"), "top_iso3"] == "CHN"
    assert any("neodymium" in a and "proxy" in a for a in result.assumptions)


def test_a_mineral_without_data_is_shown_not_dropped() -> None:
    result = exposure(DS, product(Line("rhenium", 1.0, "blade")))
    refining = result.rows[(result.rows["mineral"] == "rhenium")
                           & (result.rows["stage"] == "refining")]
    assert list(refining["country"]) == [NO_DATA]
    assert refining["iso3"].isna().all() and math.isclose(refining["tonnes"].sum(), 0.001)
    row = result.minerals.set_index(["mineral", "stage"]).loc[("rhenium", "refining")]
    assert row["basis"] == NO_DATA
    assert pd.isna(row["hhi"]) and pd.isna(row["top_iso3"])


def test_a_series_without_an_additive_world_total_says_so() -> None:
    result = exposure(DS, product(Line("boron", 1.0, "magnet")))
    mining = result.rows[(result.rows["mineral"] == "boron") & (result.rows["stage"] == "mining")]
    assert list(mining["country"]) == [NOT_ADDITIVE]  # USGS: XX, the countries differ in product
    assert mining["iso3"].isna().all()


def test_synthetic_graphite_is_never_mined() -> None:
    result = exposure(DS, product(Line("graphite", 1.0, "anode (natural graphite)"),
                                  Line("graphite", 3.0, "anode (synthetic graphite)")), volume=1000)
    tonnes = result.rows.groupby("stage")["tonnes"].sum()
    assert math.isclose(tonnes["mining"], 1.0) and math.isclose(tonnes["refining"], 4.0)


def test_bom_sourcing_overrides_the_world_mix() -> None:
    line = Line("lithium", 2.0, "cathode", sourcing={"mining": {"AUS": 0.75, "CHL": 0.25}})
    result = exposure(DS, product(line), volume=500)
    mining = result.rows[result.rows["stage"] == "mining"].set_index("iso3")
    assert set(mining.index) == {"AUS", "CHL"}
    assert math.isclose(mining.loc["AUS", "tonnes"], 0.75)
    assert set(mining["basis"]) == {"user"}


def test_importer_perspective_changes_the_refining_mix_only() -> None:
    line = Line("cobalt", 1.0, "cathode")
    usa = exposure(DS, product(line), perspective=perspective_of(DS, "USA"))
    world = exposure(DS, product(line))
    usa_refining = usa.rows[usa.rows["stage"] == "refining"].set_index("iso3")["share"]
    assert math.isclose(usa_refining["NOR"], 0.26)  # USGS import sources 2021-24
    assert usa.rows[usa.rows["stage"] == "mining"]["tonnes"].tolist() == pytest.approx(
        world.rows[world.rows["stage"] == "mining"]["tonnes"].tolist())
    gbr = exposure(DS, product(line), perspective=perspective_of(DS, "United Kingdom"))
    assert "value" in " ".join(gbr.minerals["notes"])


def test_user_import_mix_file(tmp_path: Path) -> None:
    mix = tmp_path / "japan.csv"
    mix.write_text("mineral,stage,origin,share\ncobalt,refining,FIN,0.5\n"
                   "cobalt,refining,Japan,30%\ncobalt,refining,OTHER,0.2\n")
    result = exposure(DS, product(Line("cobalt", 1.0, "c")), perspective=perspective_of(
        DS, str(mix)))
    refining = result.rows[result.rows["stage"] == "refining"].set_index("iso3")["share"]
    assert refining.to_dict() == pytest.approx({"FIN": 0.5, "JPN": 0.3, OTHER: 0.2})


@pytest.mark.parametrize(("text", "message"), [
    ("mineral,stage,origin\n", "missing column 'share'"),
    ("mineral,stage,origin,share\nunobtainium,mining,AUS,1\n", "row 2, column mineral"),
    ("mineral,stage,origin,share\ncobalt,smelting,AUS,1\n", "row 2, column stage"),
    ("mineral,stage,origin,share\ncobalt,mining,Atlantis,1\n", "row 2, column origin"),
    ("mineral,stage,origin,share\ncobalt,mining,AUS,2\n", "row 2, column share"),
    ("mineral,stage,origin,share\ncobalt,mining,AUS,0.5\n", "sum to 0.500"),
])
def test_bad_import_mix_files_name_file_row_and_column(tmp_path: Path, text: str,
                                                        message: str) -> None:
    path = tmp_path / "mix.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as caught:
        perspective_of(DS, str(path))
    assert "mix.csv" in caught.value.message


def test_unknown_perspective_is_refused() -> None:
    with pytest.raises(InputError, match="not 'world', a country or a CSV"):
        perspective_of(DS, "Atlantis")
    with pytest.raises(InputError, match="no shipped import mix for 'JPN'"):
        perspective_of(DS, "JPN")


lines = st.lists(
    st.builds(Line, mineral=st.sampled_from(MINERALS),
              kg=st.floats(min_value=0, max_value=1e4, allow_nan=False),
              component=st.sampled_from(["a", "b", "anode (synthetic graphite)"])),
    min_size=1, max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(lines, st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_attributed_tonnes_sum_to_demand_and_scale_linearly(items: list[Line],
                                                            volume: float) -> None:
    result = exposure(DS, product(*items), volume=volume)
    for stage in ("mining", "refining"):
        demand: dict[str, float] = {}
        for line in items:
            if stage == "mining" and line.mineral == "graphite" and "synthetic" in line.component:
                continue
            demand[line.mineral] = demand.get(line.mineral, 0.0) + line.kg * volume / 1000
        got = result.rows[result.rows["stage"] == stage].groupby("mineral")["tonnes"].sum()
        for mineral, tonnes in demand.items():
            assert got.get(mineral, 0.0) == pytest.approx(tonnes, rel=1e-9, abs=1e-9)
    doubled = exposure(DS, product(*items), volume=2 * volume)
    assert doubled.rows["tonnes"].to_numpy() == pytest.approx(
        2 * result.rows["tonnes"].to_numpy(), rel=1e-9, abs=1e-9)
