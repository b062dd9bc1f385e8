"""Properties of the concentration path on synthetic datasets built with the real schemas."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.data.bundle import Dataset
from kizuna.data.schema import GOVERNANCE, LIST_MEMBERS, LISTS, SOURCES, SUPPLY
from kizuna.minerals.concentration import concentration_table, mineral_profile
from kizuna.model import CountryGroup, Mineral

COUNTRIES = ["CHN", "AUS", "USA", "COD", "IDN", "CHL", "BRA", "ZAF", "RUS", "CAN"]


def supply_row(area: str, value: float, *, aggregate: bool = False) -> dict[str, object]:
    return {
        "mineral": "testium", "stage": "mining", "measure": "production",
        "series": "Mine production", "area": area, "is_aggregate": aggregate,
        "area_name": area, "year": 2025, "value": value, "value_min": None, "value_max": None,
        "value_code": None, "unit": "t", "estimated": False, "headline": True,
        "source": "test", "citation": "synthetic",
    }


def dataset(values: dict[str, float], residual: float) -> Dataset:
    rows = [supply_row(iso3, value) for iso3, value in values.items()]
    rows.append(supply_row("OTHER", residual, aggregate=True))
    rows.append(supply_row("WORLD", sum(values.values()) + residual, aggregate=True))
    governance = pd.DataFrame([
        {"iso3": iso3, "year": 2023, "va": 0.0, "pv": 0.0, "ge": 0.0, "rq": 0.0, "rl": 0.0,
         "cc": 0.0, "source": "test"} for iso3 in COUNTRIES
    ])
    empty = {table.name: pd.DataFrame(columns=[c.name for c in table.columns])
             for table in (LISTS, LIST_MEMBERS, SOURCES)}
    return Dataset(
        supply=SUPPLY.conform(pd.DataFrame(rows)),
        governance=GOVERNANCE.conform(governance),
        lists=empty["lists"], list_members=empty["list_members"], sources=empty["sources"],
        minerals={"testium": Mineral("testium", "Testium", "Ts", "test", ())},
        groups={"concern": CountryGroup("concern", "Concern", frozenset({"CHN", "RUS"}), "", "")},
    )


producers = st.dictionaries(
    st.sampled_from(COUNTRIES), st.floats(min_value=1.0, max_value=1e7), min_size=1, max_size=10
)
residuals = st.floats(min_value=0.0, max_value=1e6)


@settings(max_examples=60, deadline=None)
@given(producers, residuals)
def test_named_shares_plus_residual_equal_one_when_the_total_is_the_sum(
    values: dict[str, float], residual: float
) -> None:
    profile = mineral_profile(dataset(values, residual), "testium")
    named = sum(c["share"] for c in profile["countries"])
    assert math.isclose(named + profile["residual"]["share"], 1.0, rel_tol=1e-9)
    assert 0.0 <= profile["hhi"] <= profile["hhi_upper"] <= 10_000.0 + 1e-6
    assert profile["top1_share"] <= profile["top3_share"] <= 1.0 + 1e-9
    listed = [c["value"] for c in profile["countries"]]
    assert listed == sorted(listed, reverse=True) and listed[0] == max(values.values())


@settings(max_examples=60, deadline=None)
@given(producers, residuals)
def test_the_residual_never_counts_as_a_country(values: dict[str, float], residual: float) -> None:
    ds = dataset(values, residual)
    profile = mineral_profile(ds, "testium")
    assert {c["iso3"] for c in profile["countries"]} == set(values)
    table = concentration_table(ds)
    assert table["n_countries"].iat[0] == len(values)
    assert table["hhi"].iat[0] == pytest.approx(profile["hhi"])


@settings(max_examples=40, deadline=None)
@given(producers, residuals)
def test_group_share_is_the_sum_of_its_members_shares(
    values: dict[str, float], residual: float
) -> None:
    ds = dataset(values, residual)
    profile = mineral_profile(ds, "testium")
    expected = sum(c["share"] for c in profile["countries"] if c["iso3"] in {"CHN", "RUS"})
    assert concentration_table(ds)["group_share"].iat[0] == pytest.approx(expected, abs=1e-12)


def test_equal_governance_scales_hhi_wgi_by_the_common_score() -> None:
    # Every country has mean WGI 0 -> scaled score 5, so HHI-WGI = 5 x HHI.
    profile = mineral_profile(dataset({"CHN": 3.0, "AUS": 1.0}, 0.0), "testium")
    assert profile["hhi"] == pytest.approx(10_000 * (0.75**2 + 0.25**2))
    assert profile["hhi_wgi"] == pytest.approx(5 * profile["hhi"])
    assert profile["wgi_year"] == 2023
