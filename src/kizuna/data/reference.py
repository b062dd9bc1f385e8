"""The reference data shipped as YAML (minerals, country groups, list mapping), parsed into
typed objects. Parsing is lazy and cached; nothing is read at import time."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, cast

import yaml

from kizuna.errors import DataError
from kizuna.model.types import MEASURES, STAGES, CountryGroup, Measure, Mineral, Stage


@dataclass(frozen=True)
class UsgsMapping:
    """Which USGS MCS world-table rows feed one supply series of one mineral."""

    mineral: str
    commodity: str
    series: str
    details: tuple[str, ...]
    stage: Stage
    measure: Measure
    source_unit: str
    unit: str
    headline: bool


@dataclass(frozen=True)
class ListSpec:
    """How one list of the compiled critical-mineral lists maps to a Kizuna list id."""

    source_list_id: str
    list_name: str | None
    list_id: str
    complete: bool
    note: str


@dataclass(frozen=True)
class SupplyPointer:
    """Why a mineral has no supply figures at a stage, and which slugs hold them instead."""

    note: str
    see: tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    minerals: dict[str, Mineral]
    usgs: tuple[UsgsMapping, ...]
    skipped_usgs: dict[str, str]  # commodity -> reason
    groups: dict[str, CountryGroup]
    lists: tuple[ListSpec, ...]
    list_expansions: dict[str, tuple[str, ...]]
    supply_pointers: dict[tuple[str, str], SupplyPointer]  # (slug, stage) -> pointer


def _load_yaml(filename: str) -> dict[str, Any]:
    text = resources.files("kizuna.data").joinpath("reference", filename).read_text("utf-8")
    return cast(dict[str, Any], yaml.safe_load(text))


def _mineral(entry: dict[str, Any]) -> Mineral:
    return Mineral(
        slug=str(entry["slug"]),
        name=str(entry["name"]),
        symbol=None if entry.get("symbol") is None else str(entry["symbol"]),
        group=str(entry["group"]),
        aliases=tuple(str(a) for a in entry.get("aliases") or ()),
    )


def _mapping(slug: str, entry: dict[str, Any]) -> UsgsMapping:
    stage, measure = entry["stage"], entry["measure"]
    if stage not in STAGES or measure not in MEASURES:
        raise DataError(
            f"minerals.yaml: {slug}: bad stage/measure {stage!r}/{measure!r}",
            file="minerals.yaml",
            field="usgs",
        )
    details = tuple(str(d) for d in entry["details"])
    return UsgsMapping(
        mineral=slug,
        commodity=str(entry["commodity"]),
        series=str(entry.get("series") or details[0]),
        details=details,
        stage=stage,
        measure=measure,
        source_unit=str(entry["source_unit"]),
        unit=str(entry["unit"]),
        headline=bool(entry.get("headline", True)),
    )


def _check_unique(minerals: dict[str, Mineral], usgs: tuple[UsgsMapping, ...]) -> None:
    names: dict[str, str] = {}
    for mineral in minerals.values():
        for name in (mineral.slug, mineral.name, *mineral.aliases):
            owner = names.setdefault(name.casefold(), mineral.slug)
            if owner != mineral.slug:
                raise DataError(
                    f"minerals.yaml: name {name!r} is used by both {owner} and {mineral.slug}",
                    file="minerals.yaml",
                    field="aliases",
                )
    headlines: set[tuple[str, str, str]] = set()
    for m in usgs:
        if m.headline:
            key = (m.mineral, m.stage, m.measure)
            if key in headlines:
                raise DataError(
                    f"minerals.yaml: two headline series for {key}", file="minerals.yaml"
                )
            headlines.add(key)


def _supply_pointers(
    raw: list[dict[str, Any]], minerals: dict[str, Mineral]
) -> dict[tuple[str, str], SupplyPointer]:
    pointers: dict[tuple[str, str], SupplyPointer] = {}
    for entry in raw:
        slug, see = str(entry["slug"]), tuple(str(s) for s in entry.get("see") or ())
        unknown = [s for s in (slug, *see) if s not in minerals]
        stages = [str(stage) for stage in entry["stages"]]
        if unknown or not set(stages) <= set(STAGES):
            raise DataError(
                f"minerals.yaml: supply pointer for {slug!r} names unknown slugs {unknown} or "
                f"stages {stages}",
                file="minerals.yaml",
                field="supply_pointers",
            )
        for stage in stages:
            pointers[(slug, stage)] = SupplyPointer(" ".join(str(entry["note"]).split()), see)
    return pointers


def _groups(raw: dict[str, Any]) -> dict[str, CountryGroup]:
    groups: dict[str, CountryGroup] = {}
    for entry in raw["groups"]:
        source = f"{' '.join(str(entry['source']).split())} (as of {entry['as_of']})"
        groups[entry["id"]] = CountryGroup(
            id=str(entry["id"]),
            name=str(entry["name"]),
            members=frozenset(str(m) for m in entry["members"]),
            description=" ".join(str(entry["description"]).split()),
            source=source,
        )
    return groups


@cache
def reference() -> Reference:
    """Parse the shipped reference YAML once."""
    raw_minerals = _load_yaml("minerals.yaml")
    minerals = {m.slug: m for m in map(_mineral, raw_minerals["minerals"])}
    usgs = tuple(
        _mapping(str(entry["slug"]), spec)
        for entry in raw_minerals["minerals"]
        for spec in entry.get("usgs") or ()
    )
    _check_unique(minerals, usgs)
    skipped = {
        str(s["commodity"]): str(s["reason"]) for s in raw_minerals["skipped_usgs_commodities"]
    }
    raw_lists = _load_yaml("lists.yaml")
    lists = tuple(
        ListSpec(
            source_list_id=str(s["source_list_id"]),
            list_name=s.get("list_name"),
            list_id=str(s["list_id"]),
            complete=bool(s["complete"]),
            note=" ".join(str(s["note"]).split()),
        )
        for s in raw_lists["lists"]
    )
    expansions = {str(k): tuple(str(x) for x in v) for k, v in raw_lists["expand"].items()}
    for name, slugs in expansions.items():
        unknown = [s for s in slugs if s not in minerals]
        if unknown:
            raise DataError(f"lists.yaml: {name!r} expands to unknown slugs {unknown}")
    return Reference(
        minerals=minerals,
        usgs=usgs,
        skipped_usgs=skipped,
        groups=_groups(_load_yaml("groups.yaml")),
        lists=lists,
        list_expansions=expansions,
        supply_pointers=_supply_pointers(raw_minerals.get("supply_pointers") or [], minerals),
    )
