"""Exposure of a product: tonnes of each mineral by stage and country.

For every line of the product (mineral, kg per unit) and every stage, the line's tonnes
(kg × volume / 1000) are split over origins by, in this order: the BOM's own sourcing for
that stage; the perspective's import mix (USA, GBR, a user CSV); the world mix. The rows of
one mineral and stage always add up to the product's demand at that stage: residuals are
``OTHER``, and a mineral without supply data at a stage is one row with ``iso3`` empty and
``basis = "no supply data"`` — never dropped.

* Individual rare-earth elements (Nd, Pr, Dy, Tb, Sm ...) have no element-level supply table
  here; they use the total rare-earth mix, and the summary says so (``proxy``).
* Synthetic graphite (a line whose component names it) is made from petroleum coke, not
  mined: it has a refining stage only.

The per-mineral summary gives the share from the ``concern`` group, the HHI of the product's
own supply (named countries only, 0–10,000, as in the concentration tables) and the largest
single-country dependency.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kizuna.data.bundle import Dataset
from kizuna.exposure.mixes import OTHER, Mix, Perspective, world_mix
from kizuna.minerals.metrics import HHI_SCALE
from kizuna.minerals.selection import select
from kizuna.model.types import STAGES, CountryGroup
from kizuna.products.model import Line, Product

ROW_COLUMNS = ["mineral", "stage", "iso3", "country", "tonnes", "share", "basis", "source",
               "year"]
SUMMARY_COLUMNS = ["mineral", "stage", "tonnes", "concern_share", "hhi", "top_iso3",
                   "top_share", "basis", "proxy", "notes"]
NO_DATA = "no supply data"
NOT_ADDITIVE = "no additive world total"
"""USGS lists the countries but marks the world total XX: they report different products,
so shares would mean nothing (docs/concentration.md); the product's tonnes stay unattributed."""
CONCERN = "concern"
_RARE_EARTH_FAMILY = "rare-earths"


@dataclass
class Exposure:
    """The result: tidy rows, the per-mineral summary and what it rests on."""

    product: Product
    volume: float
    year: int | None
    perspective: Perspective
    rows: pd.DataFrame
    minerals: pd.DataFrame
    assumptions: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``kizuna exposure --json`` contract (docs/exposure.md)."""
        return {
            "product": self.product.id,
            "name": self.product.name,
            "unit": self.product.unit,
            "volume": self.volume,
            "year": self.year,
            "perspective": self.perspective.name,
            "rows": _records(self.rows),
            "minerals": _records(self.minerals),
            "assumptions": self.assumptions,
            "sources": self.sources,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def stages_of(line: Line) -> tuple[str, ...]:
    """The stages a line goes through (synthetic graphite is never mined)."""
    if line.mineral == "graphite" and "synthetic" in line.component.casefold():
        return ("refining",)
    return STAGES


class _Mixes:
    """Mixes by (mineral, stage), looked up once, with the rare-earth proxy."""

    def __init__(self, ds: Dataset, perspective: Perspective, year: int | None) -> None:
        self.ds, self.perspective, self.year = ds, perspective, year
        self._cache: dict[tuple[str, str], tuple[Mix | None, str | None]] = {}

    def get(self, mineral: str, stage: str) -> tuple[Mix | None, str | None]:
        """(mix or None, proxy mineral used or None)."""
        key = (mineral, stage)
        if key not in self._cache:
            self._cache[key] = self._find(mineral, stage)
        return self._cache[key]

    def _find(self, mineral: str, stage: str) -> tuple[Mix | None, str | None]:
        candidates = [mineral]
        if self.ds.minerals[mineral].group == _RARE_EARTH_FAMILY:
            candidates.append(_RARE_EARTH_FAMILY)
        for name in candidates:
            proxy = None if name == mineral else name
            imported = self.perspective.mixes.get((name, stage))
            if imported is not None:
                return imported, proxy
            mix = world_mix(self.ds, name, stage, self.year)
            if mix is not None:
                return mix, proxy
        return None, None


def exposure(
    ds: Dataset,
    product: Product,
    *,
    volume: float | None = None,
    year: int | None = None,
    perspective: Perspective | None = None,
    groups: Mapping[str, CountryGroup] | None = None,
) -> Exposure:
    """The product's exposure at ``volume`` units (default: the product's own volume).

    ``groups`` are the country groups in force (the user's edits); default the bundled ones.
    """
    perspective = perspective or Perspective("world")
    units = product.volume if volume is None else volume
    mixes = _Mixes(ds, perspective, year)
    rows: list[dict[str, Any]] = []
    proxies: dict[tuple[str, str], str] = {}
    notes: dict[tuple[str, str], list[str]] = {}
    for line in product.lines:
        tonnes = line.kg * units / 1000.0
        for stage in stages_of(line):
            given = line.sourcing.get(stage)
            if given:
                rows.extend(_split(line.mineral, stage, tonnes, given, "user",
                                   f"sourcing in the BOM ({line.citation})", ""))
                continue
            mix, proxy = mixes.get(line.mineral, stage)
            if mix is None:
                why = NOT_ADDITIVE if select(ds, line.mineral, stage=stage) else NO_DATA
                rows.append(_row(line.mineral, stage, None, why, tonnes, why, "", ""))
                continue
            if proxy is not None:
                proxies[(line.mineral, stage)] = proxy
            for note in mix.notes:
                notes.setdefault((line.mineral, stage), [])
                if note not in notes[(line.mineral, stage)]:
                    notes[(line.mineral, stage)].append(note)
            rows.extend(_split(line.mineral, stage, tonnes, mix.shares, mix.basis, mix.source,
                               mix.year))
    frame = _aggregate(ds, rows)
    summary = _summary(groups or ds.groups, frame, proxies, notes)
    assumptions = list(product.assumptions)
    assumptions.extend(
        f"{mineral} ({stage}): no element-level supply data; used the {proxy} mix as a proxy"
        for (mineral, stage), proxy in sorted(proxies.items())
    )
    if perspective.name != "world":
        assumptions.append(
            f"perspective {perspective.label}: applied at the stage each imported product "
            "stands for; the other stages use the world mix"
        )
    sources = list(product.sources) + sorted(
        {str(s) for s in frame["source"] if s}
    )
    return Exposure(product, units, year, perspective, frame, summary, assumptions, sources)


def _row(mineral: str, stage: str, iso3: str | None, country: str, tonnes: float, basis: str,
         source: str, year: str) -> dict[str, Any]:
    return {"mineral": mineral, "stage": stage, "iso3": iso3, "country": country,
            "tonnes": tonnes, "basis": basis, "source": source, "year": year}


def _split(mineral: str, stage: str, tonnes: float, shares: Mapping[str, float], basis: str,
           source: str, year: str) -> Iterable[dict[str, Any]]:
    for origin, share in shares.items():
        yield _row(mineral, stage, origin, "", tonnes * share, basis, source, year)


def _aggregate(ds: Dataset, rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=ROW_COLUMNS)
    frame = pd.DataFrame(rows)
    frame["iso3"] = frame["iso3"].astype("object")
    key = frame["iso3"].fillna("")
    grouped = (
        frame.assign(_key=key)
        .groupby(["mineral", "stage", "_key"], sort=False, as_index=False)
        .agg(tonnes=("tonnes", "sum"), basis=("basis", _joined), source=("source", _joined),
             year=("year", _joined))
    )
    grouped["iso3"] = pd.Series([key or None for key in grouped["_key"]], dtype="object",
                                index=grouped.index)
    totals = grouped.groupby(["mineral", "stage"])["tonnes"].transform("sum")
    grouped["share"] = (grouped["tonnes"] / totals).where(totals > 0, 0.0)
    grouped["country"] = [
        basis if code is None else ("Other countries" if code == OTHER
                                    else ds.country_name(code))
        for code, basis in zip(grouped["iso3"], grouped["basis"], strict=True)
    ]
    grouped = grouped.sort_values(["mineral", "stage", "tonnes"], ascending=[True, True, False],
                                  kind="stable")
    return grouped[ROW_COLUMNS].reset_index(drop=True)


def _joined(values: pd.Series) -> str:
    return "; ".join(dict.fromkeys(str(v) for v in values if v))


def _summary(groups: Mapping[str, CountryGroup], frame: pd.DataFrame,
             proxies: dict[tuple[str, str], str],
             notes: dict[tuple[str, str], list[str]]) -> pd.DataFrame:
    concern = groups[CONCERN].members if CONCERN in groups else frozenset()
    out: list[dict[str, Any]] = []
    for (mineral, stage), group in frame.groupby(["mineral", "stage"], sort=True):
        total = float(group["tonnes"].sum())
        named = group[group["iso3"].notna() & (group["iso3"] != OTHER)]
        no_data = bool(group["iso3"].isna().all())
        shares = named["share"].astype(float)
        top = named.iloc[int(shares.to_numpy().argmax())] if len(named) else None
        out.append({
            "mineral": mineral, "stage": stage, "tonnes": total,
            "concern_share": None if no_data else float(
                named[named["iso3"].isin(concern)]["share"].sum()),
            "hhi": None if no_data else float((shares ** 2).sum() * HHI_SCALE),
            "top_iso3": None if top is None else str(top["iso3"]),
            "top_share": None if top is None else float(top["share"]),
            "basis": _joined(group["basis"]),
            "proxy": proxies.get((str(mineral), str(stage))),
            "notes": "; ".join(notes.get((str(mineral), str(stage)), [])),
        })  # fmt: skip
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)
