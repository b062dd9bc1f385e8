"""Reading an asset register from CSV or Excel (.xlsx), all or nothing.

Every cell is checked before anything is returned; the first problem raises ONE InputError
naming the file (and sheet), the row as a spreadsheet counts it (header = row 1) and the
column, e.g. ``assets.csv row 4, column 'country': unknown country 'Atlantis' (...)``. An
asset may take several rows to list several software products: the other cells of the
further rows repeat the first row's values or are left blank.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kizuna.data.sheets import Rows, SheetOrigin, header, read_csv, read_xlsx
from kizuna.errors import InputError, KizunaError
from kizuna.intel.assets.schema import (
    ASSET_COLUMNS,
    FACILITY_KINDS,
    KIND_STAGE,
    KINDS,
    KNOWN,
    REQUIRED,
    Asset,
    Kind,
    Software,
)
from kizuna.intel.sectors import check_sector
from kizuna.model.countries import is_aggregate, to_iso3
from kizuna.model.types import STAGES

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset

_ASSET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_KIND_ALIASES: dict[str, Kind] = {
    **{"".join(ch for ch in kind if ch.isalnum()): kind for kind in KINDS},
    "itot": "it-ot-system", "otsystem": "it-ot-system", "itsystem": "it-ot-system",
    "ics": "it-ot-system"}
MAX_ROWS = 100_000


Origin = SheetOrigin  # the file (and sheet) being read; errors name file, row, column


@dataclass(frozen=True)
class Register:
    """The assets of one file, in file order."""

    source: str
    assets: tuple[Asset, ...]
    columns: tuple[str, ...]


# ------------------------------------------------------------------ cells


def _read_rows(origin: Origin, sheet: str | None) -> tuple[Origin, Rows]:
    suffix = origin.path.suffix.casefold()
    if suffix == ".csv":
        return origin, read_csv(origin)
    if suffix == ".xlsx":
        name, count, rows = read_xlsx(origin, sheet, "register")
        return Origin(origin.path, name if count > 1 or sheet else None), rows
    raise origin.error(None, None, "an asset register is a .csv or .xlsx file",
                       hint="save it as CSV UTF-8 or Excel .xlsx")


def _header(origin: Origin, rows: Rows) -> tuple[int, dict[int, str]]:
    number, cells, columns = header(origin, rows, REQUIRED)
    for name in REQUIRED:
        if name not in columns.values():
            found = ", ".join(cell for cell in cells if cell) or "(none)"
            raise origin.error(number, name, "missing column", hint=f"the header has: {found}; "
                               "required: " + ", ".join(REQUIRED))
    return number, columns


# ------------------------------------------------------------------ one row


def _number(origin: Origin, row: int, column: str, text: str, *, share: bool) -> float | None:
    if not text:
        return None
    cleaned = text.replace(",", "").replace("_", "").replace(" ", "")
    percent = share and cleaned.endswith("%")
    try:
        value = float(cleaned.rstrip("%"))
    except ValueError:
        value = math.nan
    what = "a share from 0 to 1 (or a percentage such as 35%)" if share else \
        "a number of tonnes a year >= 0"
    if not math.isfinite(value) or value < 0:
        raise origin.error(row, column, f"{text!r} is not {what}", value=text)
    if percent:
        value /= 100
    if share and value > 1:
        raise origin.error(row, column, f"{text!r} is more than 1",
                           hint=f"write {value / 100:g} or {value:g}% for {value:g} percent",
                           value=text)
    return value


def _kind(origin: Origin, row: int, text: str) -> Kind:
    kind = _KIND_ALIASES.get("".join(ch for ch in text.casefold() if ch.isalnum()))
    if kind is None:
        raise origin.error(row, "kind", f"unknown kind {text!r}",
                           hint="use one of " + ", ".join(KINDS), value=text)
    return kind


def _country(origin: Origin, row: int, text: str) -> str:
    if not text:
        raise origin.error(row, "country", "the country is empty",
                           hint="give an ISO 3166-1 alpha-3 code such as AUS")
    try:
        code = to_iso3(text)
    except InputError:
        raise origin.error(row, "country", f"unknown country {text!r}",
                           hint="use an ISO 3166-1 alpha-3 code such as AUS or COD",
                           value=text) from None
    if is_aggregate(code) or len(code) != 3:
        raise origin.error(row, "country", f"{text!r} is not one country",
                           hint="an asset is in one country: give its ISO3 code", value=text)
    return code


def _mineral(origin: Origin, row: int, text: str, dataset: Dataset | None) -> str | None:
    if not text:
        return None
    if dataset is None:
        return text.strip().casefold()
    try:
        return dataset.mineral(text).slug
    except KizunaError as error:
        raise origin.error(row, "mineral", error.message, hint=error.hint, value=text) from None


def _stage(origin: Origin, row: int, kind: Kind, text: str, mineral: str | None) -> str | None:
    stage = text.casefold() or None
    if stage is not None and stage not in STAGES:
        raise origin.error(row, "stage", f"unknown stage {text!r}",
                           hint="use " + " or ".join(STAGES), value=text)
    implied = KIND_STAGE.get(kind)
    if implied is not None:
        if stage not in (None, implied):
            raise origin.error(row, "stage", f"a {kind}'s stage is {implied}, not {stage}",
                               hint=f"leave it blank or write {implied}", value=text)
        return implied
    if mineral is not None and stage is None:
        raise origin.error(row, "stage", f"a {kind} with a mineral needs its stage",
                           hint="write mining or refining")
    return stage if mineral is not None else None


def _asset(origin: Origin, number: int, cells: Mapping[str, str],
           dataset: Dataset | None) -> Asset:
    asset_id = cells.get("asset_id", "")
    if not _ASSET_ID.match(asset_id):
        raise origin.error(number, "asset_id", f"{asset_id!r} is not an asset id" if asset_id
                           else "the asset id is empty",
                           hint="use 1-64 letters, digits and . _ : - (starting with a letter "
                           "or digit)", value=asset_id)
    name = cells.get("name", "")
    if not name:
        raise origin.error(number, "name", "the name is empty")
    kind = _kind(origin, number, cells.get("kind", ""))
    country = _country(origin, number, cells.get("country", ""))
    try:
        sector = check_sector(cells.get("sector", ""))
    except InputError as error:
        raise origin.error(number, "sector", error.message, hint=error.hint,
                           value=cells.get("sector")) from None
    mineral = _mineral(origin, number, cells.get("mineral", ""), dataset)
    if kind in FACILITY_KINDS and mineral is None:
        raise origin.error(number, "mineral", f"a {kind} needs its mineral",
                           hint="e.g. cobalt, lithium, rare-earths")
    if kind == "it-ot-system" and mineral is not None:
        raise origin.error(number, "mineral", "an IT/OT system has no mineral",
                           hint="link it to its facility with part_of")
    stage = _stage(origin, number, kind, cells.get("stage", ""), mineral)
    tonnes = _number(origin, number, "capacity_tonnes", cells.get("capacity_tonnes", ""),
                     share=False)
    share = _number(origin, number, "capacity_share", cells.get("capacity_share", ""),
                    share=True)
    if mineral is None and (tonnes is not None or share is not None):
        column = "capacity_tonnes" if tonnes is not None else "capacity_share"
        raise origin.error(number, column, "a capacity needs the asset's mineral and stage")
    part_of = cells.get("part_of") or None
    if part_of is not None and part_of == asset_id:
        raise origin.error(number, "part_of", "an asset cannot be part of itself")
    extra = {k: v for k, v in cells.items() if k not in KNOWN and v}
    return Asset(asset_id, name, kind, cells.get("operator", ""), country, sector, mineral,
                 stage, tonnes, share, part_of, (), cells.get("notes", ""), number, extra)


def _software(origin: Origin, number: int, cells: Mapping[str, str]) -> Software | None:
    vendor, product = cells.get("software_vendor", ""), cells.get("software_product", "")
    version = cells.get("software_version", "")
    if not vendor and not product:
        if version:
            raise origin.error(number, "software_product", "a version without a product")
        return None
    if not vendor:
        raise origin.error(number, "software_vendor", f"the product {product!r} needs its vendor")
    if not product:
        raise origin.error(number, "software_product", f"the vendor {vendor!r} needs a product")
    return Software(vendor, product, version)


# ------------------------------------------------------------------ the file


def read_register(path: str | Path, *, dataset: Dataset | None = None,
                  sheet: str | None = None) -> Register:
    """Read and check a register file; see the module docstring for the error contract."""
    origin = Origin(Path(path))
    if not origin.path.is_file():
        raise origin.error(None, None, "no such file")
    origin, rows = _read_rows(origin, sheet)
    header_row, columns = _header(origin, rows)
    assets: dict[str, Asset] = {}
    first: dict[str, Mapping[str, str]] = {}
    software: dict[str, list[Software]] = {}
    for number, cells in rows:
        if number <= header_row or not any(cells):
            continue
        if len(assets) >= MAX_ROWS:
            raise origin.error(number, None, f"more than {MAX_ROWS:,} assets")
        named = {columns[i]: cell for i, cell in enumerate(cells) if i in columns}
        asset_id = named.get("asset_id", "")
        if asset_id in assets:
            _same_asset(origin, number, assets[asset_id], first[asset_id], named)
        else:
            assets[asset_id] = _asset(origin, number, named, dataset)
            first[asset_id] = named
            software[asset_id] = []
        item = _software(origin, number, named)
        if item is not None and item not in software[asset_id]:
            software[asset_id].append(item)
    if not assets:
        raise origin.error(None, None, "the register has a header but no assets")
    done = tuple(replace(asset, software=tuple(software[key])) for key, asset in assets.items())
    _check_links(origin, done)
    return Register(str(origin.path), done, tuple(columns.values()))


def _same_asset(origin: Origin, number: int, asset: Asset, first: Mapping[str, str],
                cells: Mapping[str, str]) -> None:
    """A further row of an asset: its asset cells must be blank or repeat the first row."""
    for name in ASSET_COLUMNS:
        text = cells.get(name, "")
        if text and text.casefold() != first.get(name, "").casefold():
            raise origin.error(number, name, f"asset {asset.asset_id} already has {name} "
                               f"{first.get(name, '')!r} on row {asset.row}",
                               hint="leave the cell blank on further rows of an asset",
                               value=text)


def _check_links(origin: Origin, assets: tuple[Asset, ...]) -> None:
    by_id = {asset.asset_id: asset for asset in assets}
    for asset in assets:
        if asset.part_of is None:
            continue
        target = by_id.get(asset.part_of)
        if target is None:
            raise origin.error(asset.row, "part_of", f"no asset {asset.part_of!r} in the file",
                               hint="part_of names the asset_id of a facility in the register",
                               value=asset.part_of)
        if target.kind == "it-ot-system":
            raise origin.error(asset.row, "part_of", f"{asset.part_of} is an IT/OT system, "
                               "not a facility", value=asset.part_of)
