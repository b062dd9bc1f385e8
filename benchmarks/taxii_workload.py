"""The STIX 2.1 workload the TAXII benchmark posts to both servers, and small HTTP helpers.

Deterministic (seeded): the same ``--seed`` gives the same objects, so medallion and Kizuna
get identical envelopes. Per 100 objects: 80 indicators, 12 malware, 8 relationships
(indicator ``indicates`` malware). Of the indicators, 30% have compound or qualified
patterns (``AND``/``OR`` across observations, ``WITHIN``, ``REPEATS``, ``START``/``STOP``),
above the issue's 20% floor. Markings are mixed over TLP 2.0 levels:
CLEAR 20%, GREEN 35%, AMBER 25%, AMBER+STRICT 10%, RED 10% — a reader that is not the
producer sees CLEAR, GREEN and AMBER (80%).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

TAXII = "application/taxii+json;version=2.1"
TLP = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
MARKING_MIX = (("clear", 20), ("green", 35), ("amber", 25), ("amber+strict", 10), ("red", 10))
VISIBLE_TO_READER = frozenset({"clear", "green", "amber"})
NAMESPACE = uuid.UUID("6f1d3b0e-8c5a-4e2b-9a7d-2c4e6f8a0b13")
CREATED = "2026-01-01T00:00:00.000Z"


def _marking(rng: random.Random) -> str:
    roll = rng.randrange(100)
    for name, share in MARKING_MIX:
        if roll < share:
            return name
        roll -= share
    return "red"


def _ipv4(rng: random.Random) -> str:
    return f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"


def _comparison(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return f"ipv4-addr:value = '{_ipv4(rng)}'"
    if kind == 1:
        return f"domain-name:value = 'h{rng.randrange(10**9)}.example.net'"
    if kind == 2:
        return f"file:hashes.'SHA-256' = '{rng.getrandbits(256):064x}'"
    if kind == 3:
        return f"url:value = 'https://x{rng.randrange(10**6)}.example.org/p/{rng.randrange(10**6)}'"
    if kind == 4:
        return f"file:size > {rng.randrange(1000, 10**7)}"
    return f"network-traffic:dst_port IN ({rng.randrange(1, 65536)}, {rng.randrange(1, 65536)})"


def pattern(rng: random.Random, compound: bool) -> str:
    """A valid STIX pattern; ``compound`` gives an observation-level operator or qualifier."""
    if not compound:
        first = f"[{_comparison(rng)}]"
        return first if rng.random() < 0.6 else f"[{_comparison(rng)} OR {_comparison(rng)}]"
    kind = rng.randrange(5)
    a, b = f"[{_comparison(rng)}]", f"[{_comparison(rng)} AND {_comparison(rng)}]"
    if kind == 0:
        return f"{a} AND {b}"
    if kind == 1:
        return f"({a} OR {b}) WITHIN {rng.randrange(10, 3600)} SECONDS"
    if kind == 2:
        return f"{a} REPEATS {rng.randrange(2, 20)} TIMES"
    if kind == 3:
        month = rng.randrange(1, 10)
        return f"{a} START t'2025-01-01T00:00:00Z' STOP t'2026-0{month}-01T00:00:00Z'"
    return f"{a} FOLLOWEDBY {b} WITHIN 600 SECONDS"


def stix_id(kind: str, seed: int, number: int) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{seed}-{kind}-{number}')}"


def objects(count: int, *, seed: int = 7, start: int = 0) -> Iterator[dict[str, Any]]:
    """``count`` STIX objects (numbers ``start`` .. ``start+count-1`` of the seeded stream)."""
    for number in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + number)
        slot = number % 100
        marking = TLP[_marking(rng)]
        if slot < 80:
            yield {
                "type": "indicator",
                "spec_version": "2.1",
                "id": stix_id("indicator", seed, number),
                "created": CREATED,
                "modified": CREATED,
                "name": f"indicator {number}",
                "indicator_types": ["malicious-activity"],
                "pattern": pattern(rng, compound=slot % 10 < 3),  # 30% of indicators
                "pattern_type": "stix",
                "valid_from": CREATED,
                "object_marking_refs": [marking],
            }
        elif slot < 92:
            yield {
                "type": "malware",
                "spec_version": "2.1",
                "id": stix_id("malware", seed, number),
                "created": CREATED,
                "modified": CREATED,
                "name": f"family {number}",
                "is_family": True,
                "malware_types": ["trojan"],
                "object_marking_refs": [marking],
            }
        else:
            source = number - slot + rng.randrange(80)  # an indicator of the same hundred
            target = number - slot + 80 + rng.randrange(12)
            yield {
                "type": "relationship",
                "spec_version": "2.1",
                "id": stix_id("relationship", seed, number),
                "created": CREATED,
                "modified": CREATED,
                "relationship_type": "indicates",
                "source_ref": stix_id("indicator", seed, source),
                "target_ref": stix_id("malware", seed, target),
                "object_marking_refs": [marking],
            }


def envelopes(count: int, size: int = 500, *, seed: int = 7,
              start: int = 0) -> Iterator[dict[str, Any]]:
    """``count`` objects as TAXII envelopes of ``size``."""
    for offset in range(start, start + count, size):
        yield {"objects": list(objects(min(size, start + count - offset), seed=seed,
                                       start=offset))}


def share_compound(items: list[dict[str, Any]]) -> float:
    """Fraction of indicators whose pattern is compound or qualified (a check of the mix)."""
    indicators = [item["pattern"] for item in items if item["type"] == "indicator"]
    words = ("] AND [", "] OR [", "WITHIN", "REPEATS", "START", "FOLLOWEDBY")
    compound = [p for p in indicators if any(word in p for word in words)]
    return len(compound) / max(1, len(indicators))


def visible_count(items: list[dict[str, Any]]) -> int:
    """How many of ``items`` a non-producer reader of the collection may see."""
    seen = {TLP[name] for name in VISIBLE_TO_READER}
    return sum(1 for item in items if item["object_marking_refs"][0] in seen)
