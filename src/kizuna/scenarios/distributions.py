"""The distributions a scenario may give for an uncertain quantity, sampled by inverse CDF.

Every uncertain number in a scenario file (start day, duration, severity) is either a plain
number or one of four distributions:

* ``{dist: uniform, low, high}``
* ``{dist: triangular, low, mode, high}``
* ``{dist: lognormal, median, sigma}`` (``sigma`` is the standard deviation of the log;
  optional ``max`` caps the value)
* a plain number: no uncertainty.

Sampling maps one uniform variate per draw through the inverse CDF (``ppf``), so every
quantity consumes exactly the same random numbers whatever its distribution or parameters:
two scenarios that differ only in a parameter see the same underlying draws (common random
numbers), which keeps comparisons and the property tests exact. The inverse normal CDF is
Wichura's algorithm AS 241 (PPND16, relative accuracy about 1e-16), vectorised with NumPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]

DIST_KINDS = ("uniform", "triangular", "lognormal")
_TINY = 1e-300
_EPSILON = 2.0**-53


@dataclass(frozen=True)
class Distribution:
    """A constant or a distribution over numbers; ``ppf`` maps uniforms in [0, 1) to values."""

    kind: str  # constant | uniform | triangular | lognormal
    low: float = 0.0
    high: float = 0.0
    mode: float = 0.0
    median: float = 0.0
    sigma: float = 0.0
    cap: float = math.inf

    @classmethod
    def constant(cls, value: float) -> Distribution:
        return cls("constant", low=value, high=value, mode=value, median=value)

    @property
    def is_constant(self) -> bool:
        return self.kind == "constant"

    @property
    def minimum(self) -> float:
        """The smallest value the distribution can take."""
        return 0.0 if self.kind == "lognormal" else self.low

    @property
    def maximum(self) -> float:
        """The largest value the distribution can take (inf for an uncapped lognormal)."""
        return self.cap if self.kind == "lognormal" else self.high

    def mean(self) -> float:
        """The expected value (an uncapped lognormal's; a capped one is not closed-form)."""
        if self.kind == "uniform":
            return (self.low + self.high) / 2
        if self.kind == "triangular":
            return (self.low + self.mode + self.high) / 3
        if self.kind == "lognormal":
            return self.median * math.exp(self.sigma**2 / 2)
        return self.low

    def ppf(self, uniforms: Floats) -> Floats:
        """Values at the quantiles ``uniforms`` (the inverse CDF), as float64."""
        if self.kind == "constant":
            return np.full(uniforms.shape, self.low)
        if self.kind == "uniform":
            return self.low + (self.high - self.low) * uniforms
        if self.kind == "triangular":
            return _triangular_ppf(uniforms, self.low, self.mode, self.high)
        inside = np.clip(uniforms, _TINY, 1.0 - _EPSILON)  # finite normal quantiles
        values = self.median * np.exp(self.sigma * normal_ppf(inside))
        return np.minimum(values, self.cap)

    def describe(self) -> str:
        """A short human form, e.g. 'triangular(14, 21, 42)'."""
        if self.kind == "constant":
            return f"{self.low:g}"
        if self.kind == "uniform":
            return f"uniform({self.low:g}, {self.high:g})"
        if self.kind == "triangular":
            return f"triangular({self.low:g}, {self.mode:g}, {self.high:g})"
        cap = "" if math.isinf(self.cap) else f", max {self.cap:g}"
        return f"lognormal(median {self.median:g}, sigma {self.sigma:g}{cap})"


def _triangular_ppf(uniforms: Floats, low: float, mode: float, high: float) -> Floats:
    width = high - low
    if width <= 0:
        return np.full(uniforms.shape, low)
    split = (mode - low) / width
    left = low + np.sqrt(uniforms * width * (mode - low))
    right = high - np.sqrt((1 - uniforms) * width * (high - mode))
    return np.where(uniforms < split, left, right)


# Wichura (1988), Algorithm AS 241, PPND16: coefficients of the three rational approximations.
_A = (3.387132872796366608, 133.14166789178437745, 1971.5909503065514427,
      13731.693765509461125, 45921.953931549871457, 67265.770927008700853,
      33430.575583588128105, 2509.0809287301226727)  # fmt: skip
_B = (1.0, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077,
      21213.794301586595867, 39307.89580009271061, 28729.085735721942674,
      5226.495278852545925)  # fmt: skip
_C = (1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055,
      3.64784832476320460504, 1.27045825245236838258, 0.24178072517745061177,
      0.0227238449892691845833, 7.7454501427834140764e-4)  # fmt: skip
_D = (1.0, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455,
      0.14810397642748007459, 0.0151986665636164571966, 5.475938084995344946e-4,
      1.05075007164441684324e-9)  # fmt: skip
_E = (6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358,
      0.29656057182850489123, 0.026532189526576123093, 0.0012426609473880784386,
      2.71155556874348757815e-5, 2.01033439929228813265e-7)  # fmt: skip
_F = (1.0, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525,
      7.868691311456132591e-4, 1.8463183175100546818e-5, 1.4215117583164458887e-7,
      2.04426310338993978564e-15)  # fmt: skip


def _poly(coefficients: tuple[float, ...], x: Floats) -> Floats:
    result = np.full(x.shape, coefficients[-1])
    for coefficient in reversed(coefficients[:-1]):
        result = result * x + coefficient
    return result


def normal_ppf(uniforms: Floats) -> Floats:
    """The standard normal quantile function (AS 241); 0 and 1 map to -inf and +inf."""
    p = np.asarray(uniforms, dtype=np.float64)
    q = p - 0.5
    out = np.empty_like(p)
    central = np.abs(q) <= 0.425
    r = 0.180625 - q[central] ** 2
    out[central] = q[central] * _poly(_A, r) / _poly(_B, r)
    tail = ~central
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt(-np.log(np.minimum(p[tail], 1 - p[tail])))
    near = r <= 5.0
    value = np.empty_like(r)
    with np.errstate(invalid="ignore"):
        value[near] = _poly(_C, r[near] - 1.6) / _poly(_D, r[near] - 1.6)
        value[~near] = _poly(_E, r[~near] - 5.0) / _poly(_F, r[~near] - 5.0)
    out[tail] = np.where(q[tail] < 0, -value, value)
    out[p <= 0] = -np.inf
    out[p >= 1] = np.inf
    return out
