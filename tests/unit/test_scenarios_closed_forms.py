"""The engine against closed forms (issue 5, section 5) and the propagation rules.

Shares come from the bundled data (kizuna.exposure.mixes.world_mix), so the expected values
are computed from the same mix the model uses, never typed in.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kizuna.data.bundle import load_dataset
from kizuna.exposure.mixes import importer_perspective, world_mix
from kizuna.products.templates import load_template
from kizuna.scenarios import parse_scenario_text, run_scenario
from kizuna.scenarios.result import ScenarioResult


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


def share(ds, mineral: str, stage: str, country: str) -> float:
    mix = world_mix(ds, mineral, stage, 2025)
    assert mix is not None
    return mix.shares.get(country, 0.0)


def run(ds, text: str, draws: int = 2000, seed: int = 1, **more) -> ScenarioResult:
    scenario = parse_scenario_text("name: t\nyear: 2025\n" + text, origin="t.yaml", dataset=ds)
    return run_scenario(ds, scenario, draws=draws, seed=seed, products=more.pop("products", []),
                        **more)


def row(result: ScenarioResult, mineral: str, stage: str) -> dict:
    frame = result.results_frame()
    found = frame[(frame["mineral"] == mineral) & (frame["stage"] == stage)]
    assert len(found) == 1, f"no row for {mineral} {stage}"
    return found.iloc[0].to_dict()


def ban(country: str, mineral: str, stage: str, **fields) -> str:
    cut = fields.pop("share", 1.0)
    extra = "".join(f"    {k}: {v}\n" for k, v in fields.items())
    return (f"  - kind: export_ban\n    country: {country}\n    minerals: [{mineral}]\n"
            f"    stage: {stage}\n    share: {cut}\n" + extra)


def test_a_certain_full_year_ban_of_one_countrys_mining_cuts_its_share(ds) -> None:
    result = run(ds, "events:\n" + ban("CHN", "rare-earths", "mining", duration_days=365)
                 + "mitigations:\n  stockpile_days: {rare-earths: 0}\n", draws=500)
    got = row(result, "rare-earths", "mining")
    expected = share(ds, "rare-earths", "mining", "CHN")
    assert got["mean_shortfall"] == pytest.approx(expected, abs=1e-6)
    assert got["stderr"] == 0 and got["prob_any"] == 1.0
    assert got["p99"] == pytest.approx(expected, abs=1e-6)
    assert got["mean_tonnes"] == pytest.approx(expected * got["baseline_tonnes"], rel=1e-6)


@pytest.mark.parametrize("probability", [0.1, 0.5, 0.85])
def test_with_probability_p_the_mean_is_p_times_the_share_within_the_stderr(
        ds, probability: float) -> None:
    result = run(ds, "events:\n" + ban("COD", "cobalt", "mining", duration_days=365,
                                       probability=probability), draws=20_000, seed=7)
    got = row(result, "cobalt", "mining")
    expected = probability * share(ds, "cobalt", "mining", "COD")
    assert abs(got["mean_shortfall"] - expected) <= 4 * got["stderr"]
    binomial = share(ds, "cobalt", "mining", "COD") * math.sqrt(
        probability * (1 - probability) / 20_000)
    assert got["stderr"] == pytest.approx(binomial, rel=0.05)
    assert abs(got["prob_any"] - probability) <= 4 * got["prob_any_stderr"]


@pytest.mark.parametrize("days", [0, 1, 30, 60, 200])
def test_a_stockpile_of_d_days_delays_a_total_cut_by_d_days(ds, days: int) -> None:
    text = ("events:\n  - {kind: demand_surge, minerals: [cobalt], stage: refining, share: 1.0,"
            " start_day: 10, duration_days: 300}\n"
            f"mitigations:\n  stockpile_days: {{cobalt: {days}}}\n")
    got = row(run(ds, text, draws=50), "cobalt", "refining")
    assert got["median_first_day"] == 10 + days
    assert got["mean_shortfall"] == pytest.approx((300 - days) / 365, abs=1e-6)


def test_a_stockpile_covers_d_days_of_consumption_so_a_partial_cut_lasts_d_over_s(ds) -> None:
    cut = share(ds, "rare-earths", "mining", "CHN")
    text = ("events:\n" + ban("CHN", "rare-earths", "mining", duration_days=365)
            + "mitigations:\n  stockpile_days: {rare-earths: {days: 60, stage: mining}}\n")
    got = row(run(ds, text, draws=50), "rare-earths", "mining")
    assert got["median_first_day"] == math.floor(60 / cut)
    assert got["mean_shortfall"] == pytest.approx((365 * cut - 60) / 365, abs=1e-6)


def test_refining_loses_the_ore_a_physical_mining_outage_takes(ds) -> None:
    text = ("events:\n  - {kind: facility_outage, country: COD, minerals: [cobalt], "
            "stage: mining, share: 0.5, duration_days: 365}\n")
    result = run(ds, text, draws=50)
    cut = 0.5 * share(ds, "cobalt", "mining", "COD")
    assert row(result, "cobalt", "mining")["mean_shortfall"] == pytest.approx(cut, abs=1e-6)
    assert row(result, "cobalt", "refining")["mean_shortfall"] == pytest.approx(cut, abs=1e-6)


def test_ore_withheld_by_a_ban_is_first_refined_at_home(ds) -> None:
    # China mines about 78% of natural graphite and refines about 96% of battery graphite: an
    # ore ban leaves the world's refiners whole. Congo refines no cobalt: its ban reaches them.
    graphite = run(ds, "events:\n" + ban("CHN", "graphite", "mining"), draws=50)
    assert row(graphite, "graphite", "mining")["mean_shortfall"] > 0.7
    assert "refining" not in set(graphite.results_frame()["stage"])
    cobalt = run(ds, "events:\n" + ban("COD", "cobalt", "mining"), draws=50)
    assert row(cobalt, "cobalt", "refining")["mean_shortfall"] == pytest.approx(
        share(ds, "cobalt", "mining", "COD"), abs=1e-6)


def test_overlapping_events_of_one_country_never_withhold_more_than_its_share(ds) -> None:
    text = "events:\n" + ban("COD", "cobalt", "mining") * 3
    got = row(run(ds, text, draws=20), "cobalt", "mining")
    assert got["mean_shortfall"] == pytest.approx(share(ds, "cobalt", "mining", "COD"), abs=1e-6)
    two = "events:\n" + ban("COD", "cobalt", "mining") + ban("IDN", "cobalt", "mining")
    both = share(ds, "cobalt", "mining", "COD") + share(ds, "cobalt", "mining", "IDN")
    assert row(run(ds, two, draws=20), "cobalt", "mining")["mean_shortfall"] == pytest.approx(
        both, abs=1e-6)


def test_a_quota_in_tonnes_withholds_what_exceeds_it(ds) -> None:
    text = ("events:\n  - {kind: export_quota, country: COD, minerals: [cobalt], stage: mining,"
            " allowed_tonnes_per_year: 100000}\n")
    result = run(ds, text, draws=20)
    got = row(result, "cobalt", "mining")
    world = got["baseline_tonnes"]
    congo = share(ds, "cobalt", "mining", "COD") * world
    assert got["mean_tonnes"] == pytest.approx(congo - 100_000, rel=1e-5)


def test_spare_capacity_answers_after_its_lag(ds) -> None:
    cut = share(ds, "cobalt", "mining", "COD")
    text = ("events:\n" + ban("COD", "cobalt", "mining")
            + "mitigations:\n  spare_capacity: {cobalt: {share: 0.1, lag_days: 90, "
              "stage: mining}}\n")
    got = row(run(ds, text, draws=20), "cobalt", "mining")
    expected = (cut * 90 + (cut - 0.1) * 275) / 365
    assert got["mean_shortfall"] == pytest.approx(expected, abs=1e-6)


def test_substitution_and_recycling_act_on_the_final_stage_only(ds) -> None:
    cut = share(ds, "cobalt", "mining", "COD")
    text = ("events:\n" + ban("COD", "cobalt", "mining")
            + "mitigations:\n  substitution: {cobalt: 0.05}\n  recycling: {cobalt: 0.05}\n")
    result = run(ds, text, draws=20)
    assert row(result, "cobalt", "mining")["mean_shortfall"] == pytest.approx(cut, abs=1e-6)
    assert row(result, "cobalt", "refining")["mean_shortfall"] == pytest.approx(cut - 0.1,
                                                                               abs=1e-6)


def test_an_importer_perspective_cuts_the_importers_share(ds) -> None:
    text = "events:\n" + ban("CHN", "gallium", "refining")
    result = run(ds, text, draws=20, perspective="USA")
    expected = importer_perspective(ds, "USA").mixes[("gallium", "refining")].shares["CHN"]
    got = row(result, "gallium", "refining")
    assert got["mean_shortfall"] == pytest.approx(expected, abs=1e-6)
    assert got["mean_tonnes"] is None  # the importer's tonnes are not in the data


def test_a_product_is_limited_by_its_scarcest_mineral(ds) -> None:
    text = ("events:\n" + ban("COD", "cobalt", "mining", duration_days=100)
            + ban("CHN", "graphite", "refining", duration_days=200))
    result = run(ds, text, draws=20, products=["nmc811"])
    cobalt = row(result, "cobalt", "refining")["mean_shortfall"]
    graphite = row(result, "graphite", "refining")["mean_shortfall"]
    product = result.products_frame().iloc[0]
    # graphite (96% for 200 days) is scarcer on every day the cobalt cut (74%, 100 days) is
    assert product["mean_share_short"] == pytest.approx(max(cobalt, graphite), abs=1e-6)
    assert set(product["minerals_modelled"]) == {"cobalt", "graphite"}


def test_priority_serves_the_first_product_before_the_second(ds) -> None:
    text = ("allocation: priority\nevents:\n"
            + ban("CHN", "graphite", "refining", share=0.5, duration_days=365))
    result = run(ds, text, draws=10, products=["nmc811", "lfp"])
    frame = result.products_frame().set_index("id")
    pro_rata = run(ds, text.replace("priority", "pro-rata"), draws=10,
                   products=["nmc811", "lfp"]).products_frame().set_index("id")
    assert frame.loc["nmc811", "mean_share_short"] < pro_rata.loc["nmc811", "mean_share_short"]
    assert frame.loc["lfp", "mean_share_short"] > pro_rata.loc["lfp", "mean_share_short"]
    # the graphite both products get together is the same either way
    need = {p: load_template(p).demand_kg()["graphite"] for p in ("nmc811", "lfp")}
    used = [sum((1 - f.loc[p, "mean_share_short"]) * need[p] for p in need)
            for f in (frame, pro_rata)]
    assert used[0] == pytest.approx(used[1], rel=1e-5)


def test_price_change_follows_the_isoelastic_formula(ds) -> None:
    text = ("events:\n" + ban("COD", "cobalt", "mining", duration_days=365)
            + "market:\n  elasticities:\n    cobalt: {demand: -0.4, supply: 0.1, source: test}\n")
    got = row(run(ds, text, draws=10), "cobalt", "refining")
    cut = share(ds, "cobalt", "mining", "COD")
    assert got["price_change_mean"] == pytest.approx((1 - cut) ** (1 / (-0.4 - 0.1)) - 1,
                                                     rel=1e-5)
    without = row(run(ds, "events:\n" + ban("COD", "cobalt", "mining"), draws=10),
                  "cobalt", "refining")
    assert without["price_change_mean"] is None
    assert without["price_note"].startswith("not estimated")


def test_a_family_event_reaches_the_rare_earth_elements_in_products(ds) -> None:
    result = run(ds, "events:\n" + ban("CHN", "rare-earths", "refining", duration_days=73),
                 draws=10, products=["ndfeb-motor"])
    cut = share(ds, "rare-earths", "refining", "CHN") * 73 / 365
    assert row(result, "neodymium", "refining")["mean_shortfall"] == pytest.approx(cut,
                                                                                  abs=1e-6)
    assert result.products_frame().iloc[0]["mean_share_short"] == pytest.approx(cut, abs=1e-6)
    assert np.isclose(result.mean_path[:, 0:73].max(), share(ds, "rare-earths", "refining",
                                                              "CHN"), atol=1e-6)


def test_the_cost_of_supply_lost_is_tonnes_times_the_latest_price(ds) -> None:
    got = row(run(ds, "events:\n" + ban("CHN", "tungsten", "mining", duration_days=365),
                  draws=10), "tungsten", "mining")
    prices = ds.prices
    tungsten = prices[(prices["mineral"] == "tungsten") & (prices["year"] == 2025)]
    assert got["price_usd_per_t"] == pytest.approx(float(tungsten["usd_per_t"].iloc[0]))
    assert got["mean_cost_usd"] == pytest.approx(got["mean_tonnes"] * got["price_usd_per_t"])


def test_an_event_on_a_country_without_a_share_changes_nothing_and_says_so(ds) -> None:
    result = run(ds, "events:\n" + ban("CHL", "cobalt", "mining"), draws=10)
    assert result.results_frame().empty
    assert any("Chile has no share of cobalt mining" in n for n in result.model.notes)
