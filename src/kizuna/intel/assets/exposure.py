"""Exposure of each asset: KEV entries on its software, adversaries after its sector or
country, and a score whose parts are shown.

``asset_exposure(assets, objects)`` takes an organisation's assets and the STIX objects it
can read (KEV vulnerabilities, intrusion sets, galaxy actors and their links) and returns one
:class:`AssetExposure` per asset. A facility's findings include those of the IT/OT systems
that are ``part_of`` it (each says which system), because software runs on systems while
supply is lost at facilities.

The score (0-100) is the sum of two capped parts, each listed with its pieces:

* **KEV part** (at most ``WEIGHTS["kev_cap"]``): per KEV finding, ``kev_product`` points for
  a product or product-prefix match, ``kev_vendor_wide`` for a vendor-wide entry
  ("Multiple Products"), plus ``kev_ransomware`` when CISA lists known ransomware use;
  a finding whose version is "not affected" (from supplied version data) scores 0.
* **Adversary part** (at most ``WEIGHTS["adversary_cap"]``): per adversary,
  ``adversary_sector`` when it claims the asset's sector as a target and
  ``adversary_country`` when it names the asset's country as a victim; times
  ``ambiguous_factor`` when every such claim reaches it only through an ambiguous galaxy
  link (name-only, or one actor linked to several ATT&CK groups).

The weights are a prioritisation aid, not a probability: they rank assets for a look by an
analyst and are printed with every result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from kizuna.intel.assets.matching import KevIndex, MatchKind, kev_entries
from kizuna.intel.assets.schema import Asset, Software
from kizuna.intel.assets.versions import VersionData, VersionStatus
from kizuna.intel.picture import Adversary, Claim, threat_picture

WEIGHTS: dict[str, float] = {
    "kev_product": 10, "kev_vendor_wide": 5, "kev_ransomware": 10, "kev_cap": 50,
    "adversary_sector": 5, "adversary_country": 5, "ambiguous_factor": 0.5,
    "adversary_cap": 50,
}
EXPOSURE_TYPES = ("vulnerability", "intrusion-set", "threat-actor", "relationship",
                  "attack-pattern", "malware", "tool")


@dataclass(frozen=True)
class KevFinding:
    cve: str
    stix_id: str
    kev_vendor: str
    kev_product: str
    vulnerability_name: str
    on_asset: str  # the asset whose software matched (a facility's IT/OT system, or itself)
    software: Software
    match: MatchKind
    version: VersionStatus
    version_note: str
    ransomware: bool
    date_added: str
    due_date: str
    overdue: bool  # the as-of date is after KEV's due date (a US federal deadline)
    required_action: str
    points: float


@dataclass(frozen=True)
class AdversaryFinding:
    id: str
    name: str
    attack_id: str | None
    kind: str
    reasons: tuple[str, ...]  # "sector", "country"
    claims: tuple[Claim, ...]
    ambiguous_only: bool
    points: float


@dataclass(frozen=True)
class ScorePart:
    label: str
    points: float


@dataclass
class Score:
    kev: float
    adversaries: float
    parts: list[ScorePart] = field(default_factory=list)

    @property
    def total(self) -> float:
        return self.kev + self.adversaries


@dataclass
class AssetExposure:
    asset: Asset
    kev: list[KevFinding]
    adversaries: list[AdversaryFinding]
    score: Score
    systems: list[str] = field(default_factory=list)  # IT/OT systems part of this facility
    facility: str | None = None  # for a system: the facility it is part of

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset.to_json(),
            "facility": self.facility,
            "systems": self.systems,
            "kev": [{**asdict(f), "software": asdict(f.software),
                     "version_label": version_label(f.version)} for f in self.kev],
            "adversaries": [{**asdict(a), "claims": [_claim(c) for c in a.claims]}
                            for a in self.adversaries],
            "score": {"total": self.score.total, "kev": self.score.kev,
                      "adversaries": self.score.adversaries,
                      "parts": [asdict(part) for part in self.score.parts],
                      "weights": dict(WEIGHTS)},
        }


def _claim(claim: Claim) -> dict[str, Any]:
    data = asdict(claim)
    data["ambiguous"] = claim.ambiguous
    return data


def version_label(status: VersionStatus) -> str:
    return f"version {status}"


# ------------------------------------------------------------------ KEV


def _kev_findings(asset: Asset, index: KevIndex, versions: VersionData,
                  as_of: date) -> list[KevFinding]:
    found = []
    for item in asset.software:
        for entry, kind in index.match(item.vendor, item.product):
            status, note = versions.assess(entry.cve, item.vendor, item.product, item.version)
            points = 0.0
            if status != "not affected":
                points = WEIGHTS["kev_vendor_wide" if kind == "vendor-wide" else "kev_product"]
                points += WEIGHTS["kev_ransomware"] if entry.ransomware else 0
            overdue = bool(entry.due_date) and as_of.isoformat() > entry.due_date
            found.append(KevFinding(
                entry.cve, entry.id, entry.vendor, entry.product, entry.name, asset.asset_id,
                item, kind, status, note, entry.ransomware, entry.date_added, entry.due_date,
                overdue, entry.required_action, points))
    return found


# ------------------------------------------------------------------ adversaries


def _adversary_findings(asset: Asset, rows: Sequence[Adversary]) -> list[AdversaryFinding]:
    found = []
    for row in rows:
        sector = [c for c in row.claims if c.kind == "target-sector" and c.value == asset.sector]
        country = [c for c in row.claims if c.kind == "victim" and c.value == asset.country]
        if not sector and not country:
            continue
        claims = tuple(sector + country)
        ambiguous_only = all(c.ambiguous for c in claims)
        points = (WEIGHTS["adversary_sector"] if sector else 0) + (
            WEIGHTS["adversary_country"] if country else 0)
        if ambiguous_only:
            points *= WEIGHTS["ambiguous_factor"]
        reasons = tuple(name for name, hit in (("sector", sector), ("country", country)) if hit)
        found.append(AdversaryFinding(row.id, row.name, row.attack_id, row.kind, reasons,
                                      claims, ambiguous_only, points))
    return sorted(found, key=lambda f: (-f.points, f.name.casefold()))


# ------------------------------------------------------------------ together


def _adversary_label(finding: AdversaryFinding) -> str:
    name = finding.name + (f" ({finding.attack_id})" if finding.attack_id else "")
    what = " and ".join(finding.reasons)
    note = " (ambiguous links only)" if finding.ambiguous_only else ""
    return f"{name} targets the {what}{note}"


def _score(kev: Sequence[KevFinding], adversaries: Sequence[AdversaryFinding]) -> Score:
    parts = [ScorePart(f"{f.cve} on {f.on_asset} ({f.software.vendor} {f.software.product}; "
                       f"{f.match} match, {version_label(f.version)}"
                       f"{', ransomware known' if f.ransomware else ''})", f.points)
             for f in kev]
    parts += [ScorePart(_adversary_label(a), a.points) for a in adversaries]
    kev_points = min(WEIGHTS["kev_cap"], sum(f.points for f in kev))
    adversary_points = min(WEIGHTS["adversary_cap"], sum(a.points for a in adversaries))
    return Score(kev_points, adversary_points, parts)


def asset_exposure(assets: Sequence[Asset], objects: Iterable[Mapping[str, Any]], *,
                   versions: VersionData | None = None, as_of: date | None = None,
                   rows: Sequence[Adversary] | None = None) -> list[AssetExposure]:
    """Exposure of each asset (see the module docstring); ``objects`` are plain STIX."""
    items = list(objects)
    index = KevIndex(kev_entries(items))
    picture = list(rows) if rows is not None else threat_picture(items)
    data = versions or VersionData()
    today = as_of or date.today()
    by_id = {asset.asset_id: asset for asset in assets}
    systems: dict[str, list[Asset]] = {}
    for asset in assets:
        if asset.part_of in by_id:
            systems.setdefault(str(asset.part_of), []).append(asset)
    results = []
    for asset in assets:
        kev = _kev_findings(asset, index, data, today)
        for system in systems.get(asset.asset_id, []):
            kev += _kev_findings(system, index, data, today)
        adversaries = _adversary_findings(asset, picture)
        results.append(AssetExposure(
            asset, kev, adversaries, _score(kev, adversaries),
            [s.asset_id for s in systems.get(asset.asset_id, [])], asset.part_of))
    return results
