"""A rule pack's rules as rows of the sourcing model, at both stages at once.

``max_share`` -> one row per covered country (or one for a group), <= limit x demand;
``exclude`` -> the tonnes located in (and, with ``ownership: true``, bought from suppliers
owned in) the excluded countries = 0; ``min_sources`` -> a count of binaries;
``partner_value_share`` -> one row: the value of the covered minerals extracted *or*
processed in a partner country >= threshold x their whole value. On a transition path the
caps follow ``Assumptions.transition`` (docs/sourcing.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kizuna.data.bundle import Dataset
from kizuna.errors import InputError, NotFoundError
from kizuna.exposure.rules import Pack, Rule
from kizuna.model import countries
from kizuna.model.types import STAGES, CountryGroup
from kizuna.sourcing.build import Coeffs, PartnerRule, Row, SourcingModel


def rule_minerals(ds: Dataset | None, pack: Pack, spec: Any) -> frozenset[str] | None:
    """The minerals a rule covers (None: all)."""
    if spec in (None, "all"):
        return None
    if isinstance(spec, str) and spec.startswith("list:"):
        if ds is None:
            raise InputError(f"{pack.id}: mineral lists need the dataset", field="minerals")
        members = ds.list_members
        chosen = members[members["list_id"] == spec.removeprefix("list:")]
        if chosen.empty:
            raise InputError(f"{pack.id}: unknown mineral list {spec!r}", field="minerals")
        return frozenset(str(m) for m in chosen["mineral"])
    names = spec if isinstance(spec, list) else [spec]
    if ds is None:
        return frozenset(str(n) for n in names)
    try:
        return frozenset(ds.mineral(str(n)).slug for n in names)
    except NotFoundError as error:
        raise InputError(f"{pack.id}: {error.message}", field="minerals") from None


def rule_countries(pack: Pack, spec: Any, groups: Mapping[str, CountryGroup]) -> frozenset[str]:
    if isinstance(spec, str) and spec.startswith("group:"):
        name = spec.removeprefix("group:")
        if name not in groups:
            raise InputError(f"{pack.id}: unknown country group {name!r}",
                             hint=f"groups: {', '.join(sorted(groups))}", field="countries")
        return groups[name].members
    return frozenset(countries.to_iso3(str(v)) for v in (spec if isinstance(spec, list)
                                                          else [spec]))


def apply_pack(ds: Dataset | None, model: SourcingModel, pack: Pack,
               groups: Mapping[str, CountryGroup]) -> None:
    """Add every rule of ``pack`` to ``model`` (before :func:`finish`)."""
    for rule in pack.rules:
        wanted = rule_minerals(ds, pack, rule.spec.get("minerals"))
        if rule.kind == "partner_value_share":
            _partner_value_share(model, pack, rule, wanted)
            continue
        limit = _limit_in_force(model, rule)
        if limit is None:
            continue
        for mineral, stages in model.stages.items():
            if wanted is not None and mineral not in wanted:
                continue
            for stage in stages:
                if stage in rule.spec.get("stages", STAGES):
                    _rule_rows(model, pack, rule, limit, mineral, stage, groups)


def _limit_in_force(model: SourcingModel, rule: Rule) -> float | None:
    """The rule's cap in the model's year (None: the rule puts no cap this year)."""
    if rule.kind == "min_sources":
        return 0.0
    base = float(rule.spec["limit"]) if rule.kind == "max_share" else 0.0
    if model.year is None:
        model.limits[rule.id] = base
        return base
    move = model.assumptions.transition
    explicit = move.limit(rule.id, model.year)
    if explicit is not None:
        limit = explicit
    elif rule.kind == "max_share":
        limit = 1.0 - move.phase_in(model.year) * (1.0 - base)
    else:
        limit = base
    model.limits[rule.id] = limit
    return None if limit >= 1.0 else limit


def _rule_rows(model: SourcingModel, pack: Pack, rule: Rule, limit: float, mineral: str,
               stage: str, groups: Mapping[str, CountryGroup]) -> None:
    demand = model.demand[mineral]
    here = model.countries(mineral, stage)
    group = f"rule:{rule.id}"
    spec = rule.spec
    if rule.kind == "max_share":
        if spec["who"] == "any-country":
            exempt = rule_countries(pack, spec["except"], groups) if "except" in spec \
                else frozenset()
            for iso3 in here:
                if iso3 not in exempt:
                    model.rows.append(Row(group, mineral, stage,
                                          model.through(mineral, stage, iso3), 0.0,
                                          limit * demand, f"{mineral} {stage}: {iso3} <= "
                                          f"{limit:.0%} ({rule.id})"))
            return
        members = rule_countries(pack, spec["who"], groups)
        coeffs: Coeffs = {}
        for iso3 in here:
            if iso3 in members:
                coeffs.update(model.through(mineral, stage, iso3))
        model.rows.append(Row(group, mineral, stage, coeffs, 0.0, limit * demand,
                              f"{mineral} {stage}: {spec['who']} <= {limit:.0%} ({rule.id})"))
    elif rule.kind == "exclude":
        _exclude(model, pack, rule, limit, mineral, stage, groups)
    elif rule.kind == "min_sources":
        model.rows.append(Row(group, mineral, stage, {}, float(spec["count"]), float("inf"),
                              f"{mineral} {stage}: at least {spec['count']} countries "
                              f"({rule.id})"))


def _exclude(model: SourcingModel, pack: Pack, rule: Rule, limit: float, mineral: str,
             stage: str, groups: Mapping[str, CountryGroup]) -> None:
    banned = rule_countries(pack, rule.spec["countries"], groups)
    coeffs: Coeffs = {}
    located = sorted(banned & set(model.countries(mineral, stage)))
    for iso3 in located:
        coeffs.update(model.through(mineral, stage, iso3))
    owned = []
    if rule.spec.get("ownership"):
        for number, source in enumerate(model.sources):
            if ((source.mineral, source.stage) == (mineral, stage) and source.owner in banned
                    and source.iso3 not in banned):
                coeffs.update(model.via(number))
                owned.append(f"{source.supplier} (owned in {source.owner})")
    if not coeffs:
        return
    what = ", ".join(located + owned)
    text = (f"{mineral} {stage}: none from {what} ({rule.id})" if limit <= 0 else
            f"{mineral} {stage}: at most {limit:.0%} from {what} ({rule.id})")
    model.rows.append(Row(f"rule:{rule.id}", mineral, stage, coeffs, 0.0,
                          limit * model.demand[mineral], text))


def threshold_for(rule: Rule, year: int | None) -> tuple[int, float | None]:
    """(year used, threshold in force or None when the rule starts later)."""
    thresholds = {int(k): float(v) for k, v in rule.spec["thresholds"].items()}
    chosen = year if year is not None else int(rule.spec.get("default_year", max(thresholds)))
    applicable = [y for y in thresholds if y <= chosen]
    return chosen, thresholds[max(applicable)] if applicable else None


def _partner_value_share(model: SourcingModel, pack: Pack, rule: Rule,
                         wanted: frozenset[str] | None) -> None:
    """sum over covered paths of (qualifies - threshold) x price x tonnes >= 0, where a path
    qualifies when its mine *or* its refinery is in a partner country (the statute counts
    value extracted or processed there; a path knows both, so no independence proxy)."""
    year, threshold = threshold_for(rule, model.year)
    covered = tuple(sorted(m for m in model.stages if wanted is None or m in wanted))
    if threshold is None:
        model.notes.append(f"rule {rule.id}: no threshold in force in {year}")
        return
    model.limits[rule.id] = threshold
    if not covered:
        return
    partners = pack.partners
    scale = max(model.prices[m][0] for m in covered) or 1.0
    coeffs: Coeffs = {}
    for index, path in enumerate(model.paths):
        if path.mineral in covered:
            qualifies = float(path.at("mining") in partners or path.at("refining") in partners)
            value = model.prices[path.mineral][0] / scale
            if value > 0:
                coeffs[index] = (qualifies - threshold) * value
    model.partner_rules.append(PartnerRule(rule.id, threshold, year, covered, partners))
    model.rows.append(Row(f"rule:{rule.id}", "*", "*", coeffs, 0.0, float("inf"),
                          f"value of {', '.join(covered)} extracted or processed in the US "
                          f"or a partner >= {threshold:.0%} ({rule.id}, {year})"))
