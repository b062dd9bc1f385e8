"""Who targets what: adversaries with their sponsor, target sectors, victims and techniques.

``threat_picture(objects)`` works on plain STIX objects (what an organisation can read from
the hub) and returns one :class:`Adversary` per ATT&CK intrusion set, plus one per MISP
galaxy threat actor that is not linked to an imported intrusion set. Every claim says where
it comes from: the object, the property path, the source field it was converted from and,
when it reaches an intrusion set through a galaxy link, that link and whether it is
ambiguous. Claims of different kinds are never merged:

* ``cfr-sponsor`` — the CFR Cyber Operations Tracker's *suspected state sponsor*
  (``meta.cfr-suspected-state-sponsor``);
* ``attributed-country`` — the galaxy's own country of attribution (``meta.country``);
* ``target-sector`` — ``meta.cfr-target-category`` (CFR) or ``meta.targeted-sector``
  (CERT-EU vocabulary), mapped to Kizuna's sectors by ``kizuna.intel.sectors``;
* ``victim`` — ``meta.cfr-suspected-victims`` or ``meta.suspected-victims``.

ATT&CK has no sector or sponsor field; nothing here reads ATT&CK prose for one. Techniques
are the intrusion set's own ``uses`` relationships to attack patterns (not its software's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from kizuna.intel.feeds.attack import attack_id
from kizuna.intel.feeds.extensions import GALAXY_ACTOR_EXTENSION, GALAXY_LINK_EXTENSION
from kizuna.intel.sectors import fold, sector_of

ClaimKind = Literal["cfr-sponsor", "attributed-country", "target-sector", "victim"]
SponsorBasis = Literal["any", "cfr", "attributed"]
PICTURE_TYPES = ("intrusion-set", "threat-actor", "relationship", "attack-pattern", "malware",
                 "tool")
_PATH = f"extensions.{GALAXY_ACTOR_EXTENSION}"
SPONSOR_KINDS: dict[str, tuple[ClaimKind, ...]] = {
    "any": ("cfr-sponsor", "attributed-country"), "cfr": ("cfr-sponsor",),
    "attributed": ("attributed-country",)}
CLAIM_LABELS: dict[str, str] = {
    "cfr-sponsor": "suspected state sponsor (CFR Cyber Operations Tracker, via the MISP galaxy)",
    "attributed-country": "country of attribution (MISP galaxy)",
    "target-sector": "target sector",
    "victim": "suspected victim country",
}


@dataclass(frozen=True)
class Via:
    """The galaxy link through which an actor's claim reaches an intrusion set."""

    relationship: str
    basis: str  # "explicit" | "name-only"
    ambiguous: bool


@dataclass(frozen=True)
class Source:
    object: str  # the STIX id holding the claim
    object_name: str
    path: str  # property path in that object
    origin: str  # the field of the source data it was converted from
    publisher: str
    via: Via | None = None


@dataclass(frozen=True)
class Claim:
    kind: ClaimKind
    value: str  # ISO3 for countries, sector slug for sectors ("" when not in the vocabulary)
    text: str  # as the source says it
    source: Source

    @property
    def ambiguous(self) -> bool:
        return self.source.via is not None and self.source.via.ambiguous


@dataclass(frozen=True)
class Technique:
    attack_id: str | None
    name: str
    object: str
    relationship: str


@dataclass(frozen=True)
class Link:
    actor: str  # threat-actor id
    actor_name: str
    relationship: str
    attack_id: str
    attack_name: str
    basis: str
    ambiguous: bool
    imported: bool  # the intrusion set is among the objects read (imported, and visible)
    evidence: tuple[str, ...] = ()


@dataclass
class Adversary:
    id: str
    kind: Literal["intrusion-set", "threat-actor"]
    name: str
    attack_id: str | None
    aliases: list[str]
    description: str
    claims: list[Claim] = field(default_factory=list)
    techniques: list[Technique] = field(default_factory=list)
    software: list[Technique] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    matched: list[Claim] = field(default_factory=list)  # what satisfied the filters

    def of(self, kind: ClaimKind, *, include_ambiguous: bool = True) -> list[Claim]:
        return [c for c in self.claims
                if c.kind == kind and (include_ambiguous or not c.ambiguous)]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("claims", "matched"):
            data[name] = [_claim_json(c) for c in getattr(self, name)]
        return data


def _claim_json(claim: Claim) -> dict[str, Any]:
    data = asdict(claim)
    data["label"] = CLAIM_LABELS[claim.kind]
    data["ambiguous"] = claim.ambiguous
    return data


# ------------------------------------------------------------------ claims of one actor


def _publisher(props: Mapping[str, Any], cfr: bool, labels: Sequence[str] = ()) -> str:
    if "synthetic" in labels:
        return "SYNTHETIC demo data (shaped like the MISP galaxy; made up)"
    version = props.get("galaxy_version")
    base = f"MISP galaxy threat-actor v{version}" if version else "MISP galaxy threat-actor"
    return base + ("; Council on Foreign Relations Cyber Operations Tracker" if cfr else "")


def actor_claims(actor: Mapping[str, Any], via: Via | None = None) -> list[Claim]:
    """The claims one galaxy threat actor makes, each with its source."""
    props = (actor.get("extensions") or {}).get(GALAXY_ACTOR_EXTENSION)
    if not isinstance(props, Mapping):
        return []
    name, oid = str(actor.get("name", "")), str(actor["id"])

    def source(prop: str, origin: str, cfr: bool) -> Source:
        return Source(oid, name, f"{_PATH}.{prop}", origin,
                      _publisher(props, cfr, actor.get("labels") or ()), via)

    claims: list[Claim] = []
    sponsor = props.get("cfr_suspected_state_sponsor")
    if sponsor:
        claims.append(Claim("cfr-sponsor", str(props.get("cfr_suspected_state_sponsor_iso3", "")),
                            str(sponsor), source("cfr_suspected_state_sponsor",
                                                 "meta.cfr-suspected-state-sponsor", True)))
    if props.get("country"):
        claims.append(Claim("attributed-country", str(props.get("country_iso3", "")),
                            str(props["country"]), source("country", "meta.country", False)))
    for prop, origin, cfr in (("cfr_target_category", "meta.cfr-target-category", True),
                              ("targeted_sector", "meta.targeted-sector", False)):
        for term in props.get(prop) or []:
            claims.append(Claim("target-sector", sector_of(term) or "", str(term),
                                source(prop, origin, cfr)))
    for prop, origin, cfr in (("cfr_suspected_victims", "meta.cfr-suspected-victims", True),
                              ("suspected_victims", "meta.suspected-victims", False)):
        for item in props.get(prop) or []:
            claims.append(Claim("victim", str(item.get("iso3", "")), str(item.get("name", "")),
                                source(prop, origin, cfr)))
    return claims


# ------------------------------------------------------------------ the picture


def _active(obj: Mapping[str, Any]) -> bool:
    return not obj.get("revoked") and not obj.get("x_mitre_deprecated")


def _adversary(obj: Mapping[str, Any]) -> Adversary:
    aliases = [str(a) for a in obj.get("aliases") or [] if str(a) != obj.get("name")]
    kind: Literal["intrusion-set", "threat-actor"] = (
        "intrusion-set" if obj["type"] == "intrusion-set" else "threat-actor")
    return Adversary(str(obj["id"]), kind, str(obj.get("name", "")),
                     attack_id(obj) if kind == "intrusion-set" else None, aliases,
                     str(obj.get("description", "")))


def threat_picture(objects: Iterable[Mapping[str, Any]], *,
                   include_revoked: bool = False) -> list[Adversary]:
    """Adversaries from plain STIX objects (see the module docstring), sorted by name."""
    by_id = {str(obj["id"]): obj for obj in objects}
    sets = {oid: _adversary(obj) for oid, obj in by_id.items()
            if obj.get("type") == "intrusion-set" and (include_revoked or _active(obj))}
    by_attack = {adv.attack_id: adv for adv in sets.values() if adv.attack_id}
    actors = {oid: obj for oid, obj in by_id.items() if obj.get("type") == "threat-actor"}
    linked: set[str] = set()
    lone: dict[str, Adversary] = {}
    for rel in by_id.values():
        if rel.get("type") != "relationship":
            continue
        props = (rel.get("extensions") or {}).get(GALAXY_LINK_EXTENSION)
        if isinstance(props, Mapping) and rel.get("source_ref") in actors:
            actor = actors[str(rel["source_ref"])]
            target = (sets.get(str(rel.get("target_ref")))
                      or by_attack.get(str(props.get("attack_id", ""))))
            link = Link(str(actor["id"]), str(actor.get("name", "")), str(rel["id"]),
                        str(props.get("attack_id", "")), str(props.get("attack_name", "")),
                        str(props.get("basis", "")), bool(props.get("ambiguous")),
                        target is not None,
                        tuple(f"{e.get('field')}: {e.get('value')}"
                              for e in props.get("evidence") or []))
            if target is not None:
                linked.add(link.actor)
                target.links.append(link)
                target.claims.extend(actor_claims(actor, Via(link.relationship, link.basis,
                                                             link.ambiguous)))
            else:
                lone.setdefault(link.actor, _adversary(actor)).links.append(link)
        elif rel.get("relationship_type") == "uses" and rel.get("source_ref") in sets:
            _add_use(sets[str(rel["source_ref"])], rel, by_id)
    rows = list(sets.values())
    for oid, actor in actors.items():
        if oid in linked:
            continue
        row = lone.get(oid) or _adversary(actor)
        row.claims.extend(actor_claims(actor))
        rows.append(row)
    return sorted(rows, key=lambda row: (row.name.casefold(), row.id))


def _add_use(adversary: Adversary, rel: Mapping[str, Any],
             by_id: Mapping[str, Mapping[str, Any]]) -> None:
    target = by_id.get(str(rel.get("target_ref")))
    if target is None or not _active(target):
        return
    item = Technique(attack_id(target), str(target.get("name", "")), str(target["id"]),
                     str(rel["id"]))
    if target.get("type") == "attack-pattern":
        adversary.techniques.append(item)
    elif target.get("type") in ("malware", "tool"):
        adversary.software.append(item)


# ------------------------------------------------------------------ filters


@dataclass(frozen=True)
class GroupFilter:
    sector: str | None = None  # a sector slug or a target term as the source spells it
    sponsor: str | None = None  # ISO3
    sponsor_basis: SponsorBasis = "any"
    victim: str | None = None  # ISO3
    include_ambiguous: bool = True  # count claims reaching a set through ambiguous links
    attack_only: bool = False  # only ATT&CK intrusion sets


def _sector_match(claim: Claim, wanted: str) -> bool:
    return claim.value == wanted or fold(claim.text) == fold(wanted)


def filter_groups(rows: Sequence[Adversary], spec: GroupFilter) -> list[Adversary]:
    """Rows every given filter matches; each kept row lists the claims that matched."""
    kept = []
    kinds = SPONSOR_KINDS[spec.sponsor_basis]
    for row in rows:
        if spec.attack_only and row.kind != "intrusion-set":
            continue
        claims = [c for c in row.claims if spec.include_ambiguous or not c.ambiguous]
        matched: list[Claim] = []
        tests = []
        if spec.sponsor:
            tests.append([c for c in claims if c.kind in kinds and c.value == spec.sponsor])
        if spec.sector:
            tests.append([c for c in claims if c.kind == "target-sector"
                          and _sector_match(c, spec.sector)])
        if spec.victim:
            tests.append([c for c in claims if c.kind == "victim" and c.value == spec.victim])
        if all(tests):
            for found in tests:
                matched.extend(found)
            kept.append(replace(row, matched=matched))
    return kept
