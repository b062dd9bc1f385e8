"""Why a sourcing model is infeasible, in words.

In order: per mineral and stage, the capacity left under the caps and exclusions against
demand ("cobalt refining: partner capacity 12 kt < demand 30 kt under crma-65"), and the
number of countries that can count towards a ``min_sources`` rule; per
``partner_value_share`` rule, the largest partner value share the other constraints allow;
then, when none of those explains it, the constraint groups whose removal alone makes the
model feasible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kizuna.sourcing.build import Row, SourcingModel, kt
from kizuna.sourcing.problem import Problem

_TOL = 1e-6


def explain(model: SourcingModel, rows: Sequence[Row], *,
            risk_cap: float | None = None) -> list[str]:
    """The constraints that cannot hold together, in plain words."""
    found: list[str] = []
    for mineral, demand in model.demand.items():
        for stage in model.stages[mineral]:
            found.extend(_stage_conflict(model, rows, mineral, stage, demand))
    if found:
        return found
    found.extend(_partner_conflicts(model, rows))
    if found:
        return found
    if risk_cap is not None and _feasible(model, rows):
        return [f"the risk cap {risk_cap:,.4g} is below the least risk attainable under the "
                "other constraints"]
    groups = sorted({r.group for r in rows if r.group not in ("demand", "link")})
    for group in groups:
        kept = [r for r in rows if r.group != group]
        if _feasible(model, kept):
            names = sorted({r.text for r in rows if r.group == group})
            found.append(f"relaxing {group} alone makes the plan feasible: "
                         + "; ".join(names[:4]) + (" ..." if len(names) > 4 else ""))
    return found or ["no single constraint group explains it; the combination does"]


def _feasible(model: SourcingModel, rows: Sequence[Row]) -> bool:
    return Problem(model, rows=rows).run(cost=0.0).status == 0


def _covers(row: Row, flow: set[int]) -> bool:
    return bool(flow) and flow <= set(row.coeffs) and all(row.coeffs[i] > 0 for i in flow)


def _stage_conflict(model: SourcingModel, rows: Sequence[Row], mineral: str, stage: str,
                    demand: float) -> list[str]:
    """Capacity usable at one stage: each source's capacity, cut by the caps that cover it
    (0 if excluded), each country cut by its caps, against demand; and the countries able to
    count for min_sources."""
    caps = [r for r in rows if r.mineral == mineral and r.stage == stage
            and r.group.startswith("rule:") and r.lo <= 0]
    usable: dict[str, float] = {}
    why: set[str] = set()
    for number, source in enumerate(model.sources):
        if (source.mineral, source.stage) != (mineral, stage):
            continue
        limit = source.capacity
        for row in caps:
            if _covers(row, set(model.by_source.get(number, ()))) and row.hi < limit:
                limit = row.hi
                why.add(_rule_name(row))
        usable[source.iso3] = usable.get(source.iso3, 0.0) + max(limit, 0.0)
    for iso3 in list(usable):
        flow = set(model.by_country.get((mineral, stage, iso3), ()))
        for row in caps:
            if _covers(row, flow) and row.hi < usable[iso3]:
                usable[iso3] = max(row.hi, 0.0)
                why.add(_rule_name(row))
    total = sum(usable.values())
    out = []
    if total + _TOL * max(demand, 1.0) < demand:
        rules = f" under {', '.join(sorted(why))}" if why else ""
        out.append(f"{mineral} {stage}: partner capacity {kt(total)} < demand {kt(demand)}"
                   f"{rules}")
    floor = model.assumptions.min_source_share * demand
    for row in rows:
        if (row.mineral, row.stage) == (mineral, stage) and row.group.startswith("rule:") \
                and row.lo >= 1:
            able = sorted(c for c, t in usable.items() if t + _TOL >= max(floor, _TOL))
            if len(able) < row.lo:
                out.append(f"{mineral} {stage}: {len(able)} countries can each supply at "
                           f"least {kt(floor)} ({', '.join(able) or 'none'}), fewer than the "
                           f"{row.lo:g} required ({_rule_name(row)})")
    return out


def _rule_name(row: Row) -> str:
    return row.text.rsplit("(", 1)[-1].rstrip(")").split(",")[0]


def _partner_conflicts(model: SourcingModel, rows: Sequence[Row]) -> list[str]:
    """For each partner_value_share rule: the largest share the other rows allow."""
    out = []
    for rule in model.partner_rules:
        group = f"rule:{rule.rule}"
        others = [r for r in rows if r.group != group]
        problem = Problem(model, rows=others)
        qualifying = np.zeros(problem.columns)
        total = 0.0
        for index, path in enumerate(model.paths):
            if path.mineral in rule.minerals:
                value = model.prices[path.mineral][0]
                if path.at("mining") in rule.partners or path.at("refining") in rule.partners:
                    qualifying[index] = value
        for mineral in rule.minerals:
            total += model.prices[mineral][0] * model.demand[mineral]
        problem.cost = -qualifying
        best = problem.run()
        if best.x is None or total <= 0:
            continue
        share = float(qualifying @ best.x) / total
        if share + 1e-9 < rule.threshold:
            out.append(f"{rule.rule}: at most {share:.1%} of the value of "
                       f"{', '.join(rule.minerals)} can be extracted or processed in the US or "
                       f"a partner under the other constraints, below the "
                       f"{rule.threshold:.0%} threshold for {rule.year}")
    return out
