"""Properties of the partner score: on the pure scoring functions, on synthetic datasets built
with the real schemas, and on the shipped data."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.data.bundle import Dataset, load_dataset
from kizuna.data.schema import GOVERNANCE, LIST_MEMBERS, LISTS, SOURCES, SUPPLY
from kizuna.model import CountryGroup, Mineral
from kizuna.partners import FACTOR_NAMES, resolve_weights, scout
from kizuna.partners.score import normalise, rank, score_table

COUNTRIES = ["AUS", "CAN", "CHL", "CHN", "COD", "IDN", "USA", "ZAF"]

finite = st.floats(min_value=0.0, max_value=1e9, allow_nan=False)
growths = st.floats(min_value=-1.0, max_value=10.0)
raw_values = {
    "reserves": finite, "production": finite, "growth": growths,
    "rp_years": st.floats(min_value=0.0, max_value=1e4), "governance":
    st.floats(min_value=0.0, max_value=10.0), "alignment": st.integers(0, 4).map(float),
    "refining_gap": st.floats(min_value=-1.0, max_value=1.0),
}  # fmt: skip
positive = st.floats(min_value=0.01, max_value=100.0)


@st.composite
def tables(draw: st.DrawFn) -> dict[str, list[float]]:
    """Raw values of every factor for 1-8 candidates; some missing (NaN), some unbounded."""
    size = draw(st.integers(1, 8))
    out = {}
    for name, values in raw_values.items():
        column = draw(st.lists(values, min_size=size, max_size=size))
        if name != "alignment":
            holes = draw(st.lists(st.sampled_from([None, math.nan, math.inf]),
                                  min_size=size, max_size=size))
            column = [value if hole is None or (hole == math.inf and name not in (
                "growth", "rp_years")) else hole for value, hole in zip(column, holes,
                                                                         strict=True)]
        out[name] = column
    return out


weight_sets = st.fixed_dictionaries({name: positive for name in FACTOR_NAMES})


def _scores(raw: dict[str, list[float]], weights: dict[str, float]) -> np.ndarray:
    total = math.fsum(weights.values())
    _, points = score_table({k: np.asarray(v) for k, v in raw.items()},
                            {k: v / total for k, v in weights.items()}, partner_groups=4)
    return points.sum(axis=1)


@settings(max_examples=150, deadline=None)
@given(tables(), weight_sets)
def test_normalised_values_lie_in_0_1_and_scores_in_0_100(
    raw: dict[str, list[float]], weights: dict[str, float]
) -> None:
    for name, values in raw.items():
        out = normalise(name, values, partner_groups=4)
        assert ((out >= 0) & (out <= 1)).all()
        assert (out[np.isnan(np.asarray(values))] == 0).all()  # missing scores 0
    scores = _scores(raw, weights)
    assert ((scores >= -1e-9) & (scores <= 100 + 1e-9)).all()


@settings(max_examples=200, deadline=None)
@given(tables(), weight_sets, st.sampled_from(FACTOR_NAMES), st.data())
def test_the_score_never_falls_when_one_raw_value_rises(
    raw: dict[str, list[float]], weights: dict[str, float], factor: str, data: st.DataObject
) -> None:
    """Every factor is "more is better" after its own rule (governance: the scaled WGI is a
    risk score, so less is better)."""
    index = data.draw(st.integers(0, len(raw[factor]) - 1))
    step = data.draw(st.floats(min_value=1e-6, max_value=1e3))
    if not math.isfinite(raw[factor][index]):
        raw[factor][index] = 0.0
    better = {name: list(values) for name, values in raw.items()}
    better[factor][index] += -step if factor == "governance" else step
    before, after = _scores(raw, weights)[index], _scores(better, weights)[index]
    assert after >= before - 1e-9


@settings(max_examples=100, deadline=None)
@given(tables(), weight_sets, st.floats(min_value=1e-3, max_value=1e3))
def test_scaling_every_weight_changes_nothing(
    raw: dict[str, list[float]], weights: dict[str, float], factor: float
) -> None:
    plain = resolve_weights("mining", weights).values
    scaled = resolve_weights("mining", {k: v * factor for k, v in weights.items()}).values
    for name in FACTOR_NAMES:
        assert math.isclose(plain[name], scaled[name], rel_tol=1e-12)
    assert np.allclose(_scores(raw, plain), _scores(raw, scaled), atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(tables(), weight_sets, st.randoms(use_true_random=False))
def test_the_order_candidates_come_in_does_not_matter(
    raw: dict[str, list[float]], weights: dict[str, float], shuffler: object
) -> None:
    size = len(raw["growth"])
    order = list(range(size))
    shuffler.shuffle(order)  # type: ignore[attr-defined]
    moved = {name: [values[i] for i in order] for name, values in raw.items()}
    assert np.allclose(_scores(moved, weights), _scores(raw, weights)[order], atol=1e-9)


def test_rank_breaks_ties_by_code_and_keeps_only_what_is_kept() -> None:
    assert rank([1.0, 2.0, 2.0], ["C", "B", "A"]) == [2, 1, 0]
    assert rank([1.0, 2.0, 2.0], ["C", "B", "A"], [True, False, True]) == [2, 0]


# ---- the shipped data: excluding countries never reorders the others --------------------


@cache
def _shipped() -> Dataset:
    return load_dataset()


@cache
def _full(mineral: str, stage: str) -> tuple[tuple[str, float], ...]:
    result = scout(_shipped(), mineral, stage=stage)
    return tuple((c.iso3, c.score) for c in result.candidates)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([("cobalt", "refining"), ("lithium", "mining"),
                        ("rare-earths", "refining"), ("nickel", "mining")]), st.data())
def test_excluding_countries_never_changes_the_others_order_or_scores(
    case: tuple[str, str], data: st.DataObject
) -> None:
    full = _full(*case)
    codes = [code for code, _ in full]
    gone = data.draw(st.sets(st.sampled_from(codes), max_size=len(codes) - 1))
    result = scout(_shipped(), case[0], stage=case[1], exclude=sorted(gone))
    assert [(c.iso3, c.score) for c in result.candidates] == [
        (code, score) for code, score in full if code not in gone]
    assert [c.rank for c in result.candidates] == list(range(1, len(full) - len(gone) + 1))


# ---- synthetic datasets through the whole path ------------------------------------------


def _row(stage: str, measure: str, area: str, year: int, value: float) -> dict[str, object]:
    return {
        "mineral": "testium", "stage": stage, "measure": measure, "series": f"{measure} s",
        "area": area, "is_aggregate": area in ("WORLD", "OTHER"), "area_name": area,
        "year": year, "value": value, "value_min": None, "value_max": None,
        "value_code": None, "unit": "t Ts content", "estimated": False, "headline": True,
        "source": "test", "citation": f"synthetic {measure} {year}",
    }  # fmt: skip


def _dataset(production: dict[str, tuple[float, float]], reserves: dict[str, float],
             wgi: dict[str, float]) -> Dataset:
    rows = []
    for year, column in ((2024, 0), (2025, 1)):
        rows += [_row("mining", "production", iso, year, pair[column])
                 for iso, pair in production.items()]
        rows.append(_row("mining", "production", "WORLD", year,
                         sum(pair[column] for pair in production.values()) or 1.0))
    rows += [_row("mining", "reserves", iso, 2025, value) for iso, value in reserves.items()]
    governance = pd.DataFrame([
        {"iso3": iso, "year": 2023, **dict.fromkeys(("va", "pv", "ge", "rq", "rl", "cc"), v),
         "source": "test"} for iso, v in {"NOR": 1.0, **wgi}.items()
    ])  # fmt: skip
    empty = {table.name: pd.DataFrame(columns=[c.name for c in table.columns])
             for table in (LISTS, LIST_MEMBERS, SOURCES)}
    return Dataset(
        supply=SUPPLY.conform(pd.DataFrame(rows)), governance=GOVERNANCE.conform(governance),
        lists=empty["lists"], list_members=empty["list_members"], sources=empty["sources"],
        minerals={"testium": Mineral("testium", "Testium", "Ts", "test", ())},
        groups={"allies": CountryGroup("allies", "Allies", frozenset({"AUS", "CAN"}), "", "")},
    )  # fmt: skip


amounts = st.floats(min_value=1.0, max_value=1e7)
worlds = st.fixed_dictionaries({
    "production": st.dictionaries(st.sampled_from(COUNTRIES), st.tuples(amounts, amounts),
                                  min_size=1, max_size=8),
    "reserves": st.dictionaries(st.sampled_from(COUNTRIES), amounts, max_size=8),
    "wgi": st.dictionaries(st.sampled_from(COUNTRIES), st.floats(-2.5, 2.5), max_size=8),
})


@settings(max_examples=15, deadline=None)
@given(worlds, st.data())
def test_more_reserves_or_better_governance_never_lowers_a_score(
    world: dict[str, dict[str, object]], data: st.DataObject
) -> None:
    """Through gather and scout: reserves feed two factors (reserves, R/P) and governance
    one; raising either for one country never lowers its score."""
    production = dict(world["production"])  # type: ignore[arg-type]
    reserves = dict(world["reserves"])  # type: ignore[arg-type]
    wgi = dict(world["wgi"])  # type: ignore[arg-type]
    who = data.draw(st.sampled_from(sorted(production)))
    more = data.draw(st.floats(min_value=1.0, max_value=1e8))

    def score(ds: Dataset) -> float:
        found = scout(ds, "testium", partners=["allies"])
        return next(c.score for c in found.candidates if c.iso3 == who)

    base = score(_dataset(production, reserves, wgi))
    richer = {**reserves, who: reserves.get(who, 0.0) + more}
    assert score(_dataset(production, richer, wgi)) >= base - 1e-9
    better = {**wgi, who: min(2.5, wgi.get(who, 0.0) + 0.5)}
    assert score(_dataset(production, reserves, better)) >= base - 1e-9
