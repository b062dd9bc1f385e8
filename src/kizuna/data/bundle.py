"""The shipped dataset: normalised tables plus reference data, behind one ``Dataset`` object.

``load_dataset()`` reads the tables shipped in ``kizuna/data/tables`` (or a folder written by
``kizuna data build``) with the schema dtypes. The result is cached per folder; treat its
DataFrames as read-only.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from kizuna.data.csvio import read_table
from kizuna.data.reference import SupplyPointer, reference
from kizuna.data.schema import (
    GOVERNANCE,
    IMPORTS,
    LIST_MEMBERS,
    LISTS,
    PRICES,
    SOURCES,
    SUPPLY,
    Table,
)
from kizuna.errors import DataError, NotFoundError
from kizuna.model import countries
from kizuna.model.types import STAGES, CountryGroup, Mineral


@dataclass(frozen=True, eq=False)
class Dataset:
    """Kizuna's bundled data: supply, governance, lists, sources, imports, prices, minerals
    and groups."""

    supply: pd.DataFrame
    governance: pd.DataFrame
    lists: pd.DataFrame
    list_members: pd.DataFrame
    sources: pd.DataFrame
    minerals: dict[str, Mineral]
    groups: dict[str, CountryGroup]
    imports: pd.DataFrame = field(default_factory=IMPORTS.empty)
    prices: pd.DataFrame = field(default_factory=PRICES.empty)
    supply_pointers: dict[tuple[str, str], SupplyPointer] = field(default_factory=dict)
    _names: dict[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        names: dict[str, str] = {}
        for mineral in self.minerals.values():
            for name in (mineral.slug, mineral.name, *mineral.aliases):
                names.setdefault(name.casefold(), mineral.slug)
        object.__setattr__(self, "_names", names)

    def mineral(self, name: str) -> Mineral:
        """A mineral by slug, name or alias (case-insensitive)."""
        key = " ".join(str(name).split()).casefold()
        slug = self._names.get(key)
        if slug is not None:
            return self.minerals[slug]
        close = difflib.get_close_matches(key, list(self._names), n=5, cutoff=0.6)
        suggestions = list(dict.fromkeys(self._names[c] for c in close))
        hint = (
            f"did you mean: {', '.join(suggestions)}?"
            if suggestions
            else "use a slug such as 'cobalt' or 'rare-earths'"
        )
        raise NotFoundError(f"unknown mineral {name!r}", hint=hint, field="mineral", value=name)

    def country_name(self, iso3: str) -> str:
        """Display name for an ISO3 or aggregate code (WORLD, OTHER, ROW)."""
        return countries.country_name(iso3)

    def missing_reason(self, mineral: str, stage: str) -> str | None:
        """Why there is no supply figure for ``mineral`` at ``stage``; None when data exist.

        Supply figures are production tonnages (and, at the refining stage, published shares);
        reserves and capacity are not. The sentence says which tables the sources do have,
        where the mineral's figures are instead (another stage, or other slugs) and why.
        """
        item = self.mineral(mineral)
        if stage not in STAGES:
            raise NotFoundError(
                f"unknown stage {stage!r}", hint=f"use one of: {', '.join(STAGES)}", field="stage"
            )
        ours = self.supply[self.supply["mineral"] == item.slug]
        rows = ours[(ours["stage"] == stage) & ours["measure"].isin(_SUPPLY_MEASURES[stage])]
        if bool(rows[["value", "value_min", "value_max"]].notna().any(axis=1).any()):
            return None
        if item.group == "category":
            return f"{item.name} is a product category, not a mineral; it has no supply data"
        name = item.name.lower()
        if len(rows):
            codes = ", ".join(sorted(set(rows["value_code"].dropna())))
            return f"the sources give no figures for {name} {stage} (codes: {codes})"
        other = "refining" if stage == "mining" else "mining"
        elsewhere = _supply_series(ours, other)
        parts = [_no_table(name, stage, ours, elsewhere is not None)]
        if elsewhere is not None:
            parts.append(f"its supply figures are at the {other} stage ({elsewhere})")
        pointer = self.supply_pointers.get((item.slug, stage))
        if pointer is not None:
            see = f" (see {', '.join(pointer.see)})" if pointer.see else ""
            parts.append(pointer.note + see)
        elif item.group == "rare-earths" and not len(ours):
            parts.append("rare earths are reported as a group (see rare-earths)")
        return "; ".join(parts)


_SUPPLY_MEASURES = {"mining": ("production",), "refining": ("production", "share")}
"""The measures that count as supply figures for a stage (not reserves, not capacity)."""


def _supply_series(rows: pd.DataFrame, stage: str) -> str | None:
    """The name of the series with figures at ``stage`` (production first, headline first)."""
    rows = rows[rows["stage"] == stage]
    for measure in _SUPPLY_MEASURES[stage]:
        numbers = rows[["value", "value_min", "value_max"]].notna().any(axis=1)
        found = rows[(rows["measure"] == measure) & numbers]
        if len(found):
            ranked = found.sort_values("headline", ascending=False, kind="stable")
            return str(ranked["series"].iat[0])
    return None


def _no_table(name: str, stage: str, rows: pd.DataFrame, elsewhere: bool) -> str:
    """'USGS MCS 2026 has no ... table for X' naming the tables it has at that stage."""
    if stage == "mining":
        table = "world mine production" if elsewhere else "world production"
    else:
        table = "world refinery or smelter production"
    present = rows[rows["stage"] == stage]
    other = [m for m in ("reserves", "capacity") if bool((present["measure"] == m).any())]
    if other:
        text = f"USGS MCS 2026 gives {' and '.join(other)} but no {table} table for {name}"
    else:
        text = f"USGS MCS 2026 has no {table} table for {name}"
    if stage == "refining":
        text += ", and the compiled refining shares do not cover it"
    return text


def _read_all(tables_dir: Path | None) -> dict[str, pd.DataFrame]:
    base = resources.files("kizuna.data").joinpath("tables") if tables_dir is None else tables_dir
    frames: dict[str, pd.DataFrame] = {}
    table: Table
    for table in (SUPPLY, GOVERNANCE, LISTS, LIST_MEMBERS, SOURCES, IMPORTS, PRICES):
        entry = base.joinpath(table.filename)
        if not entry.is_file():
            raise DataError(
                f"table file {table.filename} not found in {base}",
                hint="run: kizuna data build --from PATH",
                file=str(entry),
            )
        with entry.open("r", encoding="utf-8") as handle:
            frames[table.name] = table.conform(read_table(table, handle, table.filename))
    return frames


@cache
def _load(tables_dir: str | None) -> Dataset:
    frames = _read_all(None if tables_dir is None else Path(tables_dir))
    ref = reference()
    return Dataset(
        supply=frames[SUPPLY.name],
        governance=frames[GOVERNANCE.name],
        lists=frames[LISTS.name],
        list_members=frames[LIST_MEMBERS.name],
        sources=frames[SOURCES.name],
        imports=frames[IMPORTS.name],
        prices=frames[PRICES.name],
        minerals=dict(ref.minerals),
        groups=dict(ref.groups),
        supply_pointers=dict(ref.supply_pointers),
    )


def load_dataset(tables_dir: Path | None = None) -> Dataset:
    """The dataset from ``tables_dir`` (default: the tables shipped with the package), cached."""
    key = None if tables_dir is None else str(Path(tables_dir).resolve())
    return _load(key)
