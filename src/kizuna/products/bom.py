"""User bills of materials: CSV or Excel (.xlsx) tables of minerals per unit of a product.

One product per file (per sheet for .xlsx). Rows either declare a component (``component``,
optional ``parent`` and ``component_qty``, no mineral) or give a mineral line (``component``,
``mineral``, ``quantity``, ``unit``). kg per product unit = quantity in kg x the component_qty
of the component and of every parent up the tree. Every bad cell raises ONE InputError naming
the file (and sheet), the row as a spreadsheet counts it (header = row 1) and the column.
The columns are listed in ``BOM_COLUMNS``; docs/products.md describes them with an example.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kizuna.data.sheets import Rows, SheetOrigin, header, read_csv, read_xlsx
from kizuna.errors import InputError, NotFoundError
from kizuna.model.countries import to_iso3
from kizuna.model.types import STAGES
from kizuna.products.model import BOM_COLUMNS, Line, Product, normalise_shares
from kizuna.products.templates import TEMPLATE_IDS, load_template, load_template_file
from kizuna.products.units import LCE_PER_LI, Unit, parse_unit, to_kg

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset


REQUIRED = tuple(column.name for column in BOM_COLUMNS if column.required)
KNOWN = tuple(column.name for column in BOM_COLUMNS)
SOURCING_COLUMNS = tuple(
    f"{stage}_{kind}" for stage in STAGES for kind in ("country", "mix", "owner")
)
SUFFIXES = (".csv", ".xlsx")


# --- locating errors ---------------------------------------------------------------------------


_Origin = SheetOrigin  # the file (and sheet) being read; errors name sheet, row, column


@dataclass(frozen=True)
class _Row:
    number: int
    cells: Mapping[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


# --- reading the table -------------------------------------------------------------------------


def _header(origin: _Origin, rows: Rows) -> tuple[int, dict[int, str]]:
    """The header's row number and its columns (position -> normalised name)."""
    number, cells, columns = header(origin, rows, REQUIRED)
    missing = [name for name in REQUIRED if name not in columns.values()]
    if missing:
        found = ", ".join(cell for cell in cells if cell) or "(none)"
        hint = f"found columns: {found}; required: {', '.join(REQUIRED)}"
        if len(columns) == 1 and ";" in found:
            hint += "; the file looks semicolon-separated: save it comma-separated"
        quoted = ", ".join(repr(name) for name in missing)
        plural = "s" if len(missing) > 1 else ""
        raise origin.error(number, missing[0], f"missing required column{plural} {quoted}",
                           hint=hint)
    return number, columns


def _records(origin: _Origin, rows: list[tuple[int, list[str]]]) -> tuple[list[_Row], list[str]]:
    """The non-blank data rows, and the header names Kizuna does not use."""
    header_number, columns = _header(origin, rows)
    records: list[_Row] = []
    for number, cells in rows:
        if number <= header_number:
            continue
        values = {name: cells[position] if position < len(cells) else ""
                  for position, name in columns.items() if name in KNOWN}
        if any(values.values()):
            records.append(_Row(number, values))
    if not records:
        raise origin.error(header_number, None, "the header has no data rows below it",
                           hint="add one row per mineral line; see docs/products.md")
    ignored = [name for name in columns.values() if name not in KNOWN]
    return records, ignored


# --- cells -------------------------------------------------------------------------------------


def _number(origin: _Origin, row: _Row, column: str) -> float:
    text = row.get(column)
    try:
        value = float(text)
    except ValueError:
        raise origin.error(row.number, column, f"{text!r} is not a number",
                           hint="write a plain number such as 1.5", value=text) from None
    if not math.isfinite(value):
        raise origin.error(row.number, column, f"{text!r} is not a finite number", value=text)
    if value < 0:
        raise origin.error(row.number, column, f"{text} is negative",
                           hint="quantities must be 0 or more", value=text)
    return value


def _country(origin: _Origin, row: _Row, column: str, text: str) -> str:
    try:
        code = to_iso3(text)
    except InputError as error:
        raise origin.error(row.number, column, error.message, hint=error.hint,
                           value=text) from None
    if code == "WORLD":
        raise origin.error(row.number, column, "'WORLD' is not a country",
                           hint="name the country, or use OTHER for the unattributed rest",
                           value=text)
    return code


def _share(origin: _Origin, row: _Row, column: str, text: str) -> float:
    percent = text.endswith("%")
    try:
        value = float(text.rstrip("%").strip()) / (100.0 if percent else 1.0)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise origin.error(row.number, column, f"share {text!r} is not a number >= 0",
                           hint="write shares like AUS:0.6;CHL:0.4 or AUS:60%;CHL:40%",
                           value=text)
    return value


def _mix(origin: _Origin, row: _Row, column: str) -> dict[str, float]:
    """Parse "AUS:0.6;CHL:0.4" (or "=" and percentages) into ISO3 -> share summing to 1."""
    text = row.get(column)
    shares: dict[str, float] = {}
    for entry in (part.strip() for part in text.split(";")):
        if not entry:
            continue
        separator = ":" if ":" in entry else "="
        country, found, share = entry.rpartition(separator)
        if not found or not country.strip():
            raise origin.error(row.number, column, f"cannot read {entry!r} as COUNTRY:SHARE",
                               hint="write shares like AUS:0.6;CHL:0.4", value=text)
        code = _country(origin, row, column, country.strip())
        if code in shares:
            raise origin.error(row.number, column, f"{code} appears twice in the mix",
                               value=text)
        shares[code] = _share(origin, row, column, share.strip())
    try:
        return normalise_shares(shares, what=f"{column} {text!r}")
    except InputError as error:
        raise origin.error(row.number, column, error.message, hint=error.hint,
                           value=text) from None


def _sourcing(origin: _Origin, row: _Row) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    sourcing: dict[str, dict[str, float]] = {}
    owners: dict[str, str] = {}
    for stage in STAGES:
        country, mix = row.get(f"{stage}_country"), row.get(f"{stage}_mix")
        if country and mix:
            raise origin.error(row.number, f"{stage}_mix",
                               f"both {stage}_country and {stage}_mix are given",
                               hint=f"give one: {stage}_country for one country, "
                               f"{stage}_mix for shares")
        if country:
            sourcing[stage] = {_country(origin, row, f"{stage}_country", country): 1.0}
        elif mix:
            sourcing[stage] = _mix(origin, row, f"{stage}_mix")
        owner = row.get(f"{stage}_owner")
        if owner:
            owners[stage] = _country(origin, row, f"{stage}_owner", owner)
    return sourcing, owners


def _mineral(origin: _Origin, row: _Row, dataset: Dataset) -> str:
    text = row.get("mineral")
    try:
        mineral = dataset.mineral(text)
    except NotFoundError as error:
        symbols = {m.symbol.casefold(): m.slug for m in dataset.minerals.values() if m.symbol}
        hint = error.hint
        if text.casefold() in symbols:
            slug = symbols[text.casefold()]
            hint = f"{text!r} is the symbol of {slug}: write the slug {slug!r}"
        raise origin.error(row.number, "mineral", error.message, hint=hint, value=text) from None
    if mineral.group == "category":
        raise origin.error(row.number, "mineral",
                           f"{mineral.name!r} is a product category, not a mineral",
                           hint="list the minerals it contains instead", value=text)
    return mineral.slug


# --- rows into items and component declarations ------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """A mineral row, converted to kg of the element per ONE unit of its component."""

    row: int
    component: str
    mineral: str
    kg: float
    unit: Unit
    quantity: float
    sourcing: dict[str, dict[str, float]]
    owners: dict[str, str]
    note: str
    source: str


@dataclass
class _Declaration:
    """A component's place in the tree; ``*_row`` is where each field was given (None: not)."""

    name: str
    row: int
    parent: str | None = None
    parent_row: int | None = None
    qty: float = 1.0
    qty_row: int | None = None


def _declaration(origin: _Origin, row: _Row, *, explicit: bool) -> _Declaration | None:
    parent, qty_text = row.get("parent"), row.get("component_qty")
    if not explicit and not parent and not qty_text:
        return None
    declaration = _Declaration(row.get("component"), row.number)
    if parent or explicit:
        declaration.parent, declaration.parent_row = parent or None, row.number
    if qty_text or explicit:
        qty = _number(origin, row, "component_qty") if qty_text else 1.0
        declaration.qty, declaration.qty_row = qty, row.number
    return declaration


def _component_row(origin: _Origin, row: _Row) -> _Declaration | None:
    """A row without a mineral: a component declaration, or a product-level row (None)."""
    for column in ("quantity", "unit"):
        if row.get(column):
            raise origin.error(row.number, "mineral", f"the row has a {column} but no mineral",
                               hint="add the mineral, or leave quantity and unit blank on "
                               "rows that declare a component")
    for column in SOURCING_COLUMNS:
        if row.get(column):
            raise origin.error(row.number, column, "sourcing belongs on mineral rows",
                               hint="give it on each mineral row of the component")
    if not row.get("component"):
        if row.get("parent") or row.get("component_qty"):
            raise origin.error(row.number, "component", "missing component",
                               hint="name the component this row declares")
        return None
    return _declaration(origin, row, explicit=True)


def _item(origin: _Origin, row: _Row, dataset: Dataset) -> _Item:
    slug = _mineral(origin, row, dataset)
    for column in ("component", "quantity", "unit"):
        if not row.get(column):
            raise origin.error(row.number, column, f"missing {column}",
                               hint="mineral rows need component, mineral, quantity and unit")
    quantity = _number(origin, row, "quantity")
    try:
        unit = parse_unit(row.get("unit"))
        kg = to_kg(quantity, unit, mineral=slug)
    except InputError as error:
        raise origin.error(row.number, "unit", error.message, hint=error.hint,
                           value=row.get("unit")) from None
    sourcing, owners = _sourcing(origin, row)
    return _Item(row.number, row.get("component"), slug, kg, unit, quantity, sourcing, owners,
                 row.get("note"), row.get("source"))


# --- the component tree ------------------------------------------------------------------------


@dataclass
class _Tree:
    """Components with their parents; multipliers and paths are computed on demand."""

    origin: _Origin
    nodes: dict[str, _Declaration] = field(default_factory=dict)

    def add(self, new: _Declaration) -> None:
        old = self.nodes.setdefault(new.name, new)
        if old is new:
            return
        if new.parent_row is not None:
            if old.parent_row is not None and old.parent != new.parent:
                raise self.origin.error(
                    new.row, "parent", f"component {new.name!r} already has parent "
                    f"{old.parent or '(top level)'!r} in row {old.parent_row}",
                    hint="component names must be unique: rename one of them")
            old.parent, old.parent_row = new.parent, new.parent_row
        if new.qty_row is not None:
            if old.qty_row is not None and old.qty != new.qty:
                raise self.origin.error(
                    new.row, "component_qty", f"component {new.name!r} already has "
                    f"component_qty {old.qty:g} in row {old.qty_row}",
                    hint="give a component's quantity once, or rename one of them")
            old.qty, old.qty_row = new.qty, new.qty_row

    def check(self) -> None:
        for node in self.nodes.values():
            if node.parent is not None and node.parent not in self.nodes:
                close = difflib.get_close_matches(node.parent, list(self.nodes), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise self.origin.error(
                    node.parent_row or node.row, "parent", f"unknown parent {node.parent!r}",
                    hint=f"{hint}declare it in a row of its own (component, no mineral)",
                    value=node.parent)
        for node in self.nodes.values():
            self.chain(node.name)

    def chain(self, name: str) -> list[_Declaration]:
        """The component and its parents, top level last; a cycle is an error."""
        chain: list[_Declaration] = []
        current: str | None = name
        while current is not None:
            node = self.nodes[current]
            if node in chain:
                loop = " > ".join([*(n.name for n in chain[chain.index(node):]), node.name])
                raise self.origin.error(node.parent_row or node.row, "parent",
                                        f"components form a cycle: {loop}",
                                        hint="a component cannot contain itself")
            chain.append(node)
            current = node.parent
        return chain

    def multiplier(self, name: str) -> float:
        return math.prod(node.qty for node in self.chain(name))

    def path(self, name: str) -> str:
        return " > ".join(node.name for node in reversed(self.chain(name)))


# --- rolling up into lines ---------------------------------------------------------------------


def _rows_text(items: Iterable[_Item]) -> str:
    numbers = [str(item.row) for item in items]
    return ("row " if len(numbers) == 1 else "rows ") + ", ".join(numbers)


def _merge_sourcing(origin: _Origin, group: list[_Item], weights: list[float],
                    stage: str) -> dict[str, float] | None:
    given = [item for item in group if stage in item.sourcing]
    if not given:
        return None
    if len(given) < len(group):
        missing = next(item for item in group if stage not in item.sourcing)
        raise origin.error(
            missing.row, f"{stage}_country", f"{group[0].mineral} in {group[0].component!r} "
            f"has {stage} sourcing in {_rows_text(given)} but not in this row",
            hint="give sourcing on every row of the same mineral and component, or none")
    total = math.fsum(weights)
    merged: dict[str, float] = {}
    for item, weight in zip(group, weights, strict=True):
        share_of_line = weight / total if total > 0 else 1.0 / len(group)
        for country, share in item.sourcing[stage].items():
            merged[country] = merged.get(country, 0.0) + share_of_line * share
    return normalise_shares(merged, what=f"{group[0].mineral} {stage} sourcing")


def _merge_owners(origin: _Origin, group: list[_Item], stage: str) -> str | None:
    owners = {item.owners.get(stage) for item in group}
    if owners == {None}:
        return None
    if len(owners) > 1:
        raise origin.error(
            group[-1].row, f"{stage}_owner", f"{group[0].mineral} in "
            f"{group[0].component!r} has different {stage} owners in {_rows_text(group)}",
            hint="give the same owner on each row, or split the component")
    return owners.pop()


def _line(origin: _Origin, group: list[_Item], tree: _Tree) -> Line:
    first = group[0]
    multiplier = tree.multiplier(first.component)
    weights = [item.kg * multiplier for item in group]
    sourcing: dict[str, dict[str, float]] = {}
    owners: dict[str, str] = {}
    for stage in STAGES:
        shares = _merge_sourcing(origin, group, weights, stage)
        owner = _merge_owners(origin, group, stage)
        if shares is not None:
            sourcing[stage] = shares
        if owner is not None:
            owners[stage] = owner
    notes = [item.note for item in group if item.note]
    notes += [f"row {item.row}: {item.quantity:g} {item.unit.name} = {item.kg:.6g} kg Li "
              f"(LCE / {LCE_PER_LI})" for item in group if item.unit.lce]
    citation = f"user BOM {origin.label} {_rows_text(group)}"
    cited = list(dict.fromkeys(item.source for item in group if item.source))
    if cited:
        citation += "; " + "; ".join(cited)
    return Line(first.mineral, math.fsum(weights), tree.path(first.component), sourcing,
                owners, citation, "; ".join(dict.fromkeys(notes)))


def _product_fields(origin: _Origin, records: list[_Row]) -> tuple[str, float | None]:
    """The product name ('' if none given) and the volume (None if none given)."""
    names: dict[str, int] = {}
    volumes: dict[float, int] = {}
    for row in records:
        if row.get("product"):
            names.setdefault(row.get("product"), row.number)
            if len(names) > 1:
                listed = ", ".join(repr(name) for name in names)
                raise origin.error(row.number, "product",
                                   f"the file holds more than one product ({listed})",
                                   hint="put one product per file (or per .xlsx sheet and "
                                   "pass --sheet NAME)", value=row.get("product"))
        if row.get("volume"):
            volumes.setdefault(_number(origin, row, "volume"), row.number)
            if len(volumes) > 1:
                raise origin.error(row.number, "volume", "the product has more than one "
                                   f"volume (first given in row {next(iter(volumes.values()))})",
                                   hint="give the annual volume once, or the same on every row",
                                   value=row.get("volume"))
    return next(iter(names), ""), next(iter(volumes), None)


def _assumptions(origin: _Origin, items: list[_Item], tree: _Tree, volume: float | None,
                 ignored: list[str]) -> list[str]:
    sentences = [f"Read from {origin.label}: {len(items)} mineral rows in "
                 f"{len(tree.nodes)} components; quantities are per ONE unit of the component."]
    units = sorted({item.unit.name for item in items if not item.unit.lce and
                    item.unit.name != "kg"})
    if units:
        sentences.append("Quantities converted to kg: " + ", ".join(
            {"g": "g / 1000", "t": "t x 1000"}[name] for name in units) + ".")
    lce = [item for item in items if item.unit.lce]
    if lce:
        sentences.append(f"Lithium given as lithium carbonate equivalent ({_rows_text(lce)}) "
                         f"is converted to Li metal content: Li = LCE / {LCE_PER_LI}.")
    if any(node.parent is not None or node.qty != 1 for node in tree.nodes.values()):
        sentences.append("Multi-level roll-up: kg per product unit = quantity x component_qty "
                         "of the component and of each parent up the tree.")
    sentences.append(f"Annual volume {volume:g} from the volume column." if volume is not None
                     else "No volume given: 1 unit a year.")
    if ignored:
        sentences.append("Columns Kizuna does not use were ignored: " + ", ".join(ignored) + ".")
    return sentences


def _rows(path: Path, sheet: str | None) -> tuple[_Origin, list[tuple[int, list[str]]]]:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise _Origin(path).error(None, None, f"unsupported file type {suffix or '(none)'!r}",
                                  hint="give a .csv or .xlsx file (or a template id)",
                                  value=suffix)
    if not path.is_file():
        raise _Origin(path).error(None, None, "file not found", value=str(path))
    if suffix == ".csv":
        if sheet is not None:
            raise _Origin(path).error(None, None, "--sheet applies to .xlsx files only",
                                      value=sheet)
        origin = _Origin(path)
        return origin, read_csv(origin)
    name, _count, rows = read_xlsx(_Origin(path), sheet, "BOM")
    return _Origin(path, name), rows


def read_bom(path: Path, *, sheet: str | None = None, dataset: Dataset | None = None) -> Product:
    """The product described by a BOM file (.csv or .xlsx); see the module docstring."""
    if dataset is None:
        from kizuna.data.bundle import load_dataset  # noqa: PLC0415 - the tables load lazily

        dataset = load_dataset()
    origin, rows = _rows(Path(path), sheet)
    records, ignored = _records(origin, rows)
    name, volume = _product_fields(origin, records)
    tree = _Tree(origin)
    items: list[_Item] = []
    for row in records:
        if row.get("mineral"):
            item = _item(origin, row, dataset)
            items.append(item)
            declaration = _declaration(origin, row, explicit=False)
            tree.add(declaration or _Declaration(item.component, row.number))
        else:
            declaration = _component_row(origin, row)
            if declaration is not None:
                tree.add(declaration)
    if not items:
        raise origin.error(None, None, "no row gives a mineral in column 'mineral'",
                           hint="add rows with component, mineral, quantity and unit")
    tree.check()
    groups: dict[tuple[str, str], list[_Item]] = {}
    for item in items:
        groups.setdefault((tree.path(item.component), item.mineral), []).append(item)
    lines = tuple(_line(origin, group, tree) for group in groups.values())
    sources = [f"user BOM {origin.label}"]
    sources += list(dict.fromkeys(item.source for item in items if item.source))
    product_name = name or origin.path.stem
    return Product(origin.path.stem, product_name, f"one {product_name}",
                   1.0 if volume is None else volume, lines,
                   tuple(_assumptions(origin, items, tree, volume, ignored)), tuple(sources))


def load_product(spec: str, params: Mapping[str, str | float] | None = None, *,
                 sheet: str | None = None, dataset: Dataset | None = None) -> Product:
    """A template id (with ``params``) or the path of a .csv/.xlsx BOM or a template-shaped
    .yaml file; anything else is an InputError."""
    text = str(spec).strip()
    if text.casefold() in TEMPLATE_IDS:
        if sheet is not None:
            raise InputError(f"--sheet applies to .xlsx files, not to template {text!r}",
                             field="sheet", value=sheet)
        return load_template(text, params)
    path = Path(text).expanduser()
    if path.is_file():
        if path.suffix.lower() in (".yaml", ".yml"):
            if sheet is not None:
                raise InputError(f"--sheet applies to .xlsx files, not to {path.name}",
                                 field="sheet", value=sheet)
            return load_template_file(path, params, dataset=dataset)
        if params:
            raise InputError(f"parameters apply to templates, not to the BOM table {path.name}",
                             hint="edit the quantities in the file instead",
                             field="parameter", value=", ".join(params))
        return read_bom(path, sheet=sheet, dataset=dataset)
    close = difflib.get_close_matches(text.casefold(), TEMPLATE_IDS, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise InputError(
        f"{text!r} is not a template id (known: {', '.join(TEMPLATE_IDS)}) nor a file",
        hint=f"{hint}give a template id or the path of a .csv, .xlsx or .yaml file",
        field="product",
        value=text,
    )
