"""The Monte Carlo engine: one fixed-size block of draws at a time, vectorised over draws.

Block ``b`` of a run with seed ``s`` draws its random numbers from
``numpy.random.default_rng(SeedSequence(s).spawn(b + 1)[b])`` (equivalently
``SeedSequence(s, spawn_key=(b,))``), so a block's draws do not depend on which process runs
it or on how many blocks there are: a run split over Dask workers gives the same numbers as a
local one, and the first N draws of a longer run are the N draws of a shorter one.

Inside a block there is no per-draw Python loop: each event's occurrence, start, duration and
severity are sampled for every draw at once; the engine then builds, node by node, a
(draws x steps) float32 array of the supply lost on each day, applies spare capacity,
substitution, recycling and stockpiles, and reduces the arrays to per-draw figures (annual
shortfall, price change) and per-node sums (peaks, first days, the mean path). The work
inside a block is cut into sub-chunks of ``CHUNK`` draws to bound memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kizuna.scenarios.model import Model

BLOCK_SIZE = 10_000
"""Draws per random-number block (the unit of reproducibility and of Dask tasks)."""
CHUNK = 1_024
"""Draws computed together inside a block (bounds memory: nodes x CHUNK x steps x 4 bytes)."""
ZERO = 1e-6
"""Sums of daily losses below this (float32 rounding residue) count as no loss."""
PRICE_SHORTFALL_CAP = 0.99
"""A shortfall is capped here before the isoelastic price formula (which diverges at 1)."""

F32 = NDArray[np.float32]


@dataclass
class Draws:
    """One block's sampled events: step windows [start, end) and severities, (events, n)."""

    start: NDArray[np.int64]
    end: NDArray[np.int64]
    severity: NDArray[np.float64]


@dataclass
class BlockResult:
    """Per-draw figures and per-step sums of one block (arrays are draws x nodes etc.)."""

    block: int
    size: int
    shortfall: F32  # (n, nodes): shortfall as a fraction of a year's supply
    peak_sum: NDArray[np.float64]  # (nodes,): sum over draws of the largest daily shortfall
    peak_max: NDArray[np.float64]  # (nodes,): the largest daily shortfall of any draw
    first_counts: NDArray[np.int64]  # (nodes, steps): draws whose first short step is t
    price_change: F32  # (n, nodes with elasticities): relative price change
    product_short: F32  # (n, products): fraction of a year's output not buildable
    path_sum: NDArray[np.float64]  # (nodes, steps): sum over draws of the daily shortfall
    path_hits: NDArray[np.int64]  # (nodes, steps): draws short on each step
    product_path_sum: NDArray[np.float64]  # (products, steps)


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The generator of block ``block`` for ``seed`` (see the module docstring)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,)))


def sample(model: Model, seed: int, block: int, size: int) -> Draws:
    """Sample every event for ``size`` draws: 4 uniforms per event and draw, inverse CDF."""
    rng = block_rng(seed, block)
    uniforms = rng.random((len(model.events), 4, size))
    steps, step = model.steps, model.step_days
    start = np.empty((len(model.events), size), dtype=np.int64)
    end = np.empty_like(start)
    severity = np.empty((len(model.events), size))
    for index, event in enumerate(model.events):
        occurs = uniforms[index, 0] < event.probability
        first = np.clip(np.rint(event.start.ppf(uniforms[index, 1]) / step), 0, steps)
        length = np.maximum(np.rint(event.duration.ppf(uniforms[index, 2]) / step), 0)
        start[index] = first
        end[index] = np.where(occurs, np.minimum(first + length, steps), first)
        severity[index] = event.severity.ppf(uniforms[index, 3])
    return Draws(start, end, severity)


class _Plan:
    """Per-node lookups computed once per block: channels, weights, partners."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.steps = model.steps
        weights = np.full(self.steps, float(model.step_days))
        weights[-1] = model.horizon_days - (self.steps - 1) * model.step_days
        self.weights = weights
        self.weights32 = weights.astype(np.float32)
        self.uniform = bool(np.all(weights == 1.0))
        self.channels = [model.channels_of(i) for i in range(len(model.nodes))]
        coefficients = model.coefficients
        self.capped = [bool(coefficients[c, 2].sum() > 1 + 1e-12) for c in self.channels]
        self.groups = [_groups(model, c) for c in self.channels]
        self.feeds = {n.feed_from for n in model.nodes if n.feed_from is not None}
        self.same_feed = [bool(np.allclose(coefficients[c, :3], coefficients[c, 3:]))
                          for c in self.channels]
        self.time = np.arange(self.steps, dtype=np.int64)
        self.alias = _aliases(model, self.channels)
        self.elastic = [i for i, node in enumerate(model.nodes) if node.elasticity is not None]
        self.price_column = {node: column for column, node in enumerate(self.elastic)}


def _aliases(model: Model, channels: list[NDArray[np.int64]]) -> list[int | None]:
    """For each node, an earlier node with exactly the same inputs (the rare-earth elements
    under one family event), whose series it can share; None if there is none."""
    seen: dict[tuple[object, ...], int] = {}
    out: list[int | None] = []
    for index, node in enumerate(model.nodes):
        own = tuple((int(model.channel_event[c]), model.channel_country[c] if
                     model.channel_country else "", *model.coefficients[c].tolist())
                    for c in channels[index])
        upstream = out[node.feed_from] if node.feed_from is not None else None
        feed = node.feed_from if upstream is None else upstream
        key = (own, feed, node.responses, node.stockpile_days)
        out.append(seen.get(key))
        seen.setdefault(key, index)
    return out


def _groups(model: Model, channels: NDArray[np.int64]) -> list[NDArray[np.int64]]:
    """Positions (within ``channels``) grouped so that one country's events share a cap.

    The first group holds every channel that is alone for its country (summed uncapped);
    each further group is one country with several events, capped at that country's share.
    """
    by_country: dict[str, list[int]] = {}
    singles: list[int] = []
    for position, channel in enumerate(channels):
        country = model.channel_country[channel] if model.channel_country else ""
        if country:
            by_country.setdefault(country, []).append(position)
        else:
            singles.append(position)
    shared = [group for group in by_country.values() if len(group) > 1]
    singles += [group[0] for group in by_country.values() if len(group) == 1]
    return [np.array(sorted(singles), dtype=np.int64)] + [np.array(g) for g in shared]


def simulate_block(model: Model, seed: int, block: int, size: int,
                   chunk: int = CHUNK) -> BlockResult:
    """Run ``size`` draws of block ``block``; the result does not depend on ``chunk``."""
    draws = sample(model, seed, block, size)
    coefficients = model.coefficients
    sev = draws.severity[model.channel_event]
    loss = np.clip(coefficients[:, :1] + coefficients[:, 1:2] * sev, 0,
                   coefficients[:, 2:3]).astype(np.float32)
    feed = np.clip(coefficients[:, 3:4] + coefficients[:, 4:5] * sev, 0,
                   coefficients[:, 5:6]).astype(np.float32)
    starts, ends = draws.start[model.channel_event], draws.end[model.channel_event]
    plan = _Plan(model)
    nodes, products, steps = len(model.nodes), len(model.products), plan.steps
    result = BlockResult(
        block, size,
        shortfall=np.zeros((size, nodes), np.float32), peak_sum=np.zeros(nodes),
        peak_max=np.zeros(nodes), first_counts=np.zeros((nodes, steps), np.int64),
        price_change=np.zeros((size, len(plan.elastic)), np.float32),
        product_short=np.zeros((size, products), np.float32),
        path_sum=np.zeros((nodes, steps)), path_hits=np.zeros((nodes, steps), np.int64),
        product_path_sum=np.zeros((products, steps)),
    )  # fmt: skip
    for low in range(0, size, chunk):
        rows = slice(low, min(size, low + chunk))
        _run_chunk(plan, loss[:, rows], feed[:, rows], starts[:, rows], ends[:, rows], rows,
                   result)
    for index, twin in enumerate(plan.alias):
        if twin is not None:  # a twin's daily series are its original's
            for array in (result.path_sum, result.path_hits, result.peak_sum, result.peak_max,
                          result.first_counts):
                array[index] = array[twin]
    return result


def _windows(plan: _Plan, values: F32, starts: NDArray[np.int64], ends: NDArray[np.int64],
             cap: float | None) -> F32:
    """(n, steps) sum over channels of value * [start <= t < end], capped at ``cap``."""
    count, n = values.shape
    if count == 1:
        mask = plan.time >= starts[0][:, None]
        mask &= plan.time < ends[0][:, None]
        single: F32 = mask * values[0][:, None]
        return single
    delta = np.zeros((n, plan.steps + 1), np.float32)
    rows = np.arange(n)
    for k in range(count):
        delta[rows, starts[k]] += values[k]
        delta[rows, ends[k]] -= values[k]
    out = np.cumsum(delta[:, :-1], axis=1)
    out[out < ZERO] = 0.0
    if cap is not None:
        np.minimum(out, np.float32(cap), out=out)
    return out


def _gross(plan: _Plan, index: int, values: F32, caps: NDArray[np.float64],
           starts: NDArray[np.int64], ends: NDArray[np.int64], n: int) -> F32:
    """A node's summed loss: one country's overlapping events never exceed its share."""
    channels = plan.channels[index]
    if not channels.size:
        return np.zeros((n, plan.steps), np.float32)
    picked = values[channels]
    first, *shared = plan.groups[index]
    out: F32 | None = None
    for position, group in enumerate([first, *shared]):
        if not group.size:
            continue
        cap = None if position == 0 else float(caps[channels[group[0]]])
        part = _windows(plan, picked[group], starts[channels][group], ends[channels][group],
                        cap)
        out = part if out is None else out + part
    assert out is not None
    if plan.capped[index] or len(shared) > 0:
        np.minimum(out, 1.0, out=out)
    return out


def _mitigate(plan: _Plan, gross: F32, responses: tuple[tuple[float, float], ...],
              stock_days: float) -> F32:
    """Apply responses (after their lag from the first day short), then drain the stock."""
    if responses:
        positive = gross > 0
        onset = np.where(positive.any(axis=1), positive.argmax(axis=1), plan.steps)
        offset = np.zeros_like(gross)
        for share, lag in responses:
            lag_steps = round(lag / plan.model.step_days)
            offset += (plan.time >= (onset + lag_steps)[:, None]) * np.float32(share)
        gross = np.maximum(gross - offset, 0.0, dtype=np.float32)
    if stock_days > 0:
        gross = _drain(plan, gross, stock_days)
    return gross


def _drain(plan: _Plan, gross: F32, stock_days: float) -> F32:
    """The stock (days of baseline flow) covers the shortfall until the cumulative shortfall
    C(t) exceeds it: nothing is short before that step, C(t) - D on it, all of it after.
    Only draws whose whole shortfall exceeds the stock are walked step by step."""
    flow = gross if plan.uniform else gross * plan.weights32
    need = flow.sum(axis=1, dtype=np.float64)
    rows = np.flatnonzero(need > stock_days * (1 - 1e-6))
    net = np.zeros_like(gross)
    if not rows.size:
        return net
    part = flow[rows]
    cumulative = np.cumsum(part, axis=1)
    over = cumulative > np.float32(stock_days)
    exhausted = over.any(axis=1)
    rows, cumulative, over = rows[exhausted], cumulative[exhausted], over[exhausted]
    step = over.argmax(axis=1)
    net[rows] = np.where(plan.time >= step[:, None], gross[rows], np.float32(0.0))
    net[rows, step] = (cumulative[np.arange(rows.size), step] - np.float32(stock_days)) \
        / plan.weights32[step]
    return net


@dataclass
class _Rows:
    """A node's daily series on the draws of a chunk where it can be non-zero (sorted)."""

    rows: NDArray[np.int64]
    values: F32  # (len(rows), steps)


def _nonzero(rows: NDArray[np.int64], values: F32) -> _Rows | None:
    """Keep the draws that are short on some step (a stock may have covered the others)."""
    keep = values.any(axis=1)
    if keep.all():
        return _Rows(rows, values)
    if not keep.any():
        return None
    return _Rows(rows[keep], values[keep])


def _active(plan: _Plan, index: int, values: F32, starts: NDArray[np.int64],
            ends: NDArray[np.int64]) -> NDArray[np.int64]:
    channels = plan.channels[index]
    if not channels.size:
        return np.empty(0, np.int64)
    hit = (ends[channels] > starts[channels]) & (values[channels] > 0)
    return np.flatnonzero(hit.any(axis=0))


def _spread(target_rows: NDArray[np.int64], part: _Rows) -> NDArray[np.int64]:
    """Positions of ``part``'s rows within ``target_rows`` (a sorted superset)."""
    return np.searchsorted(target_rows, part.rows)


def _series_on(plan: _Plan, index: int, values: F32, caps: NDArray[np.float64],
               starts: NDArray[np.int64], ends: NDArray[np.int64], rows: NDArray[np.int64],
               upstream: _Rows | None) -> F32:
    gross = _gross(plan, index, values[:, rows], caps, starts[:, rows], ends[:, rows],
                   rows.size)
    if upstream is not None:
        at = _spread(rows, upstream)
        gross[at] = np.maximum(gross[at], upstream.values)
    return gross


def _node_series(plan: _Plan, index: int, loss: F32, feed: F32, starts: NDArray[np.int64],
                 ends: NDArray[np.int64], feeds: dict[int, _Rows | None]) -> _Rows | None:
    """The node's net daily shortfall on its active draws (None: never short)."""
    node = plan.model.nodes[index]
    coefficients = plan.model.coefficients
    upstream = feeds.get(node.feed_from) if node.feed_from is not None else None
    rows = _active(plan, index, loss, starts, ends)
    if upstream is not None:
        rows = np.union1d(rows, upstream.rows)
    net: _Rows | None = None
    if rows.size:
        gross = _series_on(plan, index, loss, coefficients[:, 2], starts, ends, rows, upstream)
        net = _nonzero(rows, _mitigate(plan, gross, node.responses, node.stockpile_days))
    if index in plan.feeds:
        if plan.same_feed[index]:
            feeds[index] = net
        else:
            feed_rows = _active(plan, index, feed, starts, ends)
            feeds[index] = _nonzero(feed_rows, _mitigate(
                plan, _series_on(plan, index, feed, coefficients[:, 5], starts, ends,
                                 feed_rows, None),
                node.responses, node.stockpile_days)) if feed_rows.size else None
    return net


def _totals(plan: _Plan, values: F32) -> NDArray[np.float64]:
    """Per draw: the shortfall summed over the horizon, as a share of a year's supply."""
    if plan.uniform:
        total = values.sum(axis=1, dtype=np.float64)
    else:
        total = values.astype(np.float64) @ plan.weights
    return np.asarray(total / 365.0)


def _run_chunk(plan: _Plan, loss: F32, feed: F32, starts: NDArray[np.int64],
               ends: NDArray[np.int64], rows: slice, result: BlockResult) -> None:
    model = plan.model
    series: dict[int, _Rows | None] = {}
    feeds: dict[int, _Rows | None] = {}
    low = rows.start
    for index in range(len(model.nodes)):
        twin = plan.alias[index]
        if twin is not None:
            net = series[twin]
            if index in plan.feeds:
                feeds[index] = feeds.get(twin, net)
        else:
            net = _node_series(plan, index, loss, feed, starts, ends, feeds)
        series[index] = net
        if net is None:
            continue
        where = low + net.rows
        if twin is not None:
            _copy_outputs(result, where, index, twin)
            _price(plan, result, where, index, result.shortfall[where, index])
            continue
        total = _totals(plan, net.values)
        result.shortfall[where, index] = total
        peak = net.values.max(axis=1)
        result.peak_sum[index] += float(peak.sum(dtype=np.float64))
        result.peak_max[index] = max(result.peak_max[index], float(peak.max()))
        positive = net.values > 0
        first = positive.argmax(axis=1)[positive.any(axis=1)]
        result.first_counts[index] += np.bincount(first, minlength=plan.steps)
        result.path_sum[index] += net.values.sum(axis=0, dtype=np.float64)
        result.path_hits[index] += positive.sum(axis=0)
        _price(plan, result, where, index, total)
    n = loss.shape[1]
    for index, short in enumerate(_products_short(model, series, n)):
        if short is None:
            continue
        result.product_short[low + short.rows, index] = _totals(plan, short.values)
        result.product_path_sum[index] += short.values.sum(axis=0, dtype=np.float64)


def _copy_outputs(result: BlockResult, where: NDArray[np.int64], index: int, twin: int) -> None:
    result.shortfall[where, index] = result.shortfall[where, twin]


def _price(plan: _Plan, result: BlockResult, where: NDArray[np.int64], index: int,
           total: NDArray[np.floating]) -> None:
    elasticity = plan.model.nodes[index].elasticity
    if elasticity is not None:
        result.price_change[where, plan.price_column[index]] = price_change(
            np.asarray(total, dtype=np.float64) * 365.0 / plan.model.horizon_days,
            elasticity.demand, elasticity.supply)


def price_change(rate: NDArray[np.float64], demand: float, supply: float) -> NDArray[np.float64]:
    """Isoelastic market: the relative price change that clears a supply cut of ``rate``.

    Demand Q = (P/P0)^demand, remaining supply (1 - rate) (P/P0)^supply, so
    P/P0 = (1 - rate)^(1 / (demand - supply)).
    """
    capped = np.minimum(rate, PRICE_SHORTFALL_CAP)
    return np.asarray((1.0 - capped) ** (1.0 / (demand - supply)) - 1.0)


def _products_short(model: Model, series: dict[int, _Rows | None], n: int
                    ) -> list[_Rows | None]:
    """For each product, the share of its daily output that cannot be built."""
    if model.allocation == "priority":
        return _priority_short(model, series, n)
    out: list[_Rows | None] = []
    for product in model.products:
        found = [part for node, _ in product.needs if (part := series[node]) is not None]
        parts = list({id(part): part for part in found}.values())  # twins share one series
        if not parts:
            out.append(None)
        elif len(parts) == 1:
            out.append(parts[0])
        else:  # 1 - min(1 - s) = max(s): the scarcest input limits the product
            rows = parts[0].rows
            for part in parts[1:]:
                rows = np.union1d(rows, part.rows)
            short = np.zeros((rows.size, parts[0].values.shape[1]), np.float32)
            for part in parts:
                at = _spread(rows, part)
                short[at] = np.maximum(short[at], part.values)
            out.append(_Rows(rows, short))
    return out


def _dense(part: _Rows | None, n: int, steps: int) -> F32:
    out = np.zeros((n, steps), np.float32)
    if part is not None:
        out[part.rows] = part.values
    return out


def _priority_short(model: Model, series: dict[int, _Rows | None], n: int
                    ) -> list[_Rows | None]:
    """Products, in the order listed, take what they can build from the supply left to all
    the chosen products together (their combined need times the share available)."""
    demand: dict[int, float] = {}
    for product in model.products:
        for node, kg in product.needs:
            demand[node] = demand.get(node, 0.0) + product.volume * kg
    pool = {node: (1.0 - _dense(series[node], n, model.steps)) * np.float32(total)
            for node, total in demand.items()}
    everyone = np.arange(n)
    out: list[_Rows | None] = []
    for product in model.products:
        needs = [(node, np.float32(product.volume * kg)) for node, kg in product.needs]
        needs = [(node, need) for node, need in needs if need > 0]
        if not needs:
            out.append(None)
            continue
        built = np.minimum(pool[needs[0][0]] / needs[0][1], 1.0)
        for node, need in needs[1:]:
            built = np.minimum(built, pool[node] / need)
        for node, need in needs:
            pool[node] = np.maximum(pool[node] - built * need, 0.0)
        out.append(_Rows(everyone, (1.0 - built).astype(np.float32)))
    return out
