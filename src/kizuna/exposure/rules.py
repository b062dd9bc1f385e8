"""Compliance rule packs as data, evaluated against a product's exposure.

A pack is YAML (``kizuna/exposure/packs/*.yaml`` for the shipped ``eu-crma`` and
``us-ira-30d``, or a user's file) with an ``id``, a ``name``, a ``label`` that says truthfully
what the pack stands for, a ``source`` and a list of ``rules``. Rule kinds:

``max_share``
    No single country (``who: any-country``, optionally ``except: group:ID`` or a list), or a
    named country or ``group:ID`` taken together, above ``limit`` of a mineral's supply at a
    stage.
``exclude``
    No supply from ``countries`` (a list or ``group:ID``) at the stages; with
    ``ownership: true`` the BOM's supplier owners are checked where given, else the location
    (and the detail says it is a proxy).
``min_sources``
    At least ``count`` named countries supply the mineral at the stage.
``partner_value_share``
    The US 30D critical-mineral test: the share of the minerals' supply extracted *or*
    processed in a partner country at least ``thresholds[year]``.

``minerals`` is ``all`` (default), a list of slugs, or ``list:ID`` (an official list in the
bundled lists table). ``stages`` defaults to both. A mineral with no supply data at a stage a
rule covers fails that rule (fail closed: it cannot be shown to comply), and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from kizuna.data.bundle import Dataset
from kizuna.errors import InputError, NotFoundError
from kizuna.exposure.compute import Exposure
from kizuna.exposure.mixes import OTHER
from kizuna.model import countries
from kizuna.model.types import STAGES, CountryGroup

PACKS = ("eu-crma", "us-ira-30d")
KINDS = ("max_share", "exclude", "min_sources", "partner_value_share")
EXIT_FAILED = 3
"""``kizuna comply`` exit code when any rule fails (0: all pass; 1: errors)."""


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    spec: Mapping[str, Any]


@dataclass(frozen=True)
class Pack:
    id: str
    name: str
    label: str
    source: str
    rules: tuple[Rule, ...]
    partners: frozenset[str] = frozenset()


@dataclass
class Verdict:
    pack: Pack
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(result["passed"] for result in self.results)

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "pack": self.pack.id, "name": self.pack.name,
                "label": self.pack.label, "source": self.pack.source, "rules": self.results}


def load_pack(spec: str) -> Pack:
    """A shipped pack by id, or a YAML file."""
    if spec in PACKS:
        text = resources.files("kizuna.exposure").joinpath("packs", f"{spec}.yaml").read_text(
            "utf-8")
        return parse_pack(yaml.safe_load(text), spec)
    path = Path(spec)
    if not path.is_file():
        raise InputError(f"--rules {spec!r} is neither a shipped pack nor a file",
                         hint=f"use one of: {', '.join(PACKS)}, or a YAML rule file",
                         field="rules")
    try:
        doc = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputError(f"{path.name}: not a readable YAML rule file ({_first(error)})",
                         file=str(path)) from None
    return parse_pack(doc, path.name)


def _first(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def parse_pack(doc: Any, where: str) -> Pack:
    """Check a pack document; every problem names the file and the rule."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("rules"), list) or not doc["rules"]:
        raise InputError(f"{where}: a rule file is a mapping with a non-empty 'rules' list",
                         hint="see docs/exposure.md, 'Rule files'", file=where, field="rules")
    rules = []
    for index, item in enumerate(doc["rules"], start=1):
        if not isinstance(item, Mapping):
            raise InputError(f"{where}: rule {index} is not a mapping", file=where, field="rules")
        kind = item.get("kind")
        rule_id = str(item.get("id") or f"rule-{index}")
        if kind not in KINDS:
            raise InputError(f"{where}: rule {rule_id} has kind {kind!r}",
                             hint=f"use one of: {', '.join(KINDS)}", file=where, field="kind")
        _check_rule(where, rule_id, str(kind), item)
        rules.append(Rule(rule_id, str(kind), dict(item)))
    partners = doc.get("partners", {})
    members = partners.get("members", []) if isinstance(partners, Mapping) else []
    return Pack(
        id=str(doc.get("id") or where), name=str(doc.get("name") or where),
        label=str(doc.get("label") or "user rule file"), source=str(doc.get("source") or where),
        rules=tuple(rules), partners=frozenset(_codes(members, where)),
    )  # fmt: skip


def _check_rule(where: str, rule_id: str, kind: str, item: Mapping[str, Any]) -> None:
    def bad(field_name: str, why: str, hint: str) -> InputError:
        return InputError(f"{where}: rule {rule_id}, field {field_name}: {why}", hint=hint,
                          file=where, field=field_name)

    for stage in item.get("stages", STAGES):
        if stage not in STAGES:
            raise bad("stages", f"{stage!r} is not a stage", f"use {', '.join(STAGES)}")
    if kind == "max_share":
        limit = item.get("limit")
        if not isinstance(limit, int | float) or isinstance(limit, bool) or not 0 <= limit <= 1:
            raise bad("limit", f"{limit!r} is not a share from 0 to 1", "write e.g. limit: 0.65")
        if "who" not in item:
            raise bad("who", "missing", "write who: any-country, an ISO3 code or group:ID")
    if kind == "exclude" and "countries" not in item:
        raise bad("countries", "missing", "write countries: [CHN] or countries: group:concern")
    if kind == "min_sources":
        count = item.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise bad("count", f"{count!r} is not a positive whole number", "write count: 2")
    _check_countries(where, rule_id, item)
    if kind == "partner_value_share" and not isinstance(item.get("thresholds"), Mapping):
        raise bad("thresholds", "missing", "write thresholds: {2025: 0.6}")


def _check_countries(where: str, rule_id: str, item: Mapping[str, Any]) -> None:
    for name in ("countries", "except", "who"):
        value = item.get(name)
        if value is None or value == "any-country" or (
            isinstance(value, str) and value.startswith("group:")
        ):
            continue
        try:
            _codes(value, where)
        except InputError as error:
            why = error.message.removeprefix(where + ": ")
            raise InputError(
                f"{where}: rule {rule_id}, field {name}: {why}",
                hint="use ISO3 codes such as CHN, or group:ID", file=where, field=name,
            ) from None


def _codes(values: Any, where: str) -> list[str]:
    if not isinstance(values, list):
        values = [values]
    out = []
    for value in values:
        try:
            out.append(countries.to_iso3(str(value)))
        except InputError as error:
            raise InputError(f"{where}: {error.message}", hint=error.hint, file=where) from None
    return out


# ---------------------------------------------------------------- evaluation


class _Context:
    def __init__(self, ds: Dataset, pack: Pack, result: Exposure,
                 groups: Mapping[str, CountryGroup]) -> None:
        self.ds, self.pack, self.result, self.groups_in_force = ds, pack, result, groups

    def countries(self, spec: Any) -> frozenset[str]:
        if isinstance(spec, str) and spec.startswith("group:"):
            group = spec.removeprefix("group:")
            known = self.groups_in_force
            if group not in known:
                raise InputError(f"{self.pack.id}: unknown country group {group!r}",
                                 hint=f"groups: {', '.join(sorted(known))}",
                                 field="countries")
            return known[group].members
        return frozenset(_codes(spec, self.pack.id))

    def minerals(self, spec: Any) -> frozenset[str] | None:
        if spec in (None, "all"):
            return None
        if isinstance(spec, str) and spec.startswith("list:"):
            list_id = spec.removeprefix("list:")
            members = self.ds.list_members
            chosen = members[members["list_id"] == list_id]
            if chosen.empty:
                raise InputError(f"{self.pack.id}: unknown mineral list {list_id!r}",
                                 field="minerals")
            return frozenset(str(m) for m in chosen["mineral"])
        names = spec if isinstance(spec, list) else [spec]
        try:
            return frozenset(self.ds.mineral(str(name)).slug for name in names)
        except NotFoundError as error:
            raise InputError(f"{self.pack.id}: {error.message}", hint=error.hint,
                             field="minerals") from None

    def groups(self, rule: Rule) -> list[tuple[str, str, pd.DataFrame]]:
        """(mineral, stage, rows) the rule covers, in order."""
        wanted = self.minerals(rule.spec.get("minerals"))
        stages = rule.spec.get("stages", STAGES)
        rows = self.result.rows
        out = []
        for (mineral, stage), group in rows.groupby(["mineral", "stage"], sort=True):
            if stage in stages and (wanted is None or mineral in wanted):
                out.append((str(mineral), str(stage), group))
        return out


def evaluate(ds: Dataset, pack: Pack, result: Exposure, *, year: int | None = None,
             groups: Mapping[str, CountryGroup] | None = None) -> Verdict:
    """Every rule of ``pack`` against ``result``: one row per rule, mineral and stage."""
    context = _Context(ds, pack, result, groups or ds.groups)
    verdict = Verdict(pack)
    for rule in pack.rules:
        if rule.kind == "partner_value_share":
            verdict.results.append(_partner_share(context, rule, year))
            continue
        for mineral, stage, rows in context.groups(rule):
            verdict.results.append(_one(context, rule, mineral, stage, rows))
    return verdict


def _result(rule: Rule, mineral: str, stage: str, passed: bool, value: float | None,
            limit: float | None, detail: str) -> dict[str, Any]:
    return {"rule": rule.id, "mineral": mineral, "stage": stage, "passed": passed,
            "value": value, "limit": limit, "detail": detail}


def _one(context: _Context, rule: Rule, mineral: str, stage: str,
         rows: pd.DataFrame) -> dict[str, Any]:
    if rows["iso3"].isna().all():
        return _result(rule, mineral, stage, False, None, rule.spec.get("limit"),
                       f"{rows['basis'].iloc[0]}: cannot be shown to comply (fail closed)")
    named = rows[rows["iso3"].notna() & (rows["iso3"] != OTHER)]
    shares = dict(zip(named["iso3"], named["share"].astype(float), strict=True))
    if rule.kind == "max_share":
        return _max_share(context, rule, mineral, stage, shares)
    if rule.kind == "min_sources":
        count = int(rule.spec["count"])
        listed = ", ".join(sorted(shares))
        return _result(rule, mineral, stage, len(shares) >= count, float(len(shares)),
                       float(count), f"{len(shares)} named source countries ({listed})")
    return _exclude(context, rule, mineral, stage, shares)


def _max_share(context: _Context, rule: Rule, mineral: str, stage: str,
               shares: dict[str, float]) -> dict[str, Any]:
    limit = float(rule.spec["limit"])
    who = rule.spec["who"]
    if who == "any-country":
        exempt = context.countries(rule.spec["except"]) if "except" in rule.spec else frozenset()
        candidates = {c: s for c, s in shares.items() if c not in exempt}
        if not candidates:
            return _result(rule, mineral, stage, True, 0.0, limit,
                           "no supply from a country the rule covers")
        top = max(candidates, key=lambda c: candidates[c])
        value = candidates[top]
        detail = f"largest: {context.ds.country_name(top)} ({top}) {value:.1%}"
        if exempt:
            detail += " (exempt countries not counted)"
    else:
        members = context.countries(who)
        value = sum(s for c, s in shares.items() if c in members)
        detail = f"{who} together {value:.1%}"
    verb = "above" if value > limit else "within"
    return _result(rule, mineral, stage, value <= limit, value, limit,
                   f"{detail}, {verb} the {limit:.0%} limit")


def _exclude(context: _Context, rule: Rule, mineral: str, stage: str,
             shares: dict[str, float]) -> dict[str, Any]:
    banned = context.countries(rule.spec["countries"])
    owners = {
        line.owners[stage]
        for line in context.result.product.lines
        if line.mineral == mineral and stage in line.owners
    }
    if rule.spec.get("ownership") and owners:
        hit = sorted(owners & banned)
        value = 1.0 if hit else 0.0
        detail = (f"supplier owned or controlled in {', '.join(hit)}" if hit
                  else "supplier owners named in the BOM are outside the excluded countries")
        return _result(rule, mineral, stage, not hit, value, 0.0, detail)
    value = sum(s for c, s in shares.items() if c in banned)
    hit = sorted(c for c, s in shares.items() if c in banned and s > 0)
    detail = (f"{value:.1%} from {', '.join(hit)}" if hit else "none from the excluded countries")
    if rule.spec.get("ownership"):
        detail += " (country-of-location proxy: the BOM names no supplier owners)"
    return _result(rule, mineral, stage, not hit, value, 0.0, detail)


def _partner_share(context: _Context, rule: Rule, year: int | None) -> dict[str, Any]:
    thresholds = {int(k): float(v) for k, v in rule.spec["thresholds"].items()}
    chosen = year if year is not None else int(rule.spec.get("default_year", max(thresholds)))
    applicable = [y for y in thresholds if y <= chosen]
    if not applicable:
        raise InputError(f"{context.pack.id}: no threshold for {chosen} (first: "
                         f"{min(thresholds)})", field="year")
    limit = thresholds[max(applicable)]
    partners = context.pack.partners
    total, qualifying, missing = 0.0, 0.0, []
    by_mineral: dict[str, dict[str, float]] = {}
    for mineral, stage, rows in context.groups(rule):
        tonnes = float(rows["tonnes"].sum())
        if rows["iso3"].isna().all():
            missing.append(f"{mineral} {stage}")
        share = float(rows[rows["iso3"].isin(partners)]["share"].sum())
        by_mineral.setdefault(mineral, {"tonnes": tonnes})[stage] = share
    for parts in by_mineral.values():
        outside = 1.0
        for stage in STAGES:
            outside *= 1.0 - parts.get(stage, 0.0)
        total += parts["tonnes"]
        qualifying += parts["tonnes"] * (1.0 - outside)
    value = qualifying / total if total else 0.0
    detail = (f"{value:.1%} of the covered minerals' tonnes extracted or processed in the US "
              f"or a partner (tonnage as a proxy for value; the stages' origins taken as "
              f"independent), threshold for {chosen}: {limit:.0%}")
    if missing:
        detail += f"; no supply data for {', '.join(missing)} (counted as outside)"
    return _result(rule, "*", "extraction or processing", value >= limit, value, limit, detail)
