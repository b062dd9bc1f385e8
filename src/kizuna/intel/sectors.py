"""The sector vocabulary: asset sectors, and which galaxy target terms count as each.

The vocabulary is data (``reference/sectors.yaml``). ``sector_of(term)`` maps a free-text
target category to a sector slug by exact equality of folded text (case, spacing and
punctuation ignored), or None; ``check_sector(text)`` accepts a slug, a label or a listed
term and raises an InputError that lists the slugs otherwise.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from kizuna.errors import DataError, InputError


@dataclass(frozen=True)
class Sector:
    slug: str
    label: str
    terms: tuple[str, ...]


def fold(text: str) -> str:
    """Case, spacing and punctuation ignored."""
    return "".join(char for char in str(text).casefold() if char.isalnum())


@cache
def sectors() -> dict[str, Sector]:
    text = resources.files("kizuna.intel").joinpath("reference", "sectors.yaml")
    raw = yaml.safe_load(text.read_text("utf-8"))
    found: dict[str, Sector] = {}
    for slug, spec in (raw.get("sectors") or {}).items():
        if not isinstance(spec, dict) or "label" not in spec:
            raise DataError(f"sectors.yaml: sector {slug!r} needs a label", file="sectors.yaml")
        found[str(slug)] = Sector(str(slug), str(spec["label"]),
                                  tuple(str(term) for term in spec.get("terms") or []))
    return found


@cache
def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for sector in sectors().values():
        for name in (sector.slug, sector.label, *sector.terms):
            key = fold(name)
            if key in index and index[key] != sector.slug:
                raise DataError(f"sectors.yaml: {name!r} is listed under both "
                                f"{index[key]!r} and {sector.slug!r}", file="sectors.yaml")
            index[key] = sector.slug
    return index


def sector_of(term: str) -> str | None:
    """The sector slug a target term counts as, or None when it is not in the vocabulary."""
    return _index().get(fold(term))


def check_sector(text: str, *, field: str = "sector") -> str:
    """A sector slug from a slug, label or term; InputError naming the choices otherwise."""
    slug = sector_of(text)
    if slug is not None:
        return slug
    close = difflib.get_close_matches(str(text).strip().casefold(), list(sectors()), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise InputError(f"unknown sector {text!r}",
                     hint=hint + "use one of " + ", ".join(sectors()), field=field, value=text)
