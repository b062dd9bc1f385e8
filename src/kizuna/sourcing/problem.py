"""The model as HiGHS sees it: sparse matrices built once, solved many times.

Columns are ``[x paths | binaries]`` and, with the CVaR measure,
``[... | y keys | z pairs | eta | u draws]``: ``y_k`` is the shortfall cost exposed to source
country-stage ``k`` (sum of cost per tonne x tonnes through it), ``z_j`` the same for a
country pair whose overlap is corrected, and each draw w adds one row
(Rockafellar-Uryasev)::

    u_w >= loss_w(x) - eta,   loss_w(x) = sum_k F[w, k] y_k - sum_j C[w, j] z_j,   u_w >= 0

so CVaR_alpha = min over eta of eta + sum_w u_w / ((1 - alpha) N). ``F`` and ``C`` are sparse
(a draw only touches the sources its events hit), which keeps 10,000 draws small.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp  # type: ignore[import-untyped]
from scipy.sparse import csr_array, hstack, identity, vstack  # type: ignore[import-untyped]

from kizuna.errors import InputError
from kizuna.sourcing.build import Row, SourcingModel
from kizuna.sourcing.shortfall import ShortfallDraws, check_draws, cvar

MEASURES = ("proxy", "cvar")


@dataclass(frozen=True)
class Measure:
    """What 'risk' means: the linear proxy (share of stage tonnes in the risk group) or the
    CVaR at ``alpha`` of the shortfall cost over ``draws``."""

    kind: str = "proxy"
    draws: ShortfallDraws | None = None
    alpha: float = 0.95

    def __post_init__(self) -> None:
        if self.kind not in MEASURES:
            raise InputError(f"unknown risk measure {self.kind!r}",
                             hint=f"use one of: {', '.join(MEASURES)}", field="risk")
        if self.kind == "cvar":
            if self.draws is None:
                raise InputError("the CVaR measure needs scenario draws",
                                 hint="give --scenario (and --draws)", field="scenario")
            check_draws(self.draws.draws, self.alpha)


@dataclass
class Outcome:
    """One HiGHS run: scipy's status (0 optimal, 1 limit, 2 infeasible, 3 unbounded, 4
    other), the message, the point if any and the seconds it took."""

    status: int
    message: str
    x: NDArray[np.float64] | None
    seconds: float
    gap: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def rows_matrix(rows: Sequence[Row], columns: int) -> tuple[csr_array, NDArray[np.float64],
                                                             NDArray[np.float64]]:
    data: list[float] = []
    cols: list[int] = []
    ptr = [0]
    for row in rows:
        cols.extend(row.coeffs)
        data.extend(row.coeffs.values())
        ptr.append(len(cols))
    matrix = csr_array((np.array(data, dtype=float), np.array(cols, dtype=np.int64),
                        np.array(ptr, dtype=np.int64)), shape=(len(rows), columns))
    return (matrix, np.array([r.lo for r in rows], dtype=float),
            np.array([r.hi for r in rows], dtype=float))


class Problem:
    """Matrices of one model under one measure; :meth:`run` solves with any objective mix
    and an optional cap on the risk."""

    def __init__(self, model: SourcingModel, measure: Measure | None = None,
                 rows: Sequence[Row] | None = None) -> None:
        self.model = model
        self.measure = measure or Measure()
        self.paths = len(model.paths)
        base = model.n_vars
        self.cost = np.zeros(base)
        self.cost[: self.paths] = [p.cost_per_t for p in model.paths]
        matrix, lo, hi = rows_matrix(model.rows if rows is None else rows, base)
        self.lower = np.zeros(base)
        self.upper = np.full(base, np.inf)
        self.upper[self.paths:] = 1.0
        self.integrality = np.zeros(base)
        self.integrality[self.paths:] = 1
        self.risk = np.zeros(base)
        if self.measure.kind == "cvar":
            matrix, lo, hi = self._cvar(matrix, lo, hi)
        elif model.risk_basis > 0:
            self.risk[: self.paths] = np.array(model.risk) / model.risk_basis
        self.matrix, self.lo, self.hi = matrix.tocsr(), lo, hi
        self.cost = np.concatenate([self.cost, np.zeros(self.matrix.shape[1] - base)])

    def _cvar(self, matrix: csr_array, lo: NDArray[np.float64], hi: NDArray[np.float64]
              ) -> tuple[csr_array, NDArray[np.float64], NDArray[np.float64]]:
        draws = self.measure.draws
        assert draws is not None
        model, base = self.model, self.model.n_vars
        keys, pairs, n = len(draws.keys), len(draws.pairs), draws.draws
        binaries = base - self.paths
        key_rows = hstack([-draws.key_matrix(model), csr_array((keys, binaries)),
                           identity(keys, format="csr"), csr_array((keys, pairs + 1 + n))])
        pair_rows = hstack([-draws.pair_matrix(model), csr_array((pairs, binaries + keys)),
                            identity(pairs, format="csr"), csr_array((pairs, 1 + n))])
        draw_rows = hstack([csr_array((n, base)), -draws.loss, draws.overlap,
                            csr_array(np.ones((n, 1))), identity(n, format="csr")])
        width = base + keys + pairs + 1 + n
        matrix = vstack([hstack([matrix, csr_array((matrix.shape[0], width - base))]),
                         key_rows, pair_rows, draw_rows])
        lo = np.concatenate([lo, np.zeros(keys + pairs + n)])
        hi = np.concatenate([hi, np.zeros(keys + pairs), np.full(n, np.inf)])
        extra = width - base
        self.lower = np.concatenate([self.lower, np.zeros(extra)])
        self.upper = np.concatenate([self.upper, np.full(extra, np.inf)])
        self.integrality = np.concatenate([self.integrality, np.zeros(extra)])
        self.risk = np.zeros(width)
        self.risk[base + keys + pairs] = 1.0  # eta
        self.risk[base + keys + pairs + 1:] = 1.0 / ((1.0 - self.measure.alpha) * n)
        return matrix, lo, hi

    @property
    def columns(self) -> int:
        return int(self.matrix.shape[1])

    def run(self, *, cost: float = 1.0, risk: float = 0.0, cap: float | None = None,
            time_limit: float | None = None) -> Outcome:
        """Minimise ``cost`` x cost + ``risk`` x risk, with risk <= ``cap`` when given."""
        objective = cost * self.cost + risk * self.risk
        constraints = [LinearConstraint(self.matrix, self.lo, self.hi)] if self.lo.size else []
        if cap is not None:
            constraints.append(LinearConstraint(csr_array(self.risk.reshape(1, -1)),
                                                -np.inf, cap))
        # HiGHS's presolve spent about 30 s on the CVaR block of a 10,000-draw MILP and found
        # nothing to remove (the root LP without it: 0.7 s, same optimum); it stays on for
        # the proxy, where it is cheap.
        options: dict[str, Any] = {"presolve": self.measure.kind != "cvar"}
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
        began = time.perf_counter()
        found = milp(objective, integrality=self.integrality,
                     bounds=Bounds(self.lower, self.upper), constraints=constraints or None,
                     options=options)
        gap = found.get("mip_gap")
        return Outcome(int(found.status), str(found.message),
                       None if found.x is None else np.asarray(found.x, dtype=float),
                       time.perf_counter() - began,
                       None if gap is None or not math.isfinite(gap) else float(gap))

    def risk_of(self, x: NDArray[np.float64]) -> float:
        """The plan's risk in the measure's units (CVaR evaluated exactly from its losses)."""
        if self.measure.kind == "cvar":
            draws = self.measure.draws
            assert draws is not None
            return cvar(draws.losses(self.model, x[: self.paths]), self.measure.alpha)[0]
        return float(self.risk[: self.paths] @ x[: self.paths])
