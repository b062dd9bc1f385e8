"""Summaries of a Monte Carlo sample: mean with its standard error, percentiles, VaR, ES.

For a sample x_1..x_N of a loss (a shortfall, units not built):

* ``mean`` and ``stderr`` = s / sqrt(N), s the sample standard deviation (ddof 1): the Monte
  Carlo standard error of the mean;
* ``pXX`` = the empirical quantile (the smallest sample value with at least XX% of the
  sample at or below it, NumPy's ``inverted_cdf``), so every percentile is a value a draw
  actually took; ``var95`` / ``var99`` (value at risk) are the 95% and 99% quantiles;
* ``es95`` / ``es99`` (expected shortfall, CVaR) = the mean of the worst ceil((1 - a) N)
  draws;
* ``prob_any`` = the share of draws with a loss above zero, with its binomial standard error.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

PERCENTILES = (50, 90, 95, 99)
LEVELS = (95, 99)


def quantile(ordered: NDArray[np.float64], level: float) -> float:
    """The empirical ``level`` quantile (0-1) of an ascending sample (``inverted_cdf``)."""
    n = ordered.size
    index = max(0, min(n - 1, math.ceil(level * n - 1e-9) - 1))
    return float(ordered[index])


def tail_mean(ordered: NDArray[np.float64], level: float) -> float:
    """Mean of the worst ceil((1 - level) n) values of an ascending sample."""
    n = ordered.size
    worst = max(1, math.ceil((1 - level) * n - 1e-9))
    return float(ordered[n - worst:].mean())


def summarise(values: NDArray[np.floating] | list[float]) -> dict[str, float]:
    """Mean, standard error, percentiles, VaR, ES and probability of any loss."""
    sample = np.asarray(values, dtype=np.float64).ravel()
    n = sample.size
    if n == 0:
        return {"mean": math.nan, "stderr": math.nan}
    ordered = np.sort(sample)
    mean = float(sample.mean())
    stderr = float(sample.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    out = {"mean": mean, "stderr": stderr}
    for level in PERCENTILES:
        out[f"p{level}"] = quantile(ordered, level / 100)
    for level in LEVELS:
        out[f"var{level}"] = out[f"p{level}"]
        out[f"es{level}"] = tail_mean(ordered, level / 100)
    probability = float(np.count_nonzero(sample > 0) / n)
    out["max"] = float(ordered[-1])
    out["prob_any"] = probability
    out["prob_any_stderr"] = math.sqrt(probability * (1 - probability) / n)
    return out
