"""One call from a request to a result, as ``kizuna source plan`` and the /sourcing page
make it: load the pack, assumptions, suppliers and scenario; build; solve, sweep the
frontier or plan the years."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kizuna.data.bundle import Dataset
from kizuna.errors import InputError
from kizuna.exposure.rules import Pack, load_pack
from kizuna.model.types import CountryGroup
from kizuna.products.model import Product
from kizuna.scenarios import Scenario, load_scenario
from kizuna.sourcing.assumptions import Assumptions, load_assumptions
from kizuna.sourcing.build import Portfolio, SourcingModel, build
from kizuna.sourcing.problem import MEASURES, Measure
from kizuna.sourcing.shortfall import check_draws, shortfall_draws
from kizuna.sourcing.solve import SourcingResult, frontier, solve
from kizuna.sourcing.suppliers import Supplier, load_suppliers
from kizuna.sourcing.transition import parse_years, transition


@dataclass(frozen=True)
class PlanRequest:
    """What to plan; files may be given as paths or as loaded values."""

    product: Product | Portfolio
    volume: float | None = None
    rules: str | Pack | None = None
    risk: str | None = None  # proxy | cvar; default cvar with a scenario, else proxy
    risk_weight: float = 0.0
    frontier: int | None = None
    years: str | tuple[int, int] | None = None
    scenario: str | Scenario | None = None
    draws: int = 10_000
    alpha: float = 0.95
    seed: int = 0
    suppliers: Path | Sequence[Supplier] | None = None
    assumptions: Path | Assumptions | None = None
    time_limit: float | None = None
    groups: Mapping[str, CountryGroup] | None = None


def _products(product: Product | Portfolio) -> list[Product]:
    return [product] if isinstance(product, Product) else [item for item, _ in product]


def _measure(ds: Dataset, request: PlanRequest, model: SourcingModel) -> Measure:
    kind = request.risk or ("cvar" if request.scenario is not None else "proxy")
    if kind not in MEASURES:
        raise InputError(f"--risk {kind!r} is not a risk measure",
                         hint=f"use one of: {', '.join(MEASURES)}", field="risk")
    if request.scenario is None:
        if kind == "cvar":
            raise InputError("--risk cvar needs a scenario to draw from",
                             hint="add --scenario ID_OR_FILE (kizuna scenario list)",
                             field="scenario")
        return Measure(kind)
    check_draws(request.draws, request.alpha)
    scenario = (request.scenario if isinstance(request.scenario, Scenario)
                else load_scenario(request.scenario, dataset=ds))
    draws = shortfall_draws(ds, scenario, model, draws=request.draws, seed=request.seed,
                            products=_products(request.product))
    return Measure(kind, draws, request.alpha)


def run_plan(ds: Dataset, request: PlanRequest) -> SourcingResult:
    """The result of ``request`` (bad input raises InputError naming the field)."""
    pack = load_pack(request.rules) if isinstance(request.rules, str) else request.rules
    chosen = (load_assumptions(request.assumptions) if isinstance(request.assumptions, Path)
              else request.assumptions or Assumptions())
    named = (load_suppliers(request.suppliers, ds) if isinstance(request.suppliers, Path)
             else list(request.suppliers or ()))
    span = parse_years(request.years) if isinstance(request.years, str) else request.years
    if request.time_limit is not None and not request.time_limit > 0:
        raise InputError(f"--time-limit must be > 0 seconds, got {request.time_limit:g}",
                         field="time_limit")
    common = {"volume": request.volume, "pack": pack, "assumptions": chosen,
              "groups": request.groups, "suppliers": named}
    if span is None:
        model = build(ds, request.product, **common)  # type: ignore[arg-type]
        measure = _measure(ds, request, model)
        if request.frontier:
            return frontier(model, request.frontier, measure=measure,
                            time_limit=request.time_limit)
        return solve(model, risk_weight=request.risk_weight, measure=measure,
                     time_limit=request.time_limit)
    first, last = span
    final = build(ds, request.product, year=last, first_year=first,
                  **common)  # type: ignore[arg-type]
    measure = _measure(ds, request, final)
    result = transition(ds, request.product, span, risk_weight=request.risk_weight,
                        measure=measure, time_limit=request.time_limit,
                        **common)  # type: ignore[arg-type]
    if request.frontier and result.status == "optimal":
        swept = frontier(final, request.frontier, measure=measure,
                         time_limit=request.time_limit)
        result.frontier = swept.frontier
    return result
