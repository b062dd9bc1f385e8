"""The CISA Known Exploited Vulnerabilities catalogue as STIX 2.1 ``vulnerability`` objects.

One ``vulnerability`` per catalogue entry, id ``uuid5("cisa-kev:<cveID>")``: ``name`` is the
CVE id, ``description`` the short description, ``external_references`` the CVE record, the
catalogue and each CWE; every KEV field is kept in the ``KEV_EXTENSION`` property extension
(docs/intel.md has its schema). ``created`` is the entry's ``dateAdded``; ``modified`` is
the catalogue's ``dateReleased`` for content not seen before, while an entry whose fields
have not changed since the last import keeps its stored version (``Feed.versionless``), so
a newer catalogue adds versions only for the entries it changed. Marked TLP:CLEAR (the
catalogue is public, CC0 1.0).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kizuna.errors import InputError
from kizuna.intel.feeds.extensions import KEV_EXTENSION, KEV_FIELDS, extension_definition
from kizuna.intel.feeds.feed import TLP_CLEAR, Feed, stix_timestamp
from kizuna.intel.feeds.source import load_json
from kizuna.intel.ids import CISA_IDENTITY, cisa_identity, kizuna_identity, stix_id
from kizuna.intel.stix.markings import CLEAR, tlp2_marking

CATALOG_URL = "https://www.cisa.gov/known-exploited-vulnerabilities-catalog"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,19}$")
_CWE = re.compile(r"^CWE-(\d+)$")
REQUIRED_ENTRY_FIELDS = ("cveID", "vendorProject", "product", "dateAdded", "dueDate")
#: extension properties that say which catalogue a version was first seen in: not content
CATALOG_PROPERTIES = ("catalog_version", "catalog_date_released")


def kev_id(cve: str) -> str:
    return stix_id("vulnerability", "cisa-kev", cve)


def read_kev(source: str) -> Feed:
    """Read a KEV catalogue (path or URL) into a Feed of vulnerability objects."""
    loaded = load_json(source)
    return kev_feed(loaded.data, source)


def kev_feed(catalog: Any, source: str = "kev.json") -> Feed:
    """Convert a parsed catalogue; every malformed entry is an InputError naming it."""
    if not isinstance(catalog, Mapping) or not isinstance(catalog.get("vulnerabilities"), list):
        raise InputError(f"{source}: not a KEV catalogue (no 'vulnerabilities' list)",
                         hint="give known_exploited_vulnerabilities.json", file=source)
    version = str(catalog.get("catalogVersion") or "")
    released = catalog.get("dateReleased")
    if not version or not isinstance(released, str):
        raise InputError(f"{source}: the catalogue has no catalogVersion or dateReleased",
                         file=source)
    modified = stix_timestamp(released, "dateReleased", source)
    objects: list[dict[str, Any]] = [tlp2_marking(CLEAR), kizuna_identity(), cisa_identity(),
                                     extension_definition(KEV_EXTENSION)]
    seen: set[str] = set()
    notes: list[str] = []
    for index, entry in enumerate(catalog["vulnerabilities"]):
        vulnerability = _vulnerability(entry, index, source, version, released, modified)
        if vulnerability["name"] in seen:
            notes.append(f"entry {index}: {vulnerability['name']} appears twice; the first "
                         "is kept")
            continue
        seen.add(vulnerability["name"])
        objects.append(vulnerability)
    count = catalog.get("count")
    if isinstance(count, int) and count != len(seen):
        notes.append(f"the catalogue says count {count} but lists {len(seen)} entries")
    return Feed("kev", f"CISA KEV {version}", source, objects, versionless=True, notes=notes)


def _vulnerability(entry: Any, index: int, source: str, version: str, released: str,
                   modified: str) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise InputError(f"{source}: vulnerabilities[{index}] is not an object", file=source)
    for name in REQUIRED_ENTRY_FIELDS:
        if not isinstance(entry.get(name), str) or not entry[name].strip():
            raise InputError(f"{source}: vulnerabilities[{index}] has no {name}",
                             file=source, field=name)
    cve = entry["cveID"].strip()
    if not _CVE.match(cve):
        raise InputError(f"{source}: vulnerabilities[{index}].cveID {cve!r} is not a CVE id",
                         file=source, field="cveID")
    created = stix_timestamp(entry["dateAdded"], f"{cve} dateAdded", source)
    props: dict[str, Any] = {"extension_type": "property-extension"}
    extra: dict[str, Any] = {}
    for name, value in entry.items():
        prop = KEV_FIELDS.get(name)
        if prop is None:
            extra[name] = value
        elif value is not None and value != []:  # STIX forbids null and empty lists
            props[prop] = value
    if extra:
        props["additional_fields"] = extra
    props["catalog_version"] = version
    props["catalog_date_released"] = released
    refs: list[dict[str, str]] = [
        {"source_name": "cve", "external_id": cve, "url": f"https://www.cve.org/CVERecord?id={cve}"},
        {"source_name": "cisa-kev", "url": CATALOG_URL,
         "description": "CISA Known Exploited Vulnerabilities catalog"},
    ]
    for cwe in entry.get("cwes") or []:
        found = _CWE.match(str(cwe))
        ref = {"source_name": "cwe", "external_id": str(cwe)}
        if found:
            ref["url"] = f"https://cwe.mitre.org/data/definitions/{found.group(1)}.html"
        refs.append(ref)
    return {
        "type": "vulnerability",
        "spec_version": "2.1",
        "id": kev_id(cve),
        "created": created,
        "modified": max(modified, created),
        "created_by_ref": CISA_IDENTITY,
        "name": cve,
        "description": str(entry.get("shortDescription") or entry.get("vulnerabilityName")
                           or cve),
        "external_references": refs,
        "object_marking_refs": [TLP_CLEAR],
        "extensions": {KEV_EXTENSION: props},
    }


def kev_entry(vulnerability: Mapping[str, Any]) -> dict[str, Any]:
    """The catalogue entry a vulnerability object was made from, with KEV's own field names
    (the inverse of the conversion: every field comes back, an omitted empty list as [])."""
    props = (vulnerability.get("extensions") or {}).get(KEV_EXTENSION)
    if not isinstance(props, Mapping):
        raise InputError(f"{vulnerability.get('id')} carries no KEV extension")
    back = {prop: name for name, prop in KEV_FIELDS.items()}
    entry: dict[str, Any] = {}
    for prop, value in props.items():
        if prop in back:
            entry[back[prop]] = value
    entry.setdefault("cwes", [])
    entry.update(props.get("additional_fields") or {})
    return entry
