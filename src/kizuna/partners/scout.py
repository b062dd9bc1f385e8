"""Partner scouting: rank the countries of one mineral and stage by a transparent score.

``scout(ds, mineral, stage=..., exclude=..., weights=..., partners=...)`` gathers every
factor's raw value with its source (``gather``), normalises and weights them over all the
candidates (``score``), then drops the excluded countries and sorts the rest. The result
says, for every country and factor, the raw value, its unit, year and sources, the
normalised value, the weight and the points it adds; ``to_json()`` is the CLI's ``--json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kizuna.errors import InputError
from kizuna.minerals.groups import resolve_group
from kizuna.minerals.selection import check_stage
from kizuna.model.countries import is_aggregate, to_iso3
from kizuna.partners.factors import BY_NAME, FACTOR_NAMES
from kizuna.partners.gather import Gathered, Raw, gather
from kizuna.partners.score import rank, score_table
from kizuna.partners.weights import Weights, resolve_weights

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset
    from kizuna.model import CountryGroup

DEFAULT_PARTNERS = ("g7", "quad", "msp", "eu27")
"""The shipped allied groups (groups.yaml) alignment counts by default; not ``concern``."""


@dataclass(frozen=True)
class FactorScore:
    """One factor of one country: raw value and provenance, normalised value, weight, points."""

    raw: Raw
    normalised: float
    weight: float
    contribution: float

    def to_json(self) -> dict[str, Any]:
        raw = self.raw
        return {
            "raw": raw.value, "unit": raw.unit, "year": raw.year, "status": raw.status,
            "normalised": self.normalised, "weight": self.weight,
            "contribution": self.contribution, "note": raw.note,
            "sources": [source.to_json() for source in raw.sources],
        }  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """A ranked country."""

    rank: int
    iso3: str
    name: str
    score: float
    factors: Mapping[str, FactorScore]

    @property
    def missing(self) -> list[str]:
        """Factors with no figure for this country (each scored 0)."""
        return [name for name, value in self.factors.items() if value.raw.status == "missing"]

    def to_json(self) -> dict[str, Any]:
        return {
            "iso3": self.iso3, "name": self.name, "rank": self.rank, "score": self.score,
            "factors": {name: value.to_json() for name, value in self.factors.items()},
            "missing": self.missing,
        }  # fmt: skip


@dataclass(frozen=True)
class Exclusion:
    """What one ``--exclude`` value named, and the countries it removed."""

    given: str
    kind: str  # group | country
    members: frozenset[str]


@dataclass
class Scouting:
    """The ranking and everything needed to explain it."""

    mineral: str
    name: str
    stage: str
    weights: Weights
    partners: tuple[CountryGroup, ...]
    exclusions: tuple[Exclusion, ...]
    candidates: list[Candidate]
    removed: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)

    @property
    def estimated(self) -> bool:
        """True when any figure behind the ranking is marked an estimate by its source."""
        return any(source.estimated for candidate in self.candidates
                   for value in candidate.factors.values() for source in value.raw.sources)

    def to_json(self) -> list[dict[str, Any]]:
        """The ``--json`` contract: a list, best first, of ``{"iso3", "score", "factors"}``."""
        return [candidate.to_json() for candidate in self.candidates]

    def describe(self) -> dict[str, Any]:
        """What was ranked and how: for the CLI's legend and the page."""
        return {
            "mineral": self.mineral, "name": self.name, "stage": self.stage,
            "weights": dict(self.weights.values), "weights_source": self.weights.describe(),
            "partners": [group.id for group in self.partners],
            "excluded": [{"given": e.given, "kind": e.kind, "members": sorted(e.members)}
                         for e in self.exclusions],
            "removed": list(self.removed), "notes": list(self.notes),
            "factors": [{"name": name, "label": BY_NAME[name].label,
                         "raw": BY_NAME[name].raw,
                         "normalisation": BY_NAME[name].normalisation,
                         "weight": self.weights.values[name],
                         "sources": self.sources.get(name, [])} for name in FACTOR_NAMES],
        }  # fmt: skip


def resolve_exclusions(groups: Mapping[str, CountryGroup],
                       given: Iterable[str]) -> tuple[Exclusion, ...]:
    """Each value is a group id (see ``kizuna groups list``), an ISO3 code or a country name;
    commas separate several in one value."""
    out = []
    for value in given:
        for part in str(value).split(","):
            text = part.strip()
            if not text:
                continue
            out.append(_exclusion(text, groups))
    return tuple(out)


def _exclusion(text: str, groups: Mapping[str, CountryGroup]) -> Exclusion:
    """A group id as written wins, then a country (so CAN is Canada), then a group id in
    any case (CONCERN)."""
    if text in groups:
        return Exclusion(text, "group", frozenset(groups[text].members))
    hint = ("give a country group (" + ", ".join(sorted(groups)) + "), an ISO3 code such as "
            "COD or a country name")
    try:
        iso3 = to_iso3(text.upper() if len(text) == 3 else text)
    except InputError:
        if text.casefold() in groups:
            return Exclusion(text, "group", frozenset(groups[text.casefold()].members))
        raise InputError(f"--exclude {text!r} is neither a country group nor a country",
                         hint=hint, field="exclude", value=text) from None
    if is_aggregate(iso3):
        raise InputError(f"--exclude {text!r} is an aggregate, not a country", hint=hint,
                         field="exclude", value=text)
    return Exclusion(text, "country", frozenset({iso3}))


def _partner_groups(groups: Mapping[str, CountryGroup],
                    partners: Sequence[str]) -> tuple[CountryGroup, ...]:
    chosen: list[CountryGroup] = []
    for group_id in partners:
        group = resolve_group(groups, group_id)
        if group not in chosen:
            chosen.append(group)
    if not chosen:
        raise InputError("alignment needs at least one partner group", field="partner",
                         hint="e.g. --partner msp (groups: " + ", ".join(sorted(groups)) + ")")
    return tuple(chosen)


def _factor_sources(gathered: Gathered) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, raws in gathered.raws.items():
        seen: dict[str, None] = {}
        for raw in raws:
            for source in raw.sources:
                year = "" if source.year is None else f" {source.year}"
                seen.setdefault(f"{source.source}{year}{'e' if source.estimated else ''}")
        out[name] = sorted(seen)
    return out


def _raw_array(raws: Sequence[Raw]) -> np.ndarray:
    values = []
    for raw in raws:
        if raw.status == "unbounded":
            values.append(np.inf)
        elif raw.value is None:
            values.append(np.nan)
        else:
            values.append(raw.value)
    return np.asarray(values, dtype=np.float64)


def scout(
    ds: Dataset,
    mineral: str,
    *,
    stage: str = "mining",
    exclude: Iterable[str] = (),
    weights: Weights | None = None,
    partners: Sequence[str] = DEFAULT_PARTNERS,
    groups: Mapping[str, CountryGroup] | None = None,
    wgi_missing: float = 5.0,
) -> Scouting:
    """Rank the candidate countries for ``mineral`` at ``stage`` (see the module docstring).

    ``groups`` are the country groups partner and exclusion names resolve in (default: the
    shipped ones; pass ``effective_groups`` for the store's edits). ``weights`` default to the
    stage's shipped weights.
    """
    check_stage(stage)
    known = ds.groups if groups is None else groups
    partner_groups = _partner_groups(known, partners)
    exclusions = resolve_exclusions(known, exclude)
    chosen = weights or resolve_weights(stage)
    gathered = gather(ds, mineral, stage, partners=partner_groups, wgi_missing=wgi_missing)
    raw = {name: _raw_array(gathered.raws[name]) for name in FACTOR_NAMES}
    normalised, points = score_table(raw, chosen.values, partner_groups=len(partner_groups))
    scores = points.sum(axis=1)
    banned = frozenset().union(*(e.members for e in exclusions))
    codes = gathered.countries
    order = rank(np.round(scores, 9), codes, [code not in banned for code in codes])
    candidates = []
    for position, index in enumerate(order, start=1):
        factors = {
            name: FactorScore(gathered.raws[name][index], float(normalised[index, column]),
                              float(chosen.values[name]), float(points[index, column]))
            for column, name in enumerate(FACTOR_NAMES)
        }
        candidates.append(Candidate(position, codes[index], ds.country_name(codes[index]),
                                    float(scores[index]), factors))
    return Scouting(
        mineral=gathered.mineral, name=gathered.name, stage=stage, weights=chosen,
        partners=partner_groups, exclusions=exclusions, candidates=candidates,
        removed=tuple(code for code in codes if code in banned), notes=gathered.notes,
        sources=_factor_sources(gathered),
    )
