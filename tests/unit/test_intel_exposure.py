"""Exposure: KEV matching by vendor and product, version data, adversaries, the score."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from inteltools import NOW, galaxy_clusters, kev_catalog, kev_entry
from kizuna.errors import InputError
from kizuna.intel.assets import Asset, Software, VersionData, asset_exposure, read_versions
from kizuna.intel.assets.exposure import WEIGHTS
from kizuna.intel.assets.matching import KevIndex, kev_entries, product_alternatives, vendor_key
from kizuna.intel.assets.versions import VersionRange, version_key
from kizuna.intel.feeds.attack import attack_feed
from kizuna.intel.feeds.galaxy import galaxy_feed
from kizuna.intel.feeds.kev import kev_feed

CATALOG = kev_catalog(
    kev_entry("CVE-2024-0001", "Siemens", "SIMATIC CP", ransomware="Known", due="2025-01-01"),
    kev_entry("CVE-2024-0002", "Fortinet", "FortiOS and FortiProxy"),
    kev_entry("CVE-2024-0003", "Microsoft", "Windows"),
    kev_entry("CVE-2024-0004", "Microsoft", "Exchange Server"),
    kev_entry("CVE-2024-0005", "Zyxel", "Multiple Products"),
    kev_entry("CVE-2024-0006", "Ivanti", "Endpoint Manager Mobile (EPMM)"),
)


def kev_objects() -> list[dict]:
    return kev_feed(CATALOG).objects


def index() -> KevIndex:
    return KevIndex(kev_entries(kev_objects()))


def cves(vendor: str, product: str) -> list[tuple[str, str]]:
    return [(entry.cve, kind) for entry, kind in index().match(vendor, product)]


def test_normalisation_folds_case_punctuation_and_legal_forms() -> None:
    assert vendor_key("Siemens AG") == vendor_key("SIEMENS") == ("siemens",)
    assert vendor_key("The MITRE Corporation") == ("mitre",)
    assert product_alternatives("FortiOS and FortiProxy") == [("fortios",), ("fortiproxy",)]
    assert product_alternatives("Endpoint Manager Mobile (EPMM)") == [
        ("endpoint", "manager", "mobile"), ("epmm",)]
    assert cves("siemens ag", "Simatic-CP") == [("CVE-2024-0001", "product")]


@pytest.mark.parametrize(("vendor", "product", "expected"), [
    ("Fortinet Inc.", "FortiOS", [("CVE-2024-0002", "product")]),
    ("Fortinet", "FortiProxy", [("CVE-2024-0002", "product")]),
    ("Microsoft", "Windows Server 2019", [("CVE-2024-0003", "product-prefix")]),
    ("Microsoft", "Exchange", []),  # never the other way round
    ("Zyxel", "USG FLEX 100", [("CVE-2024-0005", "vendor-wide")]),
    ("Ivanti", "EPMM", [("CVE-2024-0006", "product")]),
    ("Siemens", "SIMATIC S7-1500", []),
    ("Schneider Electric", "SIMATIC CP", []),  # the vendor must agree
])
def test_matching_rules(vendor, product, expected) -> None:
    assert cves(vendor, product) == expected


def test_version_keys_order_versions_piece_by_piece() -> None:
    assert version_key("10.2") > version_key("9.12")
    assert version_key("1.0rc1")[:2] == version_key("1.0")
    data = VersionRange("CVE-2024-0001", end_excluding="7.0.13", start_including="7.0")
    assert data.covers("7.0.12") and not data.covers("7.0.13") and not data.covers("6.4")
    assert data.covers("7.0") and VersionRange("X", end_including="10.2").covers("9.12")
    assert not VersionRange("X", end_excluding="1.0.1").covers("1.0.1")
    assert VersionRange("X", end_excluding="1.0.1").covers("1.0rc1")


def test_without_version_data_every_match_says_version_not_assessed() -> None:
    refinery = Asset("REF-1", "Refinery", "refinery", "", "FIN", "mining", "cobalt", "refining",
                     capacity_share=0.5,
                     software=(Software("Siemens", "SIMATIC CP", "V2.2"),))
    (found,) = asset_exposure([refinery], kev_objects(), as_of=date(2025, 6, 1))
    (kev,) = found.kev
    assert (kev.cve, kev.version, kev.ransomware, kev.due_date, kev.overdue) == (
        "CVE-2024-0001", "not assessed", True, "2025-01-01", True)
    assert kev.points == WEIGHTS["kev_product"] + WEIGHTS["kev_ransomware"]


def test_supplied_version_data_decides_affected_or_not(tmp_path: Path) -> None:
    path = tmp_path / "versions.csv"
    path.write_text("cve_id,vendor,product,version_start_including,version_end_excluding\n"
                    "CVE-2024-0002,Fortinet,FortiOS,7.0,7.0.13\n", encoding="utf-8")
    data = read_versions(path)
    assets = [Asset(f"FW-{n}", "Firewall", "plant", "", "AUS", "transport",
                    software=(Software("Fortinet", "FortiOS", version),))
              for n, version in enumerate(["7.0.12", "7.2.1", ""])]
    found = asset_exposure(assets, kev_objects(), versions=data)
    statuses = [item.kev[0].version for item in found]
    assert statuses == ["affected", "not affected", "not assessed"]
    assert [item.kev[0].points for item in found] == [10, 0, 10]  # "not affected" scores 0
    assert "versions.csv row 2" in found[0].kev[0].version_note
    bad = tmp_path / "bad.csv"
    bad.write_text("cve_id,version_end_excluding\nCVE-1,2.0\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.csv row 2, column 'cve_id'"):
        read_versions(bad)
    assert len(VersionData()) == 0


def test_adversaries_after_the_sector_or_country_score_with_ambiguous_at_half() -> None:
    from inteltools import attack_bundle

    actors, groups = galaxy_clusters()
    objects = attack_feed(attack_bundle()).objects + galaxy_feed(actors, groups, now=NOW).objects
    plant = Asset("PLANT-1", "Power plant", "plant", "", "UKR", "energy")
    (found,) = asset_exposure([plant], objects)
    by_name = {a.name: a for a in found.adversaries}
    sandworm = by_name["Sandworm Team"]
    assert sandworm.reasons == ("sector", "country") and not sandworm.ambiguous_only
    assert sandworm.points == WEIGHTS["adversary_sector"] + WEIGHTS["adversary_country"]
    apt17 = by_name["APT17"]  # a galaxy actor whose own claims are not ambiguous
    assert apt17.reasons == ("sector",) and apt17.points == WEIGHTS["adversary_sector"]
    assert found.score.adversaries == sum(a.points for a in found.adversaries)
    assert any(p.label == "Sandworm Team (G0034) targets the sector and country"
               for p in found.score.parts)


def test_a_facility_carries_its_systems_findings_and_the_score_adds_up_to_its_parts() -> None:
    refinery = Asset("REF-1", "Refinery", "refinery", "", "FIN", "mining", "cobalt", "refining",
                     capacity_share=0.5)
    system = Asset("REF-1-DCS", "DCS", "it-ot-system", "", "FIN", "mining", part_of="REF-1",
                   software=(Software("Siemens", "SIMATIC CP"), Software("Zyxel", "ATP")))
    found = {item.asset.asset_id: item for item in asset_exposure([refinery, system],
                                                                  kev_objects())}
    assert [k.on_asset for k in found["REF-1"].kev] == ["REF-1-DCS", "REF-1-DCS"]
    assert found["REF-1"].systems == ["REF-1-DCS"] and found["REF-1-DCS"].facility == "REF-1"
    score = found["REF-1"].score
    assert score.kev == sum(part.points for part in score.parts) == 20 + 5
    assert score.total == score.kev + score.adversaries


def test_the_kev_part_is_capped() -> None:
    many = kev_catalog(*(kev_entry(f"CVE-2024-1{n:03d}", "Microsoft", "Windows",
                                   ransomware="Known") for n in range(10)))
    host = Asset("H", "Host", "plant", "", "AUS", "energy",
                 software=(Software("Microsoft", "Windows"),))
    (found,) = asset_exposure([host], kev_feed(many).objects)
    assert len(found.kev) == 10
    assert found.score.kev == WEIGHTS["kev_cap"] < sum(k.points for k in found.kev)
