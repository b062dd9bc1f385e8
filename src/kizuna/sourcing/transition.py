"""A transition path over years: one plan per year as rule caps tighten, capacity grows and
premiums fall (``Assumptions.transition``), and the cost curve that shows the temporary rise.

Each year is planned on its own (no contracts carried from one year to the next), twice: with
the rule pack, and without it. The difference is what the rules cost that year; it rises
while the caps tighten faster than new capacity and falling premiums make room, and falls
after.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from kizuna.data.bundle import Dataset
from kizuna.errors import InputError
from kizuna.exposure.rules import Pack
from kizuna.model.types import CountryGroup
from kizuna.products.model import Product
from kizuna.sourcing.assumptions import Assumptions
from kizuna.sourcing.build import Portfolio, build
from kizuna.sourcing.problem import Measure
from kizuna.sourcing.solve import SourcingResult, solve

MAX_YEARS = 30
_RANGE = re.compile(r"^\s*(\d{4})\s*(?:(?:-|–|\.\.|:)\s*(\d{4}))?\s*$")


def parse_years(text: str) -> tuple[int, int]:
    """'2026-2030' (or one year) -> (2026, 2030); anything else names the field."""
    found = _RANGE.match(text or "")
    hint = "write FIRST-LAST, e.g. --years 2026-2030"
    if found is None:
        raise InputError(f"--years {text!r} is not a range of years", hint=hint, field="years")
    first = int(found.group(1))
    last = int(found.group(2) or first)
    if not 2000 <= first <= 2100 or not 2000 <= last <= 2100:
        raise InputError(f"--years {text!r}: years must be from 2000 to 2100", hint=hint,
                         field="years")
    if last < first:
        raise InputError(f"--years {text!r}: the last year is before the first", hint=hint,
                         field="years")
    if last - first + 1 > MAX_YEARS:
        raise InputError(f"--years {text!r}: at most {MAX_YEARS} years", hint=hint,
                         field="years")
    return first, last


def transition(ds: Dataset, product: Product | Portfolio, years: tuple[int, int], *,
               volume: float | None = None, pack: Pack | None = None,
               assumptions: Assumptions | None = None,
               groups: Mapping[str, CountryGroup] | None = None,
               suppliers: Sequence[Any] = (), risk_weight: float = 0.0,
               measure: Measure | None = None,
               time_limit: float | None = None) -> SourcingResult:
    """Plan every year of ``years``; the result is the last year's plan with a ``years``
    block (one point per year, the cost curve and the transition assumptions)."""
    first, last = years
    chosen = assumptions or Assumptions()
    points: list[dict[str, Any]] = []
    results: list[SourcingResult] = []
    for year in range(first, last + 1):
        common: dict[str, Any] = {"volume": volume, "assumptions": chosen, "groups": groups,
                                  "suppliers": suppliers, "year": year, "first_year": first}
        model = build(ds, product, pack=pack, **common)
        result = solve(model, risk_weight=risk_weight, measure=measure, time_limit=time_limit)
        bare = solve(build(ds, product, **common), risk_weight=risk_weight, measure=measure,
                     time_limit=time_limit) if pack is not None else result
        results.append(result)
        points.append(_point(year, model.volume, result, bare))
    final = results[-1]
    final.years = {"first": first, "last": last, "points": points,
                   "curve": _curve(points),
                   "assumptions": chosen.transition_lines(first, last)}
    final.assumptions = final.assumptions + final.years["assumptions"]
    bad = [(p["year"], r) for p, r in zip(points, results, strict=True)
           if r.status != "optimal"]
    if bad:
        final.status = _worst([r.status for _, r in bad])
        final.violations = [f"{year}: {line}" for year, r in bad for line in r.violations]
    return final


def _worst(statuses: list[str]) -> str:
    for status in ("error", "time_limit", "infeasible"):
        if status in statuses:
            return status
    return "optimal"


def _point(year: int, volume: float, result: SourcingResult,
           bare: SourcingResult) -> dict[str, Any]:
    premium = (result.cost - bare.cost if result.cost is not None and bare.cost is not None
               else None)
    return {
        "year": year, "status": result.status, "volume": volume, "cost": result.cost,
        "cost_per_unit": None if result.cost is None or not volume else result.cost / volume,
        "cost_without_rules": bare.cost, "rule_premium": premium,
        "rule_premium_share": None if premium is None or not bare.cost else premium / bare.cost,
        "risk": result.risk, "cvar": result.cvar["value"] if result.cvar else None,
        "limits": result.limits, "plan": result.plan, "paths": result.paths,
        "violations": result.violations,
    }  # fmt: skip


def _curve(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Where the rules' extra cost peaks and how it ends, in numbers and one sentence."""
    known = [p for p in points if p["rule_premium_share"] is not None]
    if not known:
        return {"peak_year": None, "peak_premium_share": None, "last_premium_share": None,
                "temporary": False, "text": "no year has a plan with and without the rules"}
    peak = max(known, key=lambda p: p["rule_premium_share"])
    end = known[-1]
    temporary = peak["year"] < end["year"] and \
        end["rule_premium_share"] < peak["rule_premium_share"] - 1e-9
    text = (f"the rules add {known[0]['rule_premium_share']:.1%} to cost in "
            f"{known[0]['year']}, peak at {peak['rule_premium_share']:.1%} in {peak['year']}"
            + (f" and fall to {end['rule_premium_share']:.1%} by {end['year']}" if temporary
               else f"; {end['rule_premium_share']:.1%} in {end['year']}"))
    return {"peak_year": peak["year"], "peak_premium_share": peak["rule_premium_share"],
            "last_premium_share": end["rule_premium_share"], "temporary": temporary,
            "text": text}
