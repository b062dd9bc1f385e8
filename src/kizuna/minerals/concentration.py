"""Supply concentration by mineral, stage and year: country shares, HHI, top-n, group share
and the governance-weighted HHI.

How figures are derived (also in docs/concentration.md):

* **Which series.** A mineral and stage may have several series (USGS mine production,
  refinery production, smelter production; compiled refining shares). Tonnages are preferred
  over shares; among tonnage series the one naming the most countries for the year wins
  (ties by name); the others are listed in ``other_series`` and can be asked for by name.
* **Shares of tonnage series** are each country's value over USGS's published world total,
  which USGS rounds, so the named countries can sum to slightly over 1. We report them as
  USGS does. Without a world total, the denominator is the sum of the parts (noted).
* **The residual** ("Other countries", IEA "Rest of world") stays an aggregate, never a
  country: it is reported as ``residual`` and counts as many small producers, so it adds
  nothing to HHI (the HHI is a lower bound; ``hhi_upper`` treats it as one country).
* **Withheld or unavailable** values (USGS ``W``, ``NA``) are excluded and listed in notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from kizuna.errors import InputError, NotFoundError
from kizuna.minerals.governance import GovernanceWeights, governance_weights
from kizuna.minerals.metrics import HHI_WGI_FORMULA, hhi, hhi_wgi, top_n_share

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset
    from kizuna.model import CountryGroup

STAGES = ("mining", "refining")
TONNAGE_MEASURES = ("production", "capacity", "reserves")
AGGREGATE_WORLD = "WORLD"


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


def _candidates(ds: Dataset, slug: str, stage: str, measure: str | None) -> pd.DataFrame:
    supply = ds.supply
    rows = supply[(supply["mineral"] == slug) & (supply["stage"] == stage)]
    measures = (measure,) if measure else ("production", "share")
    return rows[rows["measure"].isin(measures)]


def _rank(group: pd.DataFrame, year: int) -> tuple[int, int, int]:
    """Tonnage before shares, the source's headline series first, then the most countries."""
    at_year = group[(group["year"] == year) & ~group["is_aggregate"]]
    named = int(at_year["value"].notna().sum())
    tonnage = 0 if group["measure"].iat[0] == "share" else 1
    return (tonnage, int(bool(group["headline"].any())), named)


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
    rows = _candidates(ds, slug, stage, measure)
    if rows.empty:
        return None
    keys = ["measure", "series", "source"]
    groups = {key: frame for key, frame in rows.groupby(keys, sort=True)}
    if series is not None:
        groups = {key: frame for key, frame in groups.items() if key[1] == series}
        if not groups:
            names = sorted({str(s) for s in rows["series"].unique()})
            raise NotFoundError(
                f"no series {series!r} for {slug} at the {stage} stage",
                hint="series available: " + "; ".join(names),
                field="series",
            )
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
    return Selection(
        mineral=slug,
        stage=stage,
        year=chosen_year,
        measure=str(key[0]),
        series=str(key[1]),
        source=str(key[2]),
        rows=frame[frame["year"] == chosen_year],
        years=tuple(sorted(int(y) for y in frame["year"].unique())),
        other_series=tuple(
            f"{k[1]} [{k[2]}, {', '.join(str(y) for y in sorted(set(f['year'])))}]"
            for k, f in groups.items()
            if k != key
        ),
    )


def _shares(selection: Selection) -> tuple[pd.DataFrame, float | None, list[str]]:
    """Country rows with a ``share`` column, the world total used, and notes."""
    rows = selection.rows
    countries = rows[~rows["is_aggregate"]].copy()
    notes: list[str] = []
    unavailable = countries[countries["value"].isna()]
    if not unavailable.empty:
        listed = ", ".join(
            f"{name} ({code})"
            for name, code in zip(
                unavailable["area_name"], unavailable["value_code"].fillna("NA"), strict=True
            )
        )
        notes.append(f"excluded, no figure published: {listed}")
    countries = countries[countries["value"].notna()]
    if selection.measure == "share":
        countries["share"] = countries["value"].astype("float64")
        notes.append(
            "shares as published by the source, not tonnages; they cover the stated product only"
        )
        return countries, None, notes
    world = rows[rows["area"] == AGGREGATE_WORLD]["value"].dropna().to_numpy(dtype="float64")
    if world.size and world[0] > 0:
        total = float(world[0])
        notes.append(
            "share = value / USGS world total, which USGS rounds; named countries can sum to "
            "slightly over 1"
        )
    else:
        total = float(rows[rows["area"] != AGGREGATE_WORLD]["value"].sum())
        notes.append("no world total published: share = value / sum of the listed areas")
    countries["share"] = countries["value"].astype("float64") / total if total else float("nan")
    return countries, total, notes


def _residual(selection: Selection, total: float | None) -> dict[str, Any] | None:
    rows = selection.rows
    residual = rows[rows["is_aggregate"] & (rows["area"] != AGGREGATE_WORLD)]
    if residual.empty:
        return None
    row = residual.to_dict("records")[0]
    value = None if pd.isna(row["value"]) else float(row["value"])
    if selection.measure == "share":
        share = value
    else:
        share = value / total if value is not None and total else None
    return {"area": str(row["area"]), "name": str(row["area_name"]), "value": value, "share": share}


def _country_records(ds: Dataset, countries: pd.DataFrame) -> list[dict[str, Any]]:
    ordered = countries.sort_values(["value", "area"], ascending=[False, True])
    return [
        {
            "iso3": str(row["area"]),
            "name": ds.country_name(str(row["area"])),
            "value": float(row["value"]),
            "share": float(row["share"]),
            "estimated": bool(row["estimated"]),
            "value_code": None if pd.isna(row["value_code"]) else str(row["value_code"]),
        }
        for row in ordered.to_dict("records")
    ]


def _metrics(
    countries: pd.DataFrame, residual: dict[str, Any] | None, weights: GovernanceWeights
) -> dict[str, Any]:
    shares = countries["share"].astype("float64").tolist()
    scores = [weights.score(str(iso3)) for iso3 in countries["area"]]
    residual_share = (residual or {}).get("share") or 0.0
    value = hhi_wgi(shares, scores)
    return {
        "hhi": hhi(shares),
        "hhi_upper": hhi([*shares, max(residual_share, 0.0)]),
        "top1_share": top_n_share(shares, 1),
        "top3_share": top_n_share(shares, 3),
        "hhi_wgi": value,
        "hhi_wgi_eu_scale": value / 10_000.0,
        "hhi_wgi_formula": HHI_WGI_FORMULA,
        **weights.describe(),
    }


def mineral_profile(
    ds: Dataset,
    mineral: str,
    *,
    stage: str = "mining",
    year: int | None = None,
    measure: str | None = None,
    series: str | None = None,
    wgi_missing: float = 5.0,
) -> dict[str, Any]:
    """Everything Kizuna knows about one mineral at one stage and year, as plain data."""
    info = ds.mineral(mineral)
    selection = select(ds, info.slug, stage=stage, year=year, measure=measure, series=series)
    if selection is None:
        reason = ds.missing_reason(info.slug, stage) or f"no {stage} data for {info.name}"
        return {"mineral": info.slug, "name": info.name, "stage": stage, "year": None,
                "countries": [], "missing": reason}
    countries, total, notes = _shares(selection)
    if countries.empty:
        return _world_only(info.slug, info.name, selection)
    residual = _residual(selection, total)
    weights = governance_weights(ds.governance, missing_default=wgi_missing)
    records = _country_records(ds, countries)
    world_rows = selection.rows[selection.rows["area"] == AGGREGATE_WORLD]
    estimated = bool(selection.rows["estimated"].any())
    return {
        "mineral": info.slug,
        "name": info.name,
        "stage": stage,
        "year": selection.year,
        "year_label": f"{selection.year}{'e' if estimated else ''}",
        "estimated": estimated,
        "measure": selection.measure,
        "basis": selection.basis,
        "series": selection.series,
        "unit": str(selection.rows["unit"].iat[0]),
        "source": selection.source,
        "citation": str(world_rows["citation"].iat[0] if not world_rows.empty
                        else selection.rows["citation"].iat[0]),
        "world_total": total,
        **_metrics(countries, residual, weights),
        "residual": residual,
        "countries": records,
        "years": list(selection.years),
        "other_series": list(selection.other_series),
        "notes": notes,
        "missing": None,
    }


def _world_only(slug: str, name: str, selection: Selection) -> dict[str, Any]:
    """A series with a world figure but no country breakdown: say so, show the figure."""
    world = selection.rows[selection.rows["area"] == AGGREGATE_WORLD].to_dict("records")
    row = world[0] if world else selection.rows.to_dict("records")[0]
    value = None if pd.isna(row["value"]) else float(row["value"])
    if value is not None:
        figure = f"{value:,.0f}"
    elif not pd.isna(row["value_min"]) and not pd.isna(row["value_max"]):
        figure = f"{row['value_min']:,.0f}-{row['value_max']:,.0f}"
    else:
        figure = str(row["value_code"])
    label = f"{selection.year}{'e' if bool(row['estimated']) else ''}"
    return {
        "mineral": slug, "name": name, "stage": selection.stage, "year": selection.year,
        "series": selection.series, "unit": str(row["unit"]), "source": selection.source,
        "world_total": value, "countries": [],
        "missing": (
            f"{selection.source} gives only a world figure for {name.lower()} "
            f"({selection.series}: {figure} {row['unit']}, {label}); no country breakdown"
        ),
    }


def resolve_group(groups: Mapping[str, CountryGroup], group: str) -> CountryGroup:
    try:
        return groups[group]
    except KeyError:
        raise NotFoundError(
            f"unknown country group {group!r}",
            hint="groups: " + ", ".join(sorted(groups)),
            field="group",
        ) from None


def country_shares(
    ds: Dataset,
    *,
    minerals: list[str] | None = None,
    stage: str = "mining",
    year: int | None = None,
    measure: str | None = None,
) -> pd.DataFrame:
    """Tidy country shares: one row per mineral and country (aggregates excluded)."""
    frames = []
    for slug in minerals or sorted(ds.minerals):
        try:
            selection = select(ds, slug, stage=stage, year=year, measure=measure)
        except NotFoundError:
            if minerals:
                raise
            continue  # the year asked for is not available for this mineral
        if selection is None:
            continue
        countries, total, _ = _shares(selection)
        frames.append(
            countries.assign(world_total=total, basis=selection.basis)[
                ["mineral", "stage", "measure", "series", "year", "unit", "basis", "estimated",
                 "source", "area", "value", "share", "world_total"]
            ]
        )
    if not frames and year is not None:
        supply = ds.supply
        years = sorted({int(y) for y in supply[supply["stage"] == stage]["year"].unique()})
        raise NotFoundError(
            f"no {stage} data for any mineral in {year}",
            hint="years available: " + ", ".join(str(y) for y in years),
            field="year",
        )
    if not frames:
        return pd.DataFrame(columns=["mineral", "stage", "measure", "series", "year", "unit",
                                     "basis", "estimated", "source", "area", "value", "share",
                                     "world_total"])
    return pd.concat(frames, ignore_index=True)


def concentration_table(
    ds: Dataset,
    *,
    minerals: list[str] | None = None,
    stage: str = "mining",
    year: int | None = None,
    group: str = "concern",
    groups: Mapping[str, CountryGroup] | None = None,
    wgi_missing: float = 5.0,
) -> pd.DataFrame:
    """One row per mineral with data at ``stage``, sorted by HHI (highest first).

    ``groups`` are the country groups to pick ``group`` from (default: the dataset's, i.e.
    the shipped defaults; pass ``kizuna.minerals.groups.effective_groups`` for user edits).
    """
    check_stage(stage)
    members = resolve_group(ds.groups if groups is None else groups, group).members
    shares = country_shares(ds, minerals=minerals, stage=stage, year=year)
    weights = governance_weights(ds.governance, missing_default=wgi_missing)
    rows = []
    for slug, frame in shares.groupby("mineral", sort=True):
        top = frame.sort_values(["share", "area"], ascending=[False, True]).iloc[0]
        metrics = _metrics(frame, None, weights)
        rows.append({
            "mineral": slug,
            "name": ds.minerals[str(slug)].name,
            "stage": stage,
            "year": int(top["year"]),
            "estimated": bool(frame["estimated"].any()),
            "basis": top["basis"],
            "unit": top["unit"],
            "series": top["series"],
            "source": top["source"],
            "world_total": top["world_total"],
            "hhi": metrics["hhi"],
            "hhi_wgi": metrics["hhi_wgi"],
            "top1_iso3": top["area"],
            "top1_name": ds.country_name(str(top["area"])),
            "top1_share": metrics["top1_share"],
            "top3_share": metrics["top3_share"],
            "group": group,
            "group_share": float(frame[frame["area"].isin(members)]["share"].sum()),
            "n_countries": len(frame),
            "wgi_year": weights.year,
        })
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values(["hhi", "mineral"], ascending=[False, True]).reset_index(drop=True)


NOT_A_MEMBER = "not_critical"
"""A list row that records a mineral was assessed and found not critical (UK 2024 palladium)."""


def list_minerals(ds: Dataset, list_id: str | None = None) -> pd.DataFrame:
    """Minerals with their list memberships, optionally only the members of one list.

    Rows a list marks ``not_critical`` are assessments, not memberships, and are left out.
    With ``list_id``, ``status`` (confirmed/unconfirmed) and ``category`` come from that list.
    """
    if list_id is not None and list_id not in set(ds.lists["list_id"]):
        raise NotFoundError(
            f"unknown list {list_id!r}",
            hint="lists: " + ", ".join(sorted(ds.lists["list_id"])),
            field="list",
        )
    members = ds.list_members[ds.list_members["category"] != NOT_A_MEMBER]
    by_mineral = members.groupby("mineral")["list_id"].agg(lambda ids: sorted(set(ids)))
    rows = []
    for slug, info in ds.minerals.items():
        status = category = None
        if list_id is not None:
            picked = members[(members["list_id"] == list_id) & (members["mineral"] == slug)]
            if picked.empty:
                continue
            status = "confirmed" if (picked["status"] == "confirmed").any() else "unconfirmed"
            category = ", ".join(sorted({str(c) for c in picked["category"].dropna()}))
        rows.append({"slug": slug, "name": info.name, "symbol": info.symbol,
                     "group": info.group, "lists": list(by_mineral.get(slug, [])),
                     "status": status, "category": category})
    return pd.DataFrame(
        rows, columns=["slug", "name", "symbol", "group", "lists", "status", "category"]
    )
