"""Matches to STIX 2.1 sightings, and sightings pushed to a hub collection.

One sighting per sighted indicator and scan: ``count``, ``first_seen``/``last_seen``, the
reporting organisation's identity in ``where_sighted_refs`` (and as ``created_by_ref``),
the indicator as ``sighting_of_ref``. A sighting carries **at least its indicator's
markings** (``object_marking_refs``, and the marking refs of its granular markings), so it
is never less restricted than what it reports on. For an AMBER+STRICT or RED indicator the
sighting names as recipients (``x_kizuna_recipients``) the indicator's own recipients and
its producer (``created_by_ref``) when that is an organisation of the hub, so the partner
who shared the indicator can read the sighting and nobody else can.

Ids are uuid5 of the organisation, the indicator and the scan's figures: pushing the same
report twice stores nothing new.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kizuna.hub.contract import Actor, HubService
from kizuna.intel.ids import stix_id
from kizuna.intel.matcher.run import MatchReport
from kizuna.intel.stix.markings import AMBER_STRICT, level_of

ENVELOPE = 500
RECIPIENTS = "x_kizuna_recipients"
REPORTER = "x_kizuna_reporter"


def indicator_markings(indicator: Mapping[str, Any]) -> list[str]:
    """Every marking-definition id on an indicator: object markings, then granular ones."""
    refs = [str(ref) for ref in indicator.get("object_marking_refs") or ()]
    for granular in indicator.get("granular_markings") or ():
        ref = granular.get("marking_ref") if isinstance(granular, Mapping) else None
        if ref:
            refs.append(str(ref))
    return list(dict.fromkeys(refs))


def sightings_for(report: MatchReport, indicators: Mapping[str, Mapping[str, Any]], *,
                  where_sighted: str, created: str, organisations: Collection[str] = (),
                  reporter: str | None = None) -> list[dict[str, Any]]:
    """A STIX sighting per match of ``report``.

    ``indicators`` maps id -> the indicator object (for its markings); ``where_sighted`` is
    the reporting organisation's identity id; ``organisations`` the identity ids of the
    hub's organisations (a RED indicator's producer is named as recipient only if it is one);
    ``reporter`` the organisation's name on this hub (``x_kizuna_reporter``, for the pages).
    """
    out = []
    for match in report.matches:
        indicator = indicators.get(match.indicator_id, {})
        sighting: dict[str, Any] = {
            "type": "sighting",
            "spec_version": "2.1",
            "id": stix_id("sighting", "sighting", where_sighted, match.indicator_id,
                          match.first_seen, match.last_seen, str(match.count)),
            "created": created,
            "modified": created,
            "created_by_ref": where_sighted,
            "count": min(match.count, 999_999_999),
            "first_seen": match.first_seen,
            "last_seen": match.last_seen,
            "sighting_of_ref": match.indicator_id,
            "where_sighted_refs": [where_sighted],
        }
        if reporter:
            sighting[REPORTER] = reporter
        markings = indicator_markings(indicator)
        if markings:
            sighting["object_marking_refs"] = markings
        level = level_of(markings)
        if level is not None and level >= AMBER_STRICT:
            named = [str(r) for r in indicator.get(RECIPIENTS) or ()]
            producer = indicator.get("created_by_ref")
            if producer and producer in organisations:
                named.append(str(producer))
            named = [r for r in dict.fromkeys(named) if r != where_sighted]
            if named:
                sighting[RECIPIENTS] = named
        out.append(sighting)
    return out


@dataclass
class PushResult:
    collection: str
    root: str
    posted: int = 0
    stored: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"root": self.root, "collection": self.collection, "posted": self.posted,
                "stored": self.stored, "failures": self.failures}


def push_sightings(hub: HubService, actor: Actor, root: str, collection: str,
                   sightings: Sequence[dict[str, Any]],
                   marking_definitions: Iterable[Mapping[str, Any]] = ()) -> PushResult:
    """Post the sightings through the hub's public API (as a TAXII client would), in
    envelopes of 500, with the custom marking definitions they refer to."""
    result = PushResult(collection, root)
    used = {ref for s in sightings for ref in s.get("object_marking_refs", ())}
    extra = [dict(m) for m in marking_definitions if m.get("id") in used]
    for start in range(0, len(sightings), ENVELOPE):
        objects = list(sightings[start:start + ENVELOPE])
        status = hub.add_objects(actor, root, collection, {"objects": extra + objects})
        result.posted += len(objects)
        result.stored += int(status.get("success_count", 0)) - len(extra)
        result.failures.extend(status.get("failures", []))
    return result
