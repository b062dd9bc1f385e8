"""The overview's opening sentence, written from the figures it introduces.

Nothing here is hard-coded about who leads: the sentence names the top country of each stage
with its share, year (and estimate flag) and source, as the profiles give them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from kizuna.web.formatting import fmt_share

VERBS = {"mining": "mined", "refining": "refined"}
UNIT_SUFFIX = re.compile(r",\s*(?:kt|t|kg|Mt)\b.*$")
"""A series name's trailing unit ("..., kt Co"), dropped when the series names a product."""


def source_short(source: str | None) -> str:
    """A short name for a source id: ``usgs-mcs2026`` → USGS, ``stratas-2023`` → Stratas."""
    head = (source or "source not recorded").split("-")[0]
    return head.upper() if len(head) <= 4 else head.capitalize()


def product(series: str) -> str:
    """The product a series of published shares covers, without its unit."""
    return UNIT_SUFFIX.sub("", series).strip()


def stage_clause(profile: Mapping[str, Any], *, subject: str) -> str:
    """``In 2025 China mined 69% of the world's rare earths (USGS, estimate)``."""
    top = profile["countries"][0]
    share = fmt_share(top["share"], 0)
    if profile.get("basis") == "share":
        claim = f"held {share} of {product(str(profile['series']))}"
    else:
        verb = VERBS.get(str(profile["stage"]), "produced")
        claim = f"{verb} {share} of the world's {str(profile['name']).lower()}"
    notes = [source_short(profile.get("source"))]
    if profile.get("estimated"):
        notes.append("estimate")
    return f"in {profile['year']} {subject} {claim} ({', '.join(notes)})"


def _comparison(profiles: Sequence[Mapping[str, Any]]) -> str:
    if len(profiles) != 2 or None in (profiles[0].get("hhi"), profiles[1].get("hhi")):
        return ""
    first, second = profiles
    more, less = (first, second) if first["hhi"] > second["hhi"] else (second, first)
    return (f"For {str(first['name']).lower()}, {more['stage']} is more concentrated than "
            f"{less['stage']}: ")


def overview_lede(panels: Sequence[Mapping[str, Any]]) -> str:
    """One sentence comparing the stages of the story mineral, from the panels' profiles."""
    profiles = [
        panel["profile"] for panel in panels
        if panel.get("profile") and panel["profile"].get("countries")
        and panel["profile"]["countries"][0].get("share") is not None
    ]
    if not profiles:
        return ""
    clauses = []
    previous = None
    for profile in profiles:
        leader = str(profile["countries"][0]["name"])
        clauses.append(stage_clause(profile, subject="it" if leader == previous else leader))
        previous = leader
    text = _comparison(profiles) + ", and ".join(clauses) + "."
    return text[0].upper() + text[1:]
