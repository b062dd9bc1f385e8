"""Read and check scenario files: every problem is one line naming the file and YAML path.

``load_scenario(spec)`` takes a shipped example id (``kizuna scenario list``) or a path;
``parse_scenario_text(text, origin=...)`` takes YAML text (the web page's editor). Both check
the whole file before anything runs: unknown keys (with a "did you mean"), wrong types,
unknown countries, minerals and stages, negative durations, probabilities and shares outside
[0, 1], malformed distributions, and the data the events need (a mineral without supply data
at a stage, a tonnage quota where the data give shares only). Errors are ``InputError`` with
``file`` and ``field`` (the YAML path, e.g. ``events[2].duration_days``).
"""

from __future__ import annotations

import difflib
import math
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kizuna.data.bundle import Dataset, load_dataset
from kizuna.errors import InputError
from kizuna.model.types import STAGES
from kizuna.scenarios.distributions import Distribution
from kizuna.scenarios.parsing import Parser, article, join_path, kind_of
from kizuna.scenarios.schema import (
    ALLOCATIONS,
    CAUSES,
    EVENT_KINDS,
    PRESETS,
    Elasticity,
    Event,
    ProductChoice,
    Response,
    Scenario,
    Stockpile,
)

EXAMPLE_IDS: tuple[str, ...] = (
    "china-rare-earth-mining-ban",
    "china-rare-earth-controls-2025",
    "china-gallium-controls",
    "drc-cobalt-2025",
    "china-graphite-anode-controls",
    "cobalt-refinery-cyber-outage",
)
"""The shipped example scenarios, one YAML file each in kizuna/scenarios/examples."""

PRESET_SOURCES = {
    "japan-60-day": (
        "Japan's national stockpile target of 60 days of domestic consumption for rare metals "
        "(International Resource Strategy, March 2020; IEA Policies database, 'International "
        "Resource Strategy - National stockpiling system', "
        "https://www.iea.org/policies/16639-international-resource-strategy-national-"
        "stockpiling-system); applied to the scenario's minerals on METI's rare-metals list "
        "(jp-rare-metals)"
    ),
}
JAPAN_DAYS = 60.0
JAPAN_LIST = "jp-rare-metals"
RARE_EARTHS = "rare-earths"
MAX_HORIZON = 3650

_TOP = ("id", "name", "description", "year", "horizon_days", "step_days", "perspective",
        "events", "mitigations", "market", "products", "allocation", "sources", "notes")
_EVENT = ("kind", "label", "country", "mineral", "minerals", "stage", "share", "allowed_share",
          "allowed_tonnes_per_year", "facility", "cause", "start_day", "duration_days",
          "probability", "source", "note")
_FACILITY = ("name", "capacity_tonnes_per_year")
_MITIGATIONS = ("preset", "stockpile_days", "substitution", "recycling", "spare_capacity")
_STOCK = ("days", "stage")
_OFFSET = ("share", "lag_days")
_SPARE = ("share", "lag_days", "stage")
_MARKET = ("elasticities",)
_ELASTICITY = ("demand", "supply", "source")
_PRODUCT = ("id", "volume", "params")
_MEASURE_OF_KIND = {
    "export_ban": ("share",),
    "facility_outage": ("share", "facility"),
    "export_quota": ("allowed_share", "allowed_tonnes_per_year"),
    "demand_surge": ("share",),
}


# --- the file, part by part --------------------------------------------------------------------


class _ScenarioParser(Parser):
    def scenario(self, raw: object, default_id: str) -> Scenario:
        if raw is None:
            raise self.fail("", "the file is empty", hint="see docs/scenarios.md")
        top = self.mapping(raw, "", _TOP)
        for key in ("name", "events"):
            if key not in top:
                raise self.fail(key, f"missing {key!r}", hint="a scenario needs a name and "
                                "a list of events (docs/scenarios.md)")
        horizon = self.integer(top.get("horizon_days", 365), "horizon_days", 1, MAX_HORIZON)
        step = self.integer(top.get("step_days", 1), "step_days", 1, horizon)
        events = self.events(top["events"], float(horizon))
        mitigations = self.mitigations(top.get("mitigations") or {})
        return Scenario(
            id=self.text(top.get("id", default_id), "id"),
            name=self.text(top["name"], "name"),
            origin=self.origin,
            events=events,
            description=self.text(top["description"], "description")
            if "description" in top else "",
            year=self.year(top.get("year")),
            horizon_days=horizon,
            step_days=step,
            perspective=self.text(top["perspective"], "perspective")
            if top.get("perspective") is not None else None,
            stockpiles=mitigations[0],
            responses=mitigations[1],
            presets=mitigations[2],
            elasticities=self.market(top.get("market") or {}),
            products=self.products(top.get("products") or []),
            allocation=self.choice(top.get("allocation", "pro-rata"), "allocation", ALLOCATIONS,
                                   "allocation"),
            sources=tuple(self.text(s, f"sources[{i}]")
                          for i, s in enumerate(self.listing(top.get("sources") or [], "sources"))),
            notes=tuple(self.text(s, f"notes[{i}]")
                        for i, s in enumerate(self.listing(top.get("notes") or [], "notes"))),
        )  # fmt: skip

    def year(self, raw: object) -> int | None:
        if raw is None:
            return None
        year = self.integer(raw, "year", 1900, 2100)
        years = {int(y) for y in self.ds.supply["year"].dropna().unique()}
        if year not in years:
            raise self.fail("year", f"no supply data for {year}",
                            hint=f"years with data: {', '.join(str(y) for y in sorted(years))}")
        return year

    def events(self, raw: object, horizon: float) -> tuple[Event, ...]:
        items = self.listing(raw, "events")
        if not items:
            raise self.fail("events", "the list of events is empty", hint="add at least one "
                            "event, e.g. kind: export_ban")
        return tuple(self.event(item, index, horizon) for index, item in enumerate(items))

    def event(self, raw: object, index: int, horizon: float) -> Event:
        where = f"events[{index}]"
        item = self.mapping(raw, where, _EVENT)
        if "kind" not in item:
            raise self.fail(where, "missing 'kind'", hint=f"use one of: {', '.join(EVENT_KINDS)}")
        kind = self.choice(item["kind"], join_path(where, "kind"), EVENT_KINDS, "event kind")
        country = None
        if kind != "demand_surge":
            if "country" not in item:
                raise self.fail(where, f"missing 'country' ({article(kind)} needs one)",
                                hint="an ISO 3166-1 alpha-3 code such as CHN or COD")
            country = self.country(item["country"], join_path(where, "country"))
        elif "country" in item:
            raise self.fail(join_path(where, "country"), "a demand_surge has no country",
                            hint="a demand surge raises world (or the importer's) demand")
        minerals = self.event_minerals(item, where)
        stages = self.event_stages(item, where, kind)
        measure, severity = self.severity(item, where, kind)
        return Event(
            index=index, where=where, kind=kind,
            label=self.text(item["label"], join_path(where, "label")) if "label" in item
            else f"{kind} {country or ''} {', '.join(minerals)}".replace("  ", " "),
            country=country, minerals=minerals, stages=stages, measure=measure,
            severity=severity,
            start=self.distribution(item.get("start_day", 0), join_path(where, "start_day"), 0,
                                    horizon),
            duration=self.distribution(item.get("duration_days", horizon),
                                       join_path(where, "duration_days"), 0, MAX_HORIZON),
            probability=self.number(item.get("probability", 1.0),
                                    join_path(where, "probability"), 0, 1),
            cause=self.cause(item, where, kind),
            facility=self.text(item["facility"].get("name", "facility"),
                               join_path(where, "facility.name"))
            if isinstance(item.get("facility"), dict) else None,
            source=self.optional_text(item, "source", where),
            note=self.optional_text(item, "note", where),
        )  # fmt: skip

    def event_minerals(self, item: dict[str, Any], where: str) -> tuple[str, ...]:
        if ("mineral" in item) == ("minerals" in item):
            raise self.fail(where, "give exactly one of 'minerals' (a list) or 'mineral'",
                            hint="e.g. minerals: [cobalt]")
        key = "minerals" if "minerals" in item else "mineral"
        names = self.listing(item[key], join_path(where, key))
        if not names:
            raise self.fail(join_path(where, key), "the list is empty",
                            hint="name at least one mineral, e.g. [cobalt]")
        found = [self.mineral(name, f"{where}.{key}[{i}]") for i, name in enumerate(names)]
        return tuple(dict.fromkeys(found))

    def event_stages(self, item: dict[str, Any], where: str, kind: str) -> tuple[str, ...]:
        if "stage" not in item:
            if kind == "demand_surge":
                return ()
            raise self.fail(where, f"missing 'stage' ({article(kind)} needs one)",
                            hint=f"use one of: {', '.join(STAGES)}")
        return (self.stage(item["stage"], join_path(where, "stage")),)

    def severity(self, item: dict[str, Any], where: str, kind: str) -> tuple[str, Distribution]:
        allowed = _MEASURE_OF_KIND[kind]
        given = [key for key in ("share", "allowed_share", "allowed_tonnes_per_year",
                                 "facility") if key in item]
        wrong = [key for key in given if key not in allowed]
        if wrong:
            raise self.fail(join_path(where, wrong[0]), f"{article(kind)} has no {wrong[0]!r}",
                            hint=f"{article(kind)} takes one of: {', '.join(allowed)}")
        if len(given) != 1:
            raise self.fail(where, f"{article(kind)} needs exactly one of: {', '.join(allowed)}"
                            + (f" (got {', '.join(given)})" if given else ""))
        key = given[0]
        if key == "facility":
            facility = self.mapping(item["facility"], join_path(where, "facility"), _FACILITY)
            if "capacity_tonnes_per_year" not in facility:
                raise self.fail(join_path(where, "facility"), "missing 'capacity_tonnes_per_year'",
                                hint="a named facility needs its capacity in tonnes a year")
            return "capacity_tonnes_per_year", self.distribution(
                facility["capacity_tonnes_per_year"],
                join_path(where, "facility.capacity_tonnes_per_year"), 0, math.inf)
        high = math.inf if key == "allowed_tonnes_per_year" else 1.0
        return key, self.distribution(item[key], join_path(where, key), 0, high)

    def cause(self, item: dict[str, Any], where: str, kind: str) -> str | None:
        if "cause" not in item:
            return "other" if kind == "facility_outage" else None
        if kind != "facility_outage":
            raise self.fail(join_path(where, "cause"), f"{article(kind)} has no cause",
                            hint="cause belongs to facility_outage events")
        return self.choice(item["cause"], join_path(where, "cause"), CAUSES, "cause")

    # --- mitigations, market, products -----------------------------------------------------

    def mitigations(self, raw: object) -> tuple[tuple[Stockpile, ...], tuple[Response, ...],
                                                 tuple[str, ...]]:
        where = "mitigations"
        item = self.mapping(raw, where, _MITIGATIONS)
        presets = tuple(self.choice(name, f"{where}.preset[{i}]", PRESETS, "preset")
                        for i, name in enumerate(self.listing(item.get("preset") or [],
                                                              f"{where}.preset")))
        stocks = {s.mineral: s for s in self.preset_stockpiles(presets)}
        for stock in self.stockpiles(item.get("stockpile_days") or {}, f"{where}.stockpile_days"):
            stocks[stock.mineral] = stock  # the file's own figure wins over a preset
        responses: list[Response] = []
        for kind in ("substitution", "recycling"):
            responses += self.offsets(item.get(kind) or {}, f"{where}.{kind}", kind)
        responses += self.spare(item.get("spare_capacity") or {}, f"{where}.spare_capacity")
        return tuple(stocks.values()), tuple(responses), presets

    def preset_stockpiles(self, presets: tuple[str, ...]) -> list[Stockpile]:
        if "japan-60-day" not in presets:
            return []
        members = self.ds.list_members
        listed = set(members.loc[members["list_id"] == JAPAN_LIST, "mineral"])
        # the scenario's minerals are not known yet here; the model applies the preset to
        # those on the list (rare-earth elements count with the rare-earths item)
        return [Stockpile(slug, JAPAN_DAYS, None, "preset japan-60-day") for slug in sorted(listed)]

    def stockpiles(self, raw: object, where: str) -> list[Stockpile]:
        if not isinstance(raw, dict):
            raise self.fail(where, f"expected a mapping of mineral: days, got {kind_of(raw)}",
                            hint="e.g. stockpile_days: {cobalt: 60}")
        out = []
        for name, spec in raw.items():
            at = join_path(where, str(name))
            mineral = self.mineral(name, at)
            if isinstance(spec, dict):
                item = self.mapping(spec, at, _STOCK)
                days = self.number(item.get("days"), join_path(at, "days"), 0, MAX_HORIZON)
                stage = self.stage(item["stage"], join_path(at, "stage")) \
                    if "stage" in item else None
            else:
                days, stage = self.number(spec, at, 0, MAX_HORIZON), None
            out.append(Stockpile(mineral, days, stage, "file"))
        return out

    def offsets(self, raw: object, where: str, kind: str) -> list[Response]:
        if not isinstance(raw, dict):
            raise self.fail(where, f"expected a mapping of mineral: share, got {kind_of(raw)}",
                            hint=f"e.g. {kind}: {{cobalt: 0.1}} or {{cobalt: {{share: 0.1, "
                                 "lag_days: 30}}")
        out = []
        for name, spec in raw.items():
            at = join_path(where, str(name))
            mineral = self.mineral(name, at)
            item = self.mapping(spec, at, _OFFSET) if isinstance(spec, dict) else {"share": spec}
            if "share" not in item:
                raise self.fail(at, "missing 'share'",
                                hint="the share of the mineral's demand it covers, 0 to 1")
            out.append(Response(kind, mineral, None,
                                self.number(item["share"], join_path(at, "share"), 0, 1),
                                self.number(item.get("lag_days", 0), join_path(at, "lag_days"), 0,
                                            MAX_HORIZON), at))
        return out

    def spare(self, raw: object, where: str) -> list[Response]:
        if not isinstance(raw, dict):
            raise self.fail(where, f"expected a mapping of mineral: {{share, lag_days}}, got "
                            f"{kind_of(raw)}", hint="e.g. spare_capacity: {cobalt: {share: 0.1, "
                                                  "lag_days: 90}}")
        out = []
        for name, spec in raw.items():
            at = join_path(where, str(name))
            mineral = self.mineral(name, at)
            item = self.mapping(spec, at, _SPARE)
            if "share" not in item:
                raise self.fail(at, "missing 'share'", hint="the share of the stage's baseline "
                                "supply other producers can add")
            stage = self.stage(item["stage"], join_path(at, "stage")) if "stage" in item else None
            out.append(Response("spare_capacity", mineral, stage,
                                self.number(item["share"], join_path(at, "share"), 0, 1),
                                self.number(item.get("lag_days", 0), join_path(at, "lag_days"), 0,
                                            MAX_HORIZON), at))
        return out

    def market(self, raw: object) -> tuple[Elasticity, ...]:
        item = self.mapping(raw, "market", _MARKET)
        where = "market.elasticities"
        table = item.get("elasticities") or {}
        if not isinstance(table, dict):
            raise self.fail(where, f"expected a mapping of mineral: {{demand, supply, source}}, "
                            f"got {kind_of(table)}", hint="e.g. elasticities: {cobalt: {demand: "
                            "-0.3, supply: 0.2, source: '...'}}")
        out = []
        for name, spec in table.items():
            at = join_path(where, str(name))
            mineral = self.mineral(name, at)
            entry = self.mapping(spec, at, _ELASTICITY)
            for key in ("demand", "supply"):
                if key not in entry:
                    raise self.fail(at, f"missing {key!r}", hint="e.g. {demand: -0.3, supply: "
                                    "0.2, source: 'where the figures come from'}")
            demand = self.number(entry["demand"], join_path(at, "demand"), -10, 0)
            supply = self.number(entry["supply"], join_path(at, "supply"), 0, 10)
            if demand == 0 and supply == 0:
                raise self.fail(at, "demand and supply elasticities cannot both be 0",
                                hint="the price would be undefined")
            source = self.text(entry["source"], join_path(at, "source")) if "source" in entry \
                else "given in the scenario file without a source"
            out.append(Elasticity(mineral, demand, supply, source))
        return tuple(out)

    def products(self, raw: object) -> tuple[ProductChoice, ...]:
        from kizuna.products.templates import template_ids  # noqa: PLC0415 - light, lazy

        known = tuple(template_ids())
        out = []
        for index, spec in enumerate(self.listing(raw, "products")):
            at = f"products[{index}]"
            item = self.mapping(spec, at, _PRODUCT) if isinstance(spec, dict) else {"id": spec}
            if "id" not in item:
                raise self.fail(at, "missing 'id'", hint=f"a product template: {', '.join(known)}")
            product_id = self.choice(item["id"], join_path(at, "id"), known, "product template")
            params = item.get("params") or {}
            if not isinstance(params, dict):
                raise self.fail(join_path(at, "params"), "expected a mapping of name: value",
                                hint="see kizuna products for each template's parameters")
            out.append(ProductChoice(product_id,
                                     self.number(item.get("volume", 1.0), join_path(at, "volume"),
                                                 0, math.inf),
                                     {str(k): v for k, v in params.items()}))
        return tuple(out)


# --- data checks (the parts that need the supply tables) ---------------------------------------


def check_data(scenario: Scenario, ds: Dataset) -> None:
    """Raise (with the YAML path) where an event needs data the bundled tables do not have."""
    from kizuna.scenarios.model import baseline_of  # noqa: PLC0415 - avoids an import cycle

    parser = Parser(scenario.origin, ds)
    for event in scenario.events:
        stages = event.stages or STAGES
        for position, mineral in enumerate(event.minerals):
            found = [stage for stage in stages
                     if baseline_of(ds, mineral, stage, scenario.year) is not None]
            missing = [stage for stage in event.stages if stage not in found]
            if missing or not found:
                stage = missing[0] if missing else "any stage"
                reason = ds.missing_reason(mineral, missing[0]) if missing else None
                raise parser.fail(f"{event.where}.minerals[{position}]",
                                  f"no supply data for {mineral} at {stage}"
                                  + (f": {reason}" if reason else ""),
                                  hint="choose a mineral and stage with data "
                                       "(kizuna minerals show NAME)")
            if event.measure in ("allowed_tonnes_per_year", "capacity_tonnes_per_year"):
                for stage in found:
                    base = baseline_of(ds, mineral, stage, scenario.year)
                    if base is not None and base.tonnes is None:
                        raise parser.fail(join_path(event.where, event.measure),
                                          f"the data give no tonnage for {mineral} at {stage} "
                                          f"({base.series}), so a cap in tonnes cannot be "
                                          "turned into a share",
                                          hint="give the cut as a share instead")


# --- public API --------------------------------------------------------------------------------


def parse_scenario(raw: object, *, origin: str, dataset: Dataset | None = None,
                   default_id: str | None = None) -> Scenario:
    """Check parsed YAML data and return the Scenario; InputError names the YAML path."""
    ds = dataset if dataset is not None else load_dataset()
    scenario = _ScenarioParser(origin, ds).scenario(raw, default_id or Path(origin).stem)
    check_data(scenario, ds)
    return scenario


def parse_scenario_text(text: str, *, origin: str = "scenario.yaml",
                        dataset: Dataset | None = None) -> Scenario:
    """Parse YAML text (e.g. from the web page's editor)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise InputError(f"{origin}: {line}{problem}", hint="check the YAML syntax "
                         "(indentation, colons, brackets)", file=origin) from None
    return parse_scenario(raw, origin=origin, dataset=dataset)


def example_text(example_id: str) -> str:
    """The YAML text of a shipped example scenario."""
    key = str(example_id).strip()
    if key not in EXAMPLE_IDS:
        close = difflib.get_close_matches(key, EXAMPLE_IDS, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise InputError(f"unknown example scenario {example_id!r}",
                         hint=f"{hint}see kizuna scenario list, or give a YAML file path",
                         field="scenario", value=key)
    return _example_text(key)


@cache
def _example_text(example_id: str) -> str:
    entry = resources.files("kizuna.scenarios").joinpath("examples", f"{example_id}.yaml")
    return entry.read_text("utf-8")


def load_scenario(spec: str | Path, *, dataset: Dataset | None = None) -> Scenario:
    """A shipped example by id, or a scenario YAML file by path."""
    text_spec = str(spec)
    path = Path(text_spec)
    if text_spec in EXAMPLE_IDS and not path.is_file():
        return parse_scenario_text(example_text(text_spec), origin=f"{text_spec}.yaml",
                                   dataset=dataset)
    if not path.is_file():
        if path.suffix.casefold() in (".yaml", ".yml") or path.parent != Path("."):
            raise InputError(f"scenario file {text_spec} does not exist",
                             hint="give a YAML file path or an example id (kizuna scenario list)",
                             file=text_spec)
        example_text(text_spec)  # raises with the list of examples
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read the scenario file {text_spec}: {error}",
                         hint="check that it exists and is UTF-8 YAML", file=text_spec) from None
    return parse_scenario_text(text, origin=path.name, dataset=dataset)


def list_examples(dataset: Dataset | None = None) -> list[dict[str, Any]]:
    """Every shipped example: id, name, description, events, minerals and sources."""
    out = []
    for example_id in EXAMPLE_IDS:
        scenario = parse_scenario_text(example_text(example_id), origin=f"{example_id}.yaml",
                                       dataset=dataset)
        out.append({
            "id": scenario.id, "name": scenario.name, "description": scenario.description,
            "events": len(scenario.events), "minerals": list(scenario.minerals),
            "kinds": sorted({event.kind for event in scenario.events}),
            "sources": list(scenario.sources),
        })  # fmt: skip
    return out
