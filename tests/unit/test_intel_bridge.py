"""The bridge: a threatened facility becomes a facility_outage scenario that the scenario
engine loads and runs; the analyst's probability and duration are used exactly, nothing is
invented, and the findings are the stated evidence."""

from __future__ import annotations

import pytest
import yaml

from inteltools import kev_catalog, kev_entry
from kizuna.data.bundle import load_dataset
from kizuna.errors import InputError
from kizuna.intel.assets import Asset, Software, asset_exposure, outage_scenario
from kizuna.intel.feeds.kev import kev_feed
from kizuna.scenarios import parse_scenario_text, run_scenario

REFINERY = Asset("REF-1", "Cobalt refinery", "refinery", "Op", "FIN", "mining", "cobalt",
                 "refining", capacity_share=0.6)
DCS = Asset("REF-1-DCS", "Refinery DCS", "it-ot-system", "Op", "FIN", "mining",
            part_of="REF-1", software=(Software("Siemens", "SIMATIC CP", "V2.2"),))
MINE = Asset("MINE-1", "Lithium mine", "mine", "Op", "AUS", "mining", "lithium", "mining",
             capacity_tonnes=12_000)
PORT = Asset("PORT-1", "Ore port", "port", "Op", "AUS", "transport")
KEV = kev_feed(kev_catalog(kev_entry("CVE-2024-0001", "Siemens", "SIMATIC CP",
                                     ransomware="Known"))).objects


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


def exposures():
    return asset_exposure([REFINERY, DCS, MINE, PORT], KEV)


def test_the_scenario_is_valid_and_runs_in_the_engine(dataset) -> None:
    text = outage_scenario(exposures(), probability=0.1, duration_days=21, org="tokyo-cert",
                           selected=["REF-1"], dataset=dataset)
    scenario = parse_scenario_text(text, origin="bridge.yaml", dataset=dataset)
    result = run_scenario(load_dataset(), scenario, draws=1000, seed=1)
    row = result.results_frame().set_index(["mineral", "stage"]).loc[("cobalt", "refining")]
    assert 0 < row["mean_shortfall"] < 1
    assert 0.05 < row["prob_any"] < 0.15  # the analyst's 10%, sampled 1,000 times


def test_probability_duration_and_size_are_the_inputs_and_the_register(dataset) -> None:
    text = outage_scenario(exposures(), probability=0.25, duration_days=14, start_day=30,
                           org="tokyo-cert", selected=["REF-1"], dataset=dataset)
    doc = yaml.safe_load(text)
    (event,) = doc["events"]
    assert (event["kind"], event["cause"], event["country"], event["minerals"],
            event["stage"]) == ("facility_outage", "cyber", "FIN", ["cobalt"], "refining")
    assert (event["probability"], event["duration_days"], event["start_day"]) == (0.25, 14, 30)
    assert event["share"] == 0.6  # capacity_share from the register
    assert "analyst's inputs" in doc["description"]


def test_the_findings_are_the_stated_evidence_and_a_system_stands_for_its_facility(dataset):
    text = outage_scenario(exposures(), probability=0.1, duration_days=21, org="tokyo-cert",
                           selected=["REF-1-DCS"], register="assets.csv", dataset=dataset)
    doc = yaml.safe_load(text)
    (event,) = doc["events"]
    assert event["label"] == "cyber outage at Cobalt refinery (REF-1)"
    assert "via its IT/OT system REF-1-DCS" in event["source"]
    evidence = " ".join(doc["sources"])
    assert "CISA KEV CVE-2024-0001 (Siemens SIMATIC CP) on REF-1-DCS" in evidence
    assert "version not assessed" in evidence and "known ransomware use" in evidence
    assert "asset register of tokyo-cert: assets.csv" in evidence


def test_a_tonnage_capacity_becomes_a_named_facility_and_every_facility_by_default(dataset):
    doc = yaml.safe_load(outage_scenario(exposures(), probability=0.1, duration_days=10,
                                         dataset=dataset))
    by_country = {event["country"]: event for event in doc["events"]}
    assert set(by_country) == {"FIN", "AUS"}  # the port has no mineral: not a facility
    assert by_country["AUS"]["facility"] == {"name": "Lithium mine",
                                             "capacity_tonnes_per_year": 12000}
    result = run_scenario(load_dataset(), parse_scenario_text(yaml.safe_dump(doc),
                                                              dataset=dataset),
                          draws=1000, seed=1)
    lithium = result.results_frame().set_index(["mineral", "stage"]).loc[("lithium", "mining")]
    assert lithium["mean_tonnes"] > 0  # a security finding shows up as tonnes at risk


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"selected": ["PORT-1"]}, "has no mineral and stage"),
    ({"selected": ["NOPE"]}, "no asset 'NOPE'"),
    ({"selected": ["REF-1"], "probability": 0}, r"probability 0 is outside \(0, 1\]"),
    ({"selected": ["REF-1"], "probability": 1.5}, "probability 1.5 is outside"),
    ({"selected": ["REF-1"], "duration_days": 0}, "duration 0 days is outside"),
])
def test_what_the_tool_would_have_to_invent_is_refused(dataset, kwargs, message) -> None:
    args = {"probability": 0.1, "duration_days": 21, "dataset": dataset, **kwargs}
    with pytest.raises(InputError, match=message):
        outage_scenario(exposures(), **args)


def test_a_facility_without_capacity_is_refused_rather_than_sized_by_guess(dataset) -> None:
    bare = Asset("REF-2", "Refinery", "refinery", "", "FIN", "mining", "cobalt", "refining")
    with pytest.raises(InputError, match="has no capacity in the register"):
        outage_scenario(asset_exposure([bare], []), probability=0.1, duration_days=21,
                        selected=["REF-2"], dataset=dataset)
