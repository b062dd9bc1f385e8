"""Supply concentration by mineral, stage and year: country shares, HHI, top-n, group share
and the governance-weighted HHI. See docs/concentration.md for every rule; in short:

* **Shares of tonnage series** are each country's value over USGS's published world total,
  which USGS rounds, so named countries can sum to slightly over 1 (reported as USGS's own
  figures imply). Without a published total the denominator is the sum of the listed areas
  (``world_total_kind = "sum_of_parts"``). Where USGS marks the world total ``XX`` (not
  applicable: the countries report different products) nothing is added up
  (``"not_additive"``): values are listed, shares and HHI are not computed.
* **The residual** ("Other countries", IEA "Rest of world") stays an aggregate, never a
  country. It counts as many small producers, so it adds nothing to HHI (a lower bound);
  ``hhi_upper`` counts it as one country. ``named_share`` says how much of the total the
  named countries cover; below 50% (``low_coverage``) a low HHI is not evidence of diversity.
* **Withheld or unavailable** values (USGS ``W``, ``NA``) are excluded and listed in notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from kizuna.errors import NotFoundError
from kizuna.minerals.governance import GovernanceWeights, governance_weights
from kizuna.minerals.groups import resolve_group
from kizuna.minerals.metrics import HHI_SCALE, HHI_WGI_FORMULA, hhi, hhi_wgi, top_n_share
from kizuna.minerals.selection import AGGREGATE_WORLD, Selection, check_stage, select

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset
    from kizuna.model import CountryGroup

LOW_COVERAGE = 0.5
"""Below this share of the world total held by named countries, HHI says little."""

NOT_APPLICABLE = "XX"

PROFILE_KEYS = (
    "mineral", "name", "stage", "measure", "series", "year", "year_label", "estimated", "basis",
    "unit", "source", "citation", "confidence", "world_total", "world_total_kind", "hhi",
    "hhi_upper", "top1_share", "top3_share", "named_share", "residual_share", "low_coverage",
    "hhi_wgi", "hhi_wgi_eu_scale", "hhi_wgi_formula", "wgi_year", "wgi_formula",
    "wgi_missing_default", "residual", "countries", "years", "other_series", "notes", "missing",
)
"""Every profile has all of these keys; those that do not apply are None (or empty)."""


@dataclass
class Shares:
    """Country rows with a ``share`` column, the denominator used and what to say about it."""

    countries: pd.DataFrame
    total: float | None
    kind: str  # published | sum_of_parts | shares | not_additive
    notes: list[str] = field(default_factory=list)


def _unavailable_note(countries: pd.DataFrame) -> list[str]:
    missing = countries[countries["value"].isna()]
    if missing.empty:
        return []
    listed = ", ".join(
        f"{name} ({code})"
        for name, code in zip(missing["area_name"], missing["value_code"].fillna("NA"), strict=True)
    )
    return [f"excluded, no figure published: {listed}"]


def shares_of(selection: Selection) -> Shares:
    """Shares of the selected rows, following the module's rules."""
    rows = selection.rows
    countries = rows[~rows["is_aggregate"]].copy()
    notes = _unavailable_note(countries)
    countries = countries[countries["value"].notna()]
    if selection.measure == "share":
        countries["share"] = countries["value"].astype("float64")
        notes.append("shares as published by the source, not tonnages; they cover the stated "
                     "product only")
        return Shares(countries, None, "shares", notes)
    world = rows[rows["area"] == AGGREGATE_WORLD]
    published = world["value"].dropna().to_numpy(dtype="float64")
    if published.size and published[0] > 0:
        notes.append("share = value / USGS world total, which USGS rounds; named countries can "
                     "sum to slightly over 1")
        countries["share"] = countries["value"].astype("float64") / float(published[0])
        return Shares(countries, float(published[0]), "published", notes)
    if (world["value_code"] == NOT_APPLICABLE).any():
        notes.append("USGS gives no world total (XX, not applicable): the countries report "
                     "different products, so shares and HHI are not computed")
        countries["share"] = float("nan")
        return Shares(countries, None, "not_additive", notes)
    total = float(rows[rows["area"] != AGGREGATE_WORLD]["value"].sum())
    notes.append(f"{_world_as_given(world)}: share = value / sum of the listed areas")
    countries["share"] = countries["value"].astype("float64") / total if total else float("nan")
    return Shares(countries, total, "sum_of_parts", notes)


def _world_as_given(world: pd.DataFrame) -> str:
    """How the source states a world total it does not give as a number."""
    for row in world.to_dict("records"):
        low, high, code = row["value_min"], row["value_max"], row["value_code"]
        if not pd.isna(low) and not pd.isna(high):
            return f"USGS gives the world total as a range ({low:,.0f}-{high:,.0f})"
        if not pd.isna(low):
            return f"USGS gives the world total only as more than {low:,.0f}"
        if not pd.isna(high):
            return f"USGS gives the world total only as less than {high:,.0f}"
        if not pd.isna(code):
            return f"USGS gives no world total (code {code})"
    return "no world total published"


def _residual(selection: Selection, shares: Shares) -> dict[str, Any] | None:
    rows = selection.rows
    residual = rows[rows["is_aggregate"] & (rows["area"] != AGGREGATE_WORLD)]
    if residual.empty:
        return None
    row = residual.to_dict("records")[0]
    value = None if pd.isna(row["value"]) else float(row["value"])
    if selection.measure == "share":
        share = value
    else:
        share = value / shares.total if value is not None and shares.total else None
    return {"area": str(row["area"]), "name": str(row["area_name"]), "value": value,
            "share": share, "estimated": bool(row["estimated"])}


def _country_records(ds: Dataset, countries: pd.DataFrame) -> list[dict[str, Any]]:
    ordered = countries.sort_values(["value", "area"], ascending=[False, True])
    return [
        {
            "iso3": str(row["area"]),
            "name": ds.country_name(str(row["area"])),
            "value": float(row["value"]),
            "share": None if pd.isna(row["share"]) else float(row["share"]),
            "estimated": bool(row["estimated"]),
            "value_code": None if pd.isna(row["value_code"]) else str(row["value_code"]),
        }
        for row in ordered.to_dict("records")
    ]


def _metrics(shares: Shares, residual: dict[str, Any] | None,
             weights: GovernanceWeights) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(
        ("hhi", "hhi_upper", "top1_share", "top3_share", "named_share", "residual_share",
         "low_coverage", "hhi_wgi", "hhi_wgi_eu_scale"))
    out.update(weights.describe(), hhi_wgi_formula=HHI_WGI_FORMULA)
    if shares.kind == "not_additive" or shares.countries.empty:
        return out
    values = shares.countries["share"].astype("float64").tolist()
    scores = [weights.score(str(iso3)) for iso3 in shares.countries["area"]]
    residual_share = max((residual or {}).get("share") or 0.0, 0.0)
    value = hhi_wgi(values, scores)
    named = float(sum(values))
    out.update(
        hhi=hhi(values),
        hhi_upper=hhi(values) + HHI_SCALE * residual_share**2,
        top1_share=top_n_share(values, 1),
        top3_share=top_n_share(values, 3),
        named_share=named,
        residual_share=residual_share if residual else max(0.0, 1.0 - named),
        low_coverage=named < LOW_COVERAGE,
        hhi_wgi=value,
        hhi_wgi_eu_scale=value / HHI_SCALE,
    )
    return out


def _confidence(rows: pd.DataFrame) -> str | None:
    if "confidence" not in rows:
        return None
    grades = rows["confidence"].dropna()
    order = {"low": 0, "medium": 1, "high": 2}
    return min((str(g) for g in grades), key=lambda g: order.get(g, 3), default=None)


def _describe_selection(selection: Selection, shares: Shares) -> dict[str, Any]:
    rows = selection.rows
    estimated = bool(rows["estimated"].any())
    world = rows[rows["area"] == AGGREGATE_WORLD]
    return {
        "measure": selection.measure,
        "series": selection.series,
        "year": selection.year,
        "year_label": f"{selection.year}{'e' if estimated else ''}",
        "estimated": estimated,
        "basis": selection.basis,
        "unit": str(rows["unit"].iat[0]),
        "source": selection.source,
        "citation": str((world if not world.empty else rows)["citation"].iat[0]),
        "confidence": _confidence(rows),
        "world_total": shares.total,
        "world_total_kind": shares.kind,
        "years": list(selection.years),
        "other_series": list(selection.other_series),
    }


def _world_only_note(selection: Selection, name: str) -> str:
    rows = selection.rows
    row = rows[rows["area"] == AGGREGATE_WORLD].to_dict("records") or rows.to_dict("records")
    first = row[0]
    if not pd.isna(first["value"]):
        figure = f"{first['value']:,.0f}"
    elif not pd.isna(first["value_min"]) and not pd.isna(first["value_max"]):
        figure = f"{first['value_min']:,.0f}-{first['value_max']:,.0f}"
    else:
        figure = str(first["value_code"])
    label = f"{selection.year}{'e' if bool(first['estimated']) else ''}"
    return (f"{selection.source} gives only a world figure for {name.lower()} "
            f"({selection.series}: {figure} {first['unit']}, {label}); no country breakdown")


def profile(
    ds: Dataset,
    mineral: str,
    weights: GovernanceWeights,
    *,
    stage: str = "mining",
    year: int | None = None,
    measure: str | None = None,
    series: str | None = None,
) -> dict[str, Any]:
    """The profile with governance weights given (so a table of minerals computes them once)."""
    info = ds.mineral(mineral)
    out: dict[str, Any] = dict.fromkeys(PROFILE_KEYS)
    out.update(mineral=info.slug, name=info.name, stage=check_stage(stage), countries=[],
               years=[], other_series=[], notes=[])
    selection = select(ds, info.slug, stage=stage, year=year, measure=measure, series=series)
    if selection is None:
        out["missing"] = ds.missing_reason(info.slug, stage) or f"no {stage} data for {info.name}"
        return out
    shares = shares_of(selection)
    out.update(_describe_selection(selection, shares))
    if shares.countries.empty:
        out["missing"] = _world_only_note(selection, info.name)
        return out
    residual = _residual(selection, shares)
    out.update(_metrics(shares, residual, weights), residual=residual,
               countries=_country_records(ds, shares.countries), notes=shares.notes)
    return out


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
    """Everything Kizuna knows about one mineral at one stage and year, as plain data.

    Always has every key of ``PROFILE_KEYS``; ``missing`` explains an empty profile.
    """
    weights = governance_weights(ds.governance, missing_default=wgi_missing)
    return profile(ds, mineral, weights, stage=stage, year=year, measure=measure, series=series)


def _selections(
    ds: Dataset, minerals: list[str] | None, stage: str, year: int | None, measure: str | None
) -> list[Selection]:
    """One selection per mineral with data; a missing year is an error only when nothing has it."""
    found = []
    for slug in minerals or sorted(ds.minerals):
        try:
            selection = select(ds, slug, stage=stage, year=year, measure=measure)
        except NotFoundError:
            if minerals:
                raise
            continue
        if selection is not None:
            found.append(selection)
    if not found and year is not None:
        supply = ds.supply
        years = sorted({int(y) for y in supply[supply["stage"] == stage]["year"].unique()})
        raise NotFoundError(
            f"no {stage} data for any mineral in {year}",
            hint="years available: " + ", ".join(str(y) for y in years),
            field="year",
        )
    return found


TIDY_COLUMNS = ["mineral", "stage", "measure", "series", "year", "unit", "basis", "estimated",
                "source", "area", "value", "share", "world_total", "world_total_kind"]


def country_shares(
    ds: Dataset,
    *,
    minerals: list[str] | None = None,
    stage: str = "mining",
    year: int | None = None,
    measure: str | None = None,
) -> pd.DataFrame:
    """Tidy country shares: one row per mineral and country (aggregates excluded)."""
    check_stage(stage)
    frames = []
    for selection in _selections(ds, minerals, stage, year, measure):
        shares = shares_of(selection)
        if not shares.countries.empty:
            frames.append(shares.countries.assign(
                world_total=shares.total, world_total_kind=shares.kind, basis=selection.basis
            )[TIDY_COLUMNS])
    if not frames:
        return pd.DataFrame(columns=TIDY_COLUMNS)
    return pd.concat(frames, ignore_index=True)


TABLE_COLUMNS = (
    "mineral", "name", "stage", "measure", "year", "estimated", "basis", "unit", "series",
    "source", "confidence", "world_total", "world_total_kind", "hhi", "hhi_upper", "hhi_wgi",
    "top1_iso3", "top1_name", "top1_share", "top3_share", "named_share", "residual_share",
    "low_coverage", "group", "group_share", "n_countries", "wgi_year",
)


def concentration_table(
    ds: Dataset,
    *,
    minerals: list[str] | None = None,
    stage: str = "mining",
    year: int | None = None,
    measure: str | None = None,
    group: str = "concern",
    groups: Mapping[str, CountryGroup] | None = None,
    wgi_missing: float = 5.0,
) -> pd.DataFrame:
    """One row per mineral with country shares at ``stage``, sorted by HHI (highest first).

    Minerals whose world table is not additive (USGS ``XX``) are left out: they have no HHI.
    ``groups`` are the country groups to pick ``group`` from (default: the dataset's shipped
    groups; pass ``kizuna.minerals.groups.effective_groups`` to include the store's edits).
    """
    check_stage(stage)
    members = resolve_group(ds.groups if groups is None else groups, group).members
    weights = governance_weights(ds.governance, missing_default=wgi_missing)
    rows = []
    for selection in _selections(ds, minerals, stage, year, measure):
        item = profile(ds, selection.mineral, weights, stage=stage, year=selection.year,
                       measure=selection.measure, series=selection.series)
        if item["hhi"] is None:
            continue
        top = item["countries"][0]
        rows.append({
            **{key: item[key] for key in TABLE_COLUMNS if key in item},
            "top1_iso3": top["iso3"],
            "top1_name": top["name"],
            "group": group,
            "group_share": sum(c["share"] for c in item["countries"] if c["iso3"] in members),
            "n_countries": len(item["countries"]),
        })
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    if table.empty:
        return table
    return table.sort_values(["hhi", "mineral"], ascending=[False, True]).reset_index(drop=True)
