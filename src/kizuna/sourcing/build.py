"""Build the sourcing model: variables are tonnes along supply paths mine country -> refining
country for each mineral; rows are demand, capacity, the rule pack's caps at both stages, and
(MILP) minimum orders and minimum numbers of sources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kizuna.data.bundle import Dataset
from kizuna.errors import InputError, NotFoundError
from kizuna.exposure.mixes import OTHER, world_mix
from kizuna.exposure.rules import Pack
from kizuna.model import countries
from kizuna.model.types import STAGES, CountryGroup
from kizuna.products.model import Product
from kizuna.scenarios.model import baseline_of
from kizuna.sourcing.assumptions import Assumptions

Coeffs = dict[int, float]


@dataclass(frozen=True)
class SupplyPath:
    """One decision variable: tonnes of ``mineral`` mined in ``mine`` and refined in ``refine``
    (None where the mineral has no data at that stage)."""

    mineral: str
    mine: str | None
    refine: str | None
    cost_per_t: float

    def at(self, stage: str) -> str | None:
        return self.mine if stage == "mining" else self.refine


@dataclass(frozen=True)
class Row:
    """One linear constraint lo <= sum(coeffs[v] * var[v]) <= hi, with the group it belongs to
    (relaxed together when explaining infeasibility) and what it says."""

    group: str
    mineral: str
    stage: str
    coeffs: Coeffs
    lo: float
    hi: float
    text: str


@dataclass
class SourcingModel:
    """Everything HiGHS needs, inspectable before solving."""

    product: str
    volume: float
    pack: str | None
    demand: dict[str, float]  # mineral -> tonnes
    prices: dict[str, tuple[float, str]]  # mineral -> (USD/t, source)
    capacity: dict[tuple[str, str, str], float]  # (mineral, stage, iso3) -> tonnes
    paths: list[SupplyPath]
    binaries: list[tuple[str, str, str]]  # (mineral, stage, iso3), variables after the paths
    rows: list[Row]
    risk: list[float]  # per path: tonnes-stages in the risk group per tonne of the path
    risk_basis: float  # demand tonnes x stages: risk = risk . x / risk_basis
    stages: dict[str, tuple[str, ...]]  # mineral -> stages modelled
    assumptions: Assumptions
    notes: list[str] = field(default_factory=list)
    unplannable: list[str] = field(default_factory=list)

    @property
    def n_vars(self) -> int:
        return len(self.paths) + len(self.binaries)

    def through(self, mineral: str, stage: str, iso3: str) -> Coeffs:
        return {i: 1.0 for i, p in enumerate(self.paths)
                if p.mineral == mineral and p.at(stage) == iso3}


def price_of(ds: Dataset, mineral: str, assumptions: Assumptions) -> tuple[float, str]:
    """USD per tonne: the override, else the latest USGS price (refined preferred), else the
    default; a missing price with no default is an InputError naming the field."""
    if mineral in assumptions.prices:
        return assumptions.prices[mineral], "assumption (prices)"
    rows = ds.prices[(ds.prices["mineral"] == mineral) & ds.prices["usd_per_t"].notna()]
    if assumptions.year is not None:
        rows = rows[rows["year"] <= assumptions.year]
    for stage in ("refining", "mining"):
        own = rows[rows["stage"] == stage]
        if not own.empty:
            row = own.sort_values("year").iloc[-1]
            return float(row["usd_per_t"]), f"{row['citation']} ({row['year']}, {stage})"
    if assumptions.price_default is not None:
        return assumptions.price_default, "assumption (price_default)"
    raise InputError(f"no price for {mineral}: USGS gives none",
                     hint=f"set prices: {{{mineral}: USD_PER_T}} or price_default in the "
                          "assumptions", field="prices")


def _sources(ds: Dataset, mineral: str, stage: str, assumptions: Assumptions,
             world_tonnes: float | None) -> tuple[dict[str, float], float | None]:
    """Named country -> tonnes available to us, and the world tonnes used."""
    mix = world_mix(ds, mineral, stage, assumptions.year)
    if mix is None:
        return {}, None
    base = baseline_of(ds, mineral, stage, assumptions.year)
    tonnes = base.tonnes if base is not None and base.tonnes is not None else world_tonnes
    if tonnes is None:
        return {}, None
    return ({iso3: share * tonnes * assumptions.capacity_share
             for iso3, share in mix.shares.items() if iso3 != OTHER and share > 0}, tonnes)


def build(ds: Dataset, product: Product, *, volume: float | None = None,
          pack: Pack | None = None, assumptions: Assumptions | None = None,
          groups: Mapping[str, CountryGroup] | None = None) -> SourcingModel:
    """The model for ``volume`` units of ``product`` (default: the product's own volume)."""
    chosen = assumptions or Assumptions()
    in_force = dict(groups or ds.groups)
    if chosen.risk_group not in in_force:
        raise InputError(f"unknown risk_group {chosen.risk_group!r}",
                         hint=f"groups: {', '.join(sorted(in_force))}", field="risk_group")
    risky = in_force[chosen.risk_group].members
    units = product.volume if volume is None else float(volume)
    if units < 0:
        raise InputError(f"volume must be >= 0, got {units:g}", field="volume")
    model = SourcingModel(product.id, units, pack.id if pack else None, {}, {}, {}, [], [], [],
                          [], 0.0, {}, chosen)
    for mineral, kg in product.demand_kg().items():
        tonnes = kg * units / 1000.0
        if tonnes <= 0:
            continue
        _add_mineral(ds, model, mineral, tonnes, risky)
    if pack is not None:
        _apply_pack(ds, model, pack, in_force)
    _add_binaries(model)
    return model


def _add_mineral(ds: Dataset, model: SourcingModel, mineral: str, tonnes: float,
                 risky: frozenset[str]) -> None:
    chosen = model.assumptions
    mines, world = _sources(ds, mineral, "mining", chosen, None)
    refineries, _ = _sources(ds, mineral, "refining", chosen, world)
    stages = tuple(s for s, found in (("mining", mines), ("refining", refineries)) if found)
    if not stages:
        model.unplannable.append(f"{mineral}: no supply data with tonnes at either stage; "
                                 f"{tonnes:,.3g} t not planned")
        return
    if len(stages) == 1:
        other = "refining" if stages[0] == "mining" else "mining"
        model.notes.append(f"{mineral}: {stages[0]} only (no {other} data with tonnes)")
    price, source = price_of(ds, mineral, chosen)
    model.demand[mineral] = tonnes
    model.prices[mineral] = (price, source)
    model.stages[mineral] = stages
    for stage, found in (("mining", mines), ("refining", refineries)):
        for iso3, cap in found.items():
            model.capacity[(mineral, stage, iso3)] = cap
    start = len(model.paths)
    mine_options: list[str | None] = [*mines] or [None]
    refine_options: list[str | None] = [*refineries] or [None]
    for mine in mine_options:
        for refine in refine_options:
            premium = sum(chosen.premium_of(c) for c in (mine, refine) if c is not None)
            model.paths.append(SupplyPath(mineral, mine, refine, price * (1 + premium)))
            model.risk.append(float(sum(c in risky for c in (mine, refine) if c is not None)))
    model.risk_basis += tonnes * len(stages)
    every = {i: 1.0 for i in range(start, len(model.paths))}
    model.rows.append(Row("demand", mineral, "*", every, tonnes, tonnes,
                          f"{mineral}: demand {_kt(tonnes)}"))
    for (name, stage, iso3), cap in model.capacity.items():
        if name == mineral:
            model.rows.append(Row("capacity", mineral, stage, model.through(mineral, stage, iso3),
                                  0.0, cap, f"{mineral} {stage}: {iso3} capacity {_kt(cap)}"))


def _kt(tonnes: float) -> str:
    return f"{tonnes / 1000:,.3g} kt" if tonnes >= 1000 else f"{tonnes:,.3g} t"


def _rule_minerals(ds: Dataset, pack: Pack, spec: Any) -> frozenset[str] | None:
    if spec in (None, "all"):
        return None
    if isinstance(spec, str) and spec.startswith("list:"):
        members = ds.list_members
        chosen = members[members["list_id"] == spec.removeprefix("list:")]
        if chosen.empty:
            raise InputError(f"{pack.id}: unknown mineral list {spec!r}", field="minerals")
        return frozenset(str(m) for m in chosen["mineral"])
    try:
        return frozenset(ds.mineral(str(n)).slug for n in (spec if isinstance(spec, list)
                                                          else [spec]))
    except NotFoundError as error:
        raise InputError(f"{pack.id}: {error.message}", field="minerals") from None


def _countries(pack: Pack, spec: Any, groups: Mapping[str, CountryGroup]) -> frozenset[str]:
    if isinstance(spec, str) and spec.startswith("group:"):
        name = spec.removeprefix("group:")
        if name not in groups:
            raise InputError(f"{pack.id}: unknown country group {name!r}",
                             hint=f"groups: {', '.join(sorted(groups))}", field="countries")
        return groups[name].members
    return frozenset(countries.to_iso3(str(v)) for v in (spec if isinstance(spec, list)
                                                          else [spec]))


def _apply_pack(ds: Dataset, model: SourcingModel, pack: Pack,
                groups: Mapping[str, CountryGroup]) -> None:
    for rule in pack.rules:
        if rule.kind == "partner_value_share":
            model.notes.append(f"rule {rule.id} ({rule.kind}) is not applied by the optimiser "
                               "in this version")
            continue
        wanted = _rule_minerals(ds, pack, rule.spec.get("minerals"))
        for mineral, stages in model.stages.items():
            if wanted is not None and mineral not in wanted:
                continue
            for stage in stages:
                if stage in rule.spec.get("stages", STAGES):
                    _rule_rows(model, pack, rule.id, rule.kind, rule.spec, mineral, stage,
                               groups)


def _rule_rows(model: SourcingModel, pack: Pack, rule_id: str, kind: str,
               spec: Mapping[str, Any], mineral: str, stage: str,
               groups: Mapping[str, CountryGroup]) -> None:
    demand = model.demand[mineral]
    here = sorted(c for (m, s, c) in model.capacity if m == mineral and s == stage)
    group = f"rule:{rule_id}"
    if kind == "max_share":
        limit = float(spec["limit"])
        if spec["who"] == "any-country":
            exempt = _countries(pack, spec["except"], groups) if "except" in spec else frozenset()
            for iso3 in here:
                if iso3 not in exempt:
                    model.rows.append(Row(group, mineral, stage,
                                          model.through(mineral, stage, iso3), 0.0,
                                          limit * demand, f"{mineral} {stage}: {iso3} <= "
                                          f"{limit:.0%} ({rule_id})"))
            return
        members = _countries(pack, spec["who"], groups)
        coeffs: Coeffs = {}
        for iso3 in here:
            if iso3 in members:
                coeffs.update(model.through(mineral, stage, iso3))
        model.rows.append(Row(group, mineral, stage, coeffs, 0.0, limit * demand,
                              f"{mineral} {stage}: {spec['who']} <= {limit:.0%} ({rule_id})"))
    elif kind == "exclude":
        banned = _countries(pack, spec["countries"], groups)
        coeffs = {}
        for iso3 in here:
            if iso3 in banned:
                coeffs.update(model.through(mineral, stage, iso3))
        if coeffs:
            model.rows.append(Row(group, mineral, stage, coeffs, 0.0, 0.0,
                                  f"{mineral} {stage}: none from "
                                  f"{', '.join(sorted(banned & set(here)))} ({rule_id})"))
    elif kind == "min_sources":
        model.rows.append(Row(group, mineral, stage, {}, float(spec["count"]), float("inf"),
                              f"{mineral} {stage}: at least {spec['count']} countries "
                              f"({rule_id})"))


def _add_binaries(model: SourcingModel) -> None:
    """One binary 'used' per (mineral, stage, country) where a minimum order or a min_sources
    rule needs it; fills the min_sources rows' coefficients."""
    counted = {(r.mineral, r.stage) for r in model.rows if r.group.startswith("rule:")
               and r.lo >= 1 and not r.coeffs}
    chosen = model.assumptions
    start = len(model.paths)
    for mineral, stage, iso3 in list(model.capacity):
        order = chosen.min_order_t.get(mineral, 0.0)
        counts = (mineral, stage) in counted
        if order <= 0 and not counts:
            continue
        index = start + len(model.binaries)
        model.binaries.append((mineral, stage, iso3))
        cap = model.capacity[(mineral, stage, iso3)]
        flow = model.through(mineral, stage, iso3)
        model.rows.append(Row("link", mineral, stage, {**flow, index: -cap}, -float("inf"), 0.0,
                              f"{mineral} {stage}: {iso3} used only if chosen"))
        floor = max(order, chosen.min_source_share * model.demand[mineral] if counts else 0.0)
        model.rows.append(Row("min_order", mineral, stage, {**flow, index: -floor}, 0.0,
                              float("inf"), f"{mineral} {stage}: {iso3} at least {_kt(floor)} "
                              "if used"))
    for row in model.rows:
        if row.group.startswith("rule:") and row.lo >= 1 and not row.coeffs:
            row.coeffs.update({start + k: 1.0 for k, (m, s, _) in enumerate(model.binaries)
                               if m == row.mineral and s == row.stage})
