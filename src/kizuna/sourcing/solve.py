"""Solve a sourcing model with HiGHS (``scipy.optimize.milp``) and explain an infeasible one."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp  # type: ignore[import-untyped]
from scipy.sparse import csr_array  # type: ignore[import-untyped]

from kizuna.errors import InputError
from kizuna.sourcing.build import Row, SourcingModel, _kt

EXIT_INFEASIBLE = 3
"""``kizuna source plan`` exit code for an infeasible plan (0: optimal; 1: errors)."""
_TOL = 1e-6


@dataclass
class SourcingResult:
    """The answer: status, the plan and its cost, risk and shares, or the conflicts."""

    status: str  # optimal | infeasible | error
    cost: float | None
    risk: float | None
    paths: list[dict[str, Any]]
    plan: list[dict[str, Any]]
    violations: list[str]
    assumptions: list[str]
    notes: list[str]
    frontier: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "cost": self.cost, "risk": self.risk, "plan": self.plan,
                "paths": self.paths, "frontier": self.frontier, "violations": self.violations,
                "assumptions": self.assumptions, "notes": self.notes}


def _matrices(model: SourcingModel, rows: list[Row]) -> LinearConstraint:
    data, cols, ptr, lo, hi = [], [], [0], [], []
    for row in rows:
        for col, value in row.coeffs.items():
            cols.append(col)
            data.append(value)
        ptr.append(len(cols))
        lo.append(row.lo)
        hi.append(row.hi)
    matrix = csr_array((np.array(data, dtype=float), np.array(cols, dtype=np.int64),
                        np.array(ptr, dtype=np.int64)), shape=(len(rows), model.n_vars))
    return LinearConstraint(matrix, np.array(lo), np.array(hi))


def _run(model: SourcingModel, rows: list[Row], objective: np.ndarray) -> Any:
    n_paths = len(model.paths)
    integrality = np.zeros(model.n_vars)
    integrality[n_paths:] = 1
    upper = np.full(model.n_vars, np.inf)
    upper[n_paths:] = 1
    return milp(objective, integrality=integrality, bounds=Bounds(0, upper),
                constraints=[_matrices(model, rows)] if rows else None)


def _objective(model: SourcingModel, risk_weight: float) -> np.ndarray:
    cost = np.array([p.cost_per_t for p in model.paths])
    risk = np.array(model.risk)
    out = np.zeros(model.n_vars)
    out[: len(model.paths)] = cost + risk_weight * risk
    return out


def _risk_row(model: SourcingModel, cap: float) -> Row:
    return Row("risk_cap", "*", "*", dict(enumerate(model.risk)), 0.0,
               cap * model.risk_basis, f"risk <= {cap:.3f}")


def solve(model: SourcingModel, *, risk_weight: float = 0.0,
          risk_cap: float | None = None) -> SourcingResult:
    """Minimise cost + ``risk_weight`` x (risk-group tonne-stages), optionally with risk <= cap.

    ``risk_weight`` is in USD per tonne routed through a risk-group country at one stage.
    """
    if risk_weight < 0:
        raise InputError(f"risk weight must be >= 0, got {risk_weight:g}", field="risk_weight")
    rows = list(model.rows)
    if risk_cap is not None:
        rows.append(_risk_row(model, risk_cap))
    lines, notes = model.assumptions.lines(), model.notes + model.unplannable
    if not model.paths:
        return SourcingResult("infeasible" if model.unplannable else "optimal", 0.0, 0.0, [],
                              [], list(model.unplannable), lines, notes)
    found = _run(model, rows, _objective(model, risk_weight))
    if found.status != 0 or found.x is None:
        return SourcingResult("infeasible", None, None, [], [], explain(model, rows),
                                  lines, notes)
    return _result(model, np.asarray(found.x), lines, notes)


def _result(model: SourcingModel, x: np.ndarray, lines: list[str],
            notes: list[str]) -> SourcingResult:
    paths: list[dict[str, Any]] = []
    by_stage: dict[tuple[str, str, str | None], float] = {}
    cost = 0.0
    for index, path in enumerate(model.paths):
        tonnes = float(x[index])
        if tonnes <= _TOL:
            continue
        cost += tonnes * path.cost_per_t
        paths.append({"mineral": path.mineral, "mine_iso3": path.mine,
                      "refine_iso3": path.refine, "tonnes": tonnes,
                      "cost": tonnes * path.cost_per_t})
        for stage in model.stages[path.mineral]:
            key = (path.mineral, stage, path.at(stage))
            by_stage[key] = by_stage.get(key, 0.0) + tonnes
    plan = []
    for (mineral, stage, iso3), tonnes in sorted(by_stage.items(), key=lambda kv: (
            kv[0][0], kv[0][1], -kv[1])):
        price = model.prices[mineral][0]
        premium = model.assumptions.premium_of(str(iso3))
        plan.append({"mineral": mineral, "stage": stage, "iso3": iso3, "tonnes": tonnes,
                     "share": tonnes / model.demand[mineral],
                     "cost": tonnes * price * premium + (
                         tonnes * price if stage == model.stages[mineral][-1] else 0.0)})
    risk_tonnes = float(np.dot(model.risk, x[: len(model.paths)]))
    risk = risk_tonnes / model.risk_basis if model.risk_basis else 0.0
    status = "infeasible" if model.unplannable else "optimal"
    return SourcingResult(status, cost, risk, paths, plan, list(model.unplannable), lines,
                          notes)


def explain(model: SourcingModel, rows: list[Row]) -> list[str]:
    """The constraints that cannot hold together, in plain words.

    First per mineral and stage: the capacity left under the caps and exclusions against
    demand. Where every stage passes alone, the constraint groups whose removal alone makes
    the model feasible.
    """
    found = [*model.unplannable]
    for mineral, demand in model.demand.items():
        for stage in model.stages[mineral]:
            found.extend(_stage_conflict(model, rows, mineral, stage, demand))
    if found:
        return found
    groups = sorted({r.group for r in rows if r.group not in ("demand", "link")})
    objective = np.zeros(model.n_vars)
    for group in groups:
        kept = [r for r in rows if r.group != group]
        if _run(model, kept, objective).status == 0:
            names = sorted({r.text for r in rows if r.group == group})
            found.append(f"relaxing {group} alone makes the plan feasible: "
                         + "; ".join(names[:4]) + (" ..." if len(names) > 4 else ""))
    return found or ["no single constraint group explains it; the combination does"]


def _stage_conflict(model: SourcingModel, rows: list[Row], mineral: str, stage: str,
                    demand: float) -> list[str]:
    """Capacity usable at one stage: each country's capacity, cut by its caps (0 if
    excluded), against demand."""
    usable, why = 0.0, set()
    for (m, s, iso3), cap in model.capacity.items():
        if (m, s) != (mineral, stage):
            continue
        flow = model.through(mineral, stage, iso3)
        limit = cap
        for row in rows:
            if (row.mineral == mineral and row.stage == stage and row.group.startswith("rule:")
                    and row.lo <= 0 and set(flow) <= set(row.coeffs) and row.hi < limit):
                limit = row.hi
                why.add(row.text.split("(")[-1].rstrip(")"))
        usable += max(limit, 0.0)
    if usable + _TOL * max(demand, 1.0) >= demand:
        return []
    rules = f" under {', '.join(sorted(why))}" if why else ""
    return [f"{mineral} {stage}: partner capacity {_kt(usable)} < demand {_kt(demand)}{rules}"]


def frontier(model: SourcingModel, points: int) -> SourcingResult:
    """Cost-risk frontier by the epsilon-constraint method: min cost s.t. risk <= cap, the cap
    swept from the risk of the cheapest plan down to the least risk attainable."""
    if points < 2:
        raise InputError(f"--frontier needs at least 2 points, got {points}", field="frontier")
    cheapest = solve(model)
    if cheapest.status != "optimal" or cheapest.risk is None:
        return cheapest
    least = _run(model, list(model.rows), np.concatenate(
        [np.array(model.risk), np.zeros(len(model.binaries))]))
    low = float(np.dot(model.risk, least.x[: len(model.paths)])) / model.risk_basis
    high = cheapest.risk
    out = []
    for k in range(points):
        cap = high - (high - low) * k / (points - 1) + 1e-9
        point = solve(model, risk_cap=cap)
        out.append({"risk_cap": cap, "cost": point.cost, "risk": point.risk,
                    "paths": point.paths})
    return replace(cheapest, frontier=out)
