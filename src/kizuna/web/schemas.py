"""Response models of the JSON API, so ``/docs`` shows real schemas.

Field names are exactly the library's (``mineral_profile``'s ``PROFILE_KEYS``,
``concentration_table``'s ``TABLE_COLUMNS``, ``list_minerals``' columns); tests check they
have not drifted. A field is Optional where the library can return null. Extra keys the
library may add later are passed through (``extra="allow"``) rather than dropped. The models
of reference tables (lists, sources) are built from the tables' own declarations in
``kizuna.data.schema``, so the docs cannot drift from the data.
"""

from __future__ import annotations

from types import GenericAlias
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from kizuna.data.schema import LISTS, SOURCES, Table

SHARE = "fraction of the world total (0-1; USGS rounds totals, so named shares can sum to >1)"


class Response(BaseModel):
    model_config = ConfigDict(extra="allow")


class CountryFigure(Response):
    """One country's figure in a profile."""

    iso3: str = Field(description="ISO 3166-1 alpha-3 code")
    name: str
    value: float = Field(description="In the profile's unit (a fraction for published shares)")
    share: float | None = Field(description=SHARE + "; null when the total is not additive")
    estimated: bool = Field(description="The source marks the figure as an estimate")
    value_code: str | None = Field(description="The source's value code, e.g. '>' or 'E'")


class Residual(Response):
    """The source's aggregate for the rest of the world ("Other countries", "Rest of world")."""

    area: str
    name: str
    value: float | None
    share: float | None
    estimated: bool


class MineralProfile(Response):
    """One mineral at one stage and year (``kizuna minerals show --json``).

    Every key is always present; those that do not apply are null, and ``missing`` says why
    a profile has no figures.
    """

    mineral: str = Field(description="Mineral slug")
    name: str
    stage: str = Field(description="mining | refining")
    measure: str | None = Field(description="production | capacity | reserves | share")
    series: str | None = Field(description="The source's series (product) chosen")
    year: int | None
    year_label: str | None = Field(description="The year with 'e' when estimated, e.g. 2025e")
    estimated: bool | None
    basis: str | None = Field(description="tonnage | share (published shares, not tonnages)")
    unit: str | None
    source: str | None = Field(description="Source id; see /api/sources")
    citation: str | None
    confidence: str | None = Field(description="The compiler's confidence in a share: "
                                   "low | medium | high; null for USGS tonnages")
    world_total: float | None = Field(description="The denominator of the shares, in unit")
    world_total_kind: str | None = Field(
        description="published | sum_of_parts | not_additive (USGS XX) | shares")
    hhi: float | None = Field(description="Herfindahl-Hirschman index, 0-10,000; the residual "
                              "adds nothing (a lower bound)")
    hhi_upper: float | None = Field(description="HHI counting the residual as one country")
    top1_share: float | None
    top3_share: float | None
    named_share: float | None = Field(description="Share of the total held by named countries")
    residual_share: float | None
    low_coverage: bool | None = Field(
        description="named_share below 0.5: a low HHI is not evidence of diversity")
    hhi_wgi: float | None = Field(description="Governance-weighted HHI, 0-100,000")
    hhi_wgi_eu_scale: float | None = Field(description="hhi_wgi / 10,000 (0-10)")
    hhi_wgi_formula: str | None
    wgi_year: int | None = Field(description="Year of the Worldwide Governance Indicators used")
    wgi_formula: str | None
    wgi_missing_default: float | None = Field(
        description="Scaled WGI given to a country the WGI does not cover")
    residual: Residual | None
    countries: list[CountryFigure] = Field(description="Sorted by value, largest first")
    years: list[int] = Field(description="Years this series has")
    other_series: list[str] = Field(description="Other series: 'series [measure, source, years]'")
    notes: list[str]
    missing: str | None = Field(description="Why there are no figures, said plainly")


class ConcentrationRow(Response):
    """One mineral in the concentration ranking (``kizuna minerals concentration --json``)."""

    mineral: str
    name: str
    stage: str
    measure: str
    year: int
    estimated: bool
    basis: str = Field(description="tonnage | share")
    unit: str
    series: str
    source: str
    confidence: str | None = Field(description="low | medium | high, where the compiler says")
    world_total: float | None = Field(description="null for published shares")
    world_total_kind: str
    hhi: float = Field(description="0-10,000, the residual counted as many small producers")
    hhi_upper: float
    hhi_wgi: float = Field(description="Governance-weighted HHI, 0-100,000")
    top1_iso3: str
    top1_name: str
    top1_share: float
    top3_share: float
    named_share: float = Field(description="Share of the total held by named countries")
    residual_share: float
    low_coverage: bool = Field(description="named_share below 0.5")
    group: str = Field(description="The country group whose share is reported")
    group_share: float
    n_countries: int
    wgi_year: int = Field(description="Year of the Worldwide Governance Indicators used")


class MineralSummary(Response):
    """A mineral and the critical-mineral lists naming it."""

    slug: str
    name: str
    symbol: str | None
    group: str | None
    lists: list[str] = Field(description="Ids of the lists naming the mineral")
    status: str | None = Field(description="With ?list=: confirmed | unconfirmed")
    category: str | None = Field(description="With ?list=: the list's category")


class CountryGroup(Response):
    """A named set of countries."""

    id: str
    name: str
    members: list[str] = Field(description="ISO 3166-1 alpha-3 codes, sorted")
    description: str
    source: str


PYTHON_TYPES: dict[str, type] = {"string": str, "Int64": int, "Float64": float, "boolean": bool}


def table_model(table: Table, name: str) -> type[BaseModel]:
    """A response model for one row of a normalised table, from its declaration."""
    fields: dict[str, Any] = {}
    for column in table.columns:
        kind: Any = PYTHON_TYPES[column.dtype]
        fields[column.name] = (
            (kind, Field(description=column.description)) if column.required
            else (kind | None, Field(default=None, description=column.description))
        )
    model: type[BaseModel] = create_model(
        name, __base__=Response, __doc__=table.description, **fields
    )
    return model


def rows_of(model: type[BaseModel]) -> Any:
    """``list[model]`` for a model built at run time (which mypy cannot take as a type)."""
    return GenericAlias(list, (model,))


CriticalList = table_model(LISTS, "CriticalList")
Source = table_model(SOURCES, "Source")
