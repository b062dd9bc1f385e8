"""Build the disruption model of a scenario: nodes, event channels, mitigations, products.

``build_model(ds, scenario, ...)`` turns a checked scenario into a ``Model`` of plain arrays
that the engine runs and that can be inspected on its own (build -> run -> result):

* a **node** is one mineral at one stage (mining or refining) with its supply mix (the
  world's, or an importer's with a perspective), its annual tonnes where the data give a
  tonnage, and its mitigations;
* a **channel** is one event acting on one node: in each draw its loss, as a fraction of the
  node's supply, is ``clip(c0 + c1 * severity, 0, cmax)`` while the event is active; mining
  channels also carry the loss of ore to the world's refiners (``f0, f1, fmax``);
* a refining node with a mining partner of the same mineral takes the larger of its own loss
  and its partner's feed loss (refining needs feedstock);
* a product needs the final stage of each of its minerals (refining where the data have it).

The equations are in docs/scenarios.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from numpy.typing import NDArray

from kizuna.data.bundle import Dataset
from kizuna.exposure.mixes import world_mix
from kizuna.minerals.concentration import shares_of
from kizuna.minerals.selection import select
from kizuna.scenarios.distributions import Distribution
from kizuna.scenarios.schema import Elasticity

RARE_EARTHS = "rare-earths"
_UNIT_FACTORS = {"t": 1.0, "kt": 1e3, "kg": 1e-3, "mt": 1e6}
TRADE_KINDS = ("export_ban", "export_quota")
"""Event kinds that hold goods at the border: a refinery at home still gets its own ore."""


@dataclass(frozen=True)
class Baseline:
    """The world supply of one mineral at one stage: mix, tonnes and what they rest on."""

    mineral: str  # the mineral whose data are used (rare-earths for an element)
    stage: str
    shares: Mapping[str, float]
    year: str
    source: str
    series: str
    tonnes: float | None  # annual world tonnes; None where the data give shares only
    basis: str  # what a tonne is, e.g. "Co content", "REO"
    proxy: str | None
    notes: tuple[str, ...] = ()


def _tonnes(total: float | None, unit: str) -> tuple[float | None, str]:
    prefix, _, basis = unit.partition(" ")
    factor = _UNIT_FACTORS.get(prefix.casefold())
    if total is None or factor is None:
        return None, unit
    return total * factor, basis


@cache
def _world_baseline(ds: Dataset, mineral: str, stage: str, year: int | None) -> Baseline | None:
    mix = world_mix(ds, mineral, stage, year)
    if mix is None:
        return None
    selection = select(ds, mineral, stage=stage, year=int(mix.year))
    if selection is None:  # pragma: no cover - world_mix found rows
        return None
    tonnes: float | None = None
    basis = str(selection.rows["unit"].iat[0])
    if selection.measure == "production":
        tonnes, basis = _tonnes(shares_of(selection).total, basis)
    return Baseline(mineral, stage, dict(mix.shares), mix.year, mix.source, selection.series,
                    tonnes, basis, None, mix.notes)


def baseline_of(ds: Dataset, mineral: str, stage: str, year: int | None) -> Baseline | None:
    """The world baseline, or the rare-earths one (as a proxy) for a rare-earth element."""
    found = _world_baseline(ds, mineral, stage, year)
    if found is not None:
        return found
    item = ds.minerals.get(mineral)
    if item is not None and item.group == RARE_EARTHS and mineral != RARE_EARTHS:
        proxy = _world_baseline(ds, RARE_EARTHS, stage, year)
        if proxy is not None:
            return Baseline(mineral, stage, proxy.shares, proxy.year, proxy.source,
                            proxy.series, None, proxy.basis, RARE_EARTHS, proxy.notes)
    return None


@dataclass(frozen=True)
class Node:
    """One mineral at one stage, as the engine sees it."""

    mineral: str
    stage: str
    shares: Mapping[str, float]  # the viewer's mix (world, or the importer's)
    mix: str  # "world" or "import:USA" ...
    source: str
    year: str
    proxy: str | None
    tonnes: float | None  # annual tonnes of the viewer's supply; None when not known
    basis: str
    final: bool  # the stage products buy from
    feed_from: int | None = None  # the mining node whose ore this refining node needs
    stockpile_days: float = 0.0
    responses: tuple[tuple[float, float], ...] = ()  # (share, lag in days)
    elasticity: Elasticity | None = None
    price_usd_per_t: float | None = None
    price_source: str = ""
    reported: bool = True  # False for a rare-earth element's ore stage only a family event hits


@dataclass(frozen=True)
class EventSpec:
    """What the engine samples for one event."""

    label: str
    kind: str
    probability: float
    start: Distribution
    duration: Distribution
    severity: Distribution


@dataclass(frozen=True)
class ProductNeed:
    """A chosen product: its units a year and the nodes its minerals depend on."""

    id: str
    name: str
    unit: str
    volume: float
    needs: tuple[tuple[int, float], ...]  # (node index, kg per unit)
    unmodelled: tuple[str, ...] = ()  # minerals with no supply data at any stage


@dataclass(frozen=True, eq=False)
class Model:
    """Everything the engine needs, as plain values and arrays (picklable for Dask)."""

    scenario_id: str
    name: str
    horizon_days: int
    step_days: int
    year: int | None
    perspective: str
    events: tuple[EventSpec, ...]
    nodes: tuple[Node, ...]
    channel_event: NDArray[np.int64]
    channel_node: NDArray[np.int64]
    coefficients: NDArray[np.float64]  # (channels, 6): c0, c1, cmax, f0, f1, fmax
    channel_country: tuple[str, ...] = ()  # the event's country ("" for a demand surge)
    products: tuple[ProductNeed, ...] = ()
    allocation: str = "pro-rata"
    assumptions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def steps(self) -> int:
        """Time steps on the grid (ceil of horizon / step)."""
        return -(-self.horizon_days // self.step_days)

    def channels_of(self, node: int) -> NDArray[np.int64]:
        """Indices of the channels acting on ``node``."""
        return np.flatnonzero(self.channel_node == node)

    def describe(self) -> list[dict[str, object]]:
        """One row per node: what it is and what acts on it (for inspection and docs)."""
        return [
            {"mineral": n.mineral, "stage": n.stage, "mix": n.mix, "year": n.year,
             "proxy": n.proxy, "tonnes": n.tonnes, "basis": n.basis, "final": n.final,
             "channels": int(self.channels_of(i).size),
             "feed_from": None if n.feed_from is None else self.nodes[n.feed_from].mineral,
             "stockpile_days": n.stockpile_days, "responses": list(n.responses)}
            for i, n in enumerate(self.nodes)
        ]  # fmt: skip
