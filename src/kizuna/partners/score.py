"""The score itself, on plain arrays: normalise each factor's raw values to 0-1, weight them,
add them up, rank. Pure functions, so the Hypothesis properties test exactly what ships.

Raw values come as a float array per factor, one entry per candidate: NaN for a missing
value (it scores 0) and +inf for an unbounded one (it scores 1). Normalisation looks only at
the full list of candidates, never at which of them the user then excludes, so excluding a
country cannot change anyone else's score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from kizuna.partners.factors import DECADES, FACTOR_NAMES, GROWTH_BAND, RP_CAP_YEARS, WGI_SCALE

Array = NDArray[np.float64]
POINTS = 100.0
"""Scores and contributions are in points out of 100."""


def _relative_to_largest(raw: Array) -> Array:
    """``1 + log10(value / largest) / DECADES``, floored at 0: the leader scores 1, a tenth
    of the leader 2/3, a hundredth 1/3, a thousandth or less 0 (with three decades)."""
    values = np.where(np.isfinite(raw), np.maximum(raw, 0.0), 0.0)
    largest = float(values.max(initial=0.0))
    if largest <= 0:
        return np.zeros_like(values)
    ratio = values / largest
    with np.errstate(divide="ignore"):
        scaled = 1.0 + np.log10(ratio) / DECADES
    return np.asarray(np.where(ratio > 0, np.clip(scaled, 0.0, 1.0), 0.0), dtype=np.float64)


def normalise(factor: str, raw: Sequence[float] | Array, *, partner_groups: int = 1) -> Array:
    """``raw`` (one value per candidate) to 0-1 by the factor's rule (see ``factors.FACTORS``).

    Missing values (NaN) score 0; unbounded ones (+inf) score 1.
    """
    values = np.asarray(raw, dtype=np.float64)
    missing = np.isnan(values)
    if factor in ("reserves", "production", "refining_gap"):
        out = _relative_to_largest(values)
    elif factor == "growth":
        out = np.clip((values + GROWTH_BAND) / (2 * GROWTH_BAND), 0.0, 1.0)
    elif factor == "rp_years":
        out = np.clip(values / RP_CAP_YEARS, 0.0, 1.0)
    elif factor == "governance":
        out = np.clip(1.0 - values / WGI_SCALE, 0.0, 1.0)
    elif factor == "alignment":
        out = np.clip(values / max(partner_groups, 1), 0.0, 1.0)
    else:
        raise ValueError(f"unknown factor {factor!r}")
    return np.asarray(np.where(missing, 0.0, out), dtype=np.float64)


def contributions(normalised: Array, weights: Array) -> Array:
    """Points each factor adds: ``100 × weight × normalised`` (candidates × factors)."""
    return np.asarray(POINTS * normalised * weights[np.newaxis, :], dtype=np.float64)


def weight_vector(weights: Mapping[str, float]) -> Array:
    """The weights in ``FACTOR_NAMES`` order."""
    return np.array([float(weights.get(name, 0.0)) for name in FACTOR_NAMES], dtype=np.float64)


def score_table(raw: Mapping[str, Sequence[float] | Array], weights: Mapping[str, float], *,
                partner_groups: int = 1) -> tuple[Array, Array]:
    """Normalised values and contributions (candidates × factors, ``FACTOR_NAMES`` order).

    ``weights`` should sum to 1 for the score to be out of 100; the ranking does not depend
    on it.
    """
    columns = [normalise(name, raw[name], partner_groups=partner_groups)
               for name in FACTOR_NAMES]
    normalised = np.column_stack(columns) if columns else np.zeros((0, 0))
    return normalised, contributions(normalised, weight_vector(weights))


def rank(scores: Sequence[float] | Array, codes: Sequence[str],
         keep: Sequence[bool] | None = None) -> list[int]:
    """Indices of the kept candidates, best score first; ties by code."""
    chosen = range(len(codes)) if keep is None else [i for i, k in enumerate(keep) if k]
    return sorted(chosen, key=lambda i: (-float(scores[i]), codes[i]))
