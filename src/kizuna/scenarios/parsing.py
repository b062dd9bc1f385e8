"""The building blocks of the scenario file checks: shapes, numbers, distributions, the
vocabulary (minerals, countries, stages), and one-line errors with the YAML path and a hint.
``kizuna.scenarios.loader`` uses them for each part of the file."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from typing import Any

from kizuna.data.bundle import Dataset
from kizuna.errors import InputError, NotFoundError
from kizuna.model import countries
from kizuna.model.types import STAGES
from kizuna.scenarios.distributions import DIST_KINDS, Distribution

_DIST = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high"),
         "lognormal": ("median", "sigma", "max")}

class Parser:
    """Checks one scenario's raw YAML data; ``fail`` builds the one-line error."""

    def __init__(self, origin: str, ds: Dataset) -> None:
        self.origin = origin
        self.ds = ds

    def fail(self, where: str, problem: str, hint: str | None = None) -> InputError:
        place = f"{self.origin}: {where}: " if where else f"{self.origin}: "
        return InputError(place + problem, hint=hint or "the file format is in "
                          "docs/scenarios.md", file=self.origin, field=where or None)

    # --- shapes ---------------------------------------------------------------------------

    def mapping(self, raw: object, where: str, keys: Iterable[str]) -> dict[str, Any]:
        known = tuple(keys)
        if not isinstance(raw, dict):
            raise self.fail(where, f"expected a mapping, got {kind_of(raw)}",
                            hint="give key: value pairs indented under it")
        for key in raw:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise self.fail(join_path(where, str(key)), f"unknown key {str(key)!r}",
                                hint=f"{hint}known keys: {', '.join(known)}")
        return raw

    def text(self, raw: object, where: str) -> str:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise self.fail(where, f"expected text, got {kind_of(raw)}",
                            hint="quote it if it contains a colon")
        return " ".join(str(raw).split())

    def optional_text(self, item: dict[str, Any], key: str, where: str) -> str:
        """``item[key]`` as text, or "" when the key is absent."""
        return self.text(item[key], join_path(where, key)) if key in item else ""

    def number(self, raw: object, where: str, low: float = -math.inf,
               high: float = math.inf) -> float:
        raw = _yaml_number(raw)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise self.fail(where, f"expected a number, got {_shown(raw)}",
                            hint="write a plain number such as 0.5 or 30")
        value = float(raw)
        if not low <= value <= high:
            raise self.fail(where, f"{value:g} is outside {_range(low, high)}",
                            hint=_hint(where, low, high))
        return value

    def integer(self, raw: object, where: str, low: int, high: int) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise self.fail(where, f"expected a whole number, got {_shown(raw)}",
                            hint="write a whole number such as 365")
        if not low <= raw <= high:
            raise self.fail(where, f"{raw} is outside {_range(low, high)}",
                            hint=f"use a whole number {_range(low, high)[4:]}")
        return raw

    def listing(self, raw: object, where: str) -> list[Any]:
        if isinstance(raw, str):
            return [raw]
        if not isinstance(raw, list):
            raise self.fail(where, f"expected a list, got {kind_of(raw)}",
                            hint="write [a, b] or one '- item' per line")
        return raw

    def distribution(self, raw: object, where: str, low: float, high: float) -> Distribution:
        """A number or {dist: ...} whose every possible value lies in [low, high]."""
        raw = _yaml_number(raw)
        if not isinstance(raw, dict):
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise self.fail(where, f"expected a number or a distribution, got "
                                f"{_shown(raw)}", hint="e.g. 30 or {dist: uniform, low: 10, "
                                "high: 60}")
            return Distribution.constant(self.number(raw, where, low, high))
        kind = raw.get("dist")
        if kind not in DIST_KINDS:
            raise self.fail(join_path(where, "dist"), f"unknown distribution {kind!r}",
                            hint=f"use one of: {', '.join(DIST_KINDS)}")
        item = self.mapping(raw, where, ("dist", *_DIST[str(kind)]))
        if kind == "lognormal":
            return self.lognormal(item, where, high)
        names = _DIST[str(kind)]
        missing = [name for name in names if name not in item]
        if missing:
            raise self.fail(where, f"a {kind} distribution needs {', '.join(names)}; "
                            f"missing {missing[0]!r}", hint="see the distributions in "
                            "docs/scenarios.md")
        values = [self.number(item[name], join_path(where, name), low, high) for name in names]
        if values != sorted(values):
            raise self.fail(where, f"{kind} needs {' <= '.join(names)}, got "
                            + ", ".join(f"{n} {v:g}" for n, v in zip(names, values, strict=True)),
                            hint="e.g. {dist: uniform, low: 0.2, high: 0.5} or {dist: "
                                 "triangular, low: 10, mode: 20, high: 60}")
        if kind == "uniform":
            return Distribution("uniform", low=values[0], high=values[1])
        return Distribution("triangular", low=values[0], mode=values[1], high=values[2])

    def lognormal(self, item: dict[str, Any], where: str, high: float) -> Distribution:
        for name in ("median", "sigma"):
            if name not in item:
                raise self.fail(where, f"a lognormal distribution needs median and sigma; "
                                f"missing {name!r}", hint="e.g. {dist: lognormal, median: 30, "
                                "sigma: 0.5, max: 365}")
        median = self.number(item["median"], join_path(where, "median"), 0, high)
        if median <= 0:
            raise self.fail(join_path(where, "median"), "must be > 0",
                            hint="a lognormal's median is a positive number")
        sigma = self.number(item["sigma"], join_path(where, "sigma"), 0, 10)
        if "max" not in item and math.isfinite(high):
            raise self.fail(where, f"a lognormal is unbounded; give 'max' (at most {high:g})",
                            hint=f"e.g. {{dist: lognormal, median: 0.3, sigma: 0.5, max: "
                                 f"{high:g}}}")
        cap = self.number(item["max"], join_path(where, "max"), median, high) if "max" in item \
            else math.inf
        return Distribution("lognormal", median=median, sigma=sigma, cap=cap)

    # --- vocabulary -------------------------------------------------------------------------

    def mineral(self, raw: object, where: str) -> str:
        try:
            return self.ds.mineral(self.text(raw, where)).slug
        except NotFoundError as error:
            raise self.fail(where, error.message, hint=error.hint) from None

    def country(self, raw: object, where: str) -> str:
        try:
            code = countries.to_iso3(self.text(raw, where))
        except InputError as error:
            raise self.fail(where, error.message, hint=error.hint) from None
        if countries.is_aggregate(code):
            raise self.fail(where, f"{raw!r} is an aggregate ({code}), not a country",
                            hint="name one country, e.g. CHN or COD")
        return code

    def stage(self, raw: object, where: str) -> str:
        stage = self.text(raw, where).casefold()
        if stage not in STAGES:
            raise self.fail(where, f"unknown stage {raw!r}", hint=f"use one of: "
                            f"{', '.join(STAGES)}")
        return stage

    def choice(self, raw: object, where: str, options: tuple[str, ...], what: str) -> str:
        value = self.text(raw, where)
        if value not in options:
            close = difflib.get_close_matches(value, options, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise self.fail(where, f"unknown {what} {value!r}",
                            hint=f"{hint}use one of: {', '.join(options)}")
        return value


_SCIENTIFIC = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _yaml_number(raw: object) -> object:
    """YAML 1.1 reads 1e-3 (no dot) as text; take it as the number it was meant to be."""
    if isinstance(raw, str) and _SCIENTIFIC.fullmatch(raw.strip()):
        return float(raw)
    return raw


def article(kind: str) -> str:
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def join_path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def kind_of(raw: object) -> str:
    if raw is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}.get(
        type(raw), type(raw).__name__)


def _shown(raw: object) -> str:
    return repr(raw) if isinstance(raw, str | int | float | bool) else kind_of(raw)


_HINTS = {
    "probability": "a probability is a number from 0 to 1",
    "share": "a share is a fraction from 0 to 1 (0.25 = 25%)",
    "allowed_share": "a share is a fraction from 0 to 1 (0.25 = 25%)",
    "duration_days": "a duration is a number of days >= 0",
    "start_day": "the start is a day of the horizon, from 0 to horizon_days",
    "lag_days": "a lag is a number of days >= 0",
    "days": "days of cover are >= 0",
    "demand": "a demand elasticity is negative (e.g. -0.3)",
    "supply": "a supply elasticity is >= 0 (e.g. 0.2)",
}


def _hint(where: str, low: float, high: float) -> str:
    """How to fix a number out of range, by the field's name (or its parent's)."""
    parts = where.replace("]", "").replace("[", ".").split(".")
    for part in reversed(parts):
        if part in _HINTS:
            return _HINTS[part]
    if parts[-1] in ("low", "high", "mode", "median", "max") and len(parts) > 1:
        for part in reversed(parts[:-1]):
            if part in _HINTS:
                return _HINTS[part]
    return f"use a number {'>= ' + format(low, 'g') if math.isinf(high) else _range(low, high)[4:]}"


def _range(low: float, high: float) -> str:
    if math.isinf(high):
        return f"the allowed range (>= {low:g})"
    return f"the allowed range {low:g} to {high:g}"
