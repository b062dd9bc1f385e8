"""Where a mineral comes from at one stage: the world mix, an importer's mix, or a user's.

A *mix* is a list of origins with shares summing to 1. ``OTHER`` stands for the source's
residual (other countries, or USGS's combined entries), which is never attributed to a
country. The world mix is the concentration module's country shares for the year (USGS
production or the compiled refining shares), normalised so the product's tonnes add up:
USGS rounds its world totals, so named countries can sum to slightly over 1 (scaled down),
and whatever the named countries leave is ``OTHER``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kizuna.data.bundle import Dataset
from kizuna.errors import InputError, NotFoundError
from kizuna.minerals.concentration import shares_of
from kizuna.minerals.selection import select
from kizuna.model import countries
from kizuna.model.types import STAGES

OTHER = "OTHER"
_TOLERANCE = 0.011  # USGS import shares are whole percent and sum to 99-101


@dataclass(frozen=True)
class Mix:
    """Origins and shares for one mineral and stage, and what they rest on."""

    shares: dict[str, float]  # ISO3 or OTHER -> share, summing to 1
    basis: str  # world | user | import:USA | import:FILE ...
    source: str  # citation
    year: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Perspective:
    """An importer's view: (mineral, stage) -> its import mix; the world mix elsewhere."""

    name: str  # world | USA | GBR | file name
    mixes: Mapping[tuple[str, str], Mix] = field(default_factory=dict)
    label: str = "world mix (global production by country)"


def world_mix(ds: Dataset, mineral: str, stage: str, year: int | None) -> Mix | None:
    """The global mix at ``stage`` for ``year`` (latest if None or not published), or None."""
    notes: list[str] = []
    try:
        selection = select(ds, mineral, stage=stage, year=year)
    except NotFoundError:
        selection = select(ds, mineral, stage=stage)
        if selection is not None:
            notes.append(f"no {stage} data for {year}; used {selection.year}")
    if selection is None:
        return None
    result = shares_of(selection)
    if result.kind == "not_additive":
        return None
    named = {
        str(area): float(share)
        for area, share in zip(result.countries["area"], result.countries["share"], strict=True)
        if not math.isnan(share) and share > 0
    }
    total = sum(named.values())
    if total <= 0:
        return None
    if total > 1:
        named = {area: share / total for area, share in named.items()}
        notes.append(f"named countries sum to {total:.3f} of the rounded world total; scaled to 1")
    elif total < 1:
        named[OTHER] = named.get(OTHER, 0.0) + 1 - total
    row = selection.rows.iloc[0]
    return Mix(named, "world", f"{row['source']}: {selection.series}", str(selection.year),
               tuple(notes))


def importer_perspective(ds: Dataset, importer: str) -> Perspective:
    """The shipped import mixes of ``importer`` (USA from USGS, GBR from HMRC)."""
    code = importer.upper()
    table = ds.imports
    rows = table[(table["importer"] == code) & table["headline"]]
    if rows.empty:
        shipped = ", ".join(sorted(set(table["importer"]))) or "none"
        raise InputError(
            f"no shipped import mix for {importer!r} (shipped: {shipped})",
            hint="use --perspective world, one of the shipped importers, or a CSV file with "
                 "columns mineral, stage, origin, share",
            field="perspective",
        )  # fmt: skip
    mixes: dict[tuple[str, str], Mix] = {}
    for (mineral, stage), group in rows.groupby(["mineral", "stage"]):
        shares: dict[str, float] = {}
        for origin, share in zip(group["origin"], group["share"], strict=True):
            shares[str(origin)] = shares.get(str(origin), 0.0) + float(share)
        first = group.iloc[0]
        basis = "value (GBP)" if first["basis"] == "value-gbp" else "quantity"
        mixes[(str(mineral), str(stage))] = Mix(
            _normalised(shares), f"import:{code}", str(first["citation"]), str(first["period"]),
            (f"{code} import mix by {basis}: {first['product']}",),
        )
    return Perspective(code, mixes, f"{countries.country_name(code)} import mix "
                       f"({'USGS import sources' if code == 'USA' else 'HMRC trade values'})")


def _normalised(shares: dict[str, float]) -> dict[str, float]:
    total = sum(shares.values())
    return {origin: share / total for origin, share in shares.items()} if total else shares


def file_perspective(ds: Dataset, path: Path) -> Perspective:
    """A user's import mix: CSV columns mineral, stage, origin (ISO3 or name), share."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip().casefold() for name in reader.fieldnames or []]
            missing = [c for c in ("mineral", "stage", "origin", "share") if c not in header]
            if missing:
                raise InputError(
                    f"{path.name}: missing column {missing[0]!r} (found: {', '.join(header)})",
                    hint="an import-mix CSV has the columns mineral, stage, origin, share",
                    file=str(path), field=missing[0],
                )  # fmt: skip
            raw = [{k.strip().casefold(): (v or "").strip() for k, v in row.items() if k}
                   for row in reader]
    except OSError as error:
        raise InputError(f"cannot read the import-mix file {path}: {error.strerror}",
                         file=str(path)) from None
    collected: dict[tuple[str, str], dict[str, float]] = {}
    for number, row in enumerate(raw, start=2):
        where = f"{path.name} row {number}"
        try:
            mineral = ds.mineral(row["mineral"]).slug
        except NotFoundError as error:
            raise InputError(f"{where}, column mineral: {error.message}", hint=error.hint,
                             file=str(path), row=number, field="mineral") from None
        stage = row["stage"].casefold()
        if stage not in STAGES:
            raise InputError(f"{where}, column stage: {row['stage']!r} is not a stage",
                             hint=f"use one of: {', '.join(STAGES)}", file=str(path),
                             row=number, field="stage")
        origin = _origin(row["origin"], where, path, number)
        try:
            share = float(row["share"].rstrip("%")) / (100 if row["share"].endswith("%") else 1)
        except ValueError:
            share = -1.0
        if not 0 <= share <= 1:
            raise InputError(f"{where}, column share: {row['share']!r} is not a share from 0 "
                             "to 1", hint="write 0.25 or 25%", file=str(path), row=number,
                             field="share")
        mix = collected.setdefault((mineral, stage), {})
        mix[origin] = mix.get(origin, 0.0) + share
    mixes: dict[tuple[str, str], Mix] = {}
    for (mineral, stage), shares in collected.items():
        total = sum(shares.values())
        if abs(total - 1) > _TOLERANCE:
            raise InputError(
                f"{path.name}: the shares of {mineral} at {stage} sum to {total:.3f}, not 1",
                hint="make them add up to 1 (use origin OTHER for the rest)",
                file=str(path), field="share",
            )  # fmt: skip
        mixes[(mineral, stage)] = Mix(_normalised(shares), f"import:{path.name}",
                                      f"user import mix {path.name}", "",
                                      (f"import mix from {path.name}",))
    if not mixes:
        raise InputError(f"{path.name} has no rows", hint="add rows: mineral,stage,origin,share",
                         file=str(path))
    return Perspective(path.name, mixes, f"import mix from {path.name}")


def _origin(text: str, where: str, path: Path, number: int) -> str:
    if text.upper() in (OTHER, "ROW", "REST OF WORLD"):
        return OTHER
    try:
        code = countries.to_iso3(text)
    except InputError as error:
        raise InputError(f"{where}, column origin: {error.message}", hint=error.hint,
                         file=str(path), row=number, field="origin") from None
    return OTHER if countries.is_aggregate(code) else code


def perspective_of(ds: Dataset, spec: str | None) -> Perspective:
    """``world`` (default), a shipped importer's ISO3 (or name), or a CSV path."""
    if spec is None or spec.casefold() == "world":
        return Perspective("world")
    path = Path(spec)
    if path.suffix.casefold() == ".csv" or path.exists():
        if not path.is_file():
            raise InputError(f"the import-mix file {spec} does not exist",
                             hint="give a CSV path, 'world', USA or GBR", field="perspective")
        return file_perspective(ds, path)
    try:
        code = countries.to_iso3(spec)
    except InputError:
        raise InputError(
            f"--perspective {spec!r} is not 'world', a country or a CSV file",
            hint="use world, USA, GBR, or a CSV with columns mineral, stage, origin, share",
            field="perspective",
        ) from None
    return importer_perspective(ds, code)
