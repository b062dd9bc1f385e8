"""The Monte Carlo engine: seeds, split invariance, summaries and property tests."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.data.bundle import load_dataset
from kizuna.scenarios import build_model, load_scenario, parse_scenario_text, run_model
from kizuna.scenarios.distributions import Distribution, normal_ppf
from kizuna.scenarios.engine import block_rng, simulate_block
from kizuna.scenarios.result import ScenarioResult, _median_step
from kizuna.scenarios.runner import blocks_of, resolve_products
from kizuna.scenarios.summary import summarise

UNCERTAIN = """\
name: uncertain
year: 2025
events:
  - kind: export_ban
    country: COD
    minerals: [cobalt]
    stage: mining
    share: {dist: uniform, low: 0.2, high: 1.0}
    start_day: {dist: uniform, low: 0, high: 300}
    duration_days: {dist: lognormal, median: 60, sigma: 0.8, max: 365}
    probability: 0.4
  - kind: export_ban
    country: CHN
    minerals: [graphite, rare-earths]
    stage: refining
    share: {dist: triangular, low: 0.1, mode: 0.5, high: 0.9}
    start_day: {dist: uniform, low: 0, high: 360}
    duration_days: {dist: uniform, low: 10, high: 120}
    probability: 0.3
mitigations:
  stockpile_days: {cobalt: 30}
  spare_capacity: {cobalt: {share: 0.05, lag_days: 20, stage: refining}}
"""


@pytest.fixture(scope="module")
def model():
    ds = load_dataset()
    scenario = parse_scenario_text(UNCERTAIN, origin="u.yaml", dataset=ds)
    return build_model(ds, scenario, products=resolve_products(scenario, ["nmc811",
                                                                          "ndfeb-motor"]))


def same(a: ScenarioResult, b: ScenarioResult) -> bool:
    return all(np.array_equal(x, y, equal_nan=True) for x, y in (
        (a.shortfall, b.shortfall), (a.peak_sum, b.peak_sum), (a.first_counts, b.first_counts),
        (a.price_change, b.price_change), (a.product_short, b.product_short),
        (a.mean_path, b.mean_path), (a.probability_path, b.probability_path)))


def test_the_same_seed_gives_the_same_answer_and_another_seed_does_not(model) -> None:
    first = run_model(model, draws=3000, seed=11, block_size=1000)
    assert same(first, run_model(model, draws=3000, seed=11, block_size=1000))
    assert not np.array_equal(first.shortfall, run_model(model, draws=3000, seed=12,
                                                         block_size=1000).shortfall)


def test_a_block_uses_the_seed_sequence_child_of_its_index() -> None:
    children = np.random.SeedSequence(42).spawn(4)
    for index, child in enumerate(children):
        assert np.array_equal(block_rng(42, index).random(5),
                              np.random.default_rng(child).random(5))


def test_blocks_joined_in_any_order_give_the_local_answer(model) -> None:
    local = run_model(model, draws=2500, seed=3, block_size=1000)
    blocks = [simulate_block(model, 3, index, size) for index, size in blocks_of(2500, 1000)]
    assert same(local, ScenarioResult.from_blocks(model, blocks[::-1], 3, 1000))


def test_the_chunking_inside_a_block_changes_nothing(model) -> None:
    whole = simulate_block(model, 5, 2, 1500, chunk=1500)
    for chunk in (1, 7, 256):
        part = simulate_block(model, 5, 2, 1500, chunk=chunk)
        assert np.array_equal(whole.shortfall, part.shortfall)
        assert np.array_equal(whole.product_short, part.product_short)
        assert np.allclose(whole.path_sum, part.path_sum, rtol=1e-12)


def test_the_first_draws_of_a_longer_run_are_the_draws_of_a_shorter_one(model) -> None:
    short = run_model(model, draws=1500, seed=9, block_size=500)
    long = run_model(model, draws=4000, seed=9, block_size=500)
    assert np.array_equal(short.shortfall, long.shortfall[:1500])


def test_summaries_follow_their_definitions() -> None:
    values = np.array([0.0] * 90 + [0.1] * 5 + [0.2, 0.3, 0.4, 0.5, 0.6])
    stats = summarise(values)
    assert stats["mean"] == pytest.approx(values.mean())
    assert stats["stderr"] == pytest.approx(values.std(ddof=1) / 10)
    assert stats["p50"] == 0.0 and stats["p90"] == 0.0
    assert stats["p95"] == stats["var95"] == 0.1  # the 95th of 100 sorted values
    assert stats["p99"] == stats["var99"] == 0.5
    assert stats["es95"] == pytest.approx(np.mean([0.2, 0.3, 0.4, 0.5, 0.6]))
    assert stats["es99"] == pytest.approx(0.6)
    assert stats["prob_any"] == 0.1
    assert stats["prob_any_stderr"] == pytest.approx(math.sqrt(0.1 * 0.9 / 100))


def test_the_inverse_normal_matches_the_standard_library() -> None:
    grid = np.concatenate([np.linspace(1e-9, 1 - 1e-9, 2001), [1e-300, 1e-20, 0.5]])
    expected = [NormalDist().inv_cdf(float(u)) for u in grid]
    assert np.allclose(normal_ppf(grid), expected, rtol=1e-12, atol=1e-12)
    assert normal_ppf(np.array([0.0, 1.0])).tolist() == [-math.inf, math.inf]


DISTRIBUTIONS = st.one_of(
    st.tuples(st.floats(0, 1), st.floats(0, 1)).map(
        lambda t: Distribution("uniform", low=min(t), high=max(t))),
    st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)).map(
        lambda t: Distribution("triangular", low=sorted(t)[0], mode=sorted(t)[1],
                               high=sorted(t)[2])),
    st.tuples(st.floats(0.01, 100), st.floats(0, 3)).map(
        lambda t: Distribution("lognormal", median=t[0], sigma=t[1], cap=200.0)),
)


@given(DISTRIBUTIONS)
@settings(max_examples=60, deadline=None)
def test_quantiles_stay_in_range_and_never_decrease(dist: Distribution) -> None:
    uniforms = np.linspace(0, 1 - 1e-12, 257)
    values = dist.ppf(uniforms)
    assert np.all(np.diff(values) >= -1e-9)
    assert values.min() >= dist.minimum - 1e-9 and values.max() <= dist.maximum + 1e-9


EVENT = """\
name: p
year: 2025
events:
  - kind: export_ban
    country: {country}
    minerals: [cobalt]
    stage: mining
    share: {share}
    start_day: {{dist: uniform, low: 0, high: 300}}
    duration_days: {{dist: uniform, low: 0, high: {duration}}}
    probability: {probability}
  - kind: demand_surge
    minerals: [cobalt]
    share: {surge}
    probability: 0.5
    duration_days: 90
mitigations:
  stockpile_days: {{cobalt: {stock}}}
"""


def _model(**values):
    ds = load_dataset()
    scenario = parse_scenario_text(EVENT.format(**values), origin="p.yaml", dataset=ds)
    return build_model(ds, scenario, products=resolve_products(scenario, ["nmc811"]))


@given(share=st.floats(0, 1), probability=st.floats(0, 1), duration=st.integers(0, 400),
       surge=st.floats(0, 1), stock=st.integers(0, 120),
       country=st.sampled_from(["COD", "IDN", "CHN"]))
@settings(max_examples=25, deadline=None)
def test_every_shortfall_is_a_share_between_0_and_1(share, probability, duration, surge, stock,
                                                    country) -> None:
    result = run_model(_model(share=share, probability=probability, duration=duration,
                              surge=surge, stock=stock, country=country), draws=300, seed=1)
    assert np.all(result.shortfall >= 0) and np.all(result.shortfall <= 1 + 1e-6)
    assert np.all(result.peak_max <= 1 + 1e-6)
    assert np.all(result.first_counts.sum(axis=1) <= 300)
    assert np.all(result.product_short >= 0) and np.all(result.product_short <= 1 + 1e-6)
    assert np.all(result.probability_path <= 1)


@given(low=st.floats(0, 1), high=st.floats(0, 1), stock=st.integers(0, 90))
@settings(max_examples=25, deadline=None)
def test_a_larger_cut_never_lowers_any_draws_shortfall(low, high, stock) -> None:
    low, high = sorted((low, high))
    common = {"probability": 0.6, "duration": 200, "surge": 0.1, "stock": stock,
              "country": "COD"}
    small = run_model(_model(share=low, **common), draws=300, seed=2)
    large = run_model(_model(share=high, **common), draws=300, seed=2)
    assert np.all(large.shortfall >= small.shortfall - 1e-6)
    assert np.all(large.product_short >= small.product_short - 1e-6)


@given(draws=st.integers(1, 900), block=st.integers(1, 400), chunk=st.integers(1, 300))
@settings(max_examples=20, deadline=None)
def test_splitting_the_work_never_changes_the_answer(model, draws, block, chunk) -> None:
    reference = run_model(model, draws=draws, seed=4, block_size=block)
    parts = [simulate_block(model, 4, index, size, chunk=chunk)
             for index, size in blocks_of(draws, block)]
    joined = ScenarioResult.from_blocks(model, parts[::-1], 4, block)
    assert np.array_equal(reference.shortfall, joined.shortfall)
    assert np.array_equal(reference.product_short, joined.product_short)
    assert np.allclose(reference.mean_path, joined.mean_path, rtol=1e-12, atol=1e-15)


def test_the_engine_agrees_with_the_plain_loop_of_the_benchmark() -> None:
    """An independent oracle: benchmarks/scenarios.py's per-draw Python loop, on the
    benchmark scenario (12 events, stockpiles, spare capacity, rare-earth element twins)."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "scenarios.py"
    spec = importlib.util.spec_from_file_location("kizuna_bench_scenarios", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    ds = load_dataset()
    scenario = load_scenario(bench.SCENARIO, dataset=ds)
    model = build_model(ds, scenario, products=resolve_products(scenario))
    assert len(scenario.events) >= 10 and len(scenario.minerals) >= 10
    shortfall, products, _ = bench.run_loop(model, 31, 120)
    block = simulate_block(model, 31, 0, 120)
    assert np.abs(block.shortfall - shortfall).max() < 1e-5
    assert np.abs(block.product_short - products).max() < 1e-5
    assert block.shortfall.max() > 0.05  # the draws do disrupt something


@given(st.lists(st.integers(0, 30), min_size=1, max_size=60))
def test_the_median_first_day_from_the_histogram_is_numpys_median(days: list[int]) -> None:
    counts = np.bincount(days, minlength=31)
    assert _median_step(counts, 7) == float(np.median(days)) * 7
    assert _median_step(np.zeros(31, np.int64), 7) is None
