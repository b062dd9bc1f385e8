"""Sourcing optimisation: which mix of mine and refinery countries meets the rules at least cost.

Build -> solve -> result, as in PyPSA: :func:`build` turns a product, a volume, a rule pack and
explicit :class:`Assumptions` into a :class:`SourcingModel` that can be inspected alone;
:func:`solve` hands it to HiGHS (``scipy.optimize.milp``) and returns a :class:`SourcingResult`
whose ``status`` is ``optimal`` or ``infeasible`` (with the conflicts in plain words) - never an
exception for an infeasible plan. See docs/sourcing.md.
"""

from kizuna.sourcing.assumptions import Assumptions, parse_assumptions
from kizuna.sourcing.build import SourcingModel, build
from kizuna.sourcing.solve import EXIT_INFEASIBLE, SourcingResult, frontier, solve

__all__ = ["EXIT_INFEASIBLE", "Assumptions", "SourcingModel", "SourcingResult", "build",
           "frontier", "parse_assumptions", "solve"]
