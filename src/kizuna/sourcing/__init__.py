"""Sourcing optimisation: which mix of mine and refinery sources meets the rules at least cost.

Build -> solve -> result, as in PyPSA: :func:`build` turns a product (or a portfolio), a
volume, a rule pack, named suppliers and explicit :class:`Assumptions` into a
:class:`SourcingModel` that can be inspected alone; :func:`solve` hands it to HiGHS
(``scipy.optimize.milp``) and returns a :class:`SourcingResult` whose ``status`` is
``optimal``, ``infeasible`` (with the conflicts in plain words), ``time_limit`` or ``error`` -
never an exception for any of them. :func:`frontier` sweeps the risk cap, :func:`transition`
plans a range of years, and :func:`shortfall_draws` turns a scenario's draws into the data
of the CVaR measure. See docs/sourcing.md.
"""

from kizuna.sourcing.assumptions import Assumptions, Transition, parse_assumptions
from kizuna.sourcing.build import SourcingModel, build
from kizuna.sourcing.problem import Measure, Problem
from kizuna.sourcing.shortfall import ShortfallDraws, shortfall_draws
from kizuna.sourcing.solve import EXIT_INFEASIBLE, EXIT_UNSOLVED, SourcingResult, frontier, solve
from kizuna.sourcing.suppliers import Supplier, load_suppliers
from kizuna.sourcing.transition import parse_years, transition

__all__ = [
           "EXIT_INFEASIBLE",
           "EXIT_UNSOLVED",
           "Assumptions",
           "Measure",
           "Problem",
           "ShortfallDraws",
           "SourcingModel",
           "SourcingResult",
           "Supplier",
           "Transition",
           "build",
           "frontier",
           "load_suppliers",
           "parse_assumptions",
           "parse_years",
           "shortfall_draws",
           "solve",
           "transition",
]
