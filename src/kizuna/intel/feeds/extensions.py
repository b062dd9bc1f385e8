"""The STIX 2.1 extension definitions Kizuna's feeds use (STIX 2.1 section 7.3).

Three property extensions, each an ``extension-definition`` object whose ``schema`` is the
JSON Schema below as text (so the definition is complete offline) and whose ``id`` is fixed:

* ``KEV_EXTENSION`` on ``vulnerability`` objects: every field of a CISA KEV catalogue entry;
* ``GALAXY_ACTOR_EXTENSION`` on ``threat-actor`` objects: the MISP galaxy threat-actor meta
  that matters for attribution and targeting, with country names resolved to ISO3 next to
  the text they came from;
* ``GALAXY_LINK_EXTENSION`` on ``relationship`` objects (threat actor ``related-to`` an ATT&CK
  intrusion set): which galaxy field supports the link, and whether it is ambiguous.

docs/intel.md shows the three schemas; a test keeps it equal to :func:`schema_text`.
"""

from __future__ import annotations

import json
from typing import Any

from kizuna.intel.ids import FIXED_TIMESTAMP, KIZUNA_IDENTITY, stix_id

KEV_EXTENSION = stix_id("extension-definition", "extension", "cisa-kev")
GALAXY_ACTOR_EXTENSION = stix_id("extension-definition", "extension", "misp-galaxy-actor")
GALAXY_LINK_EXTENSION = stix_id("extension-definition", "extension", "misp-galaxy-link")

#: KEV JSON field -> property of the KEV extension (every field of the 2025 schema).
KEV_FIELDS: dict[str, str] = {
    "cveID": "cve_id",
    "vendorProject": "vendor_project",
    "product": "product",
    "vulnerabilityName": "vulnerability_name",
    "dateAdded": "date_added",
    "shortDescription": "short_description",
    "requiredAction": "required_action",
    "dueDate": "due_date",
    "knownRansomwareCampaignUse": "known_ransomware_campaign_use",
    "notes": "notes",
    "cwes": "cwes",
}

_TEXT = {"type": "string"}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_TEXT_LIST = {"type": "array", "items": {"type": "string"}, "minItems": 1}
_EXT_TYPE = {"const": "property-extension"}

KEV_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Kizuna CISA KEV entry (property extension of vulnerability)",
    "description": (
        "Every field of one entry of the CISA Known Exploited Vulnerabilities catalog, "
        "renamed to STIX property names (camelCase to snake_case). Fields the catalogue "
        "adds in future are kept verbatim under additional_fields. An empty list in the "
        "catalogue (cwes: []) is omitted, because STIX 2.1 forbids empty lists."
    ),
    "type": "object",
    "properties": {
        "extension_type": _EXT_TYPE,
        "cve_id": {"type": "string", "pattern": r"^CVE-\d{4}-\d{4,19}$",
                   "description": "KEV cveID"},
        "vendor_project": {**_TEXT, "description": "KEV vendorProject"},
        "product": {**_TEXT, "description": "KEV product"},
        "vulnerability_name": {**_TEXT, "description": "KEV vulnerabilityName"},
        "date_added": {**_DATE, "description": "KEV dateAdded (YYYY-MM-DD)"},
        "short_description": {**_TEXT, "description": "KEV shortDescription"},
        "required_action": {**_TEXT, "description": "KEV requiredAction"},
        "due_date": {**_DATE, "description": "KEV dueDate (YYYY-MM-DD; set for US federal "
                     "agencies under BOD 22-01)"},
        "known_ransomware_campaign_use": {"type": "string",
                                          "description": "KEV knownRansomwareCampaignUse: "
                                          "'Known' or 'Unknown'"},
        "notes": {**_TEXT, "description": "KEV notes (links to advisories)"},
        "cwes": {**_TEXT_LIST, "description": "KEV cwes (omitted when the catalogue's list "
                 "is empty)"},
        "additional_fields": {"type": "object", "description": "catalogue fields this "
                              "schema does not name, verbatim with their KEV names"},
        "catalog_version": {**_TEXT, "description": "catalogVersion of the catalogue in "
                            "which this version of the entry was first seen"},
        "catalog_date_released": {**_TEXT, "description": "dateReleased of that catalogue"},
    },
    "required": ["extension_type", "cve_id", "vendor_project", "product",
                 "vulnerability_name", "date_added", "short_description",
                 "required_action", "due_date", "known_ransomware_campaign_use",
                 "catalog_version", "catalog_date_released"],
    "additionalProperties": False,
}

_RESOLVED = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "properties": {"name": _TEXT, "iso3": {"type": "string", "pattern": "^[A-Z]{3}$"}},
        "required": ["name"],
        "additionalProperties": False,
    },
}

GALAXY_ACTOR_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Kizuna MISP galaxy threat actor (property extension of threat-actor)",
    "description": (
        "The meta of one MISP galaxy threat-actor cluster value. Text fields are kept as "
        "the galaxy gives them; *_resolved lists add the ISO 3166-1 alpha-3 code of each "
        "country name that resolves exactly (no fuzzy matching: a name that does not "
        "resolve has no iso3). The cfr_* fields are the Council on Foreign Relations "
        "Cyber Operations Tracker's assessments; country is the galaxy's own attribution. "
        "They are different claims."
    ),
    "type": "object",
    "properties": {
        "extension_type": _EXT_TYPE,
        "galaxy": {"const": "threat-actor"},
        "galaxy_version": {"type": "integer", "description": "the cluster's version"},
        "cluster_uuid": {**_TEXT, "description": "the value's uuid in the galaxy"},
        "country": {**_TEXT, "description": "meta.country (ISO alpha-2 attribution)"},
        "country_iso3": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "cfr_suspected_state_sponsor": {**_TEXT,
                                        "description": "meta.cfr-suspected-state-sponsor"},
        "cfr_suspected_state_sponsor_iso3": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "cfr_suspected_victims": {**_RESOLVED, "description": "meta.cfr-suspected-victims"},
        "suspected_victims": {**_RESOLVED, "description": "meta.suspected-victims"},
        "cfr_target_category": {**_TEXT_LIST, "description": "meta.cfr-target-category"},
        "cfr_type_of_incident": {**_TEXT_LIST,
                                 "description": "meta.cfr-type-of-incident (a list)"},
        "targeted_sector": {**_TEXT_LIST, "description": "meta.targeted-sector (CERT-EU "
                            "sector vocabulary)"},
        "synonyms": {**_TEXT_LIST, "description": "meta.synonyms"},
        "attribution_confidence": {**_TEXT, "description": "meta.attribution-confidence"},
        "motive": {**_TEXT_LIST, "description": "meta.motive"},
        "name_attribution": {**_TEXT_LIST, "description": "meta.name-attribution"},
        "origin_aliases": {"type": "array", "minItems": 1, "items": {
            "type": "object", "properties": {"alias": _TEXT, "vendor": _TEXT},
            "required": ["alias", "vendor"], "additionalProperties": False},
            "description": "meta.origin:<alias> = vendor (who coined an alias)"},
        "meta_fields": {**_TEXT_LIST, "description": "every meta key the value had"},
    },
    "required": ["extension_type", "galaxy", "galaxy_version", "cluster_uuid"],
    "additionalProperties": False,
}

GALAXY_LINK_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Kizuna galaxy-to-ATT&CK link (property extension of relationship)",
    "description": (
        "Why a MISP galaxy threat actor is related-to an ATT&CK intrusion set. basis "
        "'explicit': the galaxy links them itself (a related dest-uuid either way, an "
        "attack.mitre.org/groups reference, or a G#### alias); 'name-only': only a name or "
        "alias is equal, which is a candidate, not a fact. ambiguous is true for every "
        "name-only link and for an actor linked to more than one intrusion set."
    ),
    "type": "object",
    "properties": {
        "extension_type": _EXT_TYPE,
        "basis": {"enum": ["explicit", "name-only"]},
        "ambiguous": {"type": "boolean"},
        "attack_id": {"type": "string", "pattern": r"^G\d{4}$"},
        "attack_name": _TEXT,
        "candidates": {**_TEXT_LIST, "description": "every ATT&CK id this actor is linked "
                       "to (any basis), sorted"},
        "evidence": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "properties": {"field": _TEXT, "value": _TEXT},
            "required": ["field", "value"], "additionalProperties": False}},
        "galaxy_version": {"type": "integer"},
    },
    "required": ["extension_type", "basis", "ambiguous", "attack_id", "evidence"],
    "additionalProperties": False,
}

_DEFINITIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    KEV_EXTENSION: ("Kizuna CISA KEV entry",
                    "Every field of a CISA KEV catalogue entry on a vulnerability.",
                    KEV_SCHEMA),
    GALAXY_ACTOR_EXTENSION: ("Kizuna MISP galaxy threat actor",
                             "Attribution and targeting meta of a MISP galaxy threat actor.",
                             GALAXY_ACTOR_SCHEMA),
    GALAXY_LINK_EXTENSION: ("Kizuna galaxy-to-ATT&CK link",
                            "Why a galaxy threat actor is linked to an ATT&CK intrusion set.",
                            GALAXY_LINK_SCHEMA),
}


def schema_text(extension_id: str) -> str:
    """The extension's JSON Schema as the text its definition carries (indent 2)."""
    return json.dumps(_DEFINITIONS[extension_id][2], indent=2, ensure_ascii=False)


def extension_definition(extension_id: str) -> dict[str, Any]:
    """The ``extension-definition`` object (STIX 2.1 section 7.3) of one extension."""
    name, description, _schema = _DEFINITIONS[extension_id]
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": extension_id,
        "created_by_ref": KIZUNA_IDENTITY,
        "created": FIXED_TIMESTAMP,
        "modified": FIXED_TIMESTAMP,
        "name": name,
        "description": description + " Schema: JSON Schema 2020-12, in 'schema' as text.",
        "schema": schema_text(extension_id),
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }


def extension_of(obj: dict[str, Any], extension_id: str) -> dict[str, Any] | None:
    """The properties an object carries under one extension, or None."""
    extensions = obj.get("extensions")
    if not isinstance(extensions, dict):
        return None
    found = extensions.get(extension_id)
    return found if isinstance(found, dict) else None
