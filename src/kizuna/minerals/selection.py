"""Choosing the figures: which series, source and year stand for a mineral at a stage.

A mineral and stage can have several series (USGS mine production; refinery, smelter or
sponge production; the compiled refining shares) and several measures (production,
capacity, reserves). Rules, in order:

1. an explicit ``series`` (and ``measure``) wins;
2. without a ``measure``, production tonnages are preferred over published shares;
3. the source's headline series (the supply table's ``headline`` column) comes first;
4. then the series naming the most countries in the year; ties by name.

The year is the latest available unless asked for; an unavailable year is an error that
names the years there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from kizuna.errors import InputError, NotFoundError
from kizuna.model import MEASURES, STAGES

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset

AGGREGATE_WORLD = "WORLD"
DEFAULT_MEASURES = ("production", "share")


@dataclass(frozen=True)
class Selection:
    """The rows chosen for one mineral, stage and year, and what else was available."""

    mineral: str
    stage: str
    year: int
    measure: str
    series: str
    source: str
    rows: pd.DataFrame
    years: tuple[int, ...]
    other_series: tuple[str, ...]

    @property
    def basis(self) -> str:
        return "share" if self.measure == "share" else "tonnage"


def check_stage(stage: str) -> str:
    if stage not in STAGES:
        raise InputError(
            f"unknown stage {stage!r}", hint=f"use one of: {', '.join(STAGES)}", field="stage"
        )
    return stage


def check_measure(measure: str | None) -> str | None:
    if measure is not None and measure not in MEASURES:
        raise InputError(
            f"unknown measure {measure!r}",
            hint=f"use one of: {', '.join(MEASURES)}",
            field="measure",
        )
    return measure


def _rank(group: pd.DataFrame, year: int) -> tuple[int, int, int]:
    at_year = group[(group["year"] == year) & ~group["is_aggregate"]]
    named = int(at_year["value"].notna().sum())
    tonnage = 0 if group["measure"].iat[0] == "share" else 1
    return (tonnage, int(bool(group["headline"].any())), named)


def _describe(key: tuple[str, str, str], frame: pd.DataFrame) -> str:
    years = ", ".join(str(y) for y in sorted({int(y) for y in frame["year"]}))
    return f"{key[1]} [{key[0]}, {key[2]}, {years}]"


def _groups(
    rows: pd.DataFrame, slug: str, stage: str, series: str | None
) -> dict[tuple[str, str, str], pd.DataFrame]:
    groups = {
        (str(k[0]), str(k[1]), str(k[2])): frame
        for k, frame in rows.groupby(["measure", "series", "source"], sort=True)
    }
    if series is None:
        return groups
    chosen = {key: frame for key, frame in groups.items() if key[1] == series}
    if not chosen:
        raise NotFoundError(
            f"no series {series!r} for {slug} at the {stage} stage",
            hint="series available: " + "; ".join(sorted({k[1] for k in groups})),
            field="series",
        )
    return chosen


def select(
    ds: Dataset,
    mineral: str,
    *,
    stage: str = "mining",
    year: int | None = None,
    measure: str | None = None,
    series: str | None = None,
) -> Selection | None:
    """Choose the series for ``mineral`` at ``stage``; None when there are no data at all."""
    slug = ds.mineral(mineral).slug
    check_stage(stage)
    check_measure(measure)
    supply = ds.supply
    rows = supply[(supply["mineral"] == slug) & (supply["stage"] == stage)]
    rows = rows[rows["measure"].isin((measure,) if measure else DEFAULT_MEASURES)]
    if rows.empty:
        return None
    groups = _groups(rows, slug, stage, series)
    all_years = sorted({int(y) for frame in groups.values() for y in frame["year"].unique()})
    if year is not None and year not in all_years:
        raise NotFoundError(
            f"no {stage} data for {slug} in {year}",
            hint="years available: " + ", ".join(str(y) for y in all_years),
            field="year",
            available=[str(y) for y in all_years],
        )
    chosen_year = year if year is not None else all_years[-1]
    with_year = {k: f for k, f in groups.items() if (f["year"] == chosen_year).any()}
    key = max(with_year, key=lambda k: (*_rank(with_year[k], chosen_year), k))
    frame = with_year[key]
    others = _groups(
        supply[(supply["mineral"] == slug) & (supply["stage"] == stage)], slug, stage, None
    )
    return Selection(
        mineral=slug,
        stage=stage,
        year=chosen_year,
        measure=key[0],
        series=key[1],
        source=key[2],
        rows=frame[frame["year"] == chosen_year],
        years=tuple(sorted(int(y) for y in frame["year"].unique())),
        other_series=tuple(_describe(k, f) for k, f in others.items() if k != key),
    )
