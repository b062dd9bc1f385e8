"""Deterministic STIX identifiers and the fixed identities Kizuna's feeds refer to.

Every object a feed converter creates is named by ``uuid5(KIZUNA_NAMESPACE, "<source>:<the
source's own id>")``, so converting the same source twice gives the same ids: a re-import
is a re-post of the same objects (the hub answers "already stored"), and a newer release
of the source gives the same ids with a newer ``modified`` (a new version, never a
duplicate). ATT&CK objects keep MITRE's own ids.
"""

from __future__ import annotations

import uuid
from typing import Any

#: The namespace of every uuid5 Kizuna derives (fixed for ever: changing it renames objects).
KIZUNA_NAMESPACE = uuid.UUID("4411117d-707a-4ea2-99cb-400163b1472b")

#: created/modified of the fixed objects below (identities, extension definitions v1).
FIXED_TIMESTAMP = "2026-01-01T00:00:00.000Z"


def stix_id(object_type: str, *parts: str) -> str:
    """``<type>--<uuid5 of the parts joined by ':'>``: the same parts, the same id."""
    name = ":".join(parts)
    return f"{object_type}--{uuid.uuid5(KIZUNA_NAMESPACE, name)}"


KIZUNA_IDENTITY = stix_id("identity", "identity", "kizuna")
CISA_IDENTITY = stix_id("identity", "identity", "cisa")
MISP_IDENTITY = stix_id("identity", "identity", "misp-project")


def _identity(identity_id: str, name: str, description: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id,
        "created": FIXED_TIMESTAMP,
        "modified": FIXED_TIMESTAMP,
        "name": name,
        "description": description,
        "identity_class": "organization",
    }


def kizuna_identity() -> dict[str, Any]:
    return _identity(KIZUNA_IDENTITY, "Kizuna",
                     "The Kizuna project: author of the STIX conversions of public feeds "
                     "and of their extension definitions.")


def cisa_identity() -> dict[str, Any]:
    return _identity(CISA_IDENTITY, "Cybersecurity and Infrastructure Security Agency",
                     "Publisher of the Known Exploited Vulnerabilities catalog (CC0 1.0).")


def misp_identity() -> dict[str, Any]:
    return _identity(MISP_IDENTITY, "MISP Project",
                     "Publisher of the MISP galaxy clusters (CC0 1.0 or BSD-2-Clause); the "
                     "cfr-* fields come from the Council on Foreign Relations Cyber "
                     "Operations Tracker.")
