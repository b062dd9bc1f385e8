"""The raw value of every factor for every candidate country, each with where it came from.

Candidates are the countries the data name for the mineral: at the mining stage those named
in its mine-production or reserves table, at the refining stage those plus the countries
named in its refining data (a country that mines but does not refine is a refining-investment
candidate). Every value carries a ``status`` saying how it was obtained:

* ``data``: read or computed from the tables;
* ``zero``: the country is not named in the table, so it is counted as 0 (USGS and the IEA
  name the main producers and put the rest in "Other countries" / "Rest of world"); the note
  says so and gives the residual;
* ``missing``: no figure (USGS ``NA``, ``W``, a qualitative reserve such as "Large", a series
  with one year only, bases that cannot be divided); it scores 0 and the note says why;
* ``default``: governance of a country the WGI does not cover, the settings' default score;
* ``unbounded``: reserves with no production (R/P) or production from nothing (growth); it
  scores 1 and the note says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from kizuna.errors import NotFoundError
from kizuna.minerals.concentration import shares_of
from kizuna.minerals.governance import INDICATORS, governance_weights
from kizuna.minerals.selection import AGGREGATE_WORLD, Selection, select

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset
    from kizuna.model import CountryGroup

GROUPS_SOURCE = "group:"
"""Alignment cites each country group as ``group:ID`` (groups.yaml, or the user's edit)."""
STATUSES = ("data", "zero", "missing", "default", "unbounded")
SCALES = {"kg": 1e-3, "t": 1.0, "kt": 1e3, "Mt": 1e6}
"""Unit prefixes of the supply table, in tonnes (the rest of the unit is the basis)."""


@dataclass(frozen=True)
class Source:
    """Where a raw value came from: the source id, the row's citation and its year."""

    source: str
    citation: str
    year: int | None
    estimated: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "citation": self.citation, "year": self.year,
                "estimated": self.estimated}


@dataclass(frozen=True)
class Raw:
    """One factor's raw value for one country; ``value`` is None when missing or unbounded."""

    value: float | None
    status: str
    unit: str
    year: int | None = None
    note: str | None = None
    sources: tuple[Source, ...] = ()


@dataclass
class Gathered:
    """Raw values per factor, aligned with ``countries``, and notes about whole factors."""

    mineral: str
    name: str
    stage: str
    countries: tuple[str, ...]
    raws: dict[str, list[Raw]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Table:
    """One selection's country rows by ISO3, its residual and how to cite it."""

    selection: Selection
    rows: dict[str, dict[str, Any]]
    residual: str

    @property
    def label(self) -> str:
        s = self.selection
        return f"{s.source} {s.series} {s.year}"

    def source_of(self, row: Mapping[str, Any]) -> Source:
        return Source(str(row["source"]), str(row["citation"]), int(row["year"]),
                      bool(row["estimated"]))


def _table(selection: Selection | None) -> _Table | None:
    """The selection's country rows; None when there is no selection or no country in it."""
    if selection is None:
        return None
    rows = selection.rows
    named = rows[~rows["is_aggregate"]]
    if named.empty:
        return None
    by_area: dict[str, dict[str, Any]] = {
        str(row["area"]): {str(key): value for key, value in row.items()}
        for row in named.to_dict("records")
    }
    rest = rows[rows["is_aggregate"] & (rows["area"] != AGGREGATE_WORLD)]
    residual = ""
    for row in rest.to_dict("records"):
        value = row["value"]
        shown = "no figure" if pd.isna(value) else _fmt(float(value), str(row["unit"]))
        residual = f"{row['area_name']}: {shown}"
    return _Table(selection, by_area, residual)


def _fmt(value: float, unit: str) -> str:
    if unit == "fraction":
        return f"{value:.1%}"
    return f"{value:,.6g} {unit}"


def _number(row: Mapping[str, Any]) -> float | None:
    value = row["value"]
    return None if pd.isna(value) else float(value)


def _no_figure(row: Mapping[str, Any]) -> str:
    code = row["value_code"]
    return f"the source gives no figure ({'NA' if pd.isna(code) else code})"


def _not_named(table: _Table, what: str) -> str:
    rest = f"; {table.residual}" if table.residual else ""
    return f"not named in {table.label} ({what}): counted as 0{rest}"


def _plain(table: _Table | None, iso3: str, what: str, *, zero_if_absent: bool) -> Raw:
    """A value read straight from a table (reserves, production)."""
    if table is None:
        return Raw(None, "missing", "", note=f"no {what} data for this mineral")
    unit = str(table.selection.rows["unit"].iat[0])
    row = table.rows.get(iso3)
    if row is None:
        if zero_if_absent:
            return Raw(0.0, "zero", unit, table.selection.year, _not_named(table, what))
        return Raw(None, "missing", unit, table.selection.year,
                   f"not named in {table.label}")
    value = _number(row)
    source = (table.source_of(row),)
    if value is None:
        return Raw(None, "missing", unit, table.selection.year, _no_figure(row), source)
    return Raw(value, "data", unit, table.selection.year, None, source)


def _series_years(ds: Dataset, selection: Selection) -> dict[int, dict[str, dict[str, Any]]]:
    supply = ds.supply
    rows = supply[(supply["mineral"] == selection.mineral) & (supply["stage"] == selection.stage)
                  & (supply["measure"] == selection.measure)
                  & (supply["series"] == selection.series)
                  & (supply["source"] == selection.source) & ~supply["is_aggregate"]]
    out: dict[int, dict[str, dict[str, Any]]] = {}
    for row in rows.to_dict("records"):
        out.setdefault(int(row["year"]), {})[str(row["area"])] = {
            str(key): value for key, value in row.items()}
    return out


def _growth(ds: Dataset, table: _Table | None, countries: Sequence[str],
            notes: list[str]) -> list[Raw]:
    unit = "per year"
    if table is None:
        return [Raw(None, "missing", unit, note="no production data at this stage")
                for _ in countries]
    by_year = _series_years(ds, table.selection)
    first, last = min(by_year, default=table.selection.year), table.selection.year
    if first >= last:
        notes.append(f"growth: {table.label} holds one year only, so no country has a growth "
                     "figure (each scores 0 on it)")
        return [Raw(None, "missing", unit, last, f"{table.label} holds one year only")
                for _ in countries]
    span = last - first
    out = []
    for iso3 in countries:
        old, new = by_year.get(first, {}).get(iso3), by_year.get(last, {}).get(iso3)
        if old is None or new is None or _number(old) is None or _number(new) is None:
            out.append(Raw(None, "missing", unit, last,
                           f"no production figure for both {first} and {last}"))
            continue
        sources = (table.source_of(old), table.source_of(new))
        before, after = float(old["value"]), float(new["value"])
        if before == 0 and after == 0:
            out.append(Raw(None, "missing", unit, last, f"no production in {first} or {last}",
                           sources))
        elif before == 0:
            out.append(Raw(None, "unbounded", unit, last,
                           f"production started: 0 in {first}, {after:,.6g} in {last}",
                           sources))
        else:
            rate = (after / before) ** (1 / span) - 1
            out.append(Raw(rate, "data", unit, last, f"{first}-{last}", sources))
    return out


def _scale(unit: str) -> tuple[float, str] | None:
    prefix, _, basis = unit.partition(" ")
    return (SCALES[prefix], basis) if prefix in SCALES and basis else None


def _rp_years(mining: _Table | None, reserves: _Table | None, countries: Sequence[str],
              notes: list[str]) -> list[Raw]:
    unit = "years"
    if mining is None or reserves is None:
        what = "mine production" if mining is None else "reserves"
        notes.append(f"rp_years: no {what} data, so no country has a reserves-to-production "
                     "figure")
        return [Raw(None, "missing", unit, note=f"no {what} data") for _ in countries]
    p_unit = str(mining.selection.rows["unit"].iat[0])
    r_unit = str(reserves.selection.rows["unit"].iat[0])
    p_scale, r_scale = _scale(p_unit), _scale(r_unit)
    if p_scale is None or r_scale is None or p_scale[1] != r_scale[1]:
        why = f"reserves ({r_unit}) and production ({p_unit}) are not on one basis"
        notes.append(f"rp_years: {why}, so no country has a reserves-to-production figure")
        return [Raw(None, "missing", unit, note=why) for _ in countries]
    ratio = r_scale[0] / p_scale[0]
    year = mining.selection.year
    out = []
    for iso3 in countries:
        made, held = mining.rows.get(iso3), reserves.rows.get(iso3)
        if made is None or held is None or _number(made) is None or _number(held) is None:
            gap = "reserves" if held is None or _number(held) is None else "mine production"
            out.append(Raw(None, "missing", unit, year, f"no {gap} figure"))
            continue
        sources = (reserves.source_of(held), mining.source_of(made))
        produced, reserve = float(made["value"]), float(held["value"])
        if produced == 0 and reserve > 0:
            out.append(Raw(None, "unbounded", unit, year,
                           "reserves with no production: unbounded", sources))
        elif produced == 0:
            out.append(Raw(None, "missing", unit, year, "no reserves and no production",
                           sources))
        else:
            out.append(Raw(reserve * ratio / produced, "data", unit, year, None, sources))
    return out


def _governance(ds: Dataset, countries: Sequence[str], wgi_missing: float) -> list[Raw]:
    weights = governance_weights(ds.governance, missing_default=wgi_missing)
    source_ids = ds.governance["source"].dropna().unique()
    source_id = str(source_ids[0]) if len(source_ids) else "wgi"
    citation = (f"World Bank WGI, {weights.year} estimates: mean of "
                f"{', '.join(INDICATORS)}; {weights.formula}")
    cite = (Source(source_id, citation, weights.year),)
    unit = "WGI 0-10 (10 weakest)"
    out = []
    for iso3 in countries:
        if iso3 in weights.scores:
            out.append(Raw(weights.scores[iso3], "data", unit, weights.year, None, cite))
        else:
            out.append(Raw(wgi_missing, "default", unit, weights.year,
                           f"not covered by the WGI {weights.year}: the default score "
                           f"{wgi_missing:g} (setting wgi_missing)"))
    return out


def _alignment(countries: Sequence[str], partners: Sequence[CountryGroup]) -> list[Raw]:
    unit = f"of {len(partners)} partner groups"
    # every membership list checked is cited, so "member of none" has its sources too
    sources = tuple(Source(f"{GROUPS_SOURCE}{group.id}", f"{group.name}: "
                           f"{group.source or 'no source recorded'}", None)
                    for group in partners)
    out = []
    for iso3 in countries:
        member_of = [group for group in partners if iso3 in group.members]
        names = ", ".join(group.id for group in member_of) or "none"
        out.append(Raw(float(len(member_of)), "data", unit, None,
                       f"member of: {names} (of {', '.join(g.id for g in partners)})",
                       sources))
    return out


def _shares(table: _Table | None) -> dict[str, float] | None:
    if table is None:
        return None
    shares = shares_of(table.selection)
    if shares.kind == "not_additive":
        return None
    frame = shares.countries
    return dict(zip(frame["area"].astype(str), frame["share"].astype("float64"), strict=True))


def _share_part(table: _Table, shares: dict[str, float], iso3: str,
                what: str) -> tuple[float | None, str | None, Source | None]:
    row = table.rows.get(iso3)
    if row is None:
        return 0.0, _not_named(table, what), None
    if iso3 not in shares:
        return None, f"{what}: {_no_figure(row)}", table.source_of(row)
    return shares[iso3], None, table.source_of(row)


def _refining_gap(mining: _Table | None, refining: _Table | None, countries: Sequence[str],
                  notes: list[str]) -> list[Raw]:
    unit = "share of world mining - share of world refining"
    mined, refined = _shares(mining), _shares(refining)
    if mining is None or refining is None or mined is None or refined is None:
        stage = "mining" if mining is None or mined is None else "refining"
        why = f"no additive {stage} shares for this mineral"
        notes.append(f"refining_gap: {why}, so no country has a gap figure")
        return [Raw(None, "missing", unit, note=why) for _ in countries]
    year = max(mining.selection.year, refining.selection.year)
    out = []
    for iso3 in countries:
        m_share, m_note, m_source = _share_part(mining, mined, iso3, "mine production")
        r_share, r_note, r_source = _share_part(refining, refined, iso3, "refining")
        said = "; ".join(note for note in (m_note, r_note) if note) or None
        sources = tuple(s for s in (m_source, r_source) if s is not None)
        if m_share is None or r_share is None:
            out.append(Raw(None, "missing", unit, year, said, sources))
            continue
        status = "data" if m_note is None and r_note is None else "zero"
        detail = f"mining {m_share:.1%} - refining {r_share:.1%}"
        out.append(Raw(m_share - r_share, status, unit, year,
                       f"{detail}; {said}" if said else detail, sources))
    return out


def _countries(tables: Sequence[_Table | None]) -> tuple[str, ...]:
    found: set[str] = set()
    for table in tables:
        if table is not None:
            found.update(table.rows)
    return tuple(sorted(found))


def gather(ds: Dataset, mineral: str, stage: str, *, partners: Sequence[CountryGroup],
           wgi_missing: float = 5.0) -> Gathered:
    """Raw values of every factor for every candidate of ``mineral`` at ``stage``."""
    info = ds.mineral(mineral)
    chosen = {"mining": select(ds, info.slug, stage="mining"),
              "refining": select(ds, info.slug, stage="refining")}
    mining, refining = _table(chosen["mining"]), _table(chosen["refining"])
    reserves = _table(select(ds, info.slug, stage="mining", measure="reserves"))
    at_stage = mining if stage == "mining" else refining
    countries = _countries((mining, reserves, refining if stage == "refining" else None))
    if not countries:
        reason = ds.missing_reason(info.slug, stage) or f"no country figures for {info.name}"
        raise NotFoundError(
            f"no countries to rank for {info.slug} at the {stage} stage",
            hint=reason, field="mineral", mineral=info.slug, stage=stage)
    out = Gathered(info.slug, info.name, stage, countries)
    if at_stage is None:
        picked = chosen[stage]
        why = ds.missing_reason(info.slug, stage) or (
            f"{picked.source} {picked.series} {picked.year} gives a world figure only, no "
            "country breakdown" if picked is not None else f"no {stage} data")
        out.notes.append(f"production: {why}; no country scores on production or growth")
    out.raws["reserves"] = [_plain(reserves, c, "reserves", zero_if_absent=True)
                            for c in countries]
    out.raws["production"] = [_plain(at_stage, c, f"{stage} production", zero_if_absent=True)
                              for c in countries]
    out.raws["growth"] = _growth(ds, at_stage, countries, out.notes)
    out.raws["rp_years"] = _rp_years(mining, reserves, countries, out.notes)
    out.raws["governance"] = _governance(ds, countries, wgi_missing)
    out.raws["alignment"] = _alignment(countries, partners)
    out.raws["refining_gap"] = _refining_gap(mining, refining, countries, out.notes)
    return out
