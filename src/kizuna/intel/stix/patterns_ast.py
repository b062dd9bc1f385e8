"""The syntax tree of a STIX 2.1 pattern: frozen, slotted dataclasses.

The tree keeps the pattern's grouping: an unparenthesised chain ``a AND b AND c`` is one
node with three operands; a parenthesised group is its own node. Operators are normalised
(``==`` is ``=``, ``<>`` is ``!=``); string literals are unescaped.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Star(enum.Enum):
    """The ``[*]`` list index: any element."""

    ANY = "*"


PathStep = str | int | Star
"""A property name (``.name``, ``.'quoted'``), a list index (``[2]``) or ``[*]``."""


@dataclass(frozen=True, slots=True)
class ObjectPath:
    """``object-type:first.step[0].'quoted'``: the type and the property steps in order."""

    object_type: str
    steps: tuple[PathStep, ...]


@dataclass(frozen=True, slots=True)
class Binary:
    """A ``b'...'`` literal (base64 in the pattern), decoded."""

    value: bytes


@dataclass(frozen=True, slots=True)
class Hex:
    """An ``h'...'`` literal, decoded."""

    value: bytes


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A ``t'...'`` literal, as written (the grammar admits 31 days in every month)."""

    text: str


Scalar = str | int | float | bool | Binary | Hex | Timestamp


@dataclass(frozen=True, slots=True)
class SetConstant:
    """The ``(a, b, ...)`` operand of ``IN``."""

    values: tuple[Scalar, ...]


Constant = Scalar | SetConstant


@dataclass(frozen=True, slots=True)
class Comparison:
    """``path [NOT] op value``; for ``[NOT] EXISTS path`` the operator is EXISTS, value None."""

    object_path: ObjectPath
    operator: str
    negated: bool
    value: Constant | None


@dataclass(frozen=True, slots=True)
class And:
    """Comparisons joined by AND inside one observation."""

    operands: tuple[ComparisonExpr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Comparisons joined by OR inside one observation."""

    operands: tuple[ComparisonExpr, ...]


ComparisonExpr = Comparison | And | Or


@dataclass(frozen=True, slots=True)
class Within:
    """``WITHIN n SECONDS``."""

    seconds: int | float


@dataclass(frozen=True, slots=True)
class Repeats:
    """``REPEATS n TIMES``."""

    times: int


@dataclass(frozen=True, slots=True)
class StartStop:
    """``START t'..' STOP t'..'`` (the reference does not check that start < stop)."""

    start: Timestamp
    stop: Timestamp


Qualifier = Within | Repeats | StartStop


@dataclass(frozen=True, slots=True)
class Observation:
    """``[ comparison-expression ]``."""

    comparison: ComparisonExpr


@dataclass(frozen=True, slots=True)
class ObsAnd:
    """Observation expressions joined by AND."""

    operands: tuple[ObservationExpr, ...]


@dataclass(frozen=True, slots=True)
class ObsOr:
    """Observation expressions joined by OR."""

    operands: tuple[ObservationExpr, ...]


@dataclass(frozen=True, slots=True)
class FollowedBy:
    """Observation expressions joined by FOLLOWEDBY, in order."""

    operands: tuple[ObservationExpr, ...]


@dataclass(frozen=True, slots=True)
class Qualified:
    """An observation expression with one qualifier; a chain of qualifiers nests."""

    expr: ObservationExpr
    qualifier: Qualifier


ObservationExpr = Observation | ObsAnd | ObsOr | FollowedBy | Qualified


@dataclass(frozen=True, slots=True)
class Pattern:
    """A whole pattern."""

    expr: ObservationExpr
