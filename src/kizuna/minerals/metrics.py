"""Concentration metrics on plain arrays of shares.

Shares are fractions (0-1). These functions know nothing about minerals or data sources so
they can be property-tested on their own and reused by exposure and sourcing later.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

HHI_SCALE = 10_000.0
"""HHI is reported on the 0-10,000 scale (shares in percent, squared and summed)."""

WGI_FORMULA = "scaled_wgi = clip((2.5 - mean(va, pv, ge, rq, rl, cc)) * 2, 0, 10)"
HHI_WGI_FORMULA = "hhi_wgi = sum_c (100 * share_c)^2 * scaled_wgi_c"


def _array(shares: Iterable[float]) -> FloatArray:
    return np.asarray(list(shares), dtype=np.float64)


def hhi(shares: Iterable[float]) -> float:
    """Herfindahl-Hirschman index of fractional shares on the 0-10,000 scale."""
    values = _array(shares)
    return float(np.sum(values * values) * HHI_SCALE)


def top_n_share(shares: Iterable[float], n: int) -> float:
    """Sum of the ``n`` largest shares."""
    values = np.sort(_array(shares))[::-1]
    return float(values[:n].sum())


def hhi_wgi(shares: Iterable[float], scaled_wgi: Iterable[float]) -> float:
    """Governance-weighted HHI as in the EU criticality method.

    Shares in percent, each squared and multiplied by the country's WGI rescaled to 0-10
    (10 the worst governance); the result lies between 0 and 100,000. Divide by 10,000 to
    get the 0-10 value the EU supply-risk formula uses with fractional shares.
    """
    values = _array(shares) * 100.0
    weights = _array(scaled_wgi)
    if values.shape != weights.shape:
        raise ValueError("shares and scaled_wgi must have the same length")
    return float(np.sum(values * values * weights))


def scale_wgi(mean_estimate: FloatArray) -> FloatArray:
    """Rescale mean WGI estimates (about -2.5 best-worst +2.5) to 0-10 with 10 the worst."""
    return np.clip((2.5 - mean_estimate) * 2.0, 0.0, 10.0)
