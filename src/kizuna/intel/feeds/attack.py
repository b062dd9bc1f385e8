"""MITRE ATT&CK STIX 2.1 bundles (enterprise, ICS, mobile) for the hub.

ATT&CK objects keep MITRE's own ids and ``modified`` timestamps, so importing a bundle twice
posts the same versions (the hub stores nothing new) and a newer release posts newer
versions of the objects it changed. Objects are passed on as MITRE publishes them, with one
repair: a ``*_ref`` property whose value is the empty string (ICS 18.1 has five, in
``x_mitre_data_source_ref``) is invalid STIX 2.1 (a reference must be an identifier) and is
dropped; the feed's notes count each repair. STIX 2.0 bundles (the old ``mitre/cti``
repository) are refused with a pointer to ``attack-stix-data``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kizuna.errors import InputError
from kizuna.intel.feeds.feed import Feed
from kizuna.intel.feeds.source import load_json

DOMAINS = {"enterprise-attack": "Enterprise", "ics-attack": "ICS", "mobile-attack": "Mobile"}


def read_attack(source: str) -> Feed:
    """Read an ATT&CK bundle (path, .gz or URL) into a Feed."""
    return attack_feed(load_json(source).data, source)


def attack_feed(bundle: Any, source: str = "attack.json") -> Feed:
    """Check a parsed bundle and return its objects (repaired as the module says)."""
    if not isinstance(bundle, Mapping) or bundle.get("type") != "bundle":
        raise InputError(f"{source}: not a STIX bundle (no type 'bundle')",
                         hint="give an ATT&CK STIX 2.1 bundle, e.g. ics-attack.json", file=source)
    objects = bundle.get("objects")
    if not isinstance(objects, list) or not objects:
        raise InputError(f"{source}: the bundle has no objects", file=source)
    if not all(isinstance(obj, Mapping) for obj in objects):
        raise InputError(f"{source}: the bundle's objects must all be JSON objects", file=source)
    versions = {obj.get("spec_version") for obj in objects if obj.get("type") != "bundle"}
    if versions != {"2.1"}:
        raise InputError(
            f"{source}: not a STIX 2.1 bundle (spec_version {sorted(map(str, versions))})",
            hint="use the STIX 2.1 bundles of github.com/mitre-attack/attack-stix-data; the "
            "mitre/cti repository holds STIX 2.0",
            file=source,
        )
    repaired: dict[str, int] = {}
    kept = [_repair(dict(obj), repaired) for obj in objects]
    notes = [f"dropped {count} empty {name} propert{'y' if count == 1 else 'ies'} (a STIX "
             "reference must be an identifier)" for name, count in sorted(repaired.items())]
    return Feed("attack", release_name(kept), source, kept, notes=notes)


def _repair(obj: dict[str, Any], repaired: dict[str, int]) -> dict[str, Any]:
    for name in [key for key, value in obj.items()
                 if (key.endswith("_ref") and value == "") or (key.endswith("_refs")
                                                              and value == [])]:
        del obj[name]
        repaired[name] = repaired.get(name, 0) + 1
    return obj


def release_name(objects: list[dict[str, Any]]) -> str:
    """"ICS ATT&CK 18.1" from the bundle's x-mitre-collection, else a generic name."""
    for obj in objects:
        if obj.get("type") == "x-mitre-collection":
            name = str(obj.get("name") or "ATT&CK")
            version = obj.get("x_mitre_version")
            return f"{name} {version}" if version else name
    domains = {domain for obj in objects for domain in obj.get("x_mitre_domains") or []}
    names = sorted(DOMAINS.get(domain, domain) for domain in domains)
    return "ATT&CK " + "+".join(names) if names else "ATT&CK bundle"


def attack_id(obj: Mapping[str, Any]) -> str | None:
    """The ATT&CK id (G0034, T0800, S0001, ...) in ``external_references``, if any."""
    for ref in obj.get("external_references") or []:
        if isinstance(ref, Mapping) and ref.get("source_name") in ("mitre-attack",
                                                                   "mitre-ics-attack",
                                                                   "mitre-mobile-attack"):
            found = ref.get("external_id")
            if isinstance(found, str):
                return found
    return None
