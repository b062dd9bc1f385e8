"""``build_model``: from a checked scenario, the data and the chosen products to a ``Model``.

Steps, in order: find the nodes (every mineral and stage an event touches, the mining and
refining partners of each, the final stage of each product mineral); work out each event's
channel coefficients from the viewer's and the world's country shares; attach stockpiles,
responses, elasticities and prices; drop nodes nothing can reach. See docs/scenarios.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from kizuna.data.bundle import Dataset
from kizuna.exposure.mixes import Perspective
from kizuna.model.types import STAGES
from kizuna.products.model import Product
from kizuna.scenarios.model import (
    RARE_EARTHS,
    TRADE_KINDS,
    Baseline,
    EventSpec,
    Model,
    Node,
    ProductNeed,
    baseline_of,
)
from kizuna.scenarios.schema import Event, Response, Scenario, Stockpile

Key = tuple[str, str]
_Row = tuple[int, int, tuple[float, ...], str]  # event, node, coefficients, country


class _Builder:
    def __init__(self, ds: Dataset, scenario: Scenario, perspective: Perspective) -> None:
        self.ds, self.scenario, self.view = ds, scenario, perspective
        self.year = scenario.year
        self.notes: list[str] = []

    def base(self, mineral: str, stage: str) -> Baseline | None:
        return baseline_of(self.ds, mineral, stage, self.year)

    def is_element(self, mineral: str) -> bool:
        item = self.ds.minerals.get(mineral)
        return item is not None and item.group == RARE_EARTHS and mineral != RARE_EARTHS

    def final_stage(self, mineral: str) -> str | None:
        for stage in reversed(STAGES):
            if self.base(mineral, stage) is not None:
                return stage
        return None

    def applies(self, event: Event, key: Key) -> bool:
        mineral, stage = key
        named = mineral in event.minerals or (
            self.is_element(mineral) and RARE_EARTHS in event.minerals)
        return named and (not event.stages or stage in event.stages)

    # --- which nodes --------------------------------------------------------------------

    def keys(self, needs: Sequence[Product]) -> list[Key]:
        keys: dict[Key, None] = {}
        for event in self.scenario.events:
            for mineral in event.minerals:
                for stage in event.stages or STAGES:
                    if self.base(mineral, stage) is not None:
                        keys[(mineral, stage)] = None
        for product in needs:
            for mineral in product.demand_kg():
                final = self.final_stage(mineral)
                if final is not None:
                    keys[(mineral, final)] = None
        for mineral, _ in list(keys):  # mining and refining partners (feedstock)
            for stage in STAGES:
                if self.base(mineral, stage) is not None:
                    keys[(mineral, stage)] = None
        return sorted(keys, key=lambda k: (k[0], STAGES.index(k[1])))

    # --- channels -----------------------------------------------------------------------

    def viewer_shares(self, key: Key, base: Baseline) -> tuple[Mapping[str, float], str]:
        imported = self.view.mixes.get(key) or (
            self.view.mixes.get((RARE_EARTHS, key[1])) if base.proxy else None)
        if imported is not None:
            return imported.shares, imported.basis
        return base.shares, "world"

    def coefficients(self, event: Event, key: Key, viewer: Mapping[str, float],
                     base: Baseline) -> tuple[float, ...]:
        """(c0, c1, cmax, f0, f1, fmax): loss and feed loss as functions of severity."""
        if event.kind == "demand_surge":
            return 0.0, 1.0, 1.0, 0.0, 0.0, 0.0
        country = str(event.country)
        v, w = viewer.get(country, 0.0), base.shares.get(country, 0.0)
        refining = self.base(key[0], "refining")
        absorbed = 0.0
        if refining and event.kind in TRADE_KINDS:  # ore held at the border is refined at home
            absorbed = refining.shares.get(country, 0.0)
        feed_max = max(0.0, w - absorbed) if key[1] == "mining" else 0.0
        tonnes = self.tonnes_for(event, key, base)
        if event.measure == "share":
            c, f = (0.0, v, v), (-absorbed, w, feed_max)
        elif event.measure == "allowed_share":
            c, f = (v, -v, v), (w - absorbed, -w, feed_max)
        elif event.measure == "allowed_tonnes_per_year":
            scale = 1.0 / tonnes if w > 0 else 0.0
            c, f = (v, -v * scale / w if w else 0.0, v), (w - absorbed, -scale, feed_max)
        else:  # capacity_tonnes_per_year of a named facility
            scale = 1.0 / tonnes if w > 0 else 0.0
            c, f = (0.0, v * scale / w if w else 0.0, v), (0.0, scale, feed_max)
        if key[1] != "mining":
            f = (0.0, 0.0, 0.0)
        return (*c, *f)

    def tonnes_for(self, event: Event, key: Key, base: Baseline) -> float:
        if event.measure not in ("allowed_tonnes_per_year", "capacity_tonnes_per_year"):
            return math.nan
        tonnes = base.tonnes
        if tonnes is None:  # an element node: use the rare-earths total it is a proxy for
            proxy = self.base(RARE_EARTHS, key[1])
            tonnes = proxy.tonnes if proxy else None
        if not tonnes:  # loader.check_data refuses these before we get here
            raise ValueError(f"no tonnage for {key}")  # pragma: no cover
        return tonnes

    # --- mitigations --------------------------------------------------------------------

    def stockpile(self, key: Key, final: bool, stocks: Mapping[str, Stockpile]) -> float:
        mineral, stage = key
        stock = stocks.get(mineral) or (stocks.get(RARE_EARTHS) if self.is_element(mineral)
                                        else None)
        if stock is None:
            return 0.0
        return stock.days if (stock.stage == stage or (stock.stage is None and final)) else 0.0

    def responses(self, key: Key, final: bool) -> tuple[tuple[float, float], ...]:
        mineral, stage = key
        out = []
        for response in self.scenario.responses:
            family = self.is_element(mineral) and response.mineral == RARE_EARTHS
            if response.mineral != mineral and not family:
                continue
            if _response_applies(response, stage, final):
                out.append((response.share, response.lag_days))
        return tuple(out)


def _response_applies(response: Response, stage: str, final: bool) -> bool:
    if response.kind == "spare_capacity":
        return response.stage in (None, stage)
    return final  # substitution and recycling act on what users buy


def _stocks(scenario: Scenario) -> dict[str, Stockpile]:
    return {stock.mineral: stock for stock in scenario.stockpiles}


def build_model(ds: Dataset, scenario: Scenario, *, products: Sequence[Product] = (),
                perspective: Perspective | None = None) -> Model:
    """The runnable model of ``scenario`` (see the module docstring and docs/scenarios.md)."""
    view = perspective or Perspective("world")
    builder = _Builder(ds, scenario, view)
    keys = builder.keys(products)
    stocks = _stocks(scenario)
    nodes: list[Node] = []
    rows: list[_Row] = []
    for key in keys:
        base = builder.base(*key)
        if base is None:  # pragma: no cover - keys() only keeps stages with data
            continue
        viewer, mix = builder.viewer_shares(key, base)
        final = builder.final_stage(key[0]) == key[1]
        node = Node(
            mineral=key[0], stage=key[1], shares=viewer, mix=mix, source=base.source,
            year=base.year, proxy=base.proxy,
            tonnes=base.tonnes if view.name == "world" else None, basis=base.basis,
            final=final, stockpile_days=builder.stockpile(key, final, stocks),
            responses=builder.responses(key, final),
            elasticity=next((e for e in scenario.elasticities if e.mineral == key[0]), None)
            if final else None,
            reported=final or any(key[0] in e.minerals and key[1] in (e.stages or STAGES)
                                  for e in scenario.events),
        )  # fmt: skip
        index = len(nodes)
        for event in scenario.events:
            if builder.applies(event, key):
                rows.append((event.index, index, builder.coefficients(event, key, viewer, base),
                             event.country or ""))
        nodes.append(node)
    nodes = _link_feed(nodes)
    idle = _idle_notes(scenario, ds, nodes, rows)
    nodes, rows = _prune(nodes, rows)
    nodes = [_priced(ds, node, scenario.year) for node in nodes]
    needs = tuple(_product_need(builder, product, nodes) for product in products)
    channel_event = np.array([r[0] for r in rows], dtype=np.int64)
    channel_node = np.array([r[1] for r in rows], dtype=np.int64)
    coefficients = np.array([r[2] for r in rows], dtype=np.float64).reshape(len(rows), 6)
    channel_country = tuple(r[3] for r in rows)
    return Model(
        scenario_id=scenario.id, name=scenario.name, horizon_days=scenario.horizon_days,
        step_days=scenario.step_days, year=scenario.year,
        perspective=view.name if view.name == "world" else view.label,
        events=tuple(EventSpec(e.label, e.kind, e.probability, e.start, e.duration, e.severity)
                     for e in scenario.events),
        nodes=tuple(nodes), channel_event=channel_event, channel_node=channel_node,
        coefficients=coefficients, channel_country=channel_country, products=needs,
        allocation=scenario.allocation,
        assumptions=tuple(_assumptions(scenario, nodes, view, stocks)),
        sources=tuple(dict.fromkeys((*scenario.sources, *(e.source for e in scenario.events
                                                          if e.source),
                                     *(n.source for n in nodes),
                                     *(n.price_source for n in nodes if n.price_source)))),
        notes=tuple(_notes(scenario, nodes) + idle),
    )  # fmt: skip


def _link_feed(nodes: list[Node]) -> list[Node]:
    where = {(n.mineral, n.stage): i for i, n in enumerate(nodes)}
    out = []
    for node in nodes:
        partner = where.get((node.mineral, "mining")) if node.stage == "refining" else None
        out.append(replace(node, feed_from=partner))
    return out


def _prune(nodes: list[Node], rows: list[_Row]) -> tuple[list[Node], list[_Row]]:
    """Drop nodes no event can reach (directly or through their ore); renumber the rest."""
    hit = {row[1] for row in rows if row[2][2] > 0}
    feeding = {row[1] for row in rows if row[2][5] > 0}
    keep = [i for i, n in enumerate(nodes) if i in hit or i in feeding
            or (n.feed_from is not None and n.feed_from in feeding)]
    renumber = {old: new for new, old in enumerate(keep)}
    kept = [replace(nodes[i], feed_from=_renumbered(renumber, nodes[i].feed_from))
            for i in keep]
    kept_rows = [(e, renumber[n], c, country) for e, n, c, country in rows if n in renumber]
    return kept, kept_rows


def _renumbered(renumber: dict[int, int], index: int | None) -> int | None:
    return None if index is None else renumber.get(index)


def _priced(ds: Dataset, node: Node, year: int | None) -> Node:
    """The node with the latest US price up to ``year`` for its mineral, in USD per tonne.

    A mining stage without an ore price takes the refined product's price per tonne of
    contained metal, an upper bound of the value of the ore lost (said in the source text).
    """
    prices = ds.prices
    if prices.empty or node.tonnes is None:
        return node
    rows = prices[(prices["mineral"] == node.mineral) & prices["usd_per_t"].notna()]
    if year is not None:
        rows = rows[rows["year"] <= year]
    own = rows[rows["stage"] == node.stage]
    note = ""
    if own.empty and node.stage == "mining":
        own = rows[rows["stage"] == "refining"]
        note = "; refined price on contained tonnes, an upper bound for ore"
    if own.empty:
        return node
    row = own.sort_values("year").iloc[-1]
    return replace(node, price_usd_per_t=float(row["usd_per_t"]),
                   price_source=f"{row['citation']} ({row['year']}: {row['value']:g} "
                                f"{row['unit']}; {row['conversion']}{note})")


def _product_need(builder: _Builder, product: Product, nodes: list[Node]) -> ProductNeed:
    where = {(n.mineral, n.stage): i for i, n in enumerate(nodes)}
    needs: list[tuple[int, float]] = []
    unmodelled: list[str] = []
    for mineral, kg in product.demand_kg().items():
        stage = builder.final_stage(mineral)
        if stage is None:
            unmodelled.append(mineral)
        elif (mineral, stage) in where:
            needs.append((where[(mineral, stage)], kg))
    return ProductNeed(product.id, product.name, product.unit, product.volume, tuple(needs),
                       tuple(unmodelled))


def _assumptions(scenario: Scenario, nodes: list[Node], view: Perspective,
                 stocks: Mapping[str, Stockpile]) -> list[str]:
    out = [
        f"Supply baseline: {_years(nodes)} figures of the bundled data; a shortfall is a "
        f"fraction of one year's supply at that stage ({view.label}).",
        f"Time grid: {scenario.horizon_days} days in steps of {scenario.step_days} day(s); "
        "event starts and durations round to whole steps.",
        "Refining needs feedstock: a refining stage loses at least what its ore supply loses. "
        "Ore withheld by an export ban or quota is first refined in the withholding country, "
        "up to its share of world refining; only the rest is lost to other refiners.",
        "Losses of several events at one stage add up, but one country's events never "
        "withhold more than its share, nor all events more than the whole supply; a "
        "product's output is limited by its scarcest mineral.",
    ]
    out += [f"{n.mineral} ({n.stage}): no element-level data; the {n.proxy} mix stands in."
            for n in nodes if n.proxy]
    if not scenario.stockpiles and not scenario.responses:
        out.append("No stockpiles, spare capacity, substitution or recycling: a pure supply "
                   "cut (add them under mitigations).")
    for name in scenario.presets:
        from kizuna.scenarios.loader import PRESET_SOURCES  # noqa: PLC0415 - import cycle

        used = sorted(n.mineral for n in nodes if n.stockpile_days and _preset_stock(
            stocks, n.mineral))
        out.append(f"Preset {name}: {PRESET_SOURCES[name]}; applied to: "
                   f"{', '.join(used) or 'none of the scenario minerals'}.")
    if not scenario.elasticities:
        out.append("No price elasticities given, so price changes are not estimated (Kizuna "
                   "ships no default elasticities: none with a published per-mineral source "
                   "was found).")
    if view.name != "world":
        out.append("With an importer's perspective, shortfalls are fractions of the "
                   "importer's supply; its tonnes are not in the bundled data, so tonnes and "
                   "cost are not reported.")
    return out


def _preset_stock(stocks: Mapping[str, Stockpile], mineral: str) -> bool:
    stock = stocks.get(mineral) or stocks.get(RARE_EARTHS)
    return stock is not None and stock.origin.startswith("preset")


def _years(nodes: list[Node]) -> str:
    years = sorted({n.year for n in nodes})
    return ", ".join(years) if years else "no"


def _notes(scenario: Scenario, nodes: list[Node]) -> list[str]:
    notes = list(scenario.notes)
    for node in nodes:
        if node.final and node.tonnes is None and not node.proxy and node.mix == "world":
            notes.append(f"{node.mineral} ({node.stage}): the data give shares only, so "
                         "shortfall tonnes and cost are not reported.")
    return list(dict.fromkeys(notes))


def _idle_notes(scenario: Scenario, ds: Dataset, nodes: list[Node],
                rows: list[_Row]) -> list[str]:
    """One note per event and node where the event's country has no share: it does nothing."""
    notes = []
    for event, node, coefficients, country in rows:
        if country and max(coefficients[2], coefficients[5]) <= 0 and nodes[node].mineral in \
                scenario.events[event].minerals:
            where = scenario.events[event].where
            notes.append(f"{where}: {ds.country_name(country)} has no share of "
                         f"{nodes[node].mineral} {nodes[node].stage} in the mix used "
                         f"({nodes[node].mix}); the event changes nothing there.")
    return list(dict.fromkeys(notes))
