"""The factors of the partner score, declared once: what each raw value is, how it becomes a
number between 0 and 1, and its default weight at each stage.

The declarations drive the scoring (``kizuna.partners.score``), the check of a weights file,
the CLI's legend, the page and ``docs/partners.md``, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kizuna.model import STAGES

DECADES = 3.0
"""Size factors are scored on a log scale over this many orders of magnitude below the
largest candidate: the leader scores 1, a tenth of it 2/3, a hundredth 1/3, less 0."""
GROWTH_BAND = 0.25
"""Annual growth of +25% or more scores 1, -25% or less scores 0, no growth 0.5."""
RP_CAP_YEARS = 100.0
"""Reserves-to-production years at or beyond which the factor scores 1."""
WGI_SCALE = 10.0
"""The scaled WGI runs 0-10 with 10 the weakest governance (docs/concentration.md)."""

SIZE_RULE = (f"1 + log10(value / largest among the candidates) / {DECADES:g}, floored at 0: "
             "the leader 1, a tenth of it 0.67, a hundredth 0.33, a thousandth or less 0")


@dataclass(frozen=True)
class Factor:
    """One factor: its name in weights files and JSON, and how it is measured and scaled."""

    name: str
    label: str
    short: str
    raw: str
    normalisation: str
    weights: Mapping[str, float]
    """Default weight by stage (mining, refining); each stage's weights sum to 1."""


FACTORS: tuple[Factor, ...] = (
    Factor(
        name="reserves",
        label="Reserves",
        short="res",
        raw="the country's reserves of the mineral (USGS MCS, latest year, headline series)",
        normalisation=SIZE_RULE,
        weights={"mining": 0.20, "refining": 0.10},
    ),
    Factor(
        name="production",
        label="Current production",
        short="prod",
        raw="production at the chosen stage in the latest year (USGS tonnes; published "
            "shares where the stage has no tonnage table)",
        normalisation=SIZE_RULE,
        weights={"mining": 0.20, "refining": 0.25},
    ),
    Factor(
        name="growth",
        label="Production growth",
        short="grow",
        raw="annual growth of that production between the first and last year the series "
            "holds (compound rate)",
        normalisation=f"clip((growth + {GROWTH_BAND:g}) / {2 * GROWTH_BAND:g}, 0, 1): "
                      f"-{GROWTH_BAND:.0%}/yr or less scores 0, no change 0.5, "
                      f"+{GROWTH_BAND:.0%}/yr or more 1; a new producer scores 1",
        weights={"mining": 0.10, "refining": 0.10},
    ),
    Factor(
        name="rp_years",
        label="Reserves-to-production years",
        short="R/P",
        raw="reserves / mine production in the latest year, in years (mining data at both "
            "stages: the years of domestic feedstock)",
        normalisation=f"min(years / {RP_CAP_YEARS:g}, 1); reserves with no production count "
                      "as unbounded and score 1",
        weights={"mining": 0.10, "refining": 0.05},
    ),
    Factor(
        name="governance",
        label="Governance (WGI)",
        short="gov",
        raw="the mean of the six World Bank Worldwide Governance Indicators rescaled to 0-10, "
            "10 the weakest (as in HHI-WGI)",
        normalisation=f"1 - value / {WGI_SCALE:g}",
        weights={"mining": 0.20, "refining": 0.20},
    ),
    Factor(
        name="alignment",
        label="Alignment",
        short="align",
        raw="how many of the partner groups the country belongs to",
        normalisation="value / the number of partner groups",
        weights={"mining": 0.15, "refining": 0.15},
    ),
    Factor(
        name="refining_gap",
        label="Mining-refining gap",
        short="gap",
        raw="the country's share of world mine production minus its share of world refining "
            "(positive: it mines more than it refines, a refining-investment candidate)",
        normalisation=SIZE_RULE + "; a negative gap scores 0",
        weights={"mining": 0.05, "refining": 0.15},
    ),
)

FACTOR_NAMES: tuple[str, ...] = tuple(factor.name for factor in FACTORS)
BY_NAME: dict[str, Factor] = {factor.name: factor for factor in FACTORS}


def default_weights(stage: str) -> dict[str, float]:
    """The shipped weights for ``stage`` (they sum to 1)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    return {factor.name: factor.weights[stage] for factor in FACTORS}


def factors_markdown() -> str:
    """The factor table of docs/partners.md (a test keeps the two the same)."""
    lines = ["| factor | raw value | normalised to 0-1 | weight: mining | weight: refining |",
             "|---|---|---|---|---|"]
    for factor in FACTORS:
        lines.append(f"| `{factor.name}` | {factor.raw} | {factor.normalisation} | "
                     f"{factor.weights['mining']:.2f} | {factor.weights['refining']:.2f} |")
    return "\n".join(lines) + "\n"
