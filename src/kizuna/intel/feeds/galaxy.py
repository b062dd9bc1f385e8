"""The MISP galaxy threat-actor cluster as STIX 2.1, linked to ATT&CK intrusion sets.

Each cluster value becomes a ``threat-actor`` (id ``uuid5("misp-galaxy:threat-actor:<value
uuid>")``) carrying its attribution and targeting meta in ``GALAXY_ACTOR_EXTENSION``:
the CFR Cyber Operations Tracker's suspected state sponsor, victims and target categories,
the galaxy's own attributed country and targeted sectors, synonyms. Country names are
resolved to ISO3 exactly (``reference/galaxy_countries.yaml``, then
``kizuna.model.countries.to_iso3``); a name that does not resolve keeps its text only.

Links to ATT&CK come from the galaxy's own data, with the MISP mirror of the ATT&CK groups
(``mitre-intrusion-set.json``, whose value uuids are the ATT&CK ``intrusion-set`` ids):

* **explicit** — the actor's ``related`` names an intrusion-set value, or the intrusion set's
  ``related`` names the actor, or the actor's ``refs`` cite ``attack.mitre.org/groups/G####``,
  or a ``synonyms``/``name-attribution`` entry is a bare ``G####``;
* **name-only** — only the actor's name or a synonym equals the group's name or one of its
  synonyms (case, spaces and punctuation ignored). A candidate, not a fact.

Each link is a ``relationship`` (threat-actor ``related-to`` intrusion-set) with
``GALAXY_LINK_EXTENSION``: the basis, every piece of evidence (field and value), the ids
of every group the actor links to, and ``ambiguous`` (true for name-only links and for an
actor linked to more than one group: APT17 links to G0001, G0025 and G0044).

The galaxy carries no dates: new or changed content is stamped with the import time and
unchanged content keeps its stored version (``Feed.versionless``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pycountry
import yaml

from kizuna.errors import InputError
from kizuna.intel.feeds.extensions import (
    GALAXY_ACTOR_EXTENSION,
    GALAXY_LINK_EXTENSION,
    extension_definition,
)
from kizuna.intel.feeds.feed import TLP_CLEAR, Feed
from kizuna.intel.feeds.source import OFFICIAL_URLS, is_url, load_json
from kizuna.intel.ids import (
    KIZUNA_IDENTITY,
    MISP_IDENTITY,
    kizuna_identity,
    misp_identity,
    stix_id,
)
from kizuna.intel.stix.markings import CLEAR, tlp2_marking
from kizuna.model.countries import is_aggregate, to_iso3

_GROUP_REF = re.compile(r"attack\.mitre\.org/groups/(G\d{4})", re.IGNORECASE)
_GROUP_ID = re.compile(r"^(G\d{4})(?::.*)?$")
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~-._"  # RFC 3986 characters kept; others (e.g. |) escaped
ACTOR_FILE = "threat-actor.json"
GROUPS_FILE = "mitre-intrusion-set.json"


@dataclass(frozen=True)
class Group:
    """One ATT&CK group as the MISP mirror describes it."""

    attack_id: str
    uuid: str
    name: str
    names: frozenset[str]  # name_key of the name and synonyms
    similar: frozenset[str]  # threat-actor value uuids its `related` names


@dataclass
class Evidence:
    explicit: list[tuple[str, str]] = field(default_factory=list)
    names: list[tuple[str, str]] = field(default_factory=list)


def _fold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def name_key(text: str) -> str:
    """A name for matching: case, spaces and punctuation ignored ("Cold River" = "ColdRiver")."""
    return "".join(char for char in str(text).casefold() if char.isalnum())


# ------------------------------------------------------------------ countries


@cache
def _aliases() -> dict[str, str]:
    text = resources.files("kizuna.intel").joinpath("reference", "galaxy_countries.yaml")
    raw = yaml.safe_load(text.read_text("utf-8")) or {}
    return {_fold(name): str(code) for name, code in raw.items()}


def resolve_country(name: str) -> str | None:
    """ISO3 for a galaxy country name, or None (never a guess, never an aggregate)."""
    folded = _fold(name)
    if not folded:
        return None
    if folded in _aliases():
        return _aliases()[folded]
    try:
        code = to_iso3(name)
    except InputError:
        return None
    return None if is_aggregate(code) else code


def alpha2_to_iso3(code: str) -> str | None:
    found = pycountry.countries.get(alpha_2=code.strip().upper()) if code.strip() else None
    return None if found is None else str(found.alpha_3)


def _resolved(names: Iterable[Any]) -> list[dict[str, str]]:
    out = []
    for name in names:
        text = " ".join(str(name).split())
        if not text:
            continue
        item = {"name": text}
        code = resolve_country(text)
        if code is not None:
            item["iso3"] = code
        out.append(item)
    return out


# ------------------------------------------------------------------ reading


def galaxy_sources(source: str, intrusion_sets: str | None = None) -> tuple[str, str]:
    """The threat-actor cluster and the ATT&CK-groups cluster a source names.

    ``source`` is a ``clusters`` folder holding both, the threat-actor JSON (the groups file
    is then looked for beside it), or a URL (the groups URL is its sibling)."""
    if intrusion_sets is not None:
        return source, intrusion_sets
    if source == "official":
        return OFFICIAL_URLS["galaxy-threat-actor"], OFFICIAL_URLS["galaxy-intrusion-set"]
    if is_url(source):
        return source, source.rsplit("/", 1)[0] + "/" + GROUPS_FILE
    path = Path(source)
    if path.is_dir():
        return str(path / ACTOR_FILE), str(path / GROUPS_FILE)
    return source, str(path.with_name(GROUPS_FILE))


def read_galaxy(source: str, intrusion_sets: str | None = None, *,
                now: datetime | None = None) -> Feed:
    """Read the threat-actor cluster and the ATT&CK-groups cluster into a Feed."""
    actors_source, groups_source = galaxy_sources(source, intrusion_sets)
    if not is_url(actors_source) and not Path(actors_source).is_file():
        raise InputError(f"{actors_source}: no such file",
                         hint=f"give the MISP galaxy clusters folder (with {ACTOR_FILE} and "
                         f"{GROUPS_FILE}) or the path of {ACTOR_FILE}", file=actors_source)
    if not is_url(groups_source) and not Path(groups_source).is_file():
        raise InputError(f"{groups_source}: no such file; the galaxy's ATT&CK links need the "
                         f"MISP {GROUPS_FILE} cluster",
                         hint="put it beside threat-actor.json or pass --intrusion-sets FILE",
                         file=groups_source)
    actors = load_json(actors_source).data
    groups = load_json(groups_source).data
    return galaxy_feed(actors, groups, actors_source, now=now)


def _cluster_values(cluster: Any, kind: str, source: str) -> tuple[list[Mapping[str, Any]], int]:
    if not isinstance(cluster, Mapping) or not isinstance(cluster.get("values"), list):
        raise InputError(f"{source}: not a MISP galaxy cluster (no 'values' list)",
                         file=source)
    if cluster.get("type") != kind:
        raise InputError(f"{source}: a {cluster.get('type')!r} cluster, not {kind!r}",
                         hint=f"give the MISP {kind} cluster", file=source)
    values = [value for value in cluster["values"] if isinstance(value, Mapping)]
    version = cluster.get("version")
    return values, version if isinstance(version, int) else 0


def parse_groups(cluster: Any, source: str = GROUPS_FILE) -> dict[str, Group]:
    """ATT&CK id -> Group, from the MISP mirror of the ATT&CK groups."""
    values, _version = _cluster_values(cluster, "mitre-intrusion-set", source)
    groups: dict[str, Group] = {}
    for value in values:
        meta = value.get("meta") or {}
        attack_id = meta.get("external_id")
        uuid = value.get("uuid")
        if not isinstance(attack_id, str) or not isinstance(uuid, str):
            continue
        name = str(value.get("value", "")).rsplit(" - G", 1)[0].strip()
        names = {name_key(name), *(name_key(s) for s in meta.get("synonyms") or [])}
        similar = {str(rel.get("dest-uuid")) for rel in value.get("related") or []
                   if isinstance(rel, Mapping) and rel.get("type") == "similar"}
        groups[attack_id] = Group(attack_id, uuid, name, frozenset(n for n in names if n),
                                  frozenset(similar))
    return groups


def galaxy_feed(actors_cluster: Any, groups_cluster: Any, source: str = ACTOR_FILE, *,
                now: datetime | None = None) -> Feed:
    """Convert the parsed clusters: threat actors, their links, the definitions they use."""
    values, version = _cluster_values(actors_cluster, "threat-actor", source)
    groups = parse_groups(groups_cluster)
    stamp = _stamp(now)
    objects: list[dict[str, Any]] = [
        tlp2_marking(CLEAR), kizuna_identity(), misp_identity(),
        extension_definition(GALAXY_ACTOR_EXTENSION), extension_definition(GALAXY_LINK_EXTENSION),
    ]
    linked, ambiguous = 0, 0
    seen: set[str] = set()
    notes: list[str] = []
    for value in values:
        uuid = value.get("uuid")
        name = str(value.get("value") or "").strip()
        if not isinstance(uuid, str) or not name or uuid in seen:
            notes.append(f"skipped a value without a uuid or name, or repeated: {name!r}")
            continue
        seen.add(uuid)
        actor = threat_actor(value, version, stamp)
        objects.append(actor)
        links = links_for(value, groups, actor["id"], version, stamp)
        objects.extend(links)
        linked += bool(links)
        ambiguous += any(_link_props(link)["ambiguous"] for link in links)
    notes.append(f"{linked} of {len(seen)} actors are linked to ATT&CK groups; {ambiguous} "
                 "of them only ambiguously (name-only, or several groups)")
    return Feed("galaxy", f"MISP galaxy threat-actor v{version}", source, objects,
                versionless=True, notes=notes)


def _stamp(now: datetime | None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def actor_id(value_uuid: str) -> str:
    return stix_id("threat-actor", "misp-galaxy", "threat-actor", value_uuid)


def _text_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    return [" ".join(str(item).split()) for item in items if str(item).strip()]


def actor_properties(meta: Mapping[str, Any], value_uuid: str, version: int) -> dict[str, Any]:
    """The GALAXY_ACTOR_EXTENSION properties of one value's meta."""
    props: dict[str, Any] = {"extension_type": "property-extension", "galaxy": "threat-actor",
                             "galaxy_version": version, "cluster_uuid": value_uuid}
    country = str(meta.get("country") or "").strip()
    if country:
        props["country"] = country
        code = alpha2_to_iso3(country) if len(country) == 2 else resolve_country(country)
        if code:
            props["country_iso3"] = code
    sponsor = " ".join(str(meta.get("cfr-suspected-state-sponsor") or "").split())
    if sponsor:
        props["cfr_suspected_state_sponsor"] = sponsor
        code = resolve_country(sponsor)
        if code:
            props["cfr_suspected_state_sponsor_iso3"] = code
    for key, prop in (("cfr-suspected-victims", "cfr_suspected_victims"),
                      ("suspected-victims", "suspected_victims")):
        resolved = _resolved(_text_list(meta.get(key)))
        if resolved:
            props[prop] = resolved
    for key in ("cfr-target-category", "cfr-type-of-incident", "targeted-sector", "synonyms",
                "motive", "name-attribution"):
        items = _text_list(meta.get(key))
        if items:
            props[key.replace("-", "_")] = items
    confidence = meta.get("attribution-confidence")
    if confidence not in (None, ""):
        props["attribution_confidence"] = str(confidence)
    origins = [{"alias": key.split(":", 1)[1], "vendor": str(vendor)}
               for key, vendor in meta.items() if key.startswith("origin:") and vendor]
    if origins:
        props["origin_aliases"] = origins
    if meta:
        props["meta_fields"] = sorted(str(key) for key in meta)
    return props


def threat_actor(value: Mapping[str, Any], version: int, stamp: str) -> dict[str, Any]:
    meta = value.get("meta") or {}
    name = " ".join(str(value["value"]).split())
    refs: list[dict[str, str]] = [{"source_name": "misp-galaxy", "external_id": value["uuid"],
                                   "description": f"MISP threat-actor cluster v{version}"}]
    refs += [{"source_name": "reference", "url": quote(url.strip(), safe=_URL_SAFE)}
             for url in meta.get("refs") or [] if isinstance(url, str) and url.strip()]
    obj: dict[str, Any] = {
        "type": "threat-actor",
        "spec_version": "2.1",
        "id": actor_id(value["uuid"]),
        "created": stamp,
        "modified": stamp,
        "created_by_ref": MISP_IDENTITY,
        "name": name,
        "external_references": refs,
        "object_marking_refs": [TLP_CLEAR],
        "extensions": {GALAXY_ACTOR_EXTENSION: actor_properties(meta, value["uuid"], version)},
    }
    description = str(value.get("description") or "").strip()
    if description:
        obj["description"] = description
    aliases = [alias for alias in dict.fromkeys(_text_list(meta.get("synonyms")))
               if alias != name]
    if aliases:
        obj["aliases"] = aliases
    return obj


def _explicit_links(value: Mapping[str, Any], groups: Mapping[str, Group]
                    ) -> Iterator[tuple[str, str, str]]:
    """(ATT&CK id, field, value) for each explicit link in the galaxy's own data."""
    meta = value.get("meta") or {}
    by_uuid = {group.uuid: group for group in groups.values()}
    for rel in value.get("related") or []:
        target = by_uuid.get(str(rel.get("dest-uuid"))) if isinstance(rel, Mapping) else None
        if target is not None:
            yield target.attack_id, "related[].dest-uuid", target.uuid
    for group in groups.values():
        if value.get("uuid") in group.similar:
            yield group.attack_id, "mitre-intrusion-set related[].dest-uuid", group.uuid
    for ref in meta.get("refs") or []:
        for match in _GROUP_REF.finditer(str(ref)):
            yield match.group(1).upper(), "meta.refs", str(ref)
    for key in ("synonyms", "name-attribution"):
        for item in _text_list(meta.get(key)):
            bare = _GROUP_ID.match(item)
            if bare:
                yield bare.group(1), f"meta.{key}", item


def _name_links(value: Mapping[str, Any], groups: Mapping[str, Group]
                ) -> Iterator[tuple[str, str, str]]:
    """(ATT&CK id, field, value) for each equal name (the name-only candidates)."""
    names: dict[str, tuple[str, str]] = {}
    for field_name, text in [("value", str(value.get("value", ""))),
                             *(("meta.synonyms", s) for s in
                               _text_list((value.get("meta") or {}).get("synonyms")))]:
        key = name_key(text)
        if key:
            names.setdefault(key, (field_name, text))
    for group in groups.values():
        for key, (field_name, text) in names.items():
            if key in group.names:
                yield group.attack_id, field_name, f"{text} = a name of {group.attack_id} " \
                    f"{group.name}"


def evidence_for(value: Mapping[str, Any], groups: Mapping[str, Group]) -> dict[str, Evidence]:
    """ATT&CK id -> the evidence linking one actor to that group."""
    found: dict[str, Evidence] = {}
    for attack_id, field_name, shown in _explicit_links(value, groups):
        if attack_id in groups:
            found.setdefault(attack_id, Evidence()).explicit.append((field_name, shown))
    for attack_id, field_name, shown in _name_links(value, groups):
        found.setdefault(attack_id, Evidence()).names.append((field_name, shown))
    return found


def links_for(value: Mapping[str, Any], groups: Mapping[str, Group], source_ref: str,
              version: int, stamp: str) -> list[dict[str, Any]]:
    """The related-to relationships of one actor, each with its link extension."""
    found = evidence_for(value, groups)
    candidates = sorted(found)
    links = []
    for attack_id in candidates:
        evidence, group = found[attack_id], groups[attack_id]
        basis = "explicit" if evidence.explicit else "name-only"
        items = list(dict.fromkeys(evidence.explicit + evidence.names))
        props = {
            "extension_type": "property-extension",
            "basis": basis,
            "ambiguous": basis == "name-only" or len(candidates) > 1,
            "attack_id": attack_id,
            "attack_name": group.name,
            "candidates": candidates,
            "evidence": [{"field": name, "value": shown} for name, shown in items],
            "galaxy_version": version,
        }
        why = "; ".join(f"{name}: {shown}" for name, shown in items[:4])
        links.append({
            "type": "relationship",
            "spec_version": "2.1",
            "id": stix_id("relationship", "misp-galaxy", "link", str(value["uuid"]), attack_id),
            "created": stamp,
            "modified": stamp,
            "created_by_ref": KIZUNA_IDENTITY,
            "relationship_type": "related-to",
            "source_ref": source_ref,
            "target_ref": f"intrusion-set--{group.uuid}",
            "description": f"{value['value']} (MISP galaxy) and ATT&CK {attack_id} "
                           f"{group.name}: {basis} link ({why})",
            "object_marking_refs": [TLP_CLEAR],
            "extensions": {GALAXY_LINK_EXTENSION: props},
        })
    return links


def _link_props(link: Mapping[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = link["extensions"][GALAXY_LINK_EXTENSION]
    return props
