"""Scenario files: the issue's minimal form works verbatim, every shipped example loads, and
every mistake is one line naming the file, the YAML path and how to fix it."""

from __future__ import annotations

from importlib import resources

import pytest

from kizuna.data.bundle import load_dataset
from kizuna.errors import InputError
from kizuna.scenarios.loader import EXAMPLE_IDS, list_examples, load_scenario, parse_scenario_text

ISSUE_MINIMAL = """\
name: one country's rare-earth mining withheld for a year
year: 2025                 # supply data year
horizon_days: 365
events:
  - kind: export_ban
    country: CHN
    minerals: [rare-earths]
    stage: mining
    share: 1.0             # fraction of the country's supply cut
    start_day: 0
    duration_days: 365
    probability: 1.0       # or a distribution for uncertain events
mitigations:
  stockpile_days: {rare-earths: 0}
"""

EVENT = """\
  - kind: export_ban
    country: CHN
    minerals: [cobalt]
    stage: refining
    share: 1
"""


def parse(text: str, origin: str = "mine.yaml"):
    return parse_scenario_text(text, origin=origin, dataset=load_dataset())


def test_the_minimal_form_of_the_issue_parses_verbatim() -> None:
    scenario = parse(ISSUE_MINIMAL)
    (event,) = scenario.events
    assert (event.kind, event.country, event.minerals, event.stages) == (
        "export_ban", "CHN", ("rare-earths",), ("mining",))
    assert event.severity.is_constant and event.severity.low == 1.0
    assert (event.start.low, event.duration.low, event.probability) == (0.0, 365.0, 1.0)
    assert scenario.year == 2025 and scenario.horizon_days == 365
    assert [(s.mineral, s.days) for s in scenario.stockpiles] == [("rare-earths", 0.0)]
    assert scenario.responses == () and scenario.elasticities == ()


def test_every_shipped_example_loads_and_the_id_list_matches_the_files() -> None:
    folder = resources.files("kizuna.scenarios").joinpath("examples")
    files = sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))
    assert files == sorted(EXAMPLE_IDS)
    listed = list_examples(load_dataset())
    assert [e["id"] for e in listed] == list(EXAMPLE_IDS)
    for example in listed:
        assert example["sources"], f"{example['id']} cites no source"
        assert example["events"] >= 1


def test_names_and_codes_are_normalised() -> None:
    scenario = parse(EVENT.join(["name: t\nevents:\n", ""]).replace("CHN", "China")
                     .replace("[cobalt]", "[Cobalt]"))
    assert scenario.events[0].country == "CHN" and scenario.events[0].minerals == ("cobalt",)


def test_numbers_in_scientific_notation_are_numbers() -> None:
    event = parse(bad(EVENT.replace("share: 1", "share: 5e-1"))).events[0]
    assert event.severity.low == 0.5


def test_the_japan_preset_stocks_listed_rare_metals_only_and_the_file_wins() -> None:
    text = ("name: t\nevents:\n" + EVENT + "mitigations:\n  preset: japan-60-day\n"
            "  stockpile_days: {nickel: 10}\n")
    stocks = {s.mineral: s for s in parse(text).stockpiles}
    assert stocks["cobalt"].days == 60 and stocks["cobalt"].origin == "preset japan-60-day"
    assert stocks["nickel"].days == 10 and stocks["nickel"].origin == "file"
    assert "copper" not in stocks  # not one of METI's rare metals


def bad(events: str = EVENT, top: str = "", after: str = "") -> str:
    return f"name: t\n{top}events:\n{events}{after}"


CASES = [
    ("unknown mineral", bad(EVENT.replace("[cobalt]", "[cobalt, unobtainium]")),
     "events[0].minerals[1]", "unknown mineral 'unobtainium'"),
    ("negative duration", bad(EVENT * 2 + EVENT + "    duration_days: -5\n"),
     "events[2].duration_days", "-5 is outside"),
    ("probability above 1", bad(EVENT + "    probability: 1.5\n"), "events[0].probability",
     "1.5 is outside the allowed range 0 to 1"),
    ("typo in a key", bad(EVENT + "    duraton_days: 30\n"), "events[0].duraton_days",
     "unknown key 'duraton_days'"),
    ("unknown country", bad(EVENT.replace("CHN", "Narnia")), "events[0].country",
     "unknown country 'Narnia'"),
    ("an aggregate is not a country", bad(EVENT.replace("CHN", "WORLD")), "events[0].country",
     "aggregate"),
    ("unknown stage", bad(EVENT.replace("refining", "smelting")), "events[0].stage",
     "unknown stage 'smelting'"),
    ("wrong type", bad(EVENT.replace("share: 1", "share: lots")), "events[0].share",
     "expected a number or a distribution"),
    ("unknown top-level key", bad(top="horizon: 365\n"), "horizon", "unknown key 'horizon'"),
    ("unknown event kind", bad(EVENT.replace("export_ban", "embargo")), "events[0].kind",
     "unknown event kind 'embargo'"),
    ("share above 1", bad(EVENT.replace("share: 1", "share: 1.2")), "events[0].share",
     "1.2 is outside"),
    ("unordered uniform", bad(EVENT.replace("share: 1", "share: {dist: uniform, low: 0.6, "
                                            "high: 0.2}")), "events[0].share", "low <= high"),
    ("unknown distribution", bad(EVENT.replace("share: 1", "share: {dist: beta, a: 1}")),
     "events[0].share.dist", "unknown distribution 'beta'"),
    ("unbounded lognormal share", bad(EVENT.replace("share: 1", "share: {dist: lognormal, "
                                                    "median: 0.3, sigma: 0.5}")),
     "events[0].share", "give 'max'"),
    ("quota field on a ban", bad(EVENT.replace("share: 1", "allowed_share: 0.5")),
     "events[0].allowed_share", "an export_ban has no 'allowed_share'"),
    ("no severity", bad(EVENT.replace("    share: 1\n", "")), "events[0]",
     "needs exactly one of"),
    ("no country", bad(EVENT.replace("    country: CHN\n", "")), "events[0]",
     "missing 'country'"),
    ("demand surge with a country", bad("  - {kind: demand_surge, country: CHN, minerals: "
                                        "[cobalt], share: 0.1}\n"), "events[0].country",
     "no country"),
    ("unknown cause", bad(EVENT.replace("export_ban", "facility_outage")
                          + "    cause: hackers\n"), "events[0].cause", "unknown cause"),
    ("cause on a ban", bad(EVENT + "    cause: cyber\n"), "events[0].cause", "has no cause"),
    ("no data at the stage", bad(EVENT.replace("cobalt", "germanium")),
     "events[0].minerals[0]", "no supply data for germanium at refining"),
    ("tonnage cap without tonnes", bad(EVENT.replace("share: 1", "allowed_tonnes_per_year: 9")
                                       .replace("export_ban", "export_quota")),
     "events[0].allowed_tonnes_per_year", "no tonnage"),
    ("empty events", "name: t\nevents: []\n", "events", "empty"),
    ("no name", "events:\n" + EVENT, "name", "missing 'name'"),
    ("negative stockpile", bad(after="mitigations:\n  stockpile_days: {cobalt: -3}\n"),
     "mitigations.stockpile_days.cobalt", "-3 is outside"),
    ("unknown preset", bad(after="mitigations:\n  preset: us-90-day\n"),
     "mitigations.preset[0]", "unknown preset"),
    ("spare capacity without share", bad(after="mitigations:\n  spare_capacity: "
                                               "{cobalt: {lag_days: 30}}\n"),
     "mitigations.spare_capacity.cobalt", "missing 'share'"),
    ("positive demand elasticity", bad(after="market:\n  elasticities:\n    cobalt: "
                                             "{demand: 0.3, supply: 0.1}\n"),
     "market.elasticities.cobalt.demand", "outside"),
    ("unknown product", bad(after="products: [nmc812]\n"), "products[0].id",
     "unknown product template 'nmc812'"),
    ("year without data", bad(top="year: 1999\n"), "year", "no supply data for 1999"),
    ("step longer than the horizon", bad(top="horizon_days: 30\nstep_days: 31\n"),
     "step_days", "outside"),
]


@pytest.mark.parametrize(("text", "path", "words"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_mistake_is_one_line_with_the_file_path_and_a_hint(text: str, path: str,
                                                             words: str) -> None:
    with pytest.raises(InputError) as info:
        parse(text)
    error = info.value
    line = str(error)
    assert "\n" not in line
    assert line.startswith(f"mine.yaml: {path}: ")
    assert words in line
    assert error.fields["file"] == "mine.yaml" and error.fields["field"] == path
    assert error.hint, f"no hint for {path}"


def test_a_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(InputError) as info:
        parse("name: t\nevents: [\n")
    assert str(info.value).startswith("mine.yaml: line 3: ")


def test_an_unknown_example_or_missing_file_says_what_to_give(tmp_path) -> None:
    with pytest.raises(InputError, match="unknown example scenario 'drc-cobalt'"):
        load_scenario("drc-cobalt", dataset=load_dataset())
    with pytest.raises(InputError, match="does not exist"):
        load_scenario(tmp_path / "missing.yaml", dataset=load_dataset())


def test_a_file_on_disk_is_read_and_named_by_its_file_name(tmp_path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(bad(EVENT + "    probability: -0.1\n"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(path, dataset=load_dataset())
    assert str(info.value).startswith("mine.yaml: events[0].probability: ")
