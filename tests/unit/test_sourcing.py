"""Sourcing optimisation: hand-checked reference plans (tests/data/sourcing/reference.yaml),
CVaR in closed form, statuses, assumptions, suppliers and the transition path; then the real
bundled data."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy.sparse import csr_array

from kizuna.data.bundle import load_dataset
from kizuna.data.sheets import SheetOrigin
from kizuna.errors import InputError
from kizuna.exposure.rules import load_pack, parse_pack
from kizuna.products.model import Line, Product
from kizuna.sourcing import (
    Assumptions,
    Measure,
    ShortfallDraws,
    SourcingModel,
    build,
    frontier,
    parse_assumptions,
    parse_years,
    solve,
    transition,
)
from kizuna.sourcing.build import add_mineral, finish
from kizuna.sourcing.problem import Outcome, Problem
from kizuna.sourcing.rules import apply_pack
from kizuna.sourcing.shortfall import cvar
from kizuna.sourcing.solve import SourcingResult, outcome_result, violated
from kizuna.sourcing.suppliers import Supplier, parse_suppliers

DS = load_dataset()
REFERENCE = Path(__file__).parents[1] / "data" / "sourcing" / "reference.yaml"
CASES = yaml.safe_load(REFERENCE.read_text("utf-8"))


def model_of(case: dict[str, Any]) -> SourcingModel:
    """A model put together from a reference case with the library's own pieces."""
    model = SourcingModel.new("ref", 1.0, parse_assumptions(case.get("assumptions")))
    for mineral, spec in case["minerals"].items():
        named = [Supplier(s["supplier"], mineral, s["stage"], s["country"], s["capacity_t"],
                          s.get("premium"), s.get("owner")) for s in spec.get("suppliers", [])]
        add_mineral(model, mineral, spec["demand"], spec["price"], "reference",
                    spec["supply"], named)
    if case.get("rules"):
        pack = parse_pack({"id": "ref", "rules": case["rules"],
                           "partners": {"members": case.get("partners", [])}}, "ref.yaml")
        apply_pack(None, model, pack, {})
    return finish(model)


def by_path(result: SourcingResult) -> dict[str, float]:
    out: dict[str, float] = {}
    for p in result.paths:
        key = f"{p['mineral']} {p['mine_iso3'] or '-'} {p['refine_iso3'] or '-'}"
        out[key] = out.get(key, 0.0) + p["tonnes"]
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_reference_plans_match_the_hand_worked_optimum(case: dict[str, Any]) -> None:
    model = model_of(case)
    result = solve(model)
    expect = case["expect"]
    assert result.status == expect["status"]
    if expect["status"] != "optimal":
        assert result.violations == expect["violations"] and result.cost is None
        return
    assert result.cost == pytest.approx(expect["cost"], rel=1e-9)
    if "paths" in expect:
        assert by_path(result) == pytest.approx(expect["paths"], rel=1e-6)
    if "stages" in expect:
        stages = {f"{r['mineral']} {r['stage']} {r['iso3']}": r["tonnes"] for r in result.plan}
        assert stages == pytest.approx(expect["stages"], rel=1e-9)
    assert result.plan and all(r["cost"] >= 0 for r in result.plan)
    assert sum(r["cost"] for r in result.plan) == pytest.approx(result.cost, rel=1e-9)


def test_plan_rows_add_up_to_demand_at_each_stage() -> None:
    result = solve(model_of(CASES[2]))
    for stage in ("mining", "refining"):
        assert sum(r["tonnes"] for r in result.plan if r["stage"] == stage) == pytest.approx(100)


def test_risk_weight_moves_tonnes_away_from_the_risk_group() -> None:
    model = model_of(CASES[0])
    model.risky = frozenset({"AUS"})
    model.risk = [1.0 if p.at("mining") == "AUS" else 0.0 for p in model.paths]
    model.risk_basis = 100.0
    assert by_path(solve(model, risk_weight=1.0)) == pytest.approx({"m AUS -": 80,
                                                                    "m BRA -": 20})
    assert by_path(solve(model, risk_weight=5.0)) == pytest.approx({"m BRA -": 100})
    capped = solve(model, risk_cap=0.3)
    assert capped.risk == pytest.approx(0.3) and capped.cost == pytest.approx(30 * 10 + 70 * 12)


# ---------------------------------------------------------------- CVaR in closed form


def two_source_draws(model: SourcingModel, n: int, hit: int) -> ShortfallDraws:
    """AUS loses its whole year in the first ``hit`` of ``n`` draws; nothing else happens."""
    loss = csr_array((np.ones(hit), (np.arange(hit), np.zeros(hit, dtype=int))),
                     shape=(n, 1))
    return ShortfallDraws("test", "test", n, 0, [("m", "mining", "AUS")], loss, [],
                          csr_array((n, 0)))


def test_cvar_of_a_plan_is_the_mean_of_the_worst_tail_by_hand() -> None:
    model = model_of(CASES[0])  # 80 t AUS at 10/t, 20 t BRA at 12/t
    draws = two_source_draws(model, 100, 10)  # 10% of draws lose AUS
    result = solve(model, measure=Measure("cvar", draws, 0.95))
    assert result.cvar is not None
    # the worst 5% of draws all lose the 80 t from AUS at 10 USD/t: CVaR = 800, VaR = 800
    assert result.cvar["value"] == pytest.approx(800) and result.cvar["var"] == pytest.approx(800)
    assert result.cvar["mean"] == pytest.approx(80)
    # at alpha 0.8 the tail is 20 draws, half of them losing 800: CVaR = 400
    assert cvar(draws.losses(model, np.array([80.0, 20.0])), 0.8)[0] == pytest.approx(400)


def test_cvar_weight_and_cap_trade_cost_for_tail_loss() -> None:
    model = model_of(CASES[0])
    measure = Measure("cvar", two_source_draws(model, 100, 10), 0.95)
    # moving a tonne from AUS to BRA costs 2 and saves 10 of CVaR: with weight 1 all goes
    assert by_path(solve(model, risk_weight=1.0, measure=measure)) == pytest.approx(
        {"m BRA -": 100})
    # weight 0.1 saves 1 per tonne moved, less than the 2 it costs: stay cheapest
    assert by_path(solve(model, risk_weight=0.1, measure=measure))["m AUS -"] == \
        pytest.approx(80)
    capped = solve(model, risk_cap=300.0, measure=measure)  # CVaR 10 x AUS tonnes <= 300
    assert by_path(capped) == pytest.approx({"m AUS -": 30, "m BRA -": 70})
    assert capped.cost == pytest.approx(30 * 10 + 70 * 12)
    swept = frontier(model, 3, measure=measure)
    assert [p["risk"] for p in swept.frontier] == pytest.approx([800, 400, 0], rel=1e-6)
    assert [p["cost"] for p in swept.frontier] == pytest.approx([1040, 1120, 1200], rel=1e-6)


def test_the_lp_cvar_equals_the_plan_evaluated_on_its_draws() -> None:
    model = model_of(CASES[2])  # two stages; overlap pairs need the sparse correction form
    n = 200
    rng = np.random.default_rng(3)
    mine_hit = rng.random(n) * (rng.random(n) < 0.2)
    refine_hit = rng.random(n) * (rng.random(n) < 0.2)
    pair = np.minimum(mine_hit, refine_hit)  # overlap when both ends lose: loss = max
    loss = csr_array(np.column_stack([mine_hit, refine_hit]))
    draws = ShortfallDraws("t", "t", n, 0, [("m", "mining", "AUS"), ("m", "refining", "CHL")],
                           loss, [("m", "AUS", "CHL")], csr_array(pair.reshape(-1, 1)))
    measure = Measure("cvar", draws, 0.9)
    problem = Problem(model, measure)
    found = problem.run(cost=0.0, risk=1.0)
    assert found.x is not None
    evaluated = cvar(draws.losses(model, found.x[: len(model.paths)]), 0.9)[0]
    assert float(problem.risk @ found.x) == pytest.approx(evaluated, rel=1e-6, abs=1e-6)
    dense = draws.path_loss(model).toarray()
    for index, path in enumerate(model.paths):
        expected = np.maximum(mine_hit if path.at("mining") == "AUS" else 0,
                              refine_hit if path.at("refining") == "CHL" else 0)
        assert dense[:, index] == pytest.approx(expected)


# ---------------------------------------------------------------- statuses


def test_a_solver_failure_is_an_error_not_infeasible() -> None:
    model = model_of(CASES[0])
    problem = Problem(model)
    base = SourcingResult("optimal", 0.0, 0.0, [], [], [], [], [])
    failed = outcome_result(model, problem, Outcome(4, "numerical trouble", None, 0.1), base)
    assert failed.status == "error" and failed.exit_code == 4
    assert "numerical trouble" in failed.violations[0]


def test_a_time_limit_is_reported_as_such_with_exit_4() -> None:
    result = solve(model_of(CASES[4]), time_limit=1e-9)
    assert result.status == "time_limit" and result.exit_code == 4
    assert "time limit" in result.violations[0] and "not infeasible" in result.violations[0]


def test_a_returned_plan_that_breaks_a_row_is_flagged() -> None:
    model = model_of(CASES[1])
    x = np.array([80.0, 20.0])  # AUS above its 65 t cap
    assert violated(model, x) == ["m mining: AUS <= 65% (cap): the plan gives 80"]
    base = SourcingResult("optimal", 0.0, 0.0, [], [], [], [], [])
    flagged = outcome_result(model, Problem(model), Outcome(0, "ok", x, 0.0), base)
    assert flagged.status == "error" and flagged.exit_code == 4


# ---------------------------------------------------------------- inputs


def test_unknown_assumption_field_and_missing_price_are_named() -> None:
    with pytest.raises(InputError, match="unknown field 'capacity'"):
        parse_assumptions({"capacity": 0.2})
    with pytest.raises(InputError, match=r"transition\.phase"):
        parse_assumptions({"transition": {"phase": {"soon": 1}}})
    product = Product("f", "f", "1", 1.0, (Line("fluorspar", 1.0, "x"),))
    with pytest.raises(InputError, match="no price for fluorspar") as caught:
        build(DS, product)
    assert caught.value.fields["field"] == "prices"
    priced = build(DS, product, assumptions=Assumptions(price_default=500.0))
    assert priced.prices["fluorspar"][0] == 500.0
    with pytest.raises(InputError, match="capacity_share"):
        parse_assumptions({"capacity_share": 2})


@pytest.mark.parametrize(("text", "column", "message"), [
    ("A,cobalt,refining,FIN,-3", "capacity_t", "'-3' is not tonnes >= 0"),
    ("A,cobalt,smelting,FIN,3", "stage", "'smelting' is not a stage"),
    ("A,unobtainium,refining,FIN,3", "mineral", "unknown mineral"),
    ("A,cobalt,refining,Narnia,3", "country", "unknown country 'Narnia'"),
    ("A,cobalt,refining,FIN,", "capacity_t", "the value is empty"),
])
def test_a_bad_supplier_row_names_its_row_and_column(text: str, column: str,
                                                     message: str) -> None:
    rows = [(1, ["supplier", "mineral", "stage", "country", "capacity_t"]),
            (2, text.split(","))]
    with pytest.raises(InputError, match=message) as caught:
        parse_suppliers(SheetOrigin(Path("s.csv")), rows, DS)
    assert caught.value.fields["row"] == 2 and caught.value.fields["column"] == column


def test_a_supplier_file_with_an_unknown_column_or_twice_the_same_row_is_refused() -> None:
    head = ["supplier", "mineral", "stage", "country", "capacity_t"]
    with pytest.raises(InputError, match="unknown column"):
        parse_suppliers(SheetOrigin(Path("s.csv")), [(1, [*head, "colour"])], DS)
    twice = [(1, head), (2, ["A", "cobalt", "refining", "FIN", "3"]),
             (3, ["a", "Cobalt", "refining", "FIN", "4"])]
    with pytest.raises(InputError, match="twice"):
        parse_suppliers(SheetOrigin(Path("s.csv")), twice, DS)


@pytest.mark.parametrize(("text", "message"), [
    ("2030-2026", "before the first"), ("soon", "not a range"), ("2026-2090", "at most 30"),
    ("1990-1995", "from 2000 to 2100"),
])
def test_bad_years_ranges_name_the_field(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_years(text)
    assert caught.value.fields["field"] == "years"


def test_years_ranges_parse() -> None:
    assert parse_years("2026-2030") == (2026, 2030)
    assert parse_years("2027") == (2027, 2027)


# ---------------------------------------------------------------- transition


def test_caps_tighten_linearly_to_the_pack_limit_by_the_phase() -> None:
    product = battery()
    pack = load_pack("eu-crma")
    limits = [build(DS, product, volume=75000, pack=pack, year=y, first_year=2026)
              .limits["crma-65"] for y in (2026, 2028, 2030, 2032)]
    assert limits == pytest.approx([0.93, 0.79, 0.65, 0.65])
    chosen = parse_assumptions({"transition": {"targets": {"crma-65": {2026: 0.8, 2030: 0.5}}}})
    explicit = build(DS, product, volume=75000, pack=pack, year=2028, first_year=2026,
                     assumptions=chosen)
    assert explicit.limits["crma-65"] == pytest.approx(0.65)


def test_capacity_grows_and_premiums_fall_by_year() -> None:
    chosen = parse_assumptions({"transition": {"capacity_growth": 0.1, "premium_decline": 0.5,
                                               "capacity_growth_by_country": {"FIN": 0.0}}})
    first = build(DS, battery(), volume=1, assumptions=chosen, year=2026, first_year=2026)
    later = build(DS, battery(), volume=1, assumptions=chosen, year=2028, first_year=2026)
    key = ("cobalt", "mining", "AUS")
    assert later.capacity[key] == pytest.approx(first.capacity[key] * 1.21)
    fin = ("cobalt", "refining", "FIN")
    assert later.capacity[fin] == pytest.approx(first.capacity[fin])
    premium = {(s.mineral, s.stage, s.iso3): s.premium for s in later.sources}
    assert premium[key] == pytest.approx(0.10 * 0.25)


def test_a_transition_path_reports_each_year_with_and_without_the_rules() -> None:
    result = transition(DS, battery(), (2026, 2028), volume=75000, pack=load_pack("eu-crma"))
    assert result.years is not None
    points = result.years["points"]
    assert [p["year"] for p in points] == [2026, 2027, 2028]
    assert all(p["status"] == "optimal" for p in points)
    assert all(p["cost"] >= p["cost_without_rules"] - 1e-6 for p in points)
    assert points[-1]["limits"]["crma-65"] == pytest.approx(0.79)
    assert result.cost == pytest.approx(points[-1]["cost"])
    assert result.years["curve"]["peak_year"] in (2026, 2027, 2028)


def test_a_supplier_starts_only_in_its_start_year() -> None:
    supplier = Supplier("New Refinery", "cobalt", "refining", "AUS", 500.0, 0.0, None, 0.0,
                        2028)
    before = build(DS, battery(), volume=1, suppliers=[supplier], year=2027, first_year=2026)
    after = build(DS, battery(), volume=1, suppliers=[supplier], year=2028, first_year=2026)
    named = [[s.capacity for s in m.sources if s.supplier] for m in (before, after)]
    assert named == [[0.0], [500.0]]


# ---------------------------------------------------------------- the bundled data


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


def test_us_30d_partner_share_is_met_by_value_on_real_data() -> None:
    pack = load_pack("us-ira-30d")
    model = build(DS, battery(), volume=75000, pack=pack, year=2027, first_year=2026)
    result = solve(model)
    assert result.status == "optimal" and model.limits["30d-critical-minerals"] == 0.8
    partners = pack.partners
    value = {m: model.prices[m][0] for m in model.demand}
    partner = sum(p["tonnes"] * value[p["mineral"]] for p in result.paths
                  if p["mine_iso3"] in partners or p["refine_iso3"] in partners)
    total = sum(p["tonnes"] * value[p["mineral"]] for p in result.paths)
    assert partner / total >= 0.8 - 1e-6
    concern = DS.groups["concern"].members
    assert not any(r["iso3"] in concern for r in result.plan)  # 30d-feoc by location


def test_rare_earth_elements_are_planned_on_the_rare_earths_proxy() -> None:
    magnet = Product("m", "magnet", "1", 1.0, (Line("neodymium", 1.0, "magnet"),))
    model = build(DS, magnet, volume=1000, assumptions=Assumptions(price_default=100_000))
    assert "neodymium" in model.demand and not model.unplannable
    assert any("rare-earths mix" in note for note in model.notes)
