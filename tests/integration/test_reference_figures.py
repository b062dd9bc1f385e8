"""Figures checked against values computed by hand from the published sources.

USGS MCS 2026 rare-earth mine production 2025 (t REO) and the World Bank WGI 2024 update
(2023 estimates, two decimals as published); see docs/concentration.md for the formulas.
"""

from __future__ import annotations

import pytest

from kizuna.data.bundle import load_dataset
from kizuna.minerals.concentration import mineral_profile
from kizuna.minerals.governance import governance_weights

# USGS MCS 2026, Rare earths, World Mine Production, 2025 (estimated), metric tons REO.
RARE_EARTHS_2025 = {
    "CHN": 270_000, "USA": 51_000, "AUS": 29_000, "MMR": 22_000, "THA": 4_800, "IND": 2_900,
    "MDG": 2_700, "RUS": 2_600, "BRA": 2_000, "NGA": 1_500, "VNM": 150, "MYS": 110,
}
WORLD_2025 = 390_000
OTHER_2025 = 550

# WGI 2024 update, year 2023 estimates: va, pv, ge, rq, rl, cc.
CHINA_2023 = (-1.50, -0.51, 0.68, -0.36, -0.04, -0.01)


def test_rare_earth_hhi_matches_the_hand_computed_usgs_figure() -> None:
    expected = sum((100 * value / WORLD_2025) ** 2 for value in RARE_EARTHS_2025.values())
    profile = mineral_profile(load_dataset(), "rare-earths", stage="mining", year=2025)
    assert profile["hhi"] == pytest.approx(expected, rel=1e-12)
    assert profile["hhi"] == pytest.approx(5054.42, abs=0.01)
    assert profile["hhi_upper"] == pytest.approx(expected + (100 * OTHER_2025 / WORLD_2025) ** 2)
    assert profile["top3_share"] == pytest.approx((270_000 + 51_000 + 29_000) / WORLD_2025)
    assert {c["iso3"]: c["value"] for c in profile["countries"] if c["value"]} == RARE_EARTHS_2025


def test_china_scaled_wgi_2023_is_the_rescaled_mean_of_its_six_estimates() -> None:
    weights = governance_weights(load_dataset().governance)
    mean = sum(CHINA_2023) / 6
    assert weights.year == 2023
    assert weights.score("CHN") == pytest.approx((2.5 - mean) * 2, abs=1e-9)
    assert weights.score("CHN") == pytest.approx(5.58, abs=1e-9)


def test_wgi_codes_that_differ_from_iso_are_translated() -> None:
    weights = governance_weights(load_dataset().governance)
    assert "COD" in weights.scores and "ZAR" not in weights.scores
    assert "ROU" in weights.scores and "XKX" in weights.scores


def test_rare_earth_hhi_wgi_is_pinned_at_the_reviewed_reference() -> None:
    profile = mineral_profile(load_dataset(), "rare-earths", stage="mining", year=2025)
    assert profile["hhi_wgi"] == pytest.approx(27_649.68, abs=0.01)
    assert profile["wgi_year"] == 2023 and profile["wgi_missing_default"] == 5.0


def test_cobalt_refining_comes_from_the_iea_2024_shares() -> None:
    profile = mineral_profile(load_dataset(), "cobalt", stage="refining")
    shares = {c["iso3"]: c["share"] for c in profile["countries"]}
    assert profile["source"] == "iea-cmd-2025" and profile["year"] == 2024
    assert shares["CHN"] == pytest.approx(0.7841) and shares["FIN"] == pytest.approx(0.0804)
    assert profile["residual"]["share"] == pytest.approx(0.0944)
