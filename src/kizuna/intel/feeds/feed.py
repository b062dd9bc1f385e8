"""What a feed converter returns: STIX objects ready for the hub, in the order to post them.

``Feed.objects`` puts what other objects refer to first (marking definitions, identities,
extension definitions), so an envelope never refers to a marking the hub has not seen.
``versionless`` feeds (KEV, the MISP galaxy) carry no per-entry dates: their converters
give new content the release's timestamp, and ``settle`` keeps the stored version of any
object whose content has not changed, so a re-import posts exactly what is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kizuna.errors import InputError
from kizuna.intel.stix.markings import CLEAR, TLP2_IDS

TLP_CLEAR = TLP2_IDS[CLEAR]
FIRST_TYPES = ("marking-definition", "identity", "extension-definition")
_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$")


@dataclass
class Feed:
    """A converted feed: objects for the hub, and what the conversion had to say."""

    kind: str  # "attack", "kev", "galaxy", "demo"
    release: str  # e.g. "ICS ATT&CK 18.1", "CISA KEV 2025.08.25"
    source: str  # the path or URL read
    objects: list[dict[str, Any]]
    versionless: bool = False  # settle() against the stored versions before posting
    notes: list[str] = field(default_factory=list)  # repairs, skipped entries, ...
    counts: dict[str, int] = field(default_factory=dict)  # objects by type

    def __post_init__(self) -> None:
        self.objects = order_objects(self.objects)
        counts: dict[str, int] = {}
        for obj in self.objects:
            counts[obj["type"]] = counts.get(obj["type"], 0) + 1
        self.counts = dict(sorted(counts.items()))


def order_objects(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Referenced kinds first (stable within each group)."""
    rank = {name: index for index, name in enumerate(FIRST_TYPES)}
    return sorted(objects, key=lambda obj: rank.get(obj.get("type", ""), len(rank)))


def stix_timestamp(value: str, what: str, source: str) -> str:
    """A source timestamp as STIX wants it (``...Z``, at most millisecond-free microseconds)."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return f"{text}T00:00:00.000Z"
    text = text.replace("+00:00", "Z")
    match = _STAMP.match(text)
    if match is None:
        raise InputError(f"{source}: {what} {value!r} is not a UTC timestamp",
                         hint="the feed's format may have changed", file=source)
    fraction = (match.group(2) or ".000")[:7]
    return f"{match.group(1)}{fraction}Z"


def _without(obj: Mapping[str, Any], ignore: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """A copy without ``modified`` and without the named properties of named extensions."""
    copy = {key: value for key, value in obj.items() if key != "modified"}
    extensions = copy.get("extensions")
    if isinstance(extensions, Mapping):
        trimmed = {}
        for ext_id, props in extensions.items():
            drop = set(ignore.get(ext_id, ()))
            trimmed[ext_id] = (
                {k: v for k, v in props.items() if k not in drop}
                if isinstance(props, Mapping) else props
            )
        copy["extensions"] = trimmed
    return copy


def settle(
    objects: list[dict[str, Any]],
    stored: Mapping[str, Mapping[str, Any]],
    ignore: Mapping[str, Iterable[str]] | None = None,
) -> list[dict[str, Any]]:
    """Keep the stored version of every object whose content has not changed.

    ``stored`` maps ids to their latest stored document. An object equal to it, apart from
    ``modified``, ``created`` and the ``ignore``d extension properties (e.g. the catalogue
    version it was first seen in), is replaced by the stored document; a changed one keeps
    the stored ``created`` and its own (newer) ``modified``: a new version.
    """
    rules = ignore or {}
    settled = []
    for obj in objects:
        before = stored.get(obj["id"])
        if before is None:
            settled.append(obj)
            continue
        candidate = {**obj, "created": before.get("created", obj.get("created"))}
        if _without(candidate, rules) == _without(before, rules):
            settled.append(dict(before))
        else:
            if candidate.get("modified", "") < candidate["created"]:
                candidate["modified"] = candidate["created"]
            settled.append(candidate)
    return settled
