"""Country names to ISO 3166-1 alpha-3 codes and back.

Names resolve through the explicit alias table in ``kizuna/data/reference/countries.yaml``
first, then pycountry's exact lookup. Aggregates (world total, other countries, rest of
world) resolve to the area codes WORLD, OTHER and ROW. Fuzzy matching is never used.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pycountry
import yaml

from kizuna.errors import DataError, InputError

AGGREGATE_CODES = ("WORLD", "OTHER", "ROW")


@dataclass(frozen=True)
class CountryTable:
    """The parsed alias table: folded name -> code, plus aggregate and extra-code names."""

    aliases: dict[str, str]
    aggregate_names: dict[str, str]  # code -> display name
    extra_codes: dict[str, str]  # non-ISO code -> display name
    display_names: dict[str, str]  # ISO3 -> preferred short name
    wgi_codes: dict[str, str]  # WGI code -> ISO3


def _fold(name: str) -> str:
    return " ".join(name.replace("’", "'").replace("‘", "'").split()).casefold()


def _reference_text(filename: str) -> str:
    return resources.files("kizuna.data").joinpath("reference", filename).read_text("utf-8")


@cache
def country_table() -> CountryTable:
    """Parse countries.yaml once (lazily, on first use)."""
    raw: dict[str, Any] = yaml.safe_load(_reference_text("countries.yaml"))
    aliases = {_fold(name): str(code) for name, code in raw["aliases"].items()}
    aggregate_names: dict[str, str] = {}
    for code, spec in raw["aggregates"].items():
        if code not in AGGREGATE_CODES:
            raise DataError(
                f"countries.yaml: unknown aggregate code {code!r}", file="countries.yaml"
            )
        aggregate_names[code] = spec["name"]
        for name in spec["names"]:
            aliases[_fold(name)] = code
    extra = {str(k): str(v) for k, v in raw.get("extra_codes", {}).items()}
    wgi = {str(k): str(v) for k, v in raw.get("wgi_codes", {}).items()}
    display = {str(k): str(v) for k, v in raw.get("display_names", {}).items()}
    return CountryTable(aliases, aggregate_names, extra, display, wgi)


def is_aggregate(code: str) -> bool:
    """True for the aggregate area codes WORLD, OTHER and ROW."""
    return code in AGGREGATE_CODES


def _is_known_code(text: str) -> bool:
    table = country_table()
    if text in AGGREGATE_CODES or text in table.extra_codes:
        return True
    return len(text) == 3 and text.isupper() and pycountry.countries.get(alpha_3=text) is not None


def to_iso3(name: str) -> str:
    """Resolve a country name (or code) to ISO3, or to WORLD/OTHER/ROW for aggregates.

    Raises InputError with a hint when the name is unknown.
    """
    text = " ".join(str(name).split())
    if _is_known_code(text):
        return text
    table = country_table()
    folded = _fold(text)
    if folded in table.aliases:
        return table.aliases[folded]
    try:
        found = pycountry.countries.lookup(text)
    except LookupError:
        found = None
    if found is not None:
        return str(found.alpha_3)
    raise InputError(
        f"unknown country {name!r}",
        hint="use an ISO code such as COD or add an alias to countries.yaml",
        field="country",
        value=name,
    )


def wgi_to_iso3(code: str) -> str:
    """Translate a World Bank WGI economy code to ISO3 (ZAR -> COD, ROM -> ROU, ...)."""
    return country_table().wgi_codes.get(code, code)


def country_name(iso3: str) -> str:
    """A short English display name for an ISO3 or aggregate code."""
    table = country_table()
    if iso3 in table.aggregate_names:
        return table.aggregate_names[iso3]
    if iso3 in table.extra_codes:
        return table.extra_codes[iso3]
    if iso3 in table.display_names:
        return table.display_names[iso3]
    country = pycountry.countries.get(alpha_3=iso3)
    if country is None:
        raise InputError(
            f"unknown country code {iso3!r}",
            hint="use an ISO 3166-1 alpha-3 code such as COD",
            field="country",
            value=iso3,
        )
    return str(getattr(country, "common_name", None) or country.name)
