"""The result of a scenario run: per-draw arrays, tidy summaries and the JSON contract.

``ScenarioResult.to_json()`` is what ``kizuna scenario run --json`` prints (docs/scenarios.md):
``{"scenario", "draws", "seed", "results": [...], "products": [...], ...}``, shortfalls as
fractions of a year's supply. ``results_frame()`` and ``products_frame()`` are the same
figures as tidy DataFrames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from kizuna.scenarios.engine import BlockResult
from kizuna.scenarios.model import Model, Node
from kizuna.scenarios.summary import summarise


@dataclass
class ScenarioResult:
    """Everything a run produced, in draw order (independent of how it was split)."""

    model: Model
    draws: int
    seed: int
    block_size: int
    shortfall: NDArray[np.float32]  # (draws, nodes)
    peak_sum: NDArray[np.float64]  # (nodes,): sum over draws of the largest daily shortfall
    peak_max: NDArray[np.float64]  # (nodes,): the largest daily shortfall of any draw
    first_counts: NDArray[np.int64]  # (nodes, steps): draws first short on each step
    price_change: NDArray[np.float32]  # (draws, nodes with elasticities), see price_of
    product_short: NDArray[np.float32]  # (draws, products)
    mean_path: NDArray[np.float64]  # (nodes, steps)
    probability_path: NDArray[np.float64]  # (nodes, steps)
    product_mean_path: NDArray[np.float64]  # (products, steps)
    scheduler: str = "local"
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_blocks(cls, model: Model, blocks: list[BlockResult], seed: int, block_size: int,
                    **more: Any) -> ScenarioResult:
        """Join block results in block order (the order makes the result split-invariant)."""
        ordered = sorted(blocks, key=lambda b: b.block)
        draws = sum(b.size for b in ordered)
        path = np.sum([b.path_sum for b in ordered], axis=0)
        hits = np.sum([b.path_hits for b in ordered], axis=0)
        product_path = np.sum([b.product_path_sum for b in ordered], axis=0)
        return cls(
            model=model, draws=draws, seed=seed, block_size=block_size,
            shortfall=np.concatenate([b.shortfall for b in ordered]),
            peak_sum=np.sum([b.peak_sum for b in ordered], axis=0),
            peak_max=np.max([b.peak_max for b in ordered], axis=0),
            first_counts=np.sum([b.first_counts for b in ordered], axis=0),
            price_change=np.concatenate([b.price_change for b in ordered]),
            product_short=np.concatenate([b.product_short for b in ordered]),
            mean_path=path / draws, probability_path=hits / draws,
            product_mean_path=product_path / draws, **more,
        )  # fmt: skip

    # --- tidy tables --------------------------------------------------------------------

    def results_frame(self) -> pd.DataFrame:
        """One row per mineral and stage: shortfall summaries, tonnes, cost, price change."""
        rows = [self._node_row(index, node) for index, node in enumerate(self.model.nodes)
                if node.reported]
        return pd.DataFrame(rows)

    def _node_row(self, index: int, node: Node) -> dict[str, Any]:
        stats = summarise(self.shortfall[:, index])
        row: dict[str, Any] = {
            "mineral": node.mineral, "stage": node.stage,
            "mean_shortfall": stats["mean"], "stderr": stats["stderr"],
            **{key: stats[key] for key in ("p50", "p90", "p95", "p99", "var95", "var99",
                                           "es95", "es99", "max", "prob_any",
                                           "prob_any_stderr")},
            "mean_peak_daily": float(self.peak_sum[index] / self.draws),
            "max_peak_daily": float(self.peak_max[index]),
            "median_first_day": _median_step(self.first_counts[index], self.model.step_days),
            "mix": node.mix, "year": node.year, "proxy": node.proxy, "final": node.final,
            "baseline_tonnes": node.tonnes, "basis": node.basis,
            "stockpile_days": node.stockpile_days,
        }  # fmt: skip
        row.update(_scaled("tonnes", stats, node.tonnes))
        value = node.tonnes * node.price_usd_per_t if node.tonnes and node.price_usd_per_t \
            else None
        row["price_usd_per_t"] = node.price_usd_per_t
        row.update(_scaled("cost_usd", stats, value))
        row.update(self._price(index, node))
        return row

    def price_of(self, index: int) -> NDArray[np.float32]:
        """Per-draw relative price change of node ``index`` (zeros without elasticities)."""
        columns = [i for i, n in enumerate(self.model.nodes) if n.elasticity is not None]
        if index not in columns:
            return np.zeros(self.draws, np.float32)
        return self.price_change[:, columns.index(index)]

    def _price(self, index: int, node: Node) -> dict[str, Any]:
        if node.elasticity is None:
            return {"price_change_mean": None, "price_change_p95": None,
                    "price_change_stderr": None,
                    "price_note": "not estimated (no price elasticities for this mineral)"
                    if node.final else "not estimated (intermediate stage)"}
        stats = summarise(self.price_of(index))
        return {"price_change_mean": stats["mean"], "price_change_p95": stats["p95"],
                "price_change_stderr": stats["stderr"],
                "price_note": f"isoelastic, demand {node.elasticity.demand:g}, supply "
                              f"{node.elasticity.supply:g} ({node.elasticity.source})"}

    def products_frame(self) -> pd.DataFrame:
        """One row per chosen product: units that cannot be built in the horizon."""
        rows = []
        for index, product in enumerate(self.model.products):
            stats = summarise(self.product_short[:, index])
            rows.append({
                "id": product.id, "name": product.name, "unit": product.unit,
                "volume": product.volume,
                "mean_share_short": stats["mean"], "stderr_share": stats["stderr"],
                "mean_units_short": stats["mean"] * product.volume,
                "stderr": stats["stderr"] * product.volume,
                "p95_units_short": stats["p95"] * product.volume,
                "p99_units_short": stats["p99"] * product.volume,
                "es95_units_short": stats["es95"] * product.volume,
                "prob_any": stats["prob_any"],
                "minerals_modelled": [self.model.nodes[n].mineral for n, _ in product.needs],
                "minerals_without_data": list(product.unmodelled),
                "material_cost_change_usd_per_unit": self._material_cost(index),
            })  # fmt: skip
        return pd.DataFrame(rows)

    def _material_cost(self, index: int) -> float | None:
        """Mean extra cost of a unit's minerals from the estimated price changes (USD)."""
        total, found = np.zeros(self.draws), False
        for node_index, kg in self.model.products[index].needs:
            node = self.model.nodes[node_index]
            if node.elasticity is None or node.price_usd_per_t is None:
                continue
            found = True
            total += kg / 1000 * node.price_usd_per_t * self.price_of(node_index)
        return float(total.mean()) if found else None

    # --- JSON ---------------------------------------------------------------------------

    def to_json(self, *, timeline: bool = True) -> dict[str, Any]:
        """The ``kizuna scenario run --json`` document."""
        model = self.model
        doc: dict[str, Any] = {
            "scenario": model.scenario_id, "name": model.name, "draws": self.draws,
            "seed": self.seed, "block_size": self.block_size, "year": model.year,
            "horizon_days": model.horizon_days, "step_days": model.step_days,
            "perspective": model.perspective, "allocation": model.allocation,
            "results": _records(self.results_frame()),
            "products": _records(self.products_frame()),
            "assumptions": list(model.assumptions), "notes": list(model.notes),
            "sources": list(model.sources),
            "run": {"scheduler": self.scheduler, "seconds": round(self.seconds, 3),
                    **self.extra},
        }  # fmt: skip
        if timeline:
            doc["timeline"] = self.timeline()
        return doc

    def timeline(self) -> dict[str, Any]:
        """Mean shortfall and probability of shortfall on each step, per mineral and stage."""
        days = [step * self.model.step_days for step in range(self.model.steps)]
        return {
            "day": days,
            "series": [{"mineral": n.mineral, "stage": n.stage,
                        "mean": _rounded(self.mean_path[i]),
                        "probability": _rounded(self.probability_path[i])}
                       for i, n in enumerate(self.model.nodes) if n.reported],
            "products": [{"id": p.id, "mean_share_short": _rounded(self.product_mean_path[i])}
                         for i, p in enumerate(self.model.products)],
        }  # fmt: skip


def _median_step(counts: NDArray[np.int64], step_days: int) -> float | None:
    """The median first day short among the draws ever short (as numpy.median would give
    on the per-draw days), from the histogram of first steps."""
    total = int(counts.sum())
    if total == 0:
        return None
    cumulative = np.cumsum(counts)
    low = int(np.searchsorted(cumulative, (total - 1) // 2 + 1))
    high = int(np.searchsorted(cumulative, total // 2 + 1))
    return (low + high) / 2 * step_days


def _scaled(name: str, stats: dict[str, float], factor: float | None) -> dict[str, Any]:
    keys = ("mean", "p95", "p99", "es95")
    if factor is None:
        return {f"{key}_{name}": None for key in keys}
    return {f"{key}_{name}": stats[key] * factor for key in keys}


def _rounded(values: NDArray[np.float64]) -> list[float]:
    return [round(float(v), 6) for v in values]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict("records"):
        out.append({str(k): _plain(v) for k, v in row.items()})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
