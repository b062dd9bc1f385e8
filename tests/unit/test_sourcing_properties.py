"""Properties of the sourcing optimiser on random small instances (Hypothesis).

Each instance is built with the library's own pieces (``add_mineral``, ``apply_pack``,
``finish``) from random capacities, prices, premiums and rules. The checks do not reuse the
model's rows: ``check_plan`` re-reads the instance's definition (demand, capacities, caps,
exclusions, minimum sources and orders, the partner value share) and checks the plan the
result reports against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.exposure.rules import parse_pack
from kizuna.sourcing import Assumptions, SourcingModel, solve
from kizuna.sourcing.build import add_mineral, finish
from kizuna.sourcing.rules import apply_pack
from kizuna.sourcing.solve import SourcingResult

POOL = ("AUS", "BRA", "CAN", "CHL", "DEU", "FIN")
TOL = 1e-5
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Instance:
    minerals: dict[str, dict[str, Any]]
    premium: dict[str, float]
    risky: frozenset[str]
    rules: list[dict[str, Any]] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    min_order: float = 0.0

    def model(self, rules: list[dict[str, Any]] | None = None) -> SourcingModel:
        chosen = Assumptions(premium_default=0.0, premium=self.premium,
                             min_order_t={m: self.min_order for m in self.minerals}
                             if self.min_order else {}, min_source_share=0.05)
        model = SourcingModel.new("p", 1.0, chosen, risky=self.risky)
        for mineral, spec in self.minerals.items():
            add_mineral(model, mineral, spec["demand"], spec["price"], "test", spec["supply"])
        kept = self.rules if rules is None else rules
        if kept:
            pack = parse_pack({"id": "p", "rules": kept,
                               "partners": {"members": self.partners}}, "p.yaml")
            apply_pack(None, model, pack, {})
        return finish(model)


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    minerals: dict[str, dict[str, Any]] = {}
    for mineral in ("m", "n")[: draw(st.integers(1, 2))]:
        stages = draw(st.sampled_from([("mining",), ("refining",), ("mining", "refining")]))
        supply = {}
        for stage in stages:
            where = draw(st.lists(st.sampled_from(POOL), min_size=2, max_size=4, unique=True))
            supply[stage] = {c: float(draw(st.integers(0, 150))) for c in where}
        minerals[mineral] = {"demand": float(draw(st.integers(10, 100))),
                             "price": float(draw(st.integers(1, 100))), "supply": supply}
    premium = {c: draw(st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.5])) for c in POOL}
    rules: list[dict[str, Any]] = []
    if draw(st.booleans()):
        rules.append({"id": "cap", "kind": "max_share", "who": "any-country",
                      "limit": draw(st.sampled_from([0.4, 0.5, 0.65, 0.8]))})
    if draw(st.booleans()):
        rules.append({"id": "ban", "kind": "exclude", "countries": [draw(st.sampled_from(POOL))],
                      "stages": [draw(st.sampled_from(["mining", "refining"]))]})
    if draw(st.booleans()):
        rules.append({"id": "few", "kind": "min_sources", "count": draw(st.integers(1, 3))})
    partners: list[str] = []
    if draw(st.booleans()):
        partners = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=3, unique=True))
        rules.append({"id": "pvs", "kind": "partner_value_share",
                      "thresholds": {2025: draw(st.sampled_from([0.2, 0.5, 0.8]))}})
    return Instance(minerals, premium, frozenset(draw(st.sets(st.sampled_from(POOL)))), rules,
                    partners, float(draw(st.sampled_from([0, 0, 5, 20]))))


def check_plan(instance: Instance, result: SourcingResult) -> None:
    """The reported plan against the instance's own definition."""
    assert result.status == "optimal"
    stage_tonnes = {(r["mineral"], r["stage"], r["iso3"]): r["tonnes"] for r in result.plan}
    cost = 0.0
    for path in result.paths:
        spec = instance.minerals[path["mineral"]]
        premiums = sum(instance.premium[c] for c in (path["mine_iso3"], path["refine_iso3"])
                       if c is not None)
        cost += path["tonnes"] * spec["price"] * (1 + premiums)
        assert path["tonnes"] >= -TOL
    assert result.cost is not None
    assert abs(cost - result.cost) <= TOL * max(1.0, cost)
    for mineral, spec in instance.minerals.items():
        demand = spec["demand"]
        for stage, supply in spec["supply"].items():
            here = {c: stage_tonnes.get((mineral, stage, c), 0.0) for c in supply}
            assert abs(sum(here.values()) - demand) <= TOL * demand
            assert set(stage_tonnes) & {(mineral, stage, c) for c in POOL} <= {
                (mineral, stage, c) for c in supply}
            for country, tonnes in here.items():
                assert tonnes <= supply[country] + TOL * max(1.0, supply[country])
                if tonnes > TOL and instance.min_order:
                    assert tonnes >= instance.min_order - TOL
            _check_rules(instance, mineral, stage, here, demand)
    _check_partner_share(instance, result)


def _check_rules(instance: Instance, mineral: str, stage: str, here: dict[str, float],
                 demand: float) -> None:
    for rule in instance.rules:
        if stage not in rule.get("stages", ("mining", "refining")):
            continue
        if rule["kind"] == "max_share":
            assert max(here.values()) <= rule["limit"] * demand + TOL * demand
        elif rule["kind"] == "exclude":
            assert all(here[c] <= TOL for c in rule["countries"] if c in here)
        elif rule["kind"] == "min_sources":
            counted = [c for c, t in here.items() if t >= 0.05 * demand - TOL]
            assert len(counted) >= rule["count"]


def _check_partner_share(instance: Instance, result: SourcingResult) -> None:
    for rule in instance.rules:
        if rule["kind"] != "partner_value_share":
            continue
        value = {m: spec["price"] for m, spec in instance.minerals.items()}
        total = sum(p["tonnes"] * value[p["mineral"]] for p in result.paths)
        partner = sum(p["tonnes"] * value[p["mineral"]] for p in result.paths
                      if p["mine_iso3"] in instance.partners
                      or p["refine_iso3"] in instance.partners)
        assert partner >= rule["thresholds"][2025] * total - TOL * max(1.0, total)


@SETTINGS
@given(instances())
def test_every_returned_plan_satisfies_every_constraint(instance: Instance) -> None:
    result = solve(instance.model())
    assert result.status in ("optimal", "infeasible")
    if result.status == "optimal":
        check_plan(instance, result)
    else:
        assert result.violations and result.cost is None and not result.plan


@SETTINGS
@given(instances(), st.lists(st.floats(0.0, 1.0), min_size=2, max_size=4))
def test_cost_does_not_fall_as_the_risk_cap_tightens(instance: Instance,
                                                     caps: list[float]) -> None:
    model = instance.model()
    last: float | None = None
    for cap in sorted(caps, reverse=True):
        result = solve(model, risk_cap=cap)
        if result.status != "optimal":  # tighter caps stay infeasible
            last = float("inf")
            continue
        assert result.cost is not None and result.risk is not None
        assert result.risk <= cap + TOL
        check_plan(instance, result)
        if last is not None:
            assert last != float("inf"), "a tighter cap became feasible"
            assert result.cost >= last - TOL * max(1.0, last)
        last = result.cost


@SETTINGS
@given(instances(), st.integers(0, 3))
def test_removing_a_constraint_never_raises_cost(instance: Instance, which: int) -> None:
    if not instance.rules:
        return
    full = solve(instance.model())
    dropped = [r for k, r in enumerate(instance.rules) if k != which % len(instance.rules)]
    relaxed = solve(instance.model(dropped))
    if full.status == "optimal":
        assert relaxed.status == "optimal"
        assert full.cost is not None and relaxed.cost is not None
        assert relaxed.cost <= full.cost + TOL * max(1.0, full.cost)
    no_orders = Instance(instance.minerals, instance.premium, instance.risky, instance.rules,
                         instance.partners, 0.0)
    if full.status == "optimal" and instance.min_order:
        loose = solve(no_orders.model())
        assert loose.cost is not None and full.cost is not None
        assert loose.cost <= full.cost + TOL * max(1.0, full.cost)
