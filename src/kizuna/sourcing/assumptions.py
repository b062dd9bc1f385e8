"""The sourcing model's assumptions: explicit, editable (a mapping or a YAML file), listed in
every result."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kizuna.errors import InputError
from kizuna.model import countries

FIELDS = ("capacity_share", "premium_default", "premium", "min_order_t", "min_source_share",
          "prices", "price_default", "risk_group", "year")


@dataclass(frozen=True)
class Assumptions:
    """What the optimiser takes as given. Every field is printed with the result."""

    capacity_share: float = 0.10
    """Share of each country's annual production at a stage that is available to us."""
    premium_default: float = 0.10
    """Cost premium of buying in a country, a fraction of the price, added per stage."""
    premium: Mapping[str, float] = field(default_factory=lambda: {"CHN": 0.0, "IDN": 0.0})
    """Per-country premiums (ISO3 -> fraction) overriding the default: the incumbent
    low-cost processors carry none."""
    min_order_t: Mapping[str, float] = field(default_factory=dict)
    """Mineral -> minimum tonnes bought from a country at a stage if it is used at all (MILP)."""
    min_source_share: float = 0.05
    """A country counts towards a ``min_sources`` rule when it supplies at least this share of
    the mineral's demand at the stage."""
    prices: Mapping[str, float] = field(default_factory=dict)
    """Mineral -> USD per tonne, overriding the USGS price."""
    price_default: float | None = None
    """USD per tonne for a mineral with no USGS price; None makes a missing price an error."""
    risk_group: str = "concern"
    """Country group whose tonnes make the linear risk proxy."""
    year: int | None = None
    """Supply and price data year (None: latest)."""

    def premium_of(self, iso3: str) -> float:
        return float(self.premium.get(iso3, self.premium_default))

    def lines(self) -> list[str]:
        """Human sentences, one per assumption."""
        named = ", ".join(f"{c} {p:.0%}" for c, p in sorted(self.premium.items())) or "none"
        orders = ", ".join(f"{m} {t:g} t" for m, t in sorted(self.min_order_t.items())) or "none"
        prices = ", ".join(f"{m} {p:,.0f}" for m, p in sorted(self.prices.items())) or "none"
        return [
            f"capacity available to us: {self.capacity_share:.0%} of each country's annual "
            "production at each stage (refining tonnes from the mining world total where the "
            "refining data are shares only)",
            "cost per tonne of a path = price x (1 + mine-country premium + refining-country "
            f"premium); default premium {self.premium_default:.0%}, by country: {named}",
            "price: latest USGS price up to the data year (refined product per tonne; the ore "
            f"price where there is no refined one); overrides (USD/t): {prices}; default for "
            "a mineral without a price: "
            + ("none (an error)" if self.price_default is None else f"{self.price_default:,.0f}"),
            f"minimum order per country and stage: {orders}",
            f"a country counts towards min_sources when it supplies >= "
            f"{self.min_source_share:.0%} of demand at the stage",
            f"risk proxy (linear): share of the stage tonnes from group '{self.risk_group}'",
            "OTHER (USGS residual, no named country) is not a source one can contract",
            "exclude rules are applied to the country of location (ownership is not modelled)",
            f"data year: {self.year or 'latest'}",
        ]


def _share(doc: Mapping[str, Any], name: str, default: float, where: str) -> float:
    value = doc.get(name, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 10:
        raise InputError(f"{where}: field {name}: {value!r} is not a non-negative number",
                         hint=f"write e.g. {name}: {default}", field=name)
    return float(value)


def _tonnes_map(doc: Mapping[str, Any], name: str, where: str) -> dict[str, float]:
    raw = doc.get(name) or {}
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: field {name}: expected a mapping mineral -> number",
                         field=name)
    out = {}
    for key, value in raw.items():
        if (not isinstance(value, int | float) or isinstance(value, bool)
                or not math.isfinite(value) or value < 0):
            raise InputError(f"{where}: field {name}.{key}: {value!r} is not a number >= 0",
                             field=f"{name}.{key}")
        out[str(key)] = float(value)
    return out


def parse_assumptions(doc: Any, where: str = "assumptions") -> Assumptions:
    """Check a mapping (from YAML or code); unknown fields and bad values name the field."""
    if doc is None:
        return Assumptions()
    if not isinstance(doc, Mapping):
        raise InputError(f"{where}: assumptions are a mapping of field -> value",
                         hint=f"fields: {', '.join(FIELDS)}", field="assumptions")
    unknown = sorted(set(map(str, doc)) - set(FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown field {unknown[0]!r}",
                         hint=f"fields: {', '.join(FIELDS)}", field=unknown[0])
    base = Assumptions()
    premium = dict(base.premium)
    for key, value in _tonnes_map(doc, "premium", where).items():
        premium[countries.to_iso3(key)] = value
    price_default = doc.get("price_default")
    if price_default is not None:
        price_default = _tonnes_map({"x": {"price_default": price_default}}, "x", where)[
            "price_default"]
    year = doc.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise InputError(f"{where}: field year: {year!r} is not a year", field="year")
    share = _share(doc, "capacity_share", base.capacity_share, where)
    if share > 1:
        raise InputError(f"{where}: field capacity_share: {share} is above 1",
                         field="capacity_share")
    return Assumptions(
        capacity_share=share,
        premium_default=_share(doc, "premium_default", base.premium_default, where),
        premium=premium,
        min_order_t=_tonnes_map(doc, "min_order_t", where),
        min_source_share=min(1.0, _share(doc, "min_source_share", base.min_source_share, where)),
        prices=_tonnes_map(doc, "prices", where),
        price_default=price_default,
        risk_group=str(doc.get("risk_group", base.risk_group)),
        year=year,
    )


def load_assumptions(path: Path) -> Assumptions:
    """Assumptions from a YAML file."""
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputError(f"cannot read the assumptions file {path}: {error}",
                         file=str(path), field="assumptions") from None
    return parse_assumptions(doc, path.name)
