"""Scenario draws as losses of a sourcing plan: the data of the CVaR objective.

The scenario engine (``kizuna.scenarios``) samples each event for each draw (occurrence,
start, duration, severity) with the same blocks and seeds as ``kizuna scenario run``; this
module turns one draw into the fraction of a year's flow each source country loses at each
stage, and then into the fraction each supply path loses:

* an event withholds a fraction f of country c's output at a stage while it is active (the
  engine's channel loss divided by c's share); several events of one country add up, capped
  at 1 on each day;
* a path mine c -> refinery d loses, on each day, the larger of what c's mine output and d's
  refining output lose (it needs both), except that ore held back by an export ban or quota
  is refined at home: the path c -> c is cut only by c's physical mining outages (the
  engine's "refined at home first" rule, at the level of one path);
* a path's loss over the horizon is the integral of that daily loss / 365, a fraction of a
  year's flow like the engine's shortfall.

So that the CVaR rows stay sparse, a path's loss is written as
``F[mine country] + F[refining country] - C[pair]``: ``F`` per (mineral, stage, country) hit
by some event, ``C`` only for the country pairs where both ends are hit (or a mining trade
event meets a home refinery) - the overlap the max removes. Draws where nothing is hit cost
nothing. Demand surges have no country, so they do not depend on the sourcing and are left
out (a note says so); stockpiles and other mitigations are the scenario's, not ours, and are
not applied to our purchases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_array, csr_array  # type: ignore[import-untyped]

from kizuna.data.bundle import Dataset
from kizuna.errors import InputError
from kizuna.products.model import Product
from kizuna.scenarios.build import build_model
from kizuna.scenarios.engine import BLOCK_SIZE, sample
from kizuna.scenarios.model import TRADE_KINDS, Model
from kizuna.scenarios.runner import blocks_of
from kizuna.scenarios.schema import Scenario
from kizuna.sourcing.build import SourcingModel

Key = tuple[str, str, str]  # (mineral, stage, iso3)
Pair = tuple[str, str, str]  # (mineral, mine iso3, refine iso3)
CHUNK = 1_024
MAX_DRAWS = 200_000


@dataclass(frozen=True)
class _Channel:
    key: Key
    event: int
    coefficients: tuple[float, float, float]
    trade: bool


@dataclass
class ShortfallDraws:
    """Per draw, the fraction of a year's flow lost: by source country (``loss``, draws x
    keys) and the overlap correction by country pair (``overlap``, draws x pairs)."""

    scenario: str
    name: str
    draws: int
    seed: int
    keys: list[Key]
    loss: csr_array
    pairs: list[Pair]
    overlap: csr_array
    notes: list[str] = field(default_factory=list)

    def path_loss(self, model: SourcingModel) -> csr_array:
        """(draws x paths) fraction of each path's tonnes lost in each draw (for checks and
        small models; the optimiser uses the sparse form)."""
        keys = self.key_matrix(model, weighted=False)
        pairs = self.pair_matrix(model, weighted=False)
        return csr_array(self.loss @ keys - self.overlap @ pairs)

    def key_matrix(self, model: SourcingModel, *, weighted: bool = True) -> csr_array:
        """(keys x paths): 1 (or the path's shortfall cost per tonne) where the path buys in
        the key's country at the key's stage."""
        rows, cols, vals = [], [], []
        weight = path_weights(model) if weighted else np.ones(len(model.paths))
        for row, key in enumerate(self.keys):
            for path in model.by_country.get(key, ()):
                rows.append(row)
                cols.append(path)
                vals.append(weight[path])
        return csr_array((vals, (rows, cols)), shape=(len(self.keys), len(model.paths)))

    def pair_matrix(self, model: SourcingModel, *, weighted: bool = True) -> csr_array:
        where = {pair: row for row, pair in enumerate(self.pairs)}
        weight = path_weights(model) if weighted else np.ones(len(model.paths))
        rows, cols, vals = [], [], []
        for index, path in enumerate(model.paths):
            row = where.get((path.mineral, str(path.at("mining")), str(path.at("refining"))))
            if row is not None:
                rows.append(row)
                cols.append(index)
                vals.append(weight[index])
        return csr_array((vals, (rows, cols)), shape=(len(self.pairs), len(model.paths)))

    def losses(self, model: SourcingModel, tonnes: NDArray[np.float64]) -> NDArray[np.float64]:
        """Shortfall cost (USD) of a plan (tonnes per path) in each draw."""
        keys = self.key_matrix(model) @ tonnes
        pairs = self.pair_matrix(model) @ tonnes
        return np.asarray(self.loss @ keys - self.overlap @ pairs, dtype=np.float64)


def path_weights(model: SourcingModel) -> NDArray[np.float64]:
    """Shortfall cost per tonne of each path: penalty x the mineral's price."""
    penalty = model.assumptions.shortfall_penalty
    return np.array([penalty * model.prices[p.mineral][0] for p in model.paths])


def cvar(losses: NDArray[np.float64], alpha: float) -> tuple[float, float]:
    """(CVaR, VaR) at ``alpha`` by the Rockafellar-Uryasev formula at eta = VaR: the value the
    linear programme attains, eta + mean((loss - eta)+) / (1 - alpha)."""
    if losses.size == 0:
        return 0.0, 0.0
    var = float(np.quantile(losses, alpha, method="inverted_cdf"))
    excess = np.maximum(losses - var, 0.0)
    return var + float(excess.mean()) / (1.0 - alpha), var


def check_draws(draws: int, alpha: float) -> None:
    if not 1 <= draws <= MAX_DRAWS:
        raise InputError(f"draws must be from 1 to {MAX_DRAWS:,}, got {draws}", field="draws")
    if not 0.0 <= alpha < 1.0:
        raise InputError(f"alpha must be at least 0 and below 1, got {alpha:g}",
                         hint="e.g. 0.95 for the worst 5% of draws", field="alpha")


def _channels(engine: Model, model: SourcingModel, notes: list[str]) -> list[_Channel]:
    out = []
    for number in range(len(engine.channel_event)):
        node = engine.nodes[int(engine.channel_node[number])]
        country = engine.channel_country[number] if engine.channel_country else ""
        event = int(engine.channel_event[number])
        c0, c1, cmax = (float(v) for v in engine.coefficients[number, :3])
        if not country:
            notes.append(f"{engine.events[event].label}: a demand surge has no country, so it "
                         "does not depend on the sourcing; left out of the CVaR")
            continue
        key = (node.mineral, node.stage, country)
        if cmax <= 0 or key not in model.by_country:
            continue
        out.append(_Channel(key, event, (c0, c1, cmax),
                            engine.events[event].kind in TRADE_KINDS))
    return out


def _pairs(model: SourcingModel, channels: Sequence[_Channel]) -> list[Pair]:
    """Country pairs whose loss is not the sum of their ends': both ends hit, or a mining
    trade event whose ore can be refined at home."""
    hit = {c.key for c in channels}
    home = {c.key for c in channels if c.trade and c.key[1] == "mining"}
    out = set()
    for path in model.paths:
        mine, refine = path.at("mining"), path.at("refining")
        if mine is None or refine is None:
            continue
        both = (path.mineral, "mining", mine) in hit and (path.mineral, "refining",
                                                          refine) in hit
        if both or (mine == refine and (path.mineral, "mining", mine) in home):
            out.add((path.mineral, mine, refine))
    return sorted(out)


def shortfall_draws(ds: Dataset, scenario: Scenario, model: SourcingModel, *, draws: int,
                    seed: int = 0, products: Sequence[Product] = ()) -> ShortfallDraws:
    """The scenario's draws as losses of the model's sources (see the module docstring)."""
    check_draws(draws, 0.5)
    engine = build_model(ds, scenario, products=products)
    notes: list[str] = []
    channels = _channels(engine, model, notes)
    keys = sorted({c.key for c in channels})
    pairs = _pairs(model, channels)
    if not channels:
        notes.append(f"scenario {scenario.id}: no event reaches a source of this plan; every "
                     "draw loses nothing")
    loss = _Collector(len(keys))
    overlap = _Collector(len(pairs))
    weights = _weights(engine)
    for block, size in blocks_of(draws, BLOCK_SIZE):
        sampled = sample(engine, seed, block, size)
        for low in range(0, size, CHUNK):
            high = min(size, low + CHUNK)
            offset = block * BLOCK_SIZE + low
            _chunk(channels, keys, pairs, sampled, slice(low, high), weights, offset, loss,
                   overlap)
    return ShortfallDraws(scenario.id, scenario.name, draws, seed, keys,
                          loss.matrix(draws), pairs, overlap.matrix(draws),
                          list(dict.fromkeys(notes)))


def _weights(engine: Model) -> NDArray[np.float32]:
    weights = np.full(engine.steps, float(engine.step_days))
    weights[-1] = engine.horizon_days - (engine.steps - 1) * engine.step_days
    return (weights / 365.0).astype(np.float32)


class _Collector:
    """Non-zeros of a (draws x columns) matrix, gathered chunk by chunk."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.rows: list[NDArray[np.int64]] = []
        self.cols: list[NDArray[np.int64]] = []
        self.vals: list[NDArray[np.float64]] = []

    def add(self, column: int, offset: int, values: NDArray[np.floating]) -> None:
        where = np.flatnonzero(values > 1e-9)
        if where.size:
            self.rows.append(where + offset)
            self.cols.append(np.full(where.size, column, dtype=np.int64))
            self.vals.append(values[where].astype(np.float64))

    def matrix(self, draws: int) -> csr_array:
        if not self.rows:
            return csr_array((draws, self.columns))
        return csr_array(coo_array((np.concatenate(self.vals), (np.concatenate(self.rows),
                                    np.concatenate(self.cols))), shape=(draws, self.columns)))


def _chunk(channels: Sequence[_Channel], keys: Sequence[Key], pairs: Sequence[Pair],
           sampled: object, rows: slice, weights: NDArray[np.float32], offset: int,
           loss: _Collector, overlap: _Collector) -> None:
    """Daily loss series of every hit key on one chunk of draws, integrated."""
    start = sampled.start[:, rows]  # type: ignore[attr-defined]
    end = sampled.end[:, rows]  # type: ignore[attr-defined]
    severity = sampled.severity[:, rows]  # type: ignore[attr-defined]
    steps = weights.size
    time = np.arange(steps)
    every: dict[Key, NDArray[np.float32]] = {}
    physical: dict[Key, NDArray[np.float32]] = {}
    for channel in channels:
        c0, c1, cmax = channel.coefficients
        fraction = np.clip(c0 + c1 * severity[channel.event], 0.0, cmax) / cmax
        active = (time >= start[channel.event][:, None]) & (time < end[channel.event][:, None])
        daily = (active * fraction[:, None]).astype(np.float32)
        every[channel.key] = every.get(channel.key, 0) + daily
        if not channel.trade:
            physical[channel.key] = physical.get(channel.key, 0) + daily
    zeros = np.zeros((rows.stop - rows.start, steps), np.float32)
    for series in (every, physical):
        for key in series:
            np.minimum(series[key], 1.0, out=series[key])
    totals = {key: every[key] @ weights for key in keys}
    for column, key in enumerate(keys):
        loss.add(column, offset, totals[key])
    for column, (mineral, mine, refine) in enumerate(pairs):
        mined = (physical if mine == refine else every).get((mineral, "mining", mine), zeros)
        refined = every.get((mineral, "refining", refine), zeros)
        lost = np.maximum(mined, refined) @ weights
        ends = totals.get((mineral, "mining", mine), 0.0) + totals.get(
            (mineral, "refining", refine), 0.0)
        overlap.add(column, offset, np.asarray(ends - lost))
