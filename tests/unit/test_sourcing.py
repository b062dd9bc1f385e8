"""Sourcing optimisation: hand-made instances with known optima, caps, MILP, infeasibility."""

from __future__ import annotations

import itertools

import pytest

from kizuna.data.bundle import load_dataset
from kizuna.errors import InputError
from kizuna.exposure.rules import load_pack
from kizuna.products.model import Line, Product
from kizuna.sourcing import Assumptions, build, frontier, parse_assumptions, solve
from kizuna.sourcing.build import Row, SourcingModel, SupplyPath

DS = load_dataset()


def tiny(caps: dict[str, tuple[float, float]], *, share_cap: float | None = None,
         min_order: float = 0.0) -> SourcingModel:
    """One mineral, mining only, demand 100 t; caps: country -> (capacity t, USD/t)."""
    paths = [SupplyPath("m", iso3, None, cost) for iso3, (_, cost) in caps.items()]
    model = SourcingModel("p", 1.0, None, {"m": 100.0}, {"m": (10.0, "test")},
                          {("m", "mining", c): cap for c, (cap, _) in caps.items()}, paths, [],
                          [], [1.0 if p.mine == "AAA" else 0.0 for p in paths], 100.0,
                          {"m": ("mining",)}, Assumptions())
    model.rows.append(Row("demand", "m", "*", {i: 1.0 for i in range(len(paths))}, 100, 100,
                          "demand"))
    for i, iso3 in enumerate(caps):
        model.rows.append(Row("capacity", "m", "mining", {i: 1.0}, 0, caps[iso3][0], iso3))
        if share_cap is not None:
            model.rows.append(Row("rule:cap", "m", "mining", {i: 1.0}, 0, share_cap * 100,
                                  f"m mining: {iso3} (cap)"))
    if min_order:
        for i, iso3 in enumerate(caps):
            b = len(paths) + len(model.binaries)
            model.binaries.append(("m", "mining", iso3))
            model.rows.append(Row("link", "m", "mining", {i: 1.0, b: -caps[iso3][0]},
                                  -float("inf"), 0, "link"))
            model.rows.append(Row("min_order", "m", "mining", {i: 1.0, b: -min_order}, 0,
                                  float("inf"), f"{iso3} min order"))
    return model


def tonnes(result: object) -> dict[str, float]:
    return {p["mine_iso3"]: round(p["tonnes"], 6) for p in result.paths}  # type: ignore[attr-defined]


def test_tiny_lp_fills_the_cheapest_source_first() -> None:
    result = solve(tiny({"AAA": (80, 10), "BBB": (100, 12)}))
    assert result.status == "optimal"
    assert tonnes(result) == {"AAA": 80, "BBB": 20}
    assert result.cost == pytest.approx(1040)
    assert result.risk == pytest.approx(0.8)


def test_a_65_percent_cap_binds_and_raises_cost_by_the_closed_form() -> None:
    result = solve(tiny({"AAA": (80, 10), "BBB": (100, 12)}, share_cap=0.65))
    assert tonnes(result) == {"AAA": 65, "BBB": 35}
    assert result.cost == pytest.approx(65 * 10 + 35 * 12)


def test_minimum_orders_make_a_milp_with_the_hand_checked_optimum() -> None:
    caps = {"AAA": (80, 10), "BBB": (100, 12), "CCC": (30, 11)}
    assert tonnes(solve(tiny(caps))) == {"AAA": 80, "CCC": 20}
    result = solve(tiny(caps, min_order=25))
    assert tonnes(result) == {"AAA": 75, "CCC": 25}
    assert result.cost == pytest.approx(75 * 10 + 25 * 11)


def test_infeasible_tiny_instance_names_stage_capacity_and_rule() -> None:
    result = solve(tiny({"AAA": (80, 10), "BBB": (20, 12)}, share_cap=0.65))
    assert result.status == "infeasible" and result.cost is None
    assert result.violations == ["m mining: partner capacity 85 t < demand 100 t under cap"]


def test_risk_weight_moves_tonnes_away_from_the_risk_group() -> None:
    result = solve(tiny({"AAA": (80, 10), "BBB": (100, 12)}), risk_weight=5)
    assert tonnes(result) == {"BBB": 100}


def battery() -> Product:
    return Product("b", "battery", "1 kWh", 1.0, tuple(
        Line(m, kg, "cell") for m, kg in (("cobalt", 0.076), ("graphite", 0.854))))


def test_eu_crma_plan_keeps_every_third_country_at_or_below_65_percent_at_both_stages() -> None:
    result = solve(build(DS, battery(), volume=75000, pack=load_pack("eu-crma")))
    assert result.status == "optimal"
    eu = DS.groups["eu27"].members
    assert {(r["mineral"], r["stage"]) for r in result.plan} == {
        (m, s) for m in ("cobalt", "graphite") for s in ("mining", "refining")}
    assert all(r["share"] <= 0.65 + 1e-6 for r in result.plan if r["iso3"] not in eu)
    plain = solve(build(DS, battery(), volume=75000))
    assert plain.cost is not None and result.cost is not None
    assert plain.cost < result.cost  # the cap binds: graphite is ~96% Chinese refining
    for mineral in ("cobalt", "graphite"):
        for stage in ("mining", "refining"):
            total = sum(r["tonnes"] for r in result.plan
                        if (r["mineral"], r["stage"]) == (mineral, stage))
            assert total == pytest.approx(battery().demand_kg()[mineral] * 75)


def test_real_data_infeasible_says_which_stage_lacks_capacity_under_the_cap() -> None:
    result = solve(build(DS, battery(), volume=5e7, pack=load_pack("eu-crma")))
    assert result.status == "infeasible"
    assert any(v.startswith("graphite refining: partner capacity") and "crma-65" in v
               for v in result.violations)


def test_frontier_cost_does_not_fall_as_the_risk_cap_tightens() -> None:
    result = frontier(build(DS, battery(), volume=75000, pack=load_pack("eu-crma")), 4)
    costs = [p["cost"] for p in result.frontier]
    risks = [p["risk"] for p in result.frontier]
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(costs))
    assert risks[0] > risks[-1]


def test_unknown_assumption_field_and_missing_price_are_named() -> None:
    with pytest.raises(InputError, match="unknown field 'capacity'"):
        parse_assumptions({"capacity": 0.2})
    product = Product("f", "f", "1", 1.0, (Line("fluorspar", 1.0, "x"),))
    with pytest.raises(InputError, match="no price for fluorspar") as caught:
        build(DS, product)
    assert caught.value.fields["field"] == "prices"
    priced = build(DS, product, assumptions=Assumptions(price_default=500.0))
    assert priced.prices["fluorspar"][0] == 500.0
    with pytest.raises(InputError, match="capacity_share"):
        parse_assumptions({"capacity_share": 2})
