"""Domain types shared by every pillar: minerals, stages of supply, country groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Stage = Literal["mining", "refining"]
"""A stage of supply: ``mining`` (extraction, reserves) or ``refining`` (processing,
smelting, refining)."""

STAGES: tuple[Stage, ...] = get_args(Stage)

Measure = Literal["production", "capacity", "reserves", "share"]
MEASURES: tuple[Measure, ...] = get_args(Measure)


@dataclass(frozen=True)
class Mineral:
    """A mineral commodity Kizuna knows, keyed by a stable slug (see minerals.yaml)."""

    slug: str
    name: str
    symbol: str | None
    group: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class CountryGroup:
    """A named set of countries (ISO 3166-1 alpha-3), e.g. G7 or the countries of concern."""

    id: str
    name: str
    members: frozenset[str]
    description: str
    source: str
