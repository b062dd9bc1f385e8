"""Feeds into the hub: KEV, ATT&CK and the MISP galaxy, on small inputs written in the test."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

import jsonschema
import pytest

from inteltools import (
    ACTOR_APT17,
    ACTOR_SANDWORM,
    NOW,
    ROOT,
    SANDWORM,
    attack_bundle,
    galaxy_clusters,
    kev_catalog,
    world,
)
from inteltools import kev_entry as entry
from kizuna.errors import InputError
from kizuna.hub.contract import ObjectFilter
from kizuna.intel.feeds import import_feed, read_feed
from kizuna.intel.feeds.attack import attack_feed
from kizuna.intel.feeds.extensions import (
    GALAXY_ACTOR_EXTENSION,
    GALAXY_ACTOR_SCHEMA,
    GALAXY_LINK_EXTENSION,
    GALAXY_LINK_SCHEMA,
    KEV_EXTENSION,
    KEV_SCHEMA,
    extension_definition,
)
from kizuna.intel.feeds.galaxy import galaxy_feed, resolve_country
from kizuna.intel.feeds.kev import kev_entry, kev_feed, kev_id
from kizuna.intel.ids import KIZUNA_NAMESPACE
from kizuna.intel.stix.objects import Rejected, check_object

ENTRIES = [entry("CVE-2024-0001", "Siemens", "SIMATIC CP", ransomware="Known"),
           entry("CVE-2024-0002", "Fortinet", "FortiOS", cwes=[]),
           entry("CVE-2024-0003", "Microsoft", "Windows", newField="kept verbatim")]


def _vulnerabilities(feed_objects: list[dict]) -> list[dict]:
    return [obj for obj in feed_objects if obj["type"] == "vulnerability"]


# ------------------------------------------------------------------------- KEV


def test_kev_gives_one_vulnerability_per_entry_and_keeps_every_field() -> None:
    feed = kev_feed(kev_catalog(*ENTRIES))
    vulns = _vulnerabilities(feed.objects)
    assert [v["name"] for v in vulns] == ["CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003"]
    for vuln, original in zip(vulns, ENTRIES, strict=True):
        assert kev_entry(vuln) == original  # every field back, with KEV's names
    props = vulns[0]["extensions"][KEV_EXTENSION]
    assert props["known_ransomware_campaign_use"] == "Known"
    assert props["due_date"] == "2025-09-15"
    assert props["catalog_version"] == "2025.08.25"
    assert "cwes" not in vulns[1]["extensions"][KEV_EXTENSION]  # STIX forbids empty lists
    assert vulns[2]["extensions"][KEV_EXTENSION]["additional_fields"] == {
        "newField": "kept verbatim"}


def test_kev_objects_are_valid_stix_and_match_the_documented_schema() -> None:
    feed = kev_feed(kev_catalog(*ENTRIES))
    assert not [r for r in map(check_object, feed.objects) if isinstance(r, Rejected)]
    definition = next(o for o in feed.objects if o["type"] == "extension-definition")
    assert definition["id"] == KEV_EXTENSION
    assert json.loads(definition["schema"]) == KEV_SCHEMA
    assert definition["extension_types"] == ["property-extension"]
    for vuln in _vulnerabilities(feed.objects):
        jsonschema.validate(vuln["extensions"][KEV_EXTENSION], KEV_SCHEMA)


def test_kev_ids_are_uuid5_of_the_cve_so_a_second_conversion_is_identical() -> None:
    first = kev_feed(kev_catalog(*ENTRIES)).objects
    second = kev_feed(kev_catalog(*ENTRIES)).objects
    assert first == second
    expected = uuid.uuid5(KIZUNA_NAMESPACE, "cisa-kev:CVE-2024-0001")
    assert kev_id("CVE-2024-0001") == f"vulnerability--{expected}"


@pytest.mark.parametrize(("catalog", "text"), [
    ({"vulnerabilities": "nope"}, "not a KEV catalogue"),
    (kev_catalog(entry("CVE-1", "A", "B")), "is not a CVE id"),
    ({**kev_catalog(), "dateReleased": None}, "no catalogVersion or dateReleased"),
    (kev_catalog({"cveID": "CVE-2024-1111"}), "has no vendorProject"),
])
def test_a_malformed_catalogue_is_one_error_naming_the_problem(catalog, text) -> None:
    with pytest.raises(InputError, match=text):
        kev_feed(catalog, "kev.json")


def test_reimporting_a_catalogue_stores_nothing_new() -> None:
    env = world()
    first = import_feed(env.hub, env.tokyo, ROOT, env.collection, kev_feed(kev_catalog(*ENTRIES)))
    again = import_feed(env.hub, env.tokyo, ROOT, env.collection, kev_feed(kev_catalog(*ENTRIES)))
    assert (first.new_objects, first.failed) == (len(ENTRIES) + 3, 0)  # + 2 ids + 1 ext def
    assert (again.new_objects, again.new_versions, again.unchanged) == (0, 0, len(ENTRIES) + 4)


def test_a_newer_catalogue_versions_only_the_entries_it_changed() -> None:
    env = world()
    import_feed(env.hub, env.tokyo, ROOT, env.collection, kev_feed(kev_catalog(*ENTRIES)))
    changed = [ENTRIES[0], entry("CVE-2024-0002", "Fortinet", "FortiOS", cwes=[],
                                 ransomware="Known"), ENTRIES[2],
               entry("CVE-2025-0009", "Ivanti", "Connect Secure")]
    newer = kev_catalog(*changed, version="2025.09.01", released="2025-09-01T10:00:00.000Z")
    report = import_feed(env.hub, env.tokyo, ROOT, env.collection, kev_feed(newer))
    assert (report.new_objects, report.new_versions) == (1, 1)
    versions = env.hub.versions(env.london, ROOT, env.collection, kev_id("CVE-2024-0002"),
                                ObjectFilter()).body["versions"]
    assert versions == ["2025-08-25T17:04:19.9796Z", "2025-09-01T10:00:00.000Z"]
    latest = env.hub.get_object(env.london, ROOT, env.collection, kev_id("CVE-2024-0002"),
                                ObjectFilter()).body["objects"][0]
    assert latest["extensions"][KEV_EXTENSION]["known_ransomware_campaign_use"] == "Known"
    assert latest["extensions"][KEV_EXTENSION]["catalog_version"] == "2025.09.01"
    kept = env.hub.get_object(env.london, ROOT, env.collection, kev_id("CVE-2024-0001"),
                              ObjectFilter()).body["objects"][0]
    assert kept["extensions"][KEV_EXTENSION]["catalog_version"] == "2025.08.25"


def test_another_partner_cannot_overwrite_feed_objects_it_did_not_produce() -> None:
    env = world()
    import_feed(env.hub, env.tokyo, ROOT, env.collection, kev_feed(kev_catalog(*ENTRIES)))
    newer = kev_catalog(entry("CVE-2024-0001", "Siemens", "SIMATIC CP"), version="2025.09.01",
                        released="2025-09-01T10:00:00.000Z")
    report = import_feed(env.hub, env.london, ROOT, env.collection, kev_feed(newer))
    assert report.failed >= 1
    assert any("only its producer" in failure["message"] for failure in report.failures)


def test_kev_reads_a_file_and_a_gzipped_file(tmp_path: Path) -> None:
    plain = tmp_path / "kev.json"
    plain.write_text(json.dumps(kev_catalog(*ENTRIES)), encoding="utf-8")
    packed = tmp_path / "kev.json.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_feed("kev", str(plain)).objects == read_feed("kev", str(packed)).objects
    with pytest.raises(InputError, match="no such file"):
        read_feed("kev", str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        read_feed("kev", str(tmp_path / "bad.json"))


# ------------------------------------------------------------------------- ATT&CK


def test_importing_the_same_attack_bundle_twice_creates_nothing_new() -> None:
    env = world()
    feed = attack_feed(attack_bundle())
    first = import_feed(env.hub, env.tokyo, ROOT, env.collection, feed)
    again = import_feed(env.hub, env.tokyo, ROOT, env.collection, attack_feed(attack_bundle()))
    assert (first.new_objects, first.failed) == (len(feed.objects), 0)
    assert (again.new_objects, again.new_versions, again.unchanged) == (0, 0, len(feed.objects))
    assert feed.release == "ICS ATT&CK 18.1"


def test_a_newer_attack_release_adds_versions_never_duplicates() -> None:
    env = world()
    import_feed(env.hub, env.tokyo, ROOT, env.collection, attack_feed(attack_bundle()))
    newer = attack_feed(attack_bundle(modified="2025-06-01T00:00:00.000Z"))
    report = import_feed(env.hub, env.tokyo, ROOT, env.collection, newer)
    assert report.new_objects == 0
    changed = [o for o in newer.objects if o.get("modified") == "2025-06-01T00:00:00.000Z"]
    assert report.new_versions == len(changed) == 9  # the identity and marking are unchanged
    assert report.unchanged == len(newer.objects) - 9
    objects = env.hub.get_objects(env.london, ROOT, env.collection,
                                  ObjectFilter(types=["intrusion-set"])).body["objects"]
    assert sorted(o["modified"] for o in objects) == ["2025-06-01T00:00:00.000Z"] * 2


def test_attack_objects_keep_mitre_ids_and_empty_refs_are_repaired() -> None:
    feed = attack_feed(attack_bundle())
    assert SANDWORM in {obj["id"] for obj in feed.objects}
    component = next(o for o in feed.objects if o["type"] == "x-mitre-data-component")
    assert "x_mitre_data_source_ref" not in component
    assert feed.notes == ["dropped 1 empty x_mitre_data_source_ref property (a STIX reference "
                          "must be an identifier)"]
    assert [o["type"] for o in feed.objects[:2]] == ["marking-definition", "identity"]


def test_a_stix_2_0_bundle_is_refused_with_a_pointer() -> None:
    bundle = attack_bundle()
    for obj in bundle["objects"]:
        obj.pop("spec_version")
    with pytest.raises(InputError, match=r"not a STIX 2\.1 bundle") as caught:
        attack_feed(bundle, "enterprise-attack.json")
    assert "attack-stix-data" in str(caught.value)
    with pytest.raises(InputError, match="not a STIX bundle"):
        attack_feed({"objects": []})


# ------------------------------------------------------------------------- galaxy


def _galaxy() -> list[dict]:
    actors, groups = galaxy_clusters()
    return galaxy_feed(actors, groups, now=NOW).objects


def _links(objects: list[dict], actor_uuid: str) -> dict[str, dict]:
    from kizuna.intel.feeds.galaxy import actor_id

    source = actor_id(actor_uuid)
    return {o["extensions"][GALAXY_LINK_EXTENSION]["attack_id"]: o for o in objects
            if o["type"] == "relationship" and o["source_ref"] == source}


def test_galaxy_actors_keep_cfr_sponsor_and_attributed_country_as_separate_claims() -> None:
    objects = _galaxy()
    sandworm = next(o for o in objects if o["type"] == "threat-actor" and o["name"] == "Sandworm")
    props = sandworm["extensions"][GALAXY_ACTOR_EXTENSION]
    assert props["cfr_suspected_state_sponsor"] == "Russian Federation"
    assert props["cfr_suspected_state_sponsor_iso3"] == "RUS"
    assert (props["country"], props["country_iso3"]) == ("RU", "RUS")
    assert props["cfr_suspected_victims"] == [{"name": "Ukraine", "iso3": "UKR"},
                                              {"name": "Georgia", "iso3": "GEO"},
                                              {"name": "Middle East"}]  # a region: no code
    assert props["cfr_type_of_incident"] == ["Sabotage"]
    assert props["origin_aliases"] == [{"alias": "TEMP.Noble", "vendor": "FireEye"}]
    for obj in objects:
        if obj["type"] == "threat-actor":
            jsonschema.validate(obj["extensions"][GALAXY_ACTOR_EXTENSION], GALAXY_ACTOR_SCHEMA)


def test_an_explicit_galaxy_link_says_which_field_supports_it() -> None:
    links = _links(_galaxy(), ACTOR_SANDWORM)
    assert list(links) == ["G0034"]
    props = links["G0034"]["extensions"][GALAXY_LINK_EXTENSION]
    assert props["basis"] == "explicit" and props["ambiguous"] is False
    assert {"field": "mitre-intrusion-set related[].dest-uuid",
            "value": SANDWORM.split("--")[1]} in props["evidence"]
    assert links["G0034"]["target_ref"] == SANDWORM
    assert links["G0034"]["relationship_type"] == "related-to"
    jsonschema.validate(props, GALAXY_LINK_SCHEMA)


def test_a_name_only_match_is_marked_ambiguous() -> None:
    from inteltools import ACTOR_VOLT

    links = _links(_galaxy(), ACTOR_VOLT)
    props = links["G1017"]["extensions"][GALAXY_LINK_EXTENSION]
    assert (props["basis"], props["ambiguous"]) == ("name-only", True)
    assert props["evidence"][0]["field"] == "value"


def test_an_actor_linked_to_three_groups_is_ambiguous_on_each_link() -> None:
    links = _links(_galaxy(), ACTOR_APT17)
    assert sorted(links) == ["G0001", "G0025", "G0044"]
    for link in links.values():
        props = link["extensions"][GALAXY_LINK_EXTENSION]
        assert props["ambiguous"] is True
        assert props["candidates"] == ["G0001", "G0025", "G0044"]
    fields = {e["field"] for e in links["G0001"]["extensions"][GALAXY_LINK_EXTENSION]["evidence"]}
    assert fields == {"meta.refs", "meta.synonyms"}  # the ref, and "Axiom" as a name


def test_galaxy_objects_are_valid_and_reimport_is_idempotent_even_a_day_later() -> None:
    from datetime import timedelta

    actors, groups = galaxy_clusters()
    feed = galaxy_feed(actors, groups, now=NOW)
    assert not [r for r in map(check_object, feed.objects) if isinstance(r, Rejected)]
    env = world()
    first = import_feed(env.hub, env.tokyo, ROOT, env.collection, feed)
    later = galaxy_feed(actors, groups, now=NOW + timedelta(days=1))
    again = import_feed(env.hub, env.tokyo, ROOT, env.collection, later)
    assert first.failed == 0 and first.new_objects > 0
    assert (again.new_objects, again.new_versions) == (0, 0)
    actors["values"][0]["meta"]["cfr-target-category"].append("Energy")
    changed = import_feed(env.hub, env.tokyo, ROOT, env.collection,
                         galaxy_feed(actors, groups, now=NOW + timedelta(days=2)))
    assert (changed.new_objects, changed.new_versions) == (0, 1)


@pytest.mark.parametrize(("name", "code"), [
    ("Iran (Islamic Republic of)", "IRN"), ("Korea (Democratic People's Republic of)", "PRK"),
    ("People's Republic of China", "CHN"), ("Russian Federation", "RUS"), ("US", "USA"),
    ("Middle East", None), ("NATO", None), ("Unknown", None), ("", None)])
def test_galaxy_country_names_resolve_exactly_or_not_at_all(name, code) -> None:
    assert resolve_country(name) == code


def test_the_extension_definitions_are_stix_extension_definition_objects() -> None:
    for ext in (KEV_EXTENSION, GALAXY_ACTOR_EXTENSION, GALAXY_LINK_EXTENSION):
        definition = extension_definition(ext)
        assert not isinstance(check_object(definition), Rejected)
        jsonschema.Draft202012Validator.check_schema(json.loads(definition["schema"]))


def test_the_galaxy_needs_the_attack_groups_cluster(tmp_path: Path) -> None:
    actors, _groups = galaxy_clusters()
    (tmp_path / "threat-actor.json").write_text(json.dumps(actors), encoding="utf-8")
    with pytest.raises(InputError, match=r"mitre-intrusion-set\.json"):
        read_feed("galaxy", str(tmp_path))


def test_the_docs_show_each_extension_schema_exactly() -> None:
    from kizuna.intel.feeds.extensions import schema_text

    doc = (Path(__file__).resolve().parents[2] / "docs" / "intel.md").read_text("utf-8")
    for ext in (KEV_EXTENSION, GALAXY_ACTOR_EXTENSION, GALAXY_LINK_EXTENSION):
        assert schema_text(ext) in doc, "docs/intel.md is out of date: paste schema_text()"
        assert ext in doc


def test_the_oasis_validator_finds_no_error_in_what_the_converters_write() -> None:
    """stix2-validator (non-strict). Warnings 103 (ids are UUIDv5 on purpose, see
    docs/intel.md) and 302 (external references without hashes) are not errors."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from stix2validator import ValidationOptions, validate_instance

    from kizuna.intel.demo import demo_feed

    actors, groups = galaxy_clusters()
    objects = (kev_feed(kev_catalog(*ENTRIES)).objects
               + galaxy_feed(actors, groups, now=NOW).objects + demo_feed().objects)
    options = ValidationOptions(strict=False, disabled=["103", "302"])
    errors = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for obj in objects:
            result = validate_instance(obj, options)
            if not result.is_valid or result.warnings:
                errors[obj["id"]] = [str(e) for e in result.errors] + list(map(str,
                                                                              result.warnings))
    assert errors == {}
