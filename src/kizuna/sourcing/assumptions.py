"""The sourcing model's assumptions: explicit, editable (a mapping or a YAML file), listed in
every result.

Two groups: what one plan takes as given (capacity share, premiums, prices, minimum orders,
the risk group, the shortfall penalty of the CVaR objective) and how a transition path over
years moves (``transition``: how fast rule caps tighten, capacity grows, premiums fall and
demand grows). Every number is a modelling choice unless a line says where it comes from.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kizuna.errors import InputError
from kizuna.model import countries

FIELDS = ("capacity_share", "premium_default", "premium", "min_order_t", "min_source_share",
          "prices", "price_default", "risk_group", "year", "shortfall_penalty",
          "suppliers_only", "transition")
TRANSITION_FIELDS = ("phase", "targets", "capacity_growth", "capacity_growth_by_country",
                     "premium_decline", "demand_growth")


@dataclass(frozen=True)
class Transition:
    """How a plan moves from year to year (``--years``)."""

    phase: Mapping[int, float] = field(default_factory=lambda: {2025: 0.0, 2030: 1.0})
    """Year -> how far every ``max_share`` cap has tightened, from 0 (no cap) to 1 (the
    pack's limit); linear between the years given, flat outside them. The default reaches
    the CRMA's 2030 benchmark in 2030, starting from no cap in 2025."""
    targets: Mapping[str, Mapping[int, float]] = field(default_factory=dict)
    """Rule id -> {year: limit}: an explicit schedule for one cap rule (``max_share``, or an
    ``exclude`` as the largest share still allowed from the excluded countries); linear
    between the years given."""
    capacity_growth: float = 0.05
    """Yearly growth of the capacity available to us from each source, from the first year."""
    capacity_growth_by_country: Mapping[str, float] = field(default_factory=dict)
    """ISO3 -> yearly growth overriding ``capacity_growth`` (e.g. a partner's build-out)."""
    premium_decline: float = 0.10
    """Yearly relative fall of every country premium (new supply learning and scaling)."""
    demand_growth: float = 0.0
    """Yearly growth of the product volume."""

    def phase_in(self, year: int) -> float:
        return _interpolate(self.phase, year)

    def limit(self, rule_id: str, year: int) -> float | None:
        schedule = self.targets.get(rule_id)
        return None if schedule is None else _interpolate(schedule, year)

    def growth(self, iso3: str) -> float:
        return float(self.capacity_growth_by_country.get(iso3, self.capacity_growth))


def _interpolate(points: Mapping[int, float], year: int) -> float:
    years = sorted(points)
    if year <= years[0]:
        return float(points[years[0]])
    if year >= years[-1]:
        return float(points[years[-1]])
    for low, high in itertools.pairwise(years):
        if low <= year <= high:
            weight = (year - low) / (high - low)
            return float(points[low] + weight * (points[high] - points[low]))
    raise AssertionError("unreachable")  # pragma: no cover


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
    shortfall_penalty: float = 1.0
    """Cost of a tonne not delivered in a scenario draw, as a multiple of its price (the
    CVaR objective): 1 is the scenario engine's cost of supply lost (tonnes x price)."""
    suppliers_only: bool = False
    """With a supplier file: buy only from the named suppliers (no country market) at the
    stages where the file names any supplier of the mineral."""
    transition: Transition = field(default_factory=Transition)

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
            "refining data are shares only); a named supplier offers its own capacity",
            "cost per tonne of a path = price x (1 + mine-side premium + refining-side "
            f"premium); default premium {self.premium_default:.0%}, by country: {named}",
            "price: latest USGS price up to the data year (refined product per tonne; the ore "
            f"price where there is no refined one); overrides (USD/t): {prices}; default for "
            "a mineral without a price: "
            + ("none (an error)" if self.price_default is None else f"{self.price_default:,.0f}"),
            f"minimum order per country and stage: {orders}",
            f"a country counts towards min_sources when it supplies >= "
            f"{self.min_source_share:.0%} of demand at the stage",
            f"risk proxy (linear): share of the stage tonnes from group '{self.risk_group}'",
            f"CVaR shortfall cost: {self.shortfall_penalty:g} x the price per tonne not "
            "delivered in a scenario draw",
            "OTHER (USGS residual, no named country) is not a source one can contract",
            "exclude rules apply to the country of location, and also to a named supplier's "
            "owner where the supplier file gives one (country markets have no known owner)",
            f"data year: {self.year or 'latest'}",
        ]

    def transition_lines(self, first: int, last: int) -> list[str]:
        """The transition assumptions, for a path from ``first`` to ``last``."""
        move = self.transition
        phase = ", ".join(f"{y} {p:.0%}" for y, p in sorted(move.phase.items()))
        growth = ", ".join(f"{c} {g:.0%}" for c, g in sorted(
            move.capacity_growth_by_country.items())) or "none"
        targets = "; ".join(f"{rule}: " + ", ".join(f"{y} {v:.0%}" for y, v in sorted(
            points.items())) for rule, points in sorted(move.targets.items())) or "none"
        return [
            f"years {first}-{last}, each planned on its own (no contracts carried over)",
            f"max_share caps tighten from none to the pack's limit by phase: {phase} (linear "
            "between); exclude and min_sources rules apply in full every year; "
            "partner_value_share uses the pack's threshold for each year",
            f"explicit cap schedules: {targets}",
            f"capacity grows {move.capacity_growth:.0%} a year from {first}; by country: "
            f"{growth}; a named supplier's capacity starts in its start_year",
            f"country premiums fall {move.premium_decline:.0%} a year from {first} "
            "(new supply learning and scaling)",
            f"demand grows {move.demand_growth:.0%} a year",
        ]


def _number(value: Any, where: str, name: str, *, low: float = 0.0,
            high: float = math.inf) -> float:
    if (not isinstance(value, int | float) or isinstance(value, bool)
            or not math.isfinite(value) or not low <= value <= high):
        bounds = f"from {low:g} to {high:g}" if math.isfinite(high) else f">= {low:g}"
        raise InputError(f"{where}: field {name}: {value!r} is not a number {bounds}",
                         field=name, value=repr(value))
    return float(value)


def _share(doc: Mapping[str, Any], name: str, default: float, where: str,
           high: float = 10.0) -> float:
    return _number(doc.get(name, default), where, name, high=high)


def _number_map(doc: Mapping[str, Any], name: str, where: str, high: float = math.inf,
                low: float = 0.0) -> dict[str, float]:
    raw = doc.get(name) or {}
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: field {name}: expected a mapping of name -> number",
                         field=name)
    return {str(key): _number(value, where, f"{name}.{key}", low=low, high=high)
            for key, value in raw.items()}


def _year_map(raw: Any, where: str, name: str, high: float = 1.0) -> dict[int, float]:
    if not isinstance(raw, Mapping) or not raw:
        raise InputError(f"{where}: field {name}: expected a mapping year -> number",
                         hint=f"write e.g. {name}: {{2026: 0.9, 2030: 0.65}}", field=name)
    out = {}
    for key, value in raw.items():
        if isinstance(key, bool) or not isinstance(key, int) or not 1900 <= key <= 2200:
            raise InputError(f"{where}: field {name}: {key!r} is not a year", field=name)
        out[key] = _number(value, where, f"{name}.{key}", high=high)
    return out


def _transition(raw: Any, where: str) -> Transition:
    if raw is None:
        return Transition()
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: field transition: expected a mapping",
                         hint=f"fields: {', '.join(TRANSITION_FIELDS)}", field="transition")
    unknown = sorted(set(map(str, raw)) - set(TRANSITION_FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown field transition.{unknown[0]}",
                         hint=f"fields: {', '.join(TRANSITION_FIELDS)}",
                         field=f"transition.{unknown[0]}")
    base = Transition()
    targets_raw = raw.get("targets") or {}
    if not isinstance(targets_raw, Mapping):
        raise InputError(f"{where}: field transition.targets: expected rule id -> "
                         "{year: limit}", field="transition.targets")
    growth = {countries.to_iso3(str(code)): rate for code, rate in _number_map(
        raw, "capacity_growth_by_country", f"{where}: transition", high=10.0, low=-0.5
    ).items()}
    return Transition(
        phase=_year_map(raw["phase"], where, "transition.phase") if "phase" in raw
        else base.phase,
        targets={str(rule): _year_map(points, where, f"transition.targets.{rule}")
                 for rule, points in targets_raw.items()},
        capacity_growth=_number(raw.get("capacity_growth", base.capacity_growth), where,
                                "transition.capacity_growth", low=-0.5, high=10.0),
        capacity_growth_by_country=growth,
        premium_decline=_number(raw.get("premium_decline", base.premium_decline), where,
                                "transition.premium_decline", high=1.0),
        demand_growth=_number(raw.get("demand_growth", base.demand_growth), where,
                              "transition.demand_growth", low=-0.5, high=10.0),
    )  # fmt: skip


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
    for key, value in _number_map(doc, "premium", where, high=10.0).items():
        premium[countries.to_iso3(key)] = value
    price_default = doc.get("price_default")
    if price_default is not None:
        price_default = _number(price_default, where, "price_default")
    year = doc.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise InputError(f"{where}: field year: {year!r} is not a year", field="year")
    only = doc.get("suppliers_only", False)
    if not isinstance(only, bool):
        raise InputError(f"{where}: field suppliers_only: {only!r} is not true or false",
                         field="suppliers_only")
    return Assumptions(
        capacity_share=_share(doc, "capacity_share", base.capacity_share, where, high=1.0),
        premium_default=_share(doc, "premium_default", base.premium_default, where),
        premium=premium,
        min_order_t=_number_map(doc, "min_order_t", where),
        min_source_share=_share(doc, "min_source_share", base.min_source_share, where, 1.0),
        prices=_number_map(doc, "prices", where),
        price_default=price_default,
        risk_group=str(doc.get("risk_group", base.risk_group)),
        year=year,
        shortfall_penalty=_share(doc, "shortfall_penalty", base.shortfall_penalty, where,
                                 high=1000.0),
        suppliers_only=only,
        transition=_transition(doc.get("transition"), where),
    )  # fmt: skip


def load_assumptions(path: Path) -> Assumptions:
    """Assumptions from a YAML file."""
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputError(f"cannot read the assumptions file {path}: {error}",
                         file=str(path), field="assumptions") from None
    return parse_assumptions(doc, path.name)
