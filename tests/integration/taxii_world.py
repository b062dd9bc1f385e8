"""A small TAXII world for the hub's edge tests: three organisations, keys, one root, two
collections, and STIX objects with predictable ids (tests only)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from kizuna.hub.contract import Actor, HubService

ADMIN = Actor(org=None, admin=True)
TAXII = "application/taxii+json;version=2.1"
ROOT = "intel"
SHARED_ID = "5a1e2f0c-1b2d-4c3e-8f4a-0b1c2d3e4f50"
PRIVATE_ID = "7c3e4a1d-2e3f-4a5b-9c6d-1e2f3a4b5c60"
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
NAMESPACE = uuid.UUID("0f2c9a55-3c1e-4a44-9a8e-6b1b5a9d7e21")


@dataclass(frozen=True)
class World:
    tokyo: str  # API keys
    london: str
    outsider: str
    revoked: str
    revoked_id: str

    def bearer(self, key: str) -> dict[str, str]:
        return {"Accept": TAXII, "Authorization": f"Bearer {key}"}


def build_world(hub: HubService) -> World:
    """tokyo-cert writes and reads the shared collection, london-ncsc reads it; only tokyo
    sees the private one; paris-anssi is a customer of neither."""
    for name in ("tokyo-cert", "london-ncsc", "paris-anssi"):
        hub.add_org(ADMIN, name, title=name.upper())
    tokyo, _ = hub.create_key(ADMIN, "tokyo-cert")
    london, _ = hub.create_key(ADMIN, "london-ncsc")
    outsider, _ = hub.create_key(ADMIN, "paris-anssi")
    revoked, revoked_info = hub.create_key(ADMIN, "london-ncsc")
    hub.revoke_key(ADMIN, revoked_info.key_id)
    hub.add_root(ADMIN, ROOT, title="Partner intelligence")
    hub.add_collection(ADMIN, ROOT, title="Shared indicators", id=SHARED_ID,
                       readers=["tokyo-cert", "london-ncsc"], writers=["tokyo-cert"])
    hub.add_collection(ADMIN, ROOT, title="Tokyo only", id=PRIVATE_ID,
                       readers=["tokyo-cert"], writers=["tokyo-cert"])
    return World(tokyo, london, outsider, revoked, revoked_info.key_id)


def stix_id(kind: str, number: int) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{kind}-{number}')}"


def indicator(number: int, *, modified: str = "2026-01-01T00:00:00.000Z",
              marking: str = TLP_GREEN) -> dict[str, Any]:
    """A valid STIX 2.1 indicator with a predictable id."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id("indicator", number),
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "name": f"Command-and-control address {number}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '198.51.100.{number % 250}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [marking],
    }


def envelope(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"objects": list(objects)}
