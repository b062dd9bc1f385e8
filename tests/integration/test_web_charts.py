"""Chart building from real profiles: bars, the rest-of-world bar, titles and text alternatives."""

from __future__ import annotations

import json

import pytest

from kizuna.data.bundle import Dataset, load_dataset
from kizuna.minerals.concentration import mineral_profile
from kizuna.web.charts import RESIDUAL_COLOUR, TOP_COUNTRIES, profile_bars, profile_chart


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset(None)


def test_tonnage_bars_are_values_with_the_rest_of_the_world_last(dataset: Dataset) -> None:
    profile = mineral_profile(dataset, "cobalt", stage="mining")
    bars = profile_bars(profile, highlight={"CHN"})
    assert bars.labels[0] == profile["countries"][0]["name"]
    assert bars.values[0] == profile["countries"][0]["value"]
    assert len(bars.labels) == min(TOP_COUNTRIES, len(profile["countries"])) + 1
    assert bars.labels[-1] == "All others"
    assert bars.colours[-1] == RESIDUAL_COLOUR
    assert not bars.is_share


def test_share_bars_are_percent(dataset: Dataset) -> None:
    profile = mineral_profile(dataset, "rare-earths", stage="refining")
    bars = profile_bars(profile, highlight=())
    assert bars.is_share
    assert bars.values[0] == pytest.approx(profile["countries"][0]["share"] * 100)
    assert bars.texts[0] == f"{profile['countries'][0]['share'] * 100:.1f}%"


def test_without_an_additive_world_total_bars_show_values_and_no_rest(dataset: Dataset) -> None:
    profile = mineral_profile(dataset, "boron", stage="mining")
    assert profile["world_total_kind"] == "not_additive"
    bars = profile_bars(profile, highlight=())
    assert "All others" not in bars.labels
    assert bars.values[0] == profile["countries"][0]["value"]
    assert "%" not in bars.texts[0]


def test_profile_chart_carries_title_year_estimate_and_a_text_alternative(
    dataset: Dataset,
) -> None:
    profile = mineral_profile(dataset, "rare-earths", stage="mining")
    chart = profile_chart(profile, dom_id="c", source_title="USGS", highlight={"CHN"},
                          highlight_name="Countries of concern")
    assert chart.title == f"Rare earths — {profile['series']}, {profile['year']}"
    assert chart.estimated
    assert chart.alt.startswith("Bar chart of Rare earths")
    assert "China 69.2%" in chart.alt
    assert "Red bars are Countries of concern" in chart.alt
    figure = json.loads(chart.figure_json.replace("<\\/", "</"))
    assert figure["data"][0]["orientation"] == "h"
    assert "</" not in chart.figure_json
