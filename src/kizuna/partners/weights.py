"""Weights of the partner score: the shipped defaults, optionally overridden from a file.

A weights file is YAML (``.yaml``/``.yml``) or TOML (``.toml``): a mapping from factor name to
a non-negative number, either at the top level or under a ``weights`` key. Factors the file
does not name keep their default weight (set one to 0 to drop it). Weights are then divided
by their sum, so only their ratios matter. Every mistake is one ``InputError`` naming the
file and the field.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kizuna.errors import InputError
from kizuna.partners.factors import FACTOR_NAMES, default_weights

SUFFIXES = (".yaml", ".yml", ".toml")


@dataclass(frozen=True)
class Weights:
    """The weights used (summing to 1), what was given, and where they came from."""

    values: Mapping[str, float]
    given: Mapping[str, float]
    source: str

    def describe(self) -> str:
        if not self.given:
            return self.source
        named = ", ".join(f"{name} {value:g}" for name, value in self.given.items())
        return f"{self.source} (given: {named}; defaults for the rest; divided by their sum)"


def normalise(weights: Mapping[str, float], *, where: str = "weights") -> dict[str, float]:
    """Divide by the sum so the weights add up to 1; all-zero weights are an error."""
    total = math.fsum(weights.values())
    if not total > 0:
        raise InputError(f"{where}: every weight is 0, so there would be no score",
                         hint="give at least one factor a positive weight", file=where,
                         field="weights")
    return {name: value / total for name, value in weights.items()}


def check_weights(given: Any, *, where: str) -> dict[str, float]:
    """Validate a mapping of factor -> weight; ``where`` names the file in messages."""
    if isinstance(given, Mapping) and set(given) == {"weights"}:
        given = given["weights"]
    if given is None:
        raise InputError(f"{where} is empty", hint="write e.g. 'governance: 0.3', one "
                         "factor a line", file=where, field="weights")
    if not isinstance(given, Mapping):
        raise InputError(
            f"{where}: expected a mapping of factor to weight, got {type(given).__name__}",
            hint="write e.g. 'governance: 0.3', one factor a line", file=where, field="weights")
    checked: dict[str, float] = {}
    for name, value in given.items():
        if name not in FACTOR_NAMES:
            raise InputError(
                f"{where}: unknown factor {name!r}",
                hint="factors: " + ", ".join(FACTOR_NAMES), file=where, field=str(name))
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(
                f"{where}: weight of {name!r} is {value!r}, not a number",
                hint=f"write e.g. '{name}: 0.2'", file=where, field=str(name))
        if not math.isfinite(value) or value < 0:
            raise InputError(
                f"{where}: weight of {name!r} is {value!r}; weights are finite numbers >= 0",
                hint="use 0 to leave a factor out", file=where, field=str(name))
        checked[str(name)] = float(value)
    return checked


def _parse(path: Path) -> Any:
    where = str(path)
    if path.suffix.casefold() not in SUFFIXES:
        raise InputError(f"{where}: a weights file is YAML (.yaml, .yml) or TOML (.toml)",
                         file=where, field="weights")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"weights file {where} not found", file=where,
                         field="weights") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read weights file {where}: {exc}", file=where,
                         field="weights") from None
    try:
        if path.suffix.casefold() == ".toml":
            return tomllib.loads(text)
        return yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        detail = " ".join(str(exc).split())
        raise InputError(f"{where} is not valid {path.suffix[1:].upper()}: {detail}",
                         file=where, field="weights") from None


def resolve_weights(stage: str, given: Mapping[str, float] | None = None, *,
                    source: str = "") -> Weights:
    """The stage's defaults with ``given`` (already checked) on top, summing to 1."""
    values = {**default_weights(stage), **(given or {})}
    label = source or f"default weights for the {stage} stage"
    return Weights(values=normalise(values, where=source or "weights"),
                   given=dict(given or {}), source=label)


def load_weights(path: str | Path, stage: str) -> Weights:
    """Weights from a YAML or TOML file over the stage's defaults."""
    file = Path(path)
    given = check_weights(_parse(file), where=str(file))
    return resolve_weights(stage, given, source=str(file))
