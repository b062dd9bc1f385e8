"""What a parsed scenario is: plain frozen dataclasses, one per part of the file format.

The YAML format (docs/scenarios.md) is read by ``kizuna.scenarios.loader``, which checks
every field and names the YAML path of any error; the dataclasses here only hold the result.
Minerals are canonical slugs and countries ISO3 codes by the time they get here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kizuna.scenarios.distributions import Distribution

EVENT_KINDS = ("export_ban", "export_quota", "facility_outage", "demand_surge")
"""export_ban: a share of a country's stage output withheld from the market;
export_quota: only an allowed share or tonnage may leave; facility_outage: capacity offline
(a country's stage share or a named facility); demand_surge: extra demand for a mineral."""

CAUSES = ("cyber", "accident", "natural-hazard", "strike", "conflict", "sanctions", "other")
"""Why a facility is offline; informative (reported), it does not change the arithmetic."""

MEASURES = ("share", "allowed_share", "allowed_tonnes_per_year", "capacity_tonnes_per_year")
"""What an event's severity is: the share of the country's stage output cut; the share (or
tonnes a year) a quota still lets out; or a named facility's capacity in tonnes a year."""

ALLOCATIONS = ("pro-rata", "priority")
"""How a mineral's shortfall is shared among the chosen products."""

PRESETS = ("japan-60-day",)
"""Named mitigation presets (see loader.PRESET_SOURCES for what each rests on)."""


@dataclass(frozen=True)
class Event:
    """One uncertain disruption; ``minerals`` and ``stages`` it acts on together."""

    index: int
    where: str  # YAML path, e.g. "events[2]"
    kind: str
    label: str
    country: str | None  # ISO3; None for demand_surge
    minerals: tuple[str, ...]
    stages: tuple[str, ...]  # () = every stage with data (demand_surge only)
    measure: str
    severity: Distribution
    start: Distribution  # days from the start of the horizon
    duration: Distribution  # days
    probability: float
    cause: str | None = None
    facility: str | None = None
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class Response:
    """Supply or demand that answers a shortfall after a lag: spare capacity elsewhere,
    substitution or recycling. ``share`` is a fraction of the stage's baseline supply."""

    kind: str  # spare_capacity | substitution | recycling
    mineral: str
    stage: str | None  # None: spare capacity at every stage, offsets at the final stage
    share: float
    lag_days: float
    where: str


@dataclass(frozen=True)
class Stockpile:
    """Days of the mineral's baseline consumption held in stock, released before shortfall."""

    mineral: str
    days: float
    stage: str | None  # None: the mineral's final stage (what its users buy)
    origin: str  # "file" or "preset japan-60-day"


@dataclass(frozen=True)
class Elasticity:
    """Price elasticities of demand (< 0) and supply (>= 0) for one mineral, with a source."""

    mineral: str
    demand: float
    supply: float
    source: str


@dataclass(frozen=True)
class ProductChoice:
    """A shipped product template, its annual volume (units a year) and parameters."""

    id: str
    volume: float = 1.0
    params: dict[str, str | float] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """A parsed, checked scenario file."""

    id: str
    name: str
    origin: str  # file name or "examples/<id>.yaml"
    events: tuple[Event, ...]
    description: str = ""
    year: int | None = None
    horizon_days: int = 365
    step_days: int = 1
    perspective: str | None = None
    stockpiles: tuple[Stockpile, ...] = ()
    responses: tuple[Response, ...] = ()
    elasticities: tuple[Elasticity, ...] = ()
    presets: tuple[str, ...] = ()
    products: tuple[ProductChoice, ...] = ()
    allocation: str = "pro-rata"
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def minerals(self) -> tuple[str, ...]:
        """Every mineral an event names, in first-seen order."""
        return tuple(dict.fromkeys(m for event in self.events for m in event.minerals))
