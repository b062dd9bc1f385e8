"""The value codes of the USGS Mineral Commodity Summaries data release.

Every code the world tables use is mapped deliberately (the table is repeated in
docs/data.md); anything else raises a DataError naming the file, line and field, so a new
code in a future release is noticed rather than dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kizuna.errors import DataError

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_PLAIN = re.compile(rf"^(?:{_NUMBER})$")
_BOUND = re.compile(rf"^(?P<op>[<>])\s*(?P<n>{_NUMBER})$")
_RANGE = re.compile(rf"^(?P<a>{_NUMBER})\s*[-–—]\s*(?P<b>{_NUMBER})$")
_ESTIMATED = re.compile(r"^\s*Estimated\s*\.")

ZERO = "—"
"""USGS prints an em dash for zero."""

#: Codes that carry no number, with their meaning (the value stays empty).
WORD_CODES: dict[str, str] = {
    "NA": "not available",
    "W": "withheld to avoid disclosing company proprietary data",
    "E": "net exporter (US salient statistics only)",
    "XX": "not applicable (e.g. a world total USGS cannot calculate)",
    "s": "less than ½ unit, or included in another row (the row's note says which)",
    "Large": "qualitative estimate: large",
    "Moderate to large": "qualitative estimate: moderate to large",
    "Moderate": "qualitative estimate: moderate",
    "Small": "qualitative estimate: small",
    "Very small": "qualitative estimate: very small",
}

#: Codes with a number, with their meaning.
NUMERIC_CODES: dict[str, str] = {
    "zero": "'—' (em dash): zero; value = 0",
    ">": "'>n': more than n; value_min = n, value empty",
    "<": "'<n': less than n; value_max = n, value empty",
    "range": "'a - b' or 'a–b': between a and b; value_min = a, value_max = b, value empty",
}

_VARIABLE_PREFIX = "Variable"  # "Variable, depending on ..." (US salient statistics only)


@dataclass(frozen=True)
class ParsedValue:
    value: float | None
    value_min: float | None
    value_max: float | None
    code: str | None  # None for a plain number


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _coded(text: str) -> ParsedValue | None:
    """The parsed value of a coded cell, or None when ``text`` is not a known code."""
    if text == ZERO:
        return ParsedValue(0.0, None, None, "zero")
    if text in WORD_CODES:
        return ParsedValue(None, None, None, text)
    if text.startswith(_VARIABLE_PREFIX):
        return ParsedValue(None, None, None, "Variable")
    bound = _BOUND.match(text)
    if bound:
        number, above = _number(bound["n"]), bound["op"] == ">"
        return ParsedValue(None, number if above else None, None if above else number, bound["op"])
    span = _RANGE.match(text)
    if span:
        return ParsedValue(None, _number(span["a"]), _number(span["b"]), "range")
    return None


def parse_value(raw: str, *, file: str = "<memory>", line: int | None = None) -> ParsedValue:
    """Parse one `Value` cell. Raises DataError (naming file, line and field) on an unknown code."""
    text = raw.strip()
    if _PLAIN.match(text):
        return ParsedValue(_number(text), None, None, None)
    parsed = _coded(text)
    if parsed is not None:
        return parsed
    where = f"{file}, line {line}" if line is not None else file
    raise DataError(
        f"{where}: unknown value code {raw!r} in field 'Value'",
        hint="map the code in kizuna/data/importers/usgs_values.py and docs/data.md",
        file=file,
        line=line,
        field="Value",
        value=raw,
    )


def is_estimated(notes: str) -> bool:
    """USGS marks an estimate with a `Notes` value that starts with 'Estimated.'."""
    return bool(_ESTIMATED.match(notes))
