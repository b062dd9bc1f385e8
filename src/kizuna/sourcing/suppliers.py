"""Named suppliers from a user's file: the third level of a supply path.

A supplier file is a CSV (or one sheet of an .xlsx) with one row per supplier, mineral and
stage::

    supplier,mineral,stage,country,capacity_t,premium,owner,min_order_t,start_year
    Kokkola refinery,cobalt,refining,FIN,2000,0.12,FIN,50,
    New Lithium Co,lithium,refining,AUS,800,0.2,,,2028

``supplier``, ``mineral``, ``stage``, ``country`` (where the supplier works) and
``capacity_t`` (tonnes a year available to us) are required. ``premium`` (a fraction of the
price, default: the country's), ``owner`` (the country that owns or controls it, used by
``exclude`` rules with ``ownership: true``), ``min_order_t`` and ``start_year`` (the first
year its capacity exists, for ``--years``) are optional. Every problem is one error naming
the file, the row and the column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from kizuna.data.bundle import Dataset
from kizuna.data.sheets import Rows, SheetOrigin, header, read_csv, read_xlsx
from kizuna.errors import InputError, NotFoundError
from kizuna.model import countries
from kizuna.model.types import STAGES

REQUIRED = ("supplier", "mineral", "stage", "country", "capacity_t")
OPTIONAL = ("premium", "owner", "min_order_t", "start_year")
MAX_ROWS = 10_000


@dataclass(frozen=True)
class Supplier:
    """One named supplier of one mineral at one stage."""

    name: str
    mineral: str
    stage: str
    iso3: str
    capacity_t: float
    premium: float | None = None
    owner: str | None = None
    min_order_t: float = 0.0
    start_year: int | None = None
    row: int = 0


def load_suppliers(path: Path, ds: Dataset, sheet: str | None = None) -> list[Supplier]:
    """The suppliers of a .csv or .xlsx file, checked; errors name file, row and column."""
    origin = SheetOrigin(Path(path))
    if not origin.path.is_file():
        raise InputError(f"supplier file {origin.path} not found", field="suppliers",
                         file=str(origin.path))
    suffix = origin.path.suffix.casefold()
    if suffix == ".csv":
        rows = read_csv(origin)
    elif suffix == ".xlsx":
        name, count, rows = read_xlsx(origin, sheet, "suppliers")
        origin = SheetOrigin(origin.path, name if count > 1 or sheet else None)
    else:
        raise origin.error(None, None, "a supplier file is a .csv or .xlsx file",
                           hint="columns: " + ", ".join(REQUIRED + OPTIONAL))
    return parse_suppliers(origin, rows, ds)


def parse_suppliers(origin: SheetOrigin, rows: Rows, ds: Dataset) -> list[Supplier]:
    number, cells, columns = header(origin, rows, REQUIRED)
    found = ", ".join(cell for cell in cells if cell) or "(none)"
    for name in REQUIRED:
        if name not in columns.values():
            raise origin.error(number, name, "missing column",
                               hint=f"the header has: {found}; required: "
                                    + ", ".join(REQUIRED))
    for name in columns.values():
        if name not in REQUIRED + OPTIONAL:
            raise origin.error(number, name, "unknown column",
                               hint="columns: " + ", ".join(REQUIRED + OPTIONAL))
    body = [(n, cells) for n, cells in rows if n > number and any(cells)]
    if not body:
        raise origin.error(None, None, "the file names no supplier",
                           hint="add one row per supplier, mineral and stage")
    if len(body) > MAX_ROWS:
        raise origin.error(None, None, f"more than {MAX_ROWS:,} suppliers")
    out: list[Supplier] = []
    seen: dict[tuple[str, str, str], int] = {}
    for row, cells in body:
        cell = {name: (cells[i] if i < len(cells) else "") for i, name in columns.items()}
        supplier = _supplier(origin, row, cell, ds)
        key = (supplier.name.casefold(), supplier.mineral, supplier.stage)
        if key in seen:
            raise origin.error(row, "supplier", f"{supplier.name!r} supplies {supplier.mineral} "
                               f"at {supplier.stage} twice (first on row {seen[key]})",
                               hint="one row per supplier, mineral and stage; add the "
                                    "capacities together")
        seen[key] = row
        out.append(supplier)
    return out


def _supplier(origin: SheetOrigin, row: int, cell: dict[str, str], ds: Dataset) -> Supplier:
    name = cell["supplier"]
    if not name:
        raise origin.error(row, "supplier", "the supplier name is empty")
    try:
        mineral = ds.mineral(cell["mineral"]).slug
    except NotFoundError as error:
        raise origin.error(row, "mineral", error.message, hint=error.hint,
                           value=cell["mineral"]) from None
    stage = cell["stage"].casefold()
    if stage not in STAGES:
        raise origin.error(row, "stage", f"{cell['stage']!r} is not a stage",
                           hint=f"use {' or '.join(STAGES)}", value=cell["stage"])
    capacity = _number(origin, row, "capacity_t", cell["capacity_t"], required=True)
    premium = _number(origin, row, "premium", cell.get("premium", ""))
    min_order = _number(origin, row, "min_order_t", cell.get("min_order_t", "")) or 0.0
    assert capacity is not None
    if min_order > capacity:
        raise origin.error(row, "min_order_t", f"minimum order {min_order:g} t is above the "
                           f"capacity {capacity:g} t", value=cell["min_order_t"])
    return Supplier(name, mineral, stage, _country(origin, row, "country", cell["country"]),
                    capacity, premium,
                    _country(origin, row, "owner", cell["owner"]) if cell.get("owner")
                    else None, min_order, _year(origin, row, cell.get("start_year", "")), row)


def _number(origin: SheetOrigin, row: int, column: str, text: str, *,
            required: bool = False) -> float | None:
    if not text:
        if required:
            raise origin.error(row, column, "the value is empty",
                               hint="give tonnes a year available to you, e.g. 1200")
        return None
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        what = "a fraction >= 0 (0.15 for 15%)" if column == "premium" else "tonnes >= 0"
        raise origin.error(row, column, f"{text!r} is not {what}", value=text)
    return value


def _country(origin: SheetOrigin, row: int, column: str, text: str) -> str:
    if not text:
        raise origin.error(row, column, "the country is empty",
                           hint="give an ISO 3166-1 alpha-3 code such as FIN")
    try:
        code = countries.to_iso3(text)
    except InputError as error:
        raise origin.error(row, column, error.message, hint=error.hint, value=text) from None
    if code in ("WORLD", "OTHER", "ROW"):
        raise origin.error(row, column, f"{text!r} is not one country", value=text)
    return code


def _year(origin: SheetOrigin, row: int, text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 1900 <= int(text) <= 2200:
        raise origin.error(row, "start_year", f"{text!r} is not a year", value=text)
    return int(text)
