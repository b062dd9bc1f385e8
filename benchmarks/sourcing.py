"""Sourcing optimisation at portfolio scale (issue 8): a 10-product portfolio, every mineral,
every mine -> refinery path at both stages, the EU CRMA caps, the CVaR objective over 10,000
draws of the scenario engine, and a 20-point cost-CVaR frontier.

Prints the model's size, the time to build it, to draw the scenarios, each solve and the
whole frontier, and checks every frontier plan against every constraint of the model (and
that cost does not fall as the cap tightens) before printing any figure. The baseline is
the same frontier with the risk proxy instead of CVaR (no scenario rows).

``--milp`` adds a min_sources rule (two countries per mineral and stage), so the model gets
binaries and HiGHS branches: the same frontier as a MILP.

Rerun: .venv/bin/python benchmarks/sourcing.py [--draws 10000] [--points 20] [--milp]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).parent))

from machine import cpu_model

from kizuna.data.bundle import load_dataset
from kizuna.exposure.rules import load_pack, parse_pack
from kizuna.products.templates import load_template
from kizuna.scenarios import load_scenario
from kizuna.sourcing import (
    Assumptions,
    Measure,
    Problem,
    build,
    frontier,
    shortfall_draws,
)
from kizuna.sourcing.solve import violated

SCENARIO = Path(__file__).with_name("scenario_bench.yaml")
PORTFOLIO = (  # (template, parameters, units a year)
    ("nmc811", {}, 2_000_000),  # kWh of packs
    ("lfp", {}, 1_500_000),
    ("nmc811", {"natural_graphite_share": 1.0}, 500_000),
    ("ndfeb-motor", {}, 400_000),
    ("ndfeb-motor", {"tb_share": 0.005, "dy_share": 0.005}, 200_000),
    ("wind-dd", {}, 300),  # MW
    ("jet-engine", {}, 500),
    ("jet-engine", {"alloy": "cmsx-10"}, 200),
    ("fighter-ree", {}, 100),
    ("fighter-ree", {"source": "crs-2013"}, 50),
)
PRICE_DEFAULT = 5_000.0  # USD/t for minerals USGS gives no price for (stated in the output)


def portfolio() -> list[tuple[object, float]]:
    return [(load_template(tid, params), float(units)) for tid, params, units in PORTFOLIO]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--alpha", type=float, default=0.95)
    parser.add_argument("--milp", action="store_true",
                        help="add min_sources 2 at every mineral and stage (binaries)")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy "
          f"{scipy.__version__} (HiGHS), {os.cpu_count()} cores, {cpu_model() or '?'}")
    ds = load_dataset()
    products = portfolio()
    assumptions = Assumptions(price_default=PRICE_DEFAULT)
    began = time.perf_counter()
    pack = load_pack("eu-crma")
    if args.milp:
        pack = parse_pack({"id": "eu-crma+two", "rules": [
            dict(rule.spec) for rule in pack.rules] + [
            {"id": "two-sources", "kind": "min_sources", "count": 2}]}, "benchmark")
    model = build(ds, products, pack=pack, assumptions=assumptions)  # type: ignore[arg-type]
    built = time.perf_counter() - began
    print(f"portfolio: {len(products)} products, {len(model.demand)} minerals planned "
          f"({len(model.unplannable)} without supply data), {len(model.paths):,} paths, "
          f"{len(model.sources):,} sources, {len(model.rows):,} rows, "
          f"{len(model.binaries)} binaries; built in {built:.2f} s; "
          f"price default {PRICE_DEFAULT:,.0f} USD/t for "
          f"{sum(src == 'assumption (price_default)' for _, src in model.prices.values())} "
          "minerals")
    scenario = load_scenario(SCENARIO, dataset=ds)
    began = time.perf_counter()
    draws = shortfall_draws(ds, scenario, model, draws=args.draws, seed=1,
                            products=[p for p, _ in products])  # type: ignore[misc]
    drawn = time.perf_counter() - began
    print(f"scenario {scenario.id}: {args.draws:,} draws -> {len(draws.keys)} source "
          f"countries hit, {len(draws.pairs)} overlap pairs, {draws.loss.nnz:,} + "
          f"{draws.overlap.nnz:,} non-zeros; {drawn:.2f} s")
    for kind, measure in (("proxy", Measure("proxy")),
                          ("cvar", Measure("cvar", draws, args.alpha))):
        began = time.perf_counter()
        problem = Problem(model, measure)
        setup = time.perf_counter() - began
        began = time.perf_counter()
        result = frontier(model, args.points, measure=measure)
        total = time.perf_counter() - began
        _check(model, result, problem)
        solves = [p["seconds"] for p in result.frontier]
        form = "MILP" if model.binaries else "LP"
        print(f"\n{kind}: {form} {problem.columns:,} columns x {problem.matrix.shape[0]:,} rows, "
              f"{problem.matrix.nnz:,} non-zeros (matrices {setup:.2f} s)")
        print(f"  {len(result.frontier)}-point frontier in {total:.2f} s (2 solves for the ends "
              f"+ {len(solves)} points): per point solve mean {np.mean(solves):.3f} s, "
              f"max {max(solves):.3f} s")
        ends = result.frontier[0], result.frontier[-1]
        unit = "USD" if kind == "cvar" else "share"
        print(f"  ends: risk {ends[0]['risk']:,.4g} {unit} at cost {ends[0]['cost']:,.0f} USD; "
              f"risk {ends[1]['risk']:,.4g} {unit} at {ends[1]['cost']:,.0f} USD "
              f"(+{ends[1]['cost'] / ends[0]['cost'] - 1:.2%})")
    print(f"\nbuild {built:.2f} s + draws {drawn:.2f} s; target: the CVaR frontier in < 60 s")


def _check(model: object, result: object, problem: Problem) -> None:
    """Every frontier plan meets every constraint; cost does not fall as the cap tightens."""
    frontier_points = result.frontier  # type: ignore[attr-defined]
    for point in frontier_points:
        if point["status"] != "optimal":
            raise SystemExit(f"frontier point {point['risk_cap']}: {point['status']}")
    costs = [p["cost"] for p in frontier_points]
    for low, high in itertools.pairwise(costs):
        if high < low * (1 - 1e-7):
            raise SystemExit(f"cost fell as the cap tightened: {low} -> {high}")
    best = problem.run()
    assert best.x is not None
    broken = violated(model, best.x)  # type: ignore[arg-type]
    if broken:
        raise SystemExit(f"the least-cost plan breaks: {broken[:3]}")


if __name__ == "__main__":
    main()
