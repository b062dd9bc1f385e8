"""Products as bills of materials: mineral lines per unit of a product.

A ``Product`` is what a template or a user's BOM file turns into: for ONE unit of the product
(one kWh of pack energy, one motor, one MW, one engine, one aircraft), the kilograms of each
mineral, per component, with optional sourcing (country shares per stage) and supplier owners.
The template schema (``TemplateSpec`` and its parts, with ``Formula`` for the small arithmetic
expressions a template may use) is here too. Everything here is plain data; reading files and
templates lives in ``templates`` and ``bom``.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kizuna.errors import InputError
from kizuna.model.types import STAGES

ParamValue = str | float
"""A template parameter's value: a number, or the name of one of its choices."""

SHARE_TOLERANCE = 1e-6
"""Country shares of a stage must sum to 1 within this; they are then normalised exactly."""


def normalise_shares(shares: Mapping[str, float], *, what: str = "shares") -> dict[str, float]:
    """Country -> share, checked (finite, >= 0, sum within 1e-6 of 1) and scaled to sum to 1.

    Raises InputError naming ``what`` when a share is negative or not a number, or when the
    shares do not sum to 1.
    """
    clean: dict[str, float] = {}
    for country, share in shares.items():
        value = float(share)
        if not math.isfinite(value) or value < 0:
            raise InputError(
                f"{what}: share {share!r} for {country} is not a number >= 0",
                hint="give each share as a number between 0 and 1",
                field="share",
                value=str(share),
            )
        clean[str(country)] = value
    total = math.fsum(clean.values())
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise InputError(
            f"{what}: shares sum to {total:.6g}, not 1",
            hint="make the shares add up to 1, e.g. AUS:0.6;CHL:0.4",
            field="share",
            value=total,
        )
    return {country: value / total for country, value in clean.items()}


def _check_stages(mapping: Mapping[str, object], what: str) -> None:
    unknown = sorted(str(stage) for stage in mapping if stage not in STAGES)
    if unknown:
        raise InputError(
            f"{what}: unknown stage {unknown[0]!r}",
            hint=f"use one of: {', '.join(STAGES)}",
            field="stage",
            value=unknown[0],
        )


@dataclass(frozen=True)
class Line:
    """Kilograms of one mineral in one component, per ONE unit of the product."""

    mineral: str
    """Canonical slug from minerals.yaml (e.g. "cobalt", "neodymium", "graphite")."""
    kg: float
    """kg of the mineral per unit of the product, after unit conversion and roll-up (>= 0)."""
    component: str
    """Path of the component, e.g. "pack" or "motor > magnet"."""
    sourcing: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Stage ("mining" | "refining") -> {ISO3: share}; shares sum to 1. Empty = not given."""
    owners: Mapping[str, str] = field(default_factory=dict)
    """Stage -> ISO3 of the supplier's owner or controlling country, when given."""
    citation: str = ""
    """Where the figure comes from ("user BOM <file> row N" for user BOMs)."""
    note: str = ""
    """Stage notes and assumption text."""

    def __post_init__(self) -> None:
        what = f"{self.mineral} in {self.component!r}"
        if not self.mineral:
            raise InputError("a product line has no mineral", field="mineral")
        kg = float(self.kg)
        if not math.isfinite(kg) or kg < 0:
            raise InputError(
                f"{what}: kg must be a number >= 0, got {self.kg!r}", field="kg", value=self.kg
            )
        _check_stages(self.sourcing, what)
        _check_stages(self.owners, what)
        sourcing = {
            str(stage): normalise_shares(shares, what=f"{what} {stage} sourcing")
            for stage, shares in self.sourcing.items()
            if shares
        }
        object.__setattr__(self, "kg", kg)
        object.__setattr__(self, "sourcing", sourcing)
        object.__setattr__(self, "owners", {str(k): str(v) for k, v in self.owners.items()})


@dataclass(frozen=True)
class Product:
    """A product's mineral content per unit, with the assumptions and sources behind it."""

    id: str
    """Template slug or file stem."""
    name: str
    unit: str
    """What one unit is, e.g. "1 kWh of pack energy", "one motor", "1 MW"."""
    volume: float
    """Annual units (1.0 for templates; from the BOM when given)."""
    lines: tuple[Line, ...]
    """One per (component, mineral) after roll-up; a mineral may be in several components."""
    assumptions: tuple[str, ...] = ()
    """Human sentences: parameters used, derived figures, proxies."""
    sources: tuple[str, ...] = ()
    """Full citations."""

    def __post_init__(self) -> None:
        volume = float(self.volume)
        if not math.isfinite(volume) or volume < 0:
            raise InputError(
                f"product {self.id!r}: volume must be a number >= 0, got {self.volume!r}",
                field="volume",
                value=self.volume,
            )
        object.__setattr__(self, "volume", volume)
        object.__setattr__(self, "lines", tuple(self.lines))
        object.__setattr__(self, "assumptions", tuple(self.assumptions))
        object.__setattr__(self, "sources", tuple(self.sources))

    def demand_kg(self) -> dict[str, float]:
        """Mineral -> kg per unit of the product, summed over all lines (first-seen order)."""
        totals: dict[str, list[float]] = {}
        for line in self.lines:
            totals.setdefault(line.mineral, []).append(line.kg)
        return {mineral: math.fsum(values) for mineral, values in totals.items()}


# --- expressions -------------------------------------------------------------------------------

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


@dataclass(frozen=True)
class Formula:
    """A number or an arithmetic expression over names (+ - * / and parentheses only)."""

    text: str
    tree: ast.expr
    names: frozenset[str]

    @classmethod
    def parse(cls, raw: object) -> Formula:
        """Parse ``raw`` (a number or an expression string); ValueError says what is wrong."""
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError(f"expected a number or an expression, got {raw!r}")
        text = str(raw).strip()
        try:
            tree = ast.parse(text, mode="eval").body
        except SyntaxError as error:
            raise ValueError(f"cannot parse expression {text!r}") from error
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif not isinstance(node, ast.BinOp | ast.UnaryOp | ast.Constant | ast.Load
                                | ast.operator | ast.unaryop):
                raise ValueError(f"{text!r}: only numbers, names, + - * / and ( ) are allowed")
            elif (isinstance(node, ast.BinOp) and type(node.op) not in _BINARY) or (
                isinstance(node, ast.UnaryOp) and type(node.op) not in _UNARY
            ):
                raise ValueError(f"{text!r}: only + - * / are allowed")
            elif isinstance(node, ast.Constant) and (
                isinstance(node.value, bool) or not isinstance(node.value, int | float)
            ):
                raise ValueError(f"{text!r}: {node.value!r} is not a number")
        return cls(text, tree, frozenset(names))

    def __call__(self, names: Mapping[str, float]) -> float:
        return _evaluate(self.tree, names)


def _evaluate(node: ast.expr, names: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return float(node.value)
        raise TypeError(f"not a number: {node.value!r}")  # pragma: no cover - parse() checks
    if isinstance(node, ast.Name):
        return float(names[node.id])
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, names))
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, names), _evaluate(node.right, names)
        if isinstance(node.op, ast.Div) and right == 0:
            return math.nan
        return _BINARY[type(node.op)](left, right)
    raise TypeError(f"unexpected expression node {node!r}")  # pragma: no cover - parse() checks


# --- the template schema -----------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One option of a choice parameter and the numbers it binds."""

    value: str
    description: str
    sources: tuple[str, ...]
    assumption: str
    values: dict[str, float]


@dataclass(frozen=True)
class Parameter:
    """A template parameter: a number in [minimum, maximum] or one of ``choices``."""

    name: str
    description: str
    default: ParamValue
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    sources: tuple[str, ...] = ()
    choices: dict[str, Choice] | None = None

    def allowed(self) -> str:
        """The allowed values, as a phrase for error messages and listings."""
        if self.choices is not None:
            return "one of: " + ", ".join(self.choices)
        low = "-inf" if self.minimum is None else f"{self.minimum:g}"
        high = "inf" if self.maximum is None else f"{self.maximum:g}"
        return f"a number from {low} to {high}"


@dataclass(frozen=True)
class LineSpec:
    component: str
    mineral: str
    kg: Formula
    sources: tuple[str, ...]
    note: str
    sourcing: dict[str, dict[str, float]]
    owners: dict[str, str]


@dataclass(frozen=True)
class Check:
    expr: Formula
    minimum: float
    message: str


@dataclass(frozen=True)
class TemplateSpec:
    """A parsed template file."""

    id: str
    name: str
    unit: str
    description: str
    parameters: tuple[Parameter, ...]
    constants: tuple[tuple[str, Formula], ...]
    checks: tuple[Check, ...]
    lines: tuple[LineSpec, ...]
    sources: dict[str, str]
    assumptions: tuple[str, ...]
    origin: str


# --- the BOM table format ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the BOM table format."""

    name: str
    required: bool
    description: str


BOM_COLUMNS: tuple[Column, ...] = (
    Column("component", True, "component the row is about; a path is built from `parent`"),
    Column("mineral", True, "mineral slug, name or alias (blank on component rows)"),
    Column("quantity", True, "amount of the mineral per ONE unit of the component (>= 0)"),
    Column("unit", True, "kg, g, t, or kg LCE / t LCE for lithium carbonate equivalent"),
    Column("product", False, "product name; one product per file"),
    Column("parent", False, "parent component (multi-level BOMs); blank = top level"),
    Column("component_qty", False, "how many of this component per parent (default 1)"),
    Column("mining_country", False, "country of the mine (ISO3 or name)"),
    Column("refining_country", False, "country of the refinery (ISO3 or name)"),
    Column("mining_mix", False, "mining country shares, e.g. AUS:0.6;CHL:0.4"),
    Column("refining_mix", False, "refining country shares, e.g. CHN:0.7;JPN:0.3"),
    Column("mining_owner", False, "ISO3 of the mining supplier's owner or controlling country"),
    Column("refining_owner", False, "ISO3 of the refiner's owner or controlling country"),
    Column("volume", False, "annual units of the product (one value per file; default 1)"),
    Column("note", False, "free text kept with the line"),
    Column("source", False, "where the figure comes from; added to the line's citation"),
)
"""The BOM columns; header names are matched case-insensitively (spaces = underscores)."""
