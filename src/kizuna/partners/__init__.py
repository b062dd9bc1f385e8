"""Partner scouting: which countries to partner with for a mineral's mining or refining.

See docs/partners.md. ``scout`` ranks; ``load_weights`` reads a weights file; ``FACTORS``
declares every factor (raw value, normalisation, default weights).
"""

from kizuna.partners.factors import FACTOR_NAMES, FACTORS, Factor, default_weights
from kizuna.partners.scout import DEFAULT_PARTNERS, Candidate, Scouting, scout
from kizuna.partners.weights import Weights, check_weights, load_weights, resolve_weights

__all__ = [
    "DEFAULT_PARTNERS", "FACTORS", "FACTOR_NAMES", "Candidate", "Factor", "Scouting",
    "Weights", "check_weights", "default_weights", "load_weights", "resolve_weights", "scout",
]
