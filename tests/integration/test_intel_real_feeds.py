"""The real feeds in ../shared/data (skipped on a machine without them, failed in CI):
KEV, ICS ATT&CK and the MISP galaxy into one SQLite hub, as issue 6's acceptance says."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inteltools import ROOT, world
from kizuna.data.testing import shared_data_dir
from kizuna.intel.assets import Asset, Software, asset_exposure
from kizuna.intel.feeds import import_feed, read_feed
from kizuna.intel.feeds.extensions import GALAXY_LINK_EXTENSION
from kizuna.intel.feeds.kev import kev_entry
from kizuna.intel.hubread import read_objects
from kizuna.intel.picture import PICTURE_TYPES, GroupFilter, filter_groups, threat_picture

NOW = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def shared() -> Path:
    return shared_data_dir()


@pytest.fixture(scope="module")
def loaded(shared: Path, tmp_path_factory: pytest.TempPathFactory):
    env = world(f"sqlite:///{tmp_path_factory.mktemp('real') / 'k.db'}")
    reports = {}
    for kind, source in (("attack", shared / "mitre_attack" / "ics-attack-18.1.json.gz"),
                         ("kev", shared / "cisa_kev" / "known_exploited_vulnerabilities.json"),
                         ("galaxy", shared / "misp_galaxy")):
        reports[kind] = import_feed(env.hub, env.tokyo, ROOT, env.collection,
                                    read_feed(kind, str(source), now=NOW))
    return env, reports


def test_kev_gives_one_vulnerability_per_entry_with_every_field(loaded, shared) -> None:
    env, reports = loaded
    assert (reports["kev"].counts["vulnerability"], reports["kev"].failed) == (1404, 0)
    catalogue = json.loads((shared / "cisa_kev" / "known_exploited_vulnerabilities.json")
                           .read_text(encoding="utf-8"))["vulnerabilities"]
    stored = {o["name"]: o for o in read_objects(env.hub, env.london, ["vulnerability"])}
    assert len(stored) == 1404
    assert all(kev_entry(stored[entry["cveID"]]) == entry for entry in catalogue)


def test_importing_the_same_attack_bundle_twice_creates_nothing_new(loaded, shared) -> None:
    env, reports = loaded
    assert (reports["attack"].new_objects, reports["attack"].failed) == (1826, 0)
    again = import_feed(env.hub, env.tokyo, ROOT, env.collection,
                        read_feed("attack", str(shared / "mitre_attack" /
                                                "ics-attack-18.1.json.gz")))
    assert (again.new_objects, again.new_versions, again.unchanged) == (0, 0, 1826)


def test_the_galaxy_links_as_its_own_data_say_and_apt17_is_ambiguous(loaded) -> None:
    env, reports = loaded
    assert reports["galaxy"].counts["threat-actor"] == 1041 and reports["galaxy"].failed == 0
    links = [o for o in read_objects(env.hub, env.tokyo, ["relationship"])
             if GALAXY_LINK_EXTENSION in (o.get("extensions") or {})]
    props = [link["extensions"][GALAXY_LINK_EXTENSION] for link in links]
    explicit = {link["source_ref"] for link, p in zip(links, props, strict=True)
                if p["basis"] == "explicit"}
    assert len(explicit) == 98 and len({link["source_ref"] for link in links}) == 197
    apt17 = [p for link, p in zip(links, props, strict=True)
             if "APT17 (MISP galaxy)" in link["description"]]
    assert sorted(p["attack_id"] for p in apt17) == ["G0001", "G0025", "G0044"]
    assert all(p["ambiguous"] for p in apt17)


def test_groups_by_sponsor_and_sector_list_actors_with_their_sources(loaded) -> None:
    env, _reports = loaded
    rows = threat_picture(read_objects(env.hub, env.tokyo, PICTURE_TYPES))
    found = {row.name: row for row in filter_groups(rows, GroupFilter(sponsor="CHN",
                                                                       sector="energy"))}
    assert {"Worok", "BRONZE SPRING"} <= set(found)
    worok = found["Worok"]
    sponsor = next(c for c in worok.matched if c.kind == "cfr-sponsor")
    assert sponsor.source.origin == "meta.cfr-suspected-state-sponsor"
    assert "Council on Foreign Relations" in sponsor.source.publisher
    cfr_only = {r.name for r in filter_groups(rows, GroupFilter(sponsor="CHN", sector="energy",
                                                                 sponsor_basis="cfr"))}
    assert "Worok" in cfr_only and "BRONZE SPRING" not in cfr_only  # attributed only
    sandworm = next(row for row in rows if row.attack_id == "G0034")
    assert sandworm.techniques and sandworm.of("cfr-sponsor")[0].value == "RUS"


def test_a_refinery_running_software_named_in_kev_shows_it_version_not_assessed(loaded):
    env, _reports = loaded
    refinery = Asset("REF-1", "Refinery", "refinery", "", "FIN", "mining", "cobalt",
                     "refining", capacity_share=0.5,
                     software=(Software("Siemens", "SIMATIC CP", "1543-1"),))
    (found,) = asset_exposure([refinery], read_objects(env.hub, env.tokyo, ["vulnerability"]))
    assert [(k.cve, k.version) for k in found.kev] == [("CVE-2016-8562", "not assessed")]
    assert found.kev[0].due_date == "2022-03-24"
