"""Matching an asset's software to KEV entries by vendor and product (no version data).

KEV names a vendor and a product per entry, never versions or CPEs. The rules, in order:

1. **Normalise** both sides: Unicode NFKC, case folded, ``&`` read as "and", every other
   character that is not a letter or digit read as a space. Vendors also drop legal-form
   words (inc, corp, corporation, co, company, ltd, limited, llc, gmbh, ag, sa, plc, nv,
   bv, kk, oy, ab, spa, srl, se) and a leading "the". Vendors must then be equal.
2. A KEV product is split into **alternatives** at commas and at the word "and"
   ("FortiOS and FortiProxy" names FortiOS, and FortiProxy); a parenthesised part is both
   dropped and kept as an alternative of its own ("Endpoint Manager Mobile (EPMM)" names
   "endpoint manager mobile" and "epmm"). The asset's product is read the same way.
3. **product**: an alternative equals the asset's product. **product-prefix**: an
   alternative is the first words of the asset's product (KEV "Windows" matches an asset's
   "Windows Server 2019"); never the other way round (an asset's "Exchange" does not match
   KEV "Exchange Server"). **vendor-wide**: a KEV product that starts with "Multiple"
   ("Multiple Products", "Multiple Routers") matches every product of that vendor and says
   so: read the advisory.

Nothing is matched by similarity, and versions are never guessed: a match says "version
not assessed" unless version data for the CVE is supplied (``versions.py``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kizuna.intel.feeds.extensions import KEV_EXTENSION

MatchKind = Literal["product", "product-prefix", "vendor-wide"]
LEGAL_WORDS = frozenset({"inc", "incorporated", "corp", "corporation", "co", "company", "ltd",
                         "limited", "llc", "gmbh", "ag", "sa", "plc", "nv", "bv", "kk", "oy",
                         "ab", "spa", "srl", "se"})
_PARENS = re.compile(r"\(([^()]*)\)")
_SPLIT = re.compile(r",|\band\b")


def tokens(text: str) -> tuple[str, ...]:
    """Rule 1 without the vendor words: NFKC, casefold, & = and, punctuation = space."""
    folded = unicodedata.normalize("NFKC", str(text)).casefold().replace("&", " and ")
    return tuple("".join(ch if ch.isalnum() else " " for ch in folded).split())


def vendor_key(text: str) -> tuple[str, ...]:
    words = [word for word in tokens(text) if word not in LEGAL_WORDS]
    if words[:1] == ["the"]:
        words = words[1:]
    return tuple(words)


def product_alternatives(text: str) -> list[tuple[str, ...]]:
    """Rule 2: the products a KEV (or asset) product text names."""
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    inner = [group for group in _PARENS.findall(folded)]
    outer = _PARENS.sub(" ", folded)
    found: list[tuple[str, ...]] = []
    for part in [*_SPLIT.split(outer), *inner]:
        words = tokens(part)
        if words and words not in found:
            found.append(words)
    return found


@dataclass(frozen=True)
class KevEntry:
    """What exposure needs of one KEV vulnerability object."""

    id: str  # the STIX id
    cve: str
    vendor: str
    product: str
    name: str
    date_added: str
    due_date: str
    ransomware: bool  # knownRansomwareCampaignUse == "Known"
    required_action: str
    short_description: str


def kev_entries(objects: Iterable[Mapping[str, Any]]) -> list[KevEntry]:
    """The KEV entries among STIX objects (vulnerabilities carrying the KEV extension)."""
    entries = []
    for obj in objects:
        props = (obj.get("extensions") or {}).get(KEV_EXTENSION) if obj.get(
            "type") == "vulnerability" else None
        if not isinstance(props, Mapping):
            continue
        entries.append(KevEntry(
            str(obj["id"]), str(props.get("cve_id", obj.get("name", ""))),
            str(props.get("vendor_project", "")), str(props.get("product", "")),
            str(props.get("vulnerability_name", "")), str(props.get("date_added", "")),
            str(props.get("due_date", "")),
            str(props.get("known_ransomware_campaign_use", "")).casefold() == "known",
            str(props.get("required_action", "")), str(props.get("short_description", ""))))
    return entries


class KevIndex:
    """KEV entries by normalised vendor, with their product alternatives precomputed."""

    def __init__(self, entries: Iterable[KevEntry]) -> None:
        self._by_vendor: dict[tuple[str, ...], list[tuple[KevEntry, list[tuple[str, ...]],
                                                          bool]]] = {}
        for entry in entries:
            key = vendor_key(entry.vendor)
            if not key:
                continue
            wide = tokens(entry.product)[:1] == ("multiple",)
            self._by_vendor.setdefault(key, []).append(
                (entry, product_alternatives(entry.product), wide))

    def match(self, vendor: str, product: str) -> list[tuple[KevEntry, MatchKind]]:
        """Rule 3: the entries that match one software product, and how."""
        candidates = self._by_vendor.get(vendor_key(vendor), [])
        asset_products = product_alternatives(product)
        found: list[tuple[KevEntry, MatchKind]] = []
        for entry, alternatives, wide in candidates:
            kind = _kind(alternatives, asset_products, wide)
            if kind is not None:
                found.append((entry, kind))
        return found


def _kind(alternatives: list[tuple[str, ...]], asset_products: list[tuple[str, ...]],
          wide: bool) -> MatchKind | None:
    for mine in asset_products:
        if mine in alternatives:
            return "product"
    for mine in asset_products:
        for theirs in alternatives:
            if len(theirs) < len(mine) and mine[:len(theirs)] == theirs:
                return "product-prefix"
    return "vendor-wide" if wide else None
