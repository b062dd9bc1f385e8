"""Solve a sourcing model with HiGHS (``scipy.optimize.milp``) and say what came out.

Statuses: ``optimal``; ``infeasible`` (with the constraints that cannot hold together, in
words); ``time_limit`` (HiGHS stopped at the time limit: the best plan found, if any, with
its gap - not called infeasible); ``error`` (a numerical failure, or a returned plan that
breaks a constraint beyond tolerance). Never an exception for any of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kizuna.errors import InputError
from kizuna.sourcing.build import SourcingModel
from kizuna.sourcing.explain import explain
from kizuna.sourcing.problem import Measure, Outcome, Problem
from kizuna.sourcing.shortfall import cvar

EXIT_INFEASIBLE = 3
"""``kizuna source plan`` exit code for an infeasible plan (0: optimal; 1: bad input)."""
EXIT_UNSOLVED = 4
"""Exit code when HiGHS did not finish: time limit, or a numerical failure."""
_TOL = 1e-6
_FEAS = 1e-5  # relative feasibility tolerance of the post-check


@dataclass
class SourcingResult:
    """The answer: status, the plan and its cost, risk and shares, or the conflicts."""

    status: str  # optimal | infeasible | time_limit | error
    cost: float | None
    risk: float | None
    paths: list[dict[str, Any]]
    plan: list[dict[str, Any]]
    violations: list[str]
    assumptions: list[str]
    notes: list[str]
    frontier: list[dict[str, Any]] = field(default_factory=list)
    measure: str = "proxy"
    cvar: dict[str, Any] | None = None
    suppliers: list[dict[str, Any]] = field(default_factory=list)
    limits: dict[str, float] = field(default_factory=dict)
    solver: dict[str, Any] = field(default_factory=dict)
    years: dict[str, Any] | None = None
    unplanned: list[str] = field(default_factory=list)
    product: str = ""
    volume: float = 0.0
    pack: str | None = None

    @property
    def exit_code(self) -> int:
        return {"optimal": 0, "infeasible": EXIT_INFEASIBLE}.get(self.status, EXIT_UNSOLVED)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "status": self.status, "cost": self.cost, "risk": self.risk,
            "plan": self.plan, "paths": self.paths, "frontier": self.frontier,
            "violations": self.violations, "unplanned": self.unplanned,
            "product": self.product, "volume": self.volume,
            "pack": self.pack, "measure": self.measure, "cvar": self.cvar,
            "suppliers": self.suppliers, "limits": self.limits, "solver": self.solver,
            "assumptions": self.assumptions, "notes": self.notes,
        }  # fmt: skip
        if self.years is not None:
            doc["years"] = self.years
        return doc


def solve(model: SourcingModel, *, risk_weight: float = 0.0, risk_cap: float | None = None,
          measure: Measure | None = None, time_limit: float | None = None,
          problem: Problem | None = None) -> SourcingResult:
    """Minimise cost + ``risk_weight`` x risk, optionally with risk <= ``risk_cap``.

    With the proxy measure ``risk_weight`` is USD per tonne routed through a risk-group
    country at one stage and ``risk_cap`` a share (0-1); with CVaR it multiplies the CVaR of
    the shortfall cost (USD per USD) and ``risk_cap`` is in USD.
    """
    if risk_weight < 0:
        raise InputError(f"risk weight must be >= 0, got {risk_weight:g}", field="risk_weight")
    if time_limit is not None and time_limit <= 0:
        raise InputError(f"time limit must be > 0 seconds, got {time_limit:g}",
                         field="time_limit")
    problem = problem or Problem(model, measure)
    chosen = problem.measure
    lines, notes = model.assumptions.lines(), _notes(model, chosen)
    base = SourcingResult("optimal", 0.0, 0.0, [], [], [], lines, notes, measure=chosen.kind,
                          limits=dict(model.limits), unplanned=list(model.unplannable),
                          product=model.product, volume=model.volume, pack=model.pack)
    if not model.paths:
        return base
    weight = risk_weight * (model.risk_basis if chosen.kind == "proxy" else 1.0)
    found = problem.run(risk=weight, cap=risk_cap, time_limit=time_limit)
    return outcome_result(model, problem, found, base, risk_cap=risk_cap)


def _notes(model: SourcingModel, measure: Measure) -> list[str]:
    notes = list(model.notes)
    if measure.draws is not None:
        notes = notes + measure.draws.notes
    return list(dict.fromkeys(notes))


def outcome_result(model: SourcingModel, problem: Problem, found: Outcome,
                   base: SourcingResult, *, risk_cap: float | None = None) -> SourcingResult:
    base.solver = {"seconds": round(found.seconds, 4), "message": found.message,
                   "mip_gap": found.gap, "columns": problem.columns,
                   "rows": int(problem.matrix.shape[0]), "binaries": len(model.binaries)}
    if found.status == 2:
        rows = list(model.rows)
        base.status, base.cost, base.risk = "infeasible", None, None
        base.violations = explain(model, rows, risk_cap=risk_cap)
        return base
    if found.x is None:
        base.status, base.cost, base.risk = ("time_limit" if found.status == 1 else "error",
                                             None, None)
        base.violations = [_unsolved(found)]
        return base
    result = plan_result(model, found.x, problem, base)
    broken = violated(model, found.x)
    if found.status == 1:
        result.status = "time_limit"
        result.violations = [_unsolved(found)]
    elif found.status != 0 or broken:
        result.status = "error"
        result.violations = [_unsolved(found), *broken[:5]]
    return result


def _unsolved(found: Outcome) -> str:
    if found.status == 1:
        gap = f"; best plan found has a gap of {found.gap:.2%}" if found.gap is not None else \
            "; no plan found yet"
        return (f"HiGHS stopped at the time limit after {found.seconds:.1f} s{gap} (not proven "
                "optimal, not infeasible): raise --time-limit")
    return f"HiGHS did not solve the model: {found.message} (status {found.status})"


def violated(model: SourcingModel, x: NDArray[np.float64]) -> list[str]:
    """Rows the point breaks by more than a small relative tolerance, in words."""
    out = []
    for row in model.rows:
        value = sum(c * x[i] for i, c in row.coeffs.items())
        scale = max(1.0, abs(row.lo) if np.isfinite(row.lo) else 0.0,
                    abs(row.hi) if np.isfinite(row.hi) else 0.0)
        if value < row.lo - _FEAS * scale or value > row.hi + _FEAS * scale:
            out.append(f"{row.text}: the plan gives {value:,.6g}")
    return out


def plan_result(model: SourcingModel, x: NDArray[np.float64], problem: Problem,
                base: SourcingResult) -> SourcingResult:
    tonnes = np.where(x[: len(model.paths)] > _TOL, x[: len(model.paths)], 0.0)
    paths: list[dict[str, Any]] = []
    by_stage: dict[tuple[str, str, str], list[float]] = {}
    cost = 0.0
    for index, path in enumerate(model.paths):
        amount = float(tonnes[index])
        if amount <= 0:
            continue
        cost += amount * path.cost_per_t
        price = model.prices[path.mineral][0]
        mine, refine = path.mine, path.refine
        paths.append({"mineral": path.mineral, "mine_iso3": path.at("mining"),
                      "refine_iso3": path.at("refining"),
                      "mine_supplier": mine.supplier if mine else None,
                      "refine_supplier": refine.supplier if refine else None,
                      "tonnes": amount, "cost": amount * path.cost_per_t})
        stages = model.stages[path.mineral]
        for stage in stages:
            source = path.source(stage)
            assert source is not None
            entry = by_stage.setdefault((path.mineral, stage, source.iso3), [0.0, 0.0])
            entry[0] += amount
            entry[1] += amount * price * (source.premium + (stage == stages[-1]))
    base.plan = [{"mineral": m, "stage": s, "iso3": c, "tonnes": t, "cost": money,
                  "share": t / model.demand[m], "risk_group": c in model.risky}
                 for (m, s, c), (t, money) in sorted(by_stage.items(),
                                                     key=lambda kv: (kv[0][0], kv[0][1],
                                                                     -kv[1][0]))]
    base.paths, base.cost = paths, cost
    base.risk = (float(np.dot(model.risk, tonnes)) / model.risk_basis if model.risk_basis
                 else 0.0)
    base.suppliers = _suppliers(model, tonnes)
    draws = problem.measure.draws
    if draws is not None:
        value, var = cvar(draws.losses(model, tonnes), problem.measure.alpha)
        base.cvar = {"value": value, "var": var, "alpha": problem.measure.alpha,
                     "mean": float(draws.losses(model, tonnes).mean()),
                     "draws": draws.draws, "seed": draws.seed, "scenario": draws.scenario,
                     "scenario_name": draws.name,
                     "shortfall_penalty": model.assumptions.shortfall_penalty}
    return base


def _suppliers(model: SourcingModel, tonnes: NDArray[np.float64]) -> list[dict[str, Any]]:
    out = []
    for number, source in enumerate(model.sources):
        if source.supplier is None:
            continue
        amount = float(sum(tonnes[i] for i in model.by_source.get(number, ())))
        out.append({"supplier": source.supplier, "mineral": source.mineral,
                    "stage": source.stage, "iso3": source.iso3, "owner": source.owner,
                    "tonnes": amount, "capacity_t": source.capacity,
                    "use": amount / source.capacity if source.capacity > 0 else None})
    return out


def frontier(model: SourcingModel, points: int, *, measure: Measure | None = None,
             time_limit: float | None = None) -> SourcingResult:
    """Cost-risk frontier by the epsilon-constraint method: min cost s.t. risk <= cap, the cap
    swept evenly from the risk of the cheapest plan down to the least risk attainable."""
    if points < 2:
        raise InputError(f"--frontier needs at least 2 points, got {points}", field="frontier")
    problem = Problem(model, measure)
    cheapest = solve(model, problem=problem, time_limit=time_limit)
    if cheapest.status != "optimal" or not model.paths:
        return cheapest
    high = _measure_value(cheapest, problem)
    least = problem.run(cost=0.0, risk=1.0, time_limit=time_limit)
    if least.x is None:
        return cheapest
    low = min(high, float(problem.risk @ least.x))
    if high - low <= 1e-9 * max(1.0, abs(high)):
        cheapest.notes.append("the least-cost plan already has the least risk attainable: "
                              "the frontier is one point")
        points = 1
    out = []
    for k in range(points):
        cap = high - (high - low) * k / max(points - 1, 1)
        cap = cap * (1 + 1e-7) + 1e-9
        point = solve(model, risk_cap=cap, problem=problem, time_limit=time_limit)
        out.append({"risk_cap": cap, "cost": point.cost, "status": point.status,
                    "risk": None if point.cost is None else _measure_value(point, problem),
                    "proxy_risk": point.risk, "seconds": point.solver.get("seconds"),
                    "plan": point.plan})
    return replace(cheapest, frontier=out)


def _measure_value(result: SourcingResult, problem: Problem) -> float:
    if problem.measure.kind == "cvar":
        assert result.cvar is not None
        return float(result.cvar["value"])
    assert result.risk is not None
    return result.risk
