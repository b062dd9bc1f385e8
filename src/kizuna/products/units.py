"""Mass units a BOM may use, and lithium carbonate equivalent (LCE).

Every quantity becomes kg of the element. ``kg LCE`` and ``t LCE`` are lithium given as lithium
carbonate equivalent; Kizuna keeps lithium as Li metal content, Li = LCE / 5.323.
"""

from __future__ import annotations

from dataclasses import dataclass

from kizuna.errors import InputError

LCE_PER_LI = 5.323
"""kg of lithium carbonate (Li2CO3) equivalent per kg of lithium metal."""


@dataclass(frozen=True)
class Unit:
    """A mass unit: its canonical spelling and the factor that turns it into kg of element."""

    name: str
    to_kg: float
    lce: bool = False
    """True for lithium carbonate equivalent units (lithium only)."""


UNITS: dict[str, Unit] = {
    "kg": Unit("kg", 1.0),
    "g": Unit("g", 0.001),
    "t": Unit("t", 1000.0),
    "kg lce": Unit("kg LCE", 1.0 / LCE_PER_LI, lce=True),
    "t lce": Unit("t LCE", 1000.0 / LCE_PER_LI, lce=True),
}
"""Accepted units, keyed by their folded spelling (lower case, single spaces)."""

UNIT_NAMES: tuple[str, ...] = tuple(unit.name for unit in UNITS.values())


def parse_unit(text: str) -> Unit:
    """The unit for ``text`` (case-insensitive, spaces normalised); InputError if unknown."""
    key = " ".join(str(text).split()).casefold()
    unit = UNITS.get(key)
    if unit is None:
        shown = str(text).strip() or "(empty)"
        raise InputError(
            f"unknown unit {shown!r}",
            hint=f"use one of: {', '.join(UNIT_NAMES)}",
            field="unit",
            value=str(text),
        )
    return unit


def to_kg(quantity: float, unit: Unit | str, *, mineral: str) -> float:
    """``quantity`` in ``unit`` as kg of ``mineral``; LCE units are allowed for lithium only."""
    found = unit if isinstance(unit, Unit) else parse_unit(unit)
    if found.lce and mineral != "lithium":
        raise InputError(
            f"unit {found.name!r} is lithium carbonate equivalent, but the mineral is {mineral}",
            hint="use kg, g or t for minerals other than lithium",
            field="unit",
            value=found.name,
        )
    return quantity * found.to_kg
