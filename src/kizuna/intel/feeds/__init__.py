"""Public feeds into hub collections: MITRE ATT&CK, CISA KEV, the MISP threat-actor galaxy.

``read_feed(kind, source)`` converts a local file or URL into a :class:`Feed` of STIX 2.1
objects (plain dicts); ``import_feed(hub, actor, root, collection, feed)`` posts it through
the hub's service API and returns an :class:`ImportReport`. docs/intel.md describes each
feed, the deterministic ids and the KEV extension's schema.
"""

from __future__ import annotations

from datetime import datetime

from kizuna.errors import UsageError
from kizuna.intel.feeds.attack import read_attack
from kizuna.intel.feeds.feed import Feed
from kizuna.intel.feeds.galaxy import read_galaxy
from kizuna.intel.feeds.kev import read_kev
from kizuna.intel.feeds.load import ImportReport, import_feed
from kizuna.intel.feeds.source import OFFICIAL_URLS

KINDS = ("attack", "kev", "galaxy")

__all__ = ["KINDS", "Feed", "ImportReport", "import_feed", "read_feed"]


def read_feed(kind: str, source: str, *, intrusion_sets: str | None = None,
              now: datetime | None = None) -> Feed:
    """Convert one feed. ``source`` is a path, a URL, or ``official`` (the publisher's URL;
    for ATT&CK ``official`` means enterprise, or say ``ics``/``mobile``/``enterprise``)."""
    if kind == "attack":
        named = {"official": "attack-enterprise", "enterprise": "attack-enterprise",
                 "ics": "attack-ics", "mobile": "attack-mobile"}
        return read_attack(OFFICIAL_URLS[named[source]] if source in named else source)
    if kind == "kev":
        return read_kev(OFFICIAL_URLS["kev"] if source == "official" else source)
    if kind == "galaxy":
        return read_galaxy(source, intrusion_sets, now=now)
    raise UsageError(f"unknown feed {kind!r}", hint="use one of " + ", ".join(KINDS),
                     field="kind", value=kind)
