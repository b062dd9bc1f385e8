"""Governance weights from the World Bank WGI, rescaled as in the EU criticality method."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from kizuna.errors import NotFoundError
from kizuna.minerals.metrics import WGI_FORMULA, scale_wgi

INDICATORS = ("va", "pv", "ge", "rq", "rl", "cc")


@dataclass(frozen=True)
class GovernanceWeights:
    """Scaled WGI (0-10, 10 the worst) per ISO3 code for one WGI year."""

    year: int
    scores: dict[str, float]
    missing_default: float
    formula: str = WGI_FORMULA

    def score(self, iso3: str) -> float:
        return self.scores.get(iso3, self.missing_default)

    def describe(self) -> dict[str, object]:
        return {
            "wgi_year": self.year,
            "wgi_formula": self.formula,
            "wgi_missing_default": self.missing_default,
        }


def governance_weights(
    governance: pd.DataFrame, *, year: int | None = None, missing_default: float = 5.0
) -> GovernanceWeights:
    """Scaled WGI for the latest WGI year (or ``year``).

    The mean is taken over the indicators a country has for that year; a country with none
    of the six gets ``missing_default`` when scored.
    """
    years = sorted(int(y) for y in governance["year"].dropna().unique())
    if not years:
        raise NotFoundError("the governance table is empty", hint="rebuild with kizuna data build")
    chosen = years[-1] if year is None else year
    if chosen not in years:
        raise NotFoundError(
            f"no WGI data for {chosen}",
            hint=f"WGI years available: {years[0]}-{years[-1]}",
            year=chosen,
        )
    rows = governance[governance["year"] == chosen]
    means = rows[list(INDICATORS)].astype("float64").mean(axis=1, skipna=True)
    valid = means.notna()
    scaled = scale_wgi(means[valid].to_numpy(dtype="float64"))
    scores = dict(zip(rows.loc[valid, "iso3"].astype(str), scaled.tolist(), strict=True))
    return GovernanceWeights(year=chosen, scores=scores, missing_default=missing_default)
