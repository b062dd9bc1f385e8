"""Sightings carry their indicator's markings and reach the hub through its public API;
exports obey the hub's access control and never write TLP:RED."""

from __future__ import annotations

import time
from pathlib import Path

from inteltools import ROOT, world
from kizuna.hub.contract import ObjectFilter
from kizuna.intel.hubread import read_objects
from kizuna.intel.matcher.exports import export_indicators
from kizuna.intel.matcher.sightings import push_sightings, sightings_for
from kizuna.intel.stix.markings import AMBER, AMBER_STRICT, GREEN, RED, TLP2_IDS
from matchtools import CONN_FIELDS, conn_row, indicator, run, zeek_tsv


def _identities(setup) -> dict[str, str]:
    from kizuna.hub.contract import Actor

    return {o.name: o.identity_id for o in setup.hub.orgs(Actor(None, admin=True))}


def test_a_sighting_carries_the_indicator_markings_and_names_the_reporting_org(
        tmp_path: Path) -> None:
    green = indicator(1, "[ipv4-addr:value = '198.51.100.23']", tlp=GREEN)
    custom = "marking-definition--3a4b6c1e-0000-4000-8000-000000000001"
    granular = indicator(2, "[ipv4-addr:value = '203.0.113.9']", tlp=AMBER,
                         granular_markings=[{"marking_ref": custom, "selectors": ["name"]}])
    log = zeek_tsv(tmp_path / "conn.log", CONN_FIELDS, [
        conn_row(1, "10.0.0.5", "198.51.100.23"), conn_row(2, "10.0.0.5", "198.51.100.23"),
        conn_row(3, "10.0.0.5", "203.0.113.9")])
    report = run([log], "zeek", [green, granular])
    me = "identity--00000000-0000-4000-8000-0000000000aa"
    sightings = {s["sighting_of_ref"]: s for s in sightings_for(
        report, {green["id"]: green, granular["id"]: granular}, where_sighted=me,
        created="2026-02-01T00:00:00.000Z")}
    seen = sightings[green["id"]]
    assert seen["type"] == "sighting" and seen["count"] == 2
    assert seen["where_sighted_refs"] == [me] and seen["created_by_ref"] == me
    assert seen["first_seen"] == "2026-01-01T00:00:01.000Z"
    assert seen["last_seen"] == "2026-01-01T00:00:02.000Z"
    assert seen["object_marking_refs"] == [TLP2_IDS[GREEN]]
    assert sightings[granular["id"]]["object_marking_refs"] == [TLP2_IDS[AMBER], custom]
    again = sightings_for(report, {green["id"]: green}, where_sighted=me,
                          created="2026-02-01T00:00:00.000Z")
    assert again[0]["id"] == seen["id"]  # same scan, same id: a re-push stores nothing


def test_pushed_sightings_of_a_red_indicator_reach_its_producer_and_nobody_else(
        tmp_path: Path) -> None:
    setup = world()
    ids = _identities(setup)
    red = indicator(1, "[ipv4-addr:value = '203.0.113.200']", tlp=RED,
                    created_by_ref=ids["tokyo-cert"])
    green = indicator(2, "[ipv4-addr:value = '198.51.100.23']", tlp=GREEN)
    status = setup.hub.add_objects(setup.tokyo, ROOT, setup.collection,
                                   {"objects": [red, green]})
    assert status["success_count"] == 2, status
    # tokyo shared RED only with itself: add london as a recipient so it can match on it
    red_shared = dict(red, modified="2025-01-02T00:00:00.000Z",
                      x_kizuna_recipients=[ids["london-ncsc"]])
    setup.hub.add_objects(setup.tokyo, ROOT, setup.collection, {"objects": [red_shared]})
    objects = read_objects(setup.hub, setup.london, ["indicator"])
    assert {o["id"] for o in objects} == {red["id"], green["id"]}
    log = zeek_tsv(tmp_path / "conn.log", CONN_FIELDS, [
        conn_row(1, "10.0.0.5", "203.0.113.200"), conn_row(2, "10.0.0.5", "198.51.100.23")])
    report = run([log], "zeek", objects)
    sightings = sightings_for(report, {o["id"]: o for o in objects},
                              where_sighted=ids["london-ncsc"], created="2026-02-01T00:00:00Z",
                              organisations=set(ids.values()))
    red_sighting = next(s for s in sightings if s["sighting_of_ref"] == red["id"])
    assert red_sighting["object_marking_refs"] == [TLP2_IDS[RED]]
    assert red_sighting["x_kizuna_recipients"] == [ids["tokyo-cert"]]
    pushed = push_sightings(setup.hub, setup.london, ROOT, setup.collection, sightings)
    assert (pushed.posted, pushed.stored, pushed.failures) == (2, 2, [])
    tokyo_sees = setup.hub.get_objects(setup.tokyo, ROOT, setup.collection,
                                       ObjectFilter(types=["sighting"])).body["objects"]
    assert {s["sighting_of_ref"] for s in tokyo_sees} == {red["id"], green["id"]}
    again = push_sightings(setup.hub, setup.london, ROOT, setup.collection, sightings)
    assert again.failures == []  # idempotent re-post


def _shared_collection(setup):
    ids = _identities(setup)
    objects = [
        indicator(1, "[ipv4-addr:value = '198.51.100.23']", tlp=GREEN),
        indicator(2, "[domain-name:value = 'update.copper-lynx.example']", tlp=AMBER),
        indicator(3, "[ipv4-addr:value = '203.0.113.200']", tlp=RED),
        indicator(4, "[ipv4-addr:value = '203.0.113.201']", tlp=RED,
                  x_kizuna_recipients=[ids["london-ncsc"]]),
        indicator(5, "[ipv4-addr:value ISSUBSET '192.0.2.0/24']", tlp=AMBER_STRICT),
        indicator(6, "[network-traffic:dst_ref.value = '192.0.2.7' AND "
                     "network-traffic:dst_port = 8443]", tlp=GREEN),
        indicator(7, "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']", tlp=GREEN),
        indicator(8, "[url:value = 'http://evil.example/a']", tlp=GREEN,
                  valid_until="2025-06-01T00:00:00Z"),
        indicator(9, "[process:name = 'evil.exe']", tlp=GREEN),
    ]
    status = setup.hub.add_objects(setup.tokyo, ROOT, setup.collection, {"objects": objects})
    assert status["success_count"] == len(objects), status
    return {o["id"]: o for o in objects}


def test_exports_never_write_red_even_for_a_named_recipient() -> None:
    setup = world()
    objects = _shared_collection(setup)
    red_values = ("203.0.113.200", "203.0.113.201")
    for actor in (setup.tokyo, setup.london):
        readable = read_objects(setup.hub, actor, ["indicator"])
        for fmt in ("zeek", "suricata", "csv"):
            export = export_indicators(readable, fmt, source="kizuna:Feeds", now=time.time())
            text = "".join(export.files.values())
            assert not any(value in text for value in red_values), (actor, fmt)
        withheld = dict(export_indicators(readable, "zeek", source="k", now=time.time())
                        .withheld)
        red_ids = {i for i, o in objects.items()
                   if o["object_marking_refs"] == [TLP2_IDS[RED]]}
        assert {i for i, why in withheld.items() if "TLP:RED" in why} == red_ids & {
            o["id"] for o in readable}
    london = {o["id"] for o in read_objects(setup.hub, setup.london, ["indicator"])}
    assert objects[next(iter(objects))]["id"] in london
    assert indicator(3, "")["id"] not in london  # RED without recipients: tokyo's alone


def test_a_partner_that_may_not_read_a_collection_exports_nothing_from_it() -> None:
    setup = world()
    _shared_collection(setup)
    assert read_objects(setup.hub, setup.paris, ["indicator"]) == []


def test_zeek_suricata_and_csv_files_hold_the_values_with_their_indicator() -> None:
    setup = world()
    objects = _shared_collection(setup)
    readable = read_objects(setup.hub, setup.tokyo, ["indicator"])
    now = time.time()
    zeek = export_indicators(readable, "zeek", source="kizuna:Feeds", now=now)
    lines = zeek.files["kizuna.intel"].splitlines()
    assert lines[0] == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"
    rows = {tuple(line.split("\t")[:2]) for line in lines[1:]}
    assert ("198.51.100.23", "Intel::ADDR") in rows
    assert ("192.0.2.0/24", "Intel::SUBNET") in rows
    assert ("update.copper-lynx.example", "Intel::DOMAIN") in rows
    assert ("d41d8cd98f00b204e9800998ecf8427e", "Intel::FILE_HASH") in rows
    reasons = dict(zeek.withheld)
    compound, expired, process = (indicator(n, "")["id"] for n in (6, 8, 9))
    assert "no Zeek Intel form" in reasons[compound]
    assert "expired" in reasons[expired]
    assert "process" in reasons[process]
    suricata = export_indicators(readable, "suricata", source="kizuna:Feeds", now=now)
    rules = suricata.files["kizuna.rules"]
    assert "alert tcp any any -> [192.0.2.7] 8443" in rules
    assert "alert ip any any <> [192.0.2.0/24] any" in rules
    assert "dataset:isset,kizuna-domains,type string,load kizuna-domains.lst" in rules
    assert suricata.files["kizuna-md5.txt"] == "d41d8cd98f00b204e9800998ecf8427e\n"
    sids = [line.split("sid:")[1].split(";")[0] for line in rules.splitlines() if "sid:" in line]
    assert len(sids) == len(set(sids))
    assert export_indicators(readable, "suricata", source="kizuna:Feeds", now=now).files == \
        suricata.files  # stable sids
    table = export_indicators(readable, "csv", source="k", now=now).files[
        "kizuna-indicators.csv"].splitlines()
    assert table[0] == "indicator_id,name,type,value,pattern,tlp,valid_from,valid_until"
    assert any(objects[compound]["id"] in row and "8443" in row for row in table)
