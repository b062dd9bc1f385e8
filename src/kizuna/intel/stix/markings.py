"""TLP markings: the TLP 2.0 marking-definition objects, the TLP 1.0 ids, and object levels.

The TLP 2.0 marking definitions are the ones the OASIS CTI TC publishes with the TLP 2.0
extension (``oasis-open/cti-stix-common-objects``, ``extension-definition-specifications/
tlp-2.0``): fixed ids, ``created`` 2022-10-01, a ``name`` and the property extension
``extension-definition--60a3c5c5-...`` carrying ``tlp_2_0``. The TLP 1.0 ids are those of the
STIX 2.1 specification (section 7.2.1.4); WHITE maps to CLEAR.

Levels are plain ints (0 CLEAR ... 4 RED, the order of ``kizuna.hub.contract.Tlp``) so this
module stays free of the hub.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

CLEAR, GREEN, AMBER, AMBER_STRICT, RED = range(5)
LEVEL_NAMES = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
TLP1_CREATED = "2017-01-20T00:00:00.000Z"

TLP2_IDS: dict[int, str] = {
    CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_TLP2_WORDS = ("clear", "green", "amber", "amber+strict", "red")

TLP1_IDS: dict[str, str] = {  # colour -> id, as in the STIX 2.1 specification
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
_TLP1_LEVELS = {"white": CLEAR, "green": GREEN, "amber": AMBER, "red": RED}

#: every marking-definition id with a TLP meaning, to its level
TLP_LEVEL_OF: dict[str, int] = {
    **{marking_id: level for level, marking_id in TLP2_IDS.items()},
    **{marking_id: _TLP1_LEVELS[colour] for colour, marking_id in TLP1_IDS.items()},
}


def tlp2_marking(level: int) -> dict[str, Any]:
    """The official TLP 2.0 marking-definition object of a level (a fresh dict)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[level],
        "created": TLP2_CREATED,
        "name": LEVEL_NAMES[level],
        "extensions": {
            TLP2_EXTENSION_ID: {
                "extension_type": "property-extension",
                "tlp_2_0": _TLP2_WORDS[level],
            }
        },
    }


def tlp1_marking(colour: str) -> dict[str, Any]:
    """The STIX 2.1 specification's TLP 1.0 marking-definition object of a colour."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP1_IDS[colour],
        "created": TLP1_CREATED,
        "definition_type": "tlp",
        "name": f"TLP:{colour.upper()}",
        "definition": {"tlp": colour},
    }


def official_marking(marking_id: str) -> dict[str, Any] | None:
    """The official object behind a TLP marking-definition id, or None for other ids."""
    for level, known in TLP2_IDS.items():
        if known == marking_id:
            return tlp2_marking(level)
    for colour, known in TLP1_IDS.items():
        if known == marking_id:
            return tlp1_marking(colour)
    return None


def claims_tlp(marking: Mapping[str, Any]) -> bool:
    """Whether a marking-definition presents itself as TLP (1.0 or 2.0)."""
    if marking.get("definition_type") == "tlp":
        return True
    extensions = marking.get("extensions")
    return isinstance(extensions, Mapping) and TLP2_EXTENSION_ID in extensions


def level_of(refs: Iterable[str]) -> int | None:
    """The most restrictive TLP level among marking ids; None when none of them is TLP."""
    found = [TLP_LEVEL_OF[ref] for ref in refs if ref in TLP_LEVEL_OF]
    return max(found) if found else None


def level_name(level: int) -> str:
    return LEVEL_NAMES[level]
