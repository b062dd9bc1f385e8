"""Build the sourcing model: variables are tonnes along supply paths, mine source -> refining
source, for each mineral; a source is a country's market or a named supplier in a country.
Rows are demand, capacity, the rule pack's caps at both stages, the partner value share,
and (MILP) minimum orders and minimum numbers of sources.

The pieces are public so that a small model can be put together by hand (the reference
tests do): :meth:`SourcingModel.new`, :func:`add_mineral`, :func:`kizuna.sourcing.rules.apply_pack`
and :func:`finish`. :func:`build` does all of it from the bundled data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from kizuna.data.bundle import Dataset
from kizuna.errors import InputError
from kizuna.exposure.mixes import OTHER, world_mix
from kizuna.exposure.rules import Pack
from kizuna.model.types import STAGES, CountryGroup
from kizuna.products.model import Product
from kizuna.scenarios.model import baseline_of
from kizuna.sourcing.assumptions import Assumptions
from kizuna.sourcing.suppliers import Supplier

Coeffs = dict[int, float]
Portfolio = Sequence[tuple[Product, float]]


@dataclass(frozen=True)
class Source:
    """Where tonnes of a mineral can be bought at one stage: a country's market (``supplier``
    None) or a named supplier located in ``iso3``."""

    mineral: str
    stage: str
    iso3: str
    supplier: str | None
    capacity: float
    premium: float
    owner: str | None = None
    min_order: float = 0.0


@dataclass(frozen=True)
class SupplyPath:
    """One decision variable: tonnes of ``mineral`` bought at ``mine`` and refined at
    ``refine`` (None where the mineral has no data at that stage)."""

    mineral: str
    mine: Source | None
    refine: Source | None
    cost_per_t: float

    def source(self, stage: str) -> Source | None:
        return self.mine if stage == "mining" else self.refine

    def at(self, stage: str) -> str | None:
        found = self.source(stage)
        return None if found is None else found.iso3


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


@dataclass(frozen=True)
class PartnerRule:
    """A ``partner_value_share`` rule as the optimiser applies it (for explanations)."""

    rule: str
    threshold: float
    year: int
    minerals: tuple[str, ...]
    partners: frozenset[str]


@dataclass
class SourcingModel:
    """Everything HiGHS needs, inspectable before solving."""

    product: str
    volume: float
    pack: str | None
    assumptions: Assumptions
    risky: frozenset[str] = frozenset()
    year: int | None = None
    demand: dict[str, float] = field(default_factory=dict)  # mineral -> tonnes
    prices: dict[str, tuple[float, str]] = field(default_factory=dict)  # (USD/t, source)
    stages: dict[str, tuple[str, ...]] = field(default_factory=dict)  # mineral -> stages
    sources: list[Source] = field(default_factory=list)
    paths: list[SupplyPath] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    binaries: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    risk: list[float] = field(default_factory=list)  # per path: risk-group stages per tonne
    risk_basis: float = 0.0  # demand tonnes x stages: risk = risk . x / risk_basis
    limits: dict[str, float] = field(default_factory=dict)  # rule id -> limit in force
    partner_rules: list[PartnerRule] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unplannable: list[str] = field(default_factory=list)
    by_country: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)
    by_source: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def new(cls, product: str, volume: float, assumptions: Assumptions | None = None, *,
            risky: Iterable[str] = (), pack: str | None = None,
            year: int | None = None) -> SourcingModel:
        return cls(product, volume, pack, assumptions or Assumptions(), frozenset(risky), year)

    @property
    def n_vars(self) -> int:
        return len(self.paths) + len(self.binaries)

    @property
    def capacity(self) -> dict[tuple[str, str, str], float]:
        """(mineral, stage, iso3) -> tonnes available from the country (market and named
        suppliers together)."""
        out: dict[tuple[str, str, str], float] = {}
        for source in self.sources:
            key = (source.mineral, source.stage, source.iso3)
            out[key] = out.get(key, 0.0) + source.capacity
        return out

    def countries(self, mineral: str, stage: str) -> list[str]:
        return sorted({s.iso3 for s in self.sources if (s.mineral, s.stage) == (mineral, stage)})

    def through(self, mineral: str, stage: str, iso3: str) -> Coeffs:
        """Coefficients summing the tonnes bought in ``iso3`` at ``stage``."""
        return {i: 1.0 for i in self.by_country.get((mineral, stage, iso3), ())}

    def via(self, source: int) -> Coeffs:
        """Coefficients summing the tonnes bought from one source."""
        return {i: 1.0 for i in self.by_source.get(source, ())}


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


def world_capacity(ds: Dataset, mineral: str, stage: str, assumptions: Assumptions,
                   world_tonnes: float | None) -> tuple[dict[str, float], float | None,
                                                        str | None]:
    """Named country -> tonnes available to us (``capacity_share`` of its production), the
    world tonnes used (the mining total stands in where refining data are shares), and the
    proxy used: a rare-earth element without element-level data takes the rare-earths mix
    and tonnes, an upper bound of the element's own."""
    shares, tonnes, proxy = _world_supply(ds, mineral, stage, assumptions.year)
    tonnes = tonnes if tonnes is not None else world_tonnes
    if not shares or tonnes is None:
        return {}, None, None
    return ({iso3: share * tonnes * assumptions.capacity_share for iso3, share in shares},
            tonnes, proxy)


@lru_cache(maxsize=4096)
def _world_supply(ds: Dataset, mineral: str, stage: str, year: int | None
                  ) -> tuple[tuple[tuple[str, float], ...], float | None, str | None]:
    """(named country shares, world tonnes or None, proxy), cached: the mixes are read-only."""
    proxy = None
    mix = world_mix(ds, mineral, stage, year)
    base = baseline_of(ds, mineral, stage, year)
    if mix is None and base is not None and base.proxy is not None:
        mix = world_mix(ds, base.proxy, stage, year)
        proxy = base.proxy
        base = baseline_of(ds, base.proxy, stage, year)
    if mix is None:
        return (), None, None
    tonnes = base.tonnes if base is not None else None
    return (tuple((iso3, share) for iso3, share in mix.shares.items()
                  if iso3 != OTHER and share > 0), tonnes, proxy)


@dataclass(frozen=True)
class YearView:
    """How one year of a transition path changes the data: capacity grows, premiums fall,
    demand grows, from ``first`` (see ``Assumptions.transition``)."""

    year: int
    first: int

    @property
    def elapsed(self) -> int:
        return self.year - self.first


def _market_premium(assumptions: Assumptions, iso3: str, view: YearView | None) -> float:
    premium = assumptions.premium_of(iso3)
    if view is not None:
        premium *= (1.0 - assumptions.transition.premium_decline) ** view.elapsed
    return premium


def _sources(model: SourcingModel, mineral: str, stage: str, markets: Mapping[str, float],
             suppliers: Sequence[Supplier], view: YearView | None) -> list[Source]:
    chosen = model.assumptions
    named = [s for s in suppliers if (s.mineral, s.stage) == (mineral, stage)]
    out = []
    if not (named and chosen.suppliers_only):
        for iso3, capacity in markets.items():
            growth = (1.0 + chosen.transition.growth(iso3)) ** view.elapsed if view else 1.0
            out.append(Source(mineral, stage, iso3, None, capacity * growth,
                              _market_premium(chosen, iso3, view)))
    for supplier in named:
        late = (view is not None and supplier.start_year is not None
                and view.year < supplier.start_year)
        premium = (supplier.premium if supplier.premium is not None
                   else _market_premium(chosen, supplier.iso3, view))
        out.append(Source(mineral, stage, supplier.iso3, supplier.name,
                          0.0 if late else supplier.capacity_t, premium, supplier.owner,
                          supplier.min_order_t))
    return out


def add_mineral(model: SourcingModel, mineral: str, tonnes: float, price: float,
                price_source: str, supply: Mapping[str, Mapping[str, float]],
                suppliers: Sequence[Supplier] = (), view: YearView | None = None) -> None:
    """Add one mineral: its sources at each stage (``supply``: stage -> {iso3: tonnes
    available}, plus named ``suppliers``), every mine -> refinery path, demand and capacity."""
    by_stage = {stage: _sources(model, mineral, stage, supply.get(stage, {}), suppliers, view)
                for stage in STAGES}
    stages = tuple(stage for stage in STAGES if by_stage[stage])
    if not stages:
        model.unplannable.append(f"{mineral}: no supply data with tonnes at either stage; "
                                 f"{kt(tonnes)} not planned")
        return
    if len(stages) == 1:
        other = "refining" if stages[0] == "mining" else "mining"
        model.notes.append(f"{mineral}: {stages[0]} only (no {other} data with tonnes)")
    model.demand[mineral] = tonnes
    model.prices[mineral] = (price, price_source)
    model.stages[mineral] = stages
    index: dict[Source, int] = {}
    for stage in stages:
        for source in by_stage[stage]:
            index[source] = len(model.sources)
            model.sources.append(source)
    start = len(model.paths)
    mines: list[Source | None] = [*by_stage["mining"]] or [None]
    refineries: list[Source | None] = [*by_stage["refining"]] or [None]
    for mine in mines:
        for refine in refineries:
            _add_path(model, mineral, mine, refine, price, index)
    model.risk_basis += tonnes * len(stages)
    every = {i: 1.0 for i in range(start, len(model.paths))}
    model.rows.append(Row("demand", mineral, "*", every, tonnes, tonnes,
                          f"{mineral}: demand {kt(tonnes)}"))
    for source, number in index.items():
        name = source.supplier or source.iso3
        model.rows.append(Row("capacity", mineral, source.stage, model.via(number), 0.0,
                              source.capacity, f"{mineral} {source.stage}: {name} capacity "
                                               f"{kt(source.capacity)}"))


def _add_path(model: SourcingModel, mineral: str, mine: Source | None, refine: Source | None,
              price: float, index: Mapping[Source, int]) -> None:
    number = len(model.paths)
    premium = sum(s.premium for s in (mine, refine) if s is not None)
    model.paths.append(SupplyPath(mineral, mine, refine, price * (1 + premium)))
    model.risk.append(float(sum(s.iso3 in model.risky for s in (mine, refine) if s)))
    for source in (mine, refine):
        if source is not None:
            model.by_country.setdefault((mineral, source.stage, source.iso3), []).append(number)
            model.by_source.setdefault(index[source], []).append(number)


def kt(tonnes: float) -> str:
    """Tonnes in words: '12.3 kt' or '450 t'."""
    return f"{tonnes / 1000:,.3g} kt" if tonnes >= 1000 else f"{tonnes:,.3g} t"


def finish(model: SourcingModel) -> SourcingModel:
    """Add the binaries: one 'used' per (mineral, stage, country) where a minimum order or a
    min_sources rule needs it, one per named supplier with a minimum order; fill the
    min_sources rows' coefficients."""
    counted = {(r.mineral, r.stage) for r in model.rows if r.group.startswith("rule:")
               and r.lo >= 1 and not r.coeffs}
    chosen = model.assumptions
    start = len(model.paths)
    for (mineral, stage, iso3), cap in model.capacity.items():
        order = chosen.min_order_t.get(mineral, 0.0)
        counts = (mineral, stage) in counted
        if order <= 0 and not counts:
            continue
        floor = max(order, chosen.min_source_share * model.demand[mineral] if counts else 0.0)
        _binary(model, (mineral, stage, iso3, None), model.through(mineral, stage, iso3),
                min(cap, model.demand[mineral]), floor, iso3)
    for number, source in enumerate(model.sources):
        if source.supplier is not None and source.min_order > 0:
            _binary(model, (source.mineral, source.stage, source.iso3, source.supplier),
                    model.via(number), min(source.capacity, model.demand[source.mineral]),
                    source.min_order, source.supplier)
    for row in model.rows:
        if row.group.startswith("rule:") and row.lo >= 1 and not row.coeffs:
            row.coeffs.update({start + k: 1.0 for k, (m, s, _, who) in
                               enumerate(model.binaries)
                               if m == row.mineral and s == row.stage and who is None})
    return model


def _binary(model: SourcingModel, key: tuple[str, str, str, str | None], flow: Coeffs,
            cap: float, floor: float, name: str) -> None:
    """flow <= cap x used and flow >= floor x used; ``cap`` is the smallest big-M that holds
    (the source's capacity or the demand, whichever is less), which keeps the LP relaxation
    tight."""
    mineral, stage = key[0], key[1]
    index = len(model.paths) + len(model.binaries)
    model.binaries.append(key)
    model.rows.append(Row("link", mineral, stage, {**flow, index: -cap}, -float("inf"), 0.0,
                          f"{mineral} {stage}: {name} used only if chosen"))
    model.rows.append(Row("min_order", mineral, stage, {**flow, index: -floor}, 0.0,
                          float("inf"), f"{mineral} {stage}: {name} at least {kt(floor)} "
                                        "if used"))


def demand_of(product: Product | Portfolio, volume: float | None) -> tuple[str, float,
                                                                             dict[str, float]]:
    """(label, units, mineral -> tonnes) of a product at ``volume`` or of a portfolio of
    (product, units)."""
    if isinstance(product, Product):
        units = product.volume if volume is None else float(volume)
        if units < 0:
            raise InputError(f"volume must be >= 0, got {units:g}", field="volume")
        return product.id, units, {m: kg * units / 1000.0 for m, kg in
                                   product.demand_kg().items()}
    tonnes: dict[str, float] = {}
    for item, units in product:
        if units < 0:
            raise InputError(f"{item.id}: volume must be >= 0, got {units:g}", field="volume")
        for mineral, kg in item.demand_kg().items():
            tonnes[mineral] = tonnes.get(mineral, 0.0) + kg * units / 1000.0
    label = "portfolio: " + ", ".join(f"{item.id} x {units:,.6g}" for item, units in product)
    return label, float(sum(units for _, units in product)), tonnes


def build(ds: Dataset, product: Product | Portfolio, *, volume: float | None = None,
          pack: Pack | None = None, assumptions: Assumptions | None = None,
          groups: Mapping[str, CountryGroup] | None = None,
          suppliers: Sequence[Supplier] = (), year: int | None = None,
          first_year: int | None = None) -> SourcingModel:
    """The model for ``volume`` units of ``product`` (default: the product's own volume), or
    for a portfolio; ``year`` and ``first_year`` place it on a transition path."""
    from kizuna.sourcing.rules import apply_pack  # noqa: PLC0415 - rules imports this module

    chosen = assumptions or Assumptions()
    in_force = dict(groups or ds.groups)
    if chosen.risk_group not in in_force:
        raise InputError(f"unknown risk_group {chosen.risk_group!r}",
                         hint=f"groups: {', '.join(sorted(in_force))}", field="risk_group")
    label, units, demand = demand_of(product, volume)
    view = YearView(year, first_year if first_year is not None else year) if year else None
    growth = (1.0 + chosen.transition.demand_growth) ** view.elapsed if view else 1.0
    model = SourcingModel.new(label, units * growth, chosen,
                              risky=in_force[chosen.risk_group].members,
                              pack=pack.id if pack else None, year=year)
    for mineral, tonnes in demand.items():
        if tonnes > 0:
            _data_mineral(ds, model, mineral, tonnes * growth, suppliers, view)
    _unused_suppliers(model, suppliers, year)
    if pack is not None:
        apply_pack(ds, model, pack, in_force)
    return finish(model)


def _data_mineral(ds: Dataset, model: SourcingModel, mineral: str, tonnes: float,
                  suppliers: Sequence[Supplier], view: YearView | None) -> None:
    chosen = model.assumptions
    mines, world, proxy = world_capacity(ds, mineral, "mining", chosen, None)
    refineries, _, refining_proxy = world_capacity(ds, mineral, "refining", chosen, world)
    supply = {"mining": mines, "refining": refineries}
    usable = [s for s in suppliers if s.mineral == mineral and supply[s.stage]]
    if not (mines or refineries or usable):
        add_mineral(model, mineral, tonnes, 0.0, "", supply, (), view)
        return
    if proxy or refining_proxy:
        model.notes.append(f"{mineral}: no element-level supply data; the "
                           f"{proxy or refining_proxy} mix and tonnes stand in, so its "
                           "capacity is an upper bound (proxy)")
    price, source = price_of(ds, mineral, chosen)
    add_mineral(model, mineral, tonnes, price, source, supply, usable, view)


def _unused_suppliers(model: SourcingModel, suppliers: Sequence[Supplier],
                      year: int | None) -> None:
    for supplier in suppliers:
        stages = model.stages.get(supplier.mineral)
        if stages is None:
            model.notes.append(f"supplier {supplier.name}: {supplier.mineral} is not in the "
                               "product; not used")
        elif supplier.stage not in stages:
            model.notes.append(f"supplier {supplier.name}: {supplier.mineral} has no "
                               f"{supplier.stage} data in the model; not used")
        elif supplier.start_year is not None and year is None:
            model.notes.append(f"supplier {supplier.name}: start_year {supplier.start_year} "
                               "counts only with --years; its capacity is used in full here")
