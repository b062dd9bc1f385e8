"""Helpers for the intel tests: small feeds written in code, and a hub with a feeds collection.

The synthetic feeds have the shape of the real ones (a KEV catalogue, an ATT&CK bundle, the
two MISP clusters) with a handful of entries each, so each unit test says exactly what it
feeds in. The real files are used by tests/integration/test_intel_real_feeds.py.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kizuna.hub.contract import Actor, Tlp
from kizuna.hub.service import Hub
from kizuna.store import open_store

ADMIN = Actor(None, admin=True)
ROOT = "pact"
NOW = datetime(2026, 1, 2, tzinfo=UTC)
MITRE = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"
MITRE_MARKING = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"
SANDWORM = "intrusion-set--381fcf73-60f6-4ab2-9991-6af3cbc35192"
VOLT = "intrusion-set--174279b4-399f-4ddb-966e-5efedd1dd5f2"
APT17 = "intrusion-set--090242d7-73fc-4738-af68-20162f7a5aae"
AXIOM = "intrusion-set--a0cb9370-e39b-44d5-9f50-ef78e412b973"
WINNTI = "intrusion-set--c5947e1c-1cbc-434c-94b8-27c7e3be0fff"
T0800 = "attack-pattern--4a4b5a4e-6a0a-4f30-8b4f-2c7a3c5e0a01"
T0855 = "attack-pattern--5b5c6b5f-7b1b-4a41-9c50-3d8b4d6f1b12"


@dataclass
class World:
    """A hub with three partners; tokyo and london write the feeds collection."""

    hub: Hub
    collection: str
    tokyo: Actor
    london: Actor
    paris: Actor
    keys: dict[str, str]


def world(url: str = "memory://", *, default_tlp: Tlp = Tlp.CLEAR) -> World:
    hub = Hub(open_store(url), node_name="test-node")
    keys = {}
    for name in ("tokyo-cert", "london-ncsc", "paris-anssi"):
        hub.add_org(ADMIN, name, title=name.split("-")[0].title())
        keys[name] = hub.create_key(ADMIN, name)[0]
    hub.add_root(ADMIN, ROOT, title="Pact")
    collection = hub.add_collection(ADMIN, ROOT, title="Feeds", readers=["tokyo-cert",
                                    "london-ncsc"], writers=["tokyo-cert", "london-ncsc"],
                                    default_tlp=default_tlp)
    actors = [hub.authenticate(keys[name]) for name in keys]
    return World(hub, collection.id, *actors, keys=keys)


def kev_entry(cve: str, vendor: str, product: str, *, ransomware: str = "Unknown",
              due: str = "2025-09-15", added: str = "2025-08-25", **extra: Any) -> dict[str, Any]:
    entry = {
        "cveID": cve,
        "vendorProject": vendor,
        "product": product,
        "vulnerabilityName": f"{vendor} {product} Vulnerability",
        "dateAdded": added,
        "shortDescription": f"{vendor} {product} contains a vulnerability.",
        "requiredAction": "Apply mitigations per vendor instructions.",
        "dueDate": due,
        "knownRansomwareCampaignUse": ransomware,
        "notes": f"https://example.test/advisory/{cve}",
        "cwes": ["CWE-78"],
    }
    entry.update(extra)
    return entry


def kev_catalog(*entries: dict[str, Any], version: str = "2025.08.25",
                released: str = "2025-08-25T17:04:19.9796Z") -> dict[str, Any]:
    return {"title": "CISA Catalog of Known Exploited Vulnerabilities",
            "catalogVersion": version, "dateReleased": released, "count": len(entries),
            "vulnerabilities": [copy.deepcopy(entry) for entry in entries]}


def _sdo(kind: str, stix_id: str, name: str, modified: str, **extra: Any) -> dict[str, Any]:
    obj = {"type": kind, "spec_version": "2.1", "id": stix_id,
           "created": "2020-01-01T00:00:00.000Z", "modified": modified,
           "created_by_ref": MITRE, "name": name, "object_marking_refs": [MITRE_MARKING]}
    obj.update(extra)
    return obj


def attack_bundle(modified: str = "2025-01-01T00:00:00.000Z") -> dict[str, Any]:
    """A small ICS-like bundle: two groups, two techniques, 'uses' relationships."""
    def ref(ext: str) -> list[dict[str, str]]:
        return [{"source_name": "mitre-attack", "external_id": ext,
                 "url": f"https://attack.mitre.org/{ext}"}]
    objects = [
        {"type": "marking-definition", "spec_version": "2.1", "id": MITRE_MARKING,
         "created": "2017-06-01T00:00:00.000Z", "created_by_ref": MITRE,
         "definition_type": "statement", "definition": {"statement": "Copyright MITRE"}},
        _sdo("identity", MITRE, "The MITRE Corporation", "2025-01-01T00:00:00.000Z",
             identity_class="organization"),
        {"type": "x-mitre-collection", "spec_version": "2.1",
         "id": "x-mitre-collection--90c00720-636b-4485-b342-8751d232bf09",
         "created": "2020-01-01T00:00:00.000Z", "modified": modified, "name": "ICS ATT&CK",
         "x_mitre_version": "18.1", "created_by_ref": MITRE},
        _sdo("intrusion-set", SANDWORM, "Sandworm Team", modified,
             aliases=["Sandworm Team", "ELECTRUM"], external_references=ref("G0034")),
        _sdo("intrusion-set", VOLT, "Volt Typhoon", modified, external_references=ref("G1017")),
        _sdo("attack-pattern", T0800, "Activate Firmware Update Mode", modified,
             external_references=ref("T0800")),
        _sdo("attack-pattern", T0855, "Unauthorized Command Message", modified,
             external_references=ref("T0855")),
        {"type": "x-mitre-data-component", "spec_version": "2.1",
         "id": "x-mitre-data-component--3d20385b-24ef-40e1-9f56-f39750379077",
         "created": "2020-01-01T00:00:00.000Z", "modified": modified, "name": "Process Creation",
         "x_mitre_data_source_ref": "", "created_by_ref": MITRE},
    ]
    for number, (source, target) in enumerate([(SANDWORM, T0800), (SANDWORM, T0855),
                                               (VOLT, T0855)]):
        objects.append({
            "type": "relationship", "spec_version": "2.1",
            "id": f"relationship--00000000-0000-4000-8000-00000000000{number}",
            "created": "2020-01-01T00:00:00.000Z", "modified": modified,
            "relationship_type": "uses", "source_ref": source, "target_ref": target,
            "created_by_ref": MITRE, "object_marking_refs": [MITRE_MARKING]})
    return {"type": "bundle", "id": "bundle--e4f0febd-b8cf-4272-b892-71049d272c40",
            "objects": objects}


def _group(name: str, attack_id: str, stix_id: str, synonyms: list[str],
           similar: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"value": f"{name} - {attack_id}", "uuid": stix_id.split("--")[1],
            "meta": {"external_id": attack_id, "synonyms": synonyms,
                     "refs": [f"https://attack.mitre.org/groups/{attack_id}"]},
            "related": [{"dest-uuid": uuid, "type": "similar"} for uuid in similar]}


ACTOR_SANDWORM = "a1b2c3d4-0000-4000-8000-000000000001"
ACTOR_VOLT = "a1b2c3d4-0000-4000-8000-000000000002"
ACTOR_APT17 = "a1b2c3d4-0000-4000-8000-000000000003"
ACTOR_LONE = "a1b2c3d4-0000-4000-8000-000000000004"


def galaxy_clusters() -> tuple[dict[str, Any], dict[str, Any]]:
    """(threat-actor cluster, mitre-intrusion-set cluster) shaped like MISP's."""
    groups = {"type": "mitre-intrusion-set", "version": 40, "values": [
        _group("Sandworm Team", "G0034", SANDWORM, ["Sandworm Team", "ELECTRUM"],
               similar=(ACTOR_SANDWORM,)),
        _group("Volt Typhoon", "G1017", VOLT, ["Volt Typhoon", "BRONZE SILHOUETTE"]),
        _group("APT17", "G0025", APT17, ["APT17", "Deputy Dog"]),
        _group("Axiom", "G0001", AXIOM, ["Axiom", "Group 72"]),
        _group("Winnti Group", "G0044", WINNTI, ["Winnti Group", "Blackfly"]),
    ]}
    actors = {"type": "threat-actor", "version": 349, "values": [
        {"value": "Sandworm", "uuid": ACTOR_SANDWORM, "description": "Targets power grids.",
         "meta": {"country": "RU", "cfr-suspected-state-sponsor": "Russian Federation",
                  "cfr-suspected-victims": ["Ukraine", "Georgia", "Middle East"],
                  "cfr-target-category": ["Private sector", "Government"],
                  "targeted-sector": ["Energy", "Electric"],
                  "cfr-type-of-incident": "Sabotage", "synonyms": ["ELECTRUM"],
                  "origin:TEMP.Noble": "FireEye"}},
        {"value": "Volt Typhoon", "uuid": ACTOR_VOLT,
         "meta": {"country": "CN", "synonyms": ["BRONZE SILHOUETTE"],
                  "targeted-sector": ["Telecoms"]}},
        {"value": "APT17", "uuid": ACTOR_APT17,
         "meta": {"country": "CN", "cfr-suspected-state-sponsor": "China",
                  "cfr-suspected-victims": ["United States", "Japan"],
                  "cfr-target-category": ["Government", "Energy"],
                  "synonyms": ["Axiom", "Group 72", "G0025"],
                  "refs": ["https://attack.mitre.org/groups/G0001/"]},
         "related": [{"dest-uuid": WINNTI.split("--")[1], "type": "similar"}]},
        {"value": "Lone Wolf", "uuid": ACTOR_LONE,
         "meta": {"cfr-suspected-state-sponsor": "Iran (Islamic Republic of)",
                  "cfr-suspected-victims": ["Saudi Arabia"],
                  "cfr-target-category": ["Energy Company"]}},
    ]}
    return actors, groups


def seeded_store(path: Any) -> tuple[str, dict[str, str]]:
    """A SQLite store with the demo partners and the synthetic demo loaded as tokyo-cert;
    returns its URL and the partners' keys."""
    from kizuna.data.bundle import load_dataset
    from kizuna.hub.demo import seed_demo
    from kizuna.intel.demo import load_demo

    url = f"sqlite:///{path}"
    with open_store(url) as store:
        hub = Hub(store)
        seeded = seed_demo(hub)
        tokyo = hub.authenticate(seeded["keys"]["tokyo-cert"])
        load_demo(hub, tokyo, seeded["root"], seeded["collection"], store,
                  dataset=load_dataset(), imported_at="2026-01-05T00:00:00Z")
    return url, seeded["keys"]
