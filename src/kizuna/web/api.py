"""The JSON API: thin routes over the minerals library; they call, then only format.

Errors are KizunaError subclasses raised by the library and rendered by ``handlers``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from kizuna.minerals.concentration import concentration_table, mineral_profile
from kizuna.minerals.lists import list_minerals
from kizuna.web.context import WebContext, web_context
from kizuna.web.formatting import frame_records, jsonable
from kizuna.web.schemas import (
    ConcentrationRow,
    CountryGroup,
    CriticalList,
    MineralProfile,
    MineralSummary,
    Source,
    rows_of,
)

Context = Annotated[WebContext, Depends(web_context)]
Stage = Annotated[str, Query(description="Stage of supply: mining or refining")]
Year = Annotated[
    int | None,
    Query(description="Data year; the latest when omitted; an unavailable year is a 404 "
          "naming the years available"),
]
Group = Annotated[str, Query(description="Country group whose combined share is reported")]
Measure = Annotated[
    str | None,
    Query(description="production, capacity, reserves or share; default: production "
          "tonnages, else published shares"),
]
Series = Annotated[
    str | None, Query(description="Another series by name (see other_series in a profile)")
]
MineralName = Annotated[str, Path(description="Mineral slug, name or alias, e.g. rare-earths")]

Record = dict[str, Any]


def api_router() -> APIRouter:
    """The ``/api`` routes."""
    router = APIRouter(prefix="/api", tags=["minerals"])

    @router.get(
        "/minerals",
        summary="Minerals and the critical-mineral lists naming them",
        response_model=list[MineralSummary],
    )
    def minerals(
        context: Context,
        list_id: Annotated[
            str | None, Query(alias="list", description="Only minerals on this list, e.g. uk-2024")
        ] = None,
    ) -> list[Record]:
        """Each mineral's slug, name, symbol, group and the ids of the lists that name it."""
        return frame_records(list_minerals(context.dataset(), list_id))

    @router.get(
        "/minerals/{mineral}",
        summary="Supply profile of one mineral at one stage",
        response_model=MineralProfile,
    )
    def mineral(
        context: Context,
        mineral: MineralName,
        stage: Stage = "mining",
        year: Year = None,
        measure: Measure = None,
        series: Series = None,
    ) -> Record:
        """World total, HHI, top-country shares and the country table, with year, unit and
        source — the same JSON as ``kizuna minerals show --json``."""
        profile = mineral_profile(
            context.dataset(),
            mineral,
            stage=stage,
            year=year,
            measure=measure,
            series=series,
            wgi_missing=context.settings.wgi_missing,
        )
        result: Record = jsonable(profile)
        return result

    @router.get(
        "/concentration",
        summary="Supply concentration of every mineral",
        response_model=list[ConcentrationRow],
    )
    def concentration(
        context: Context,
        stage: Stage = "mining",
        year: Year = None,
        group: Group = "concern",
        measure: Measure = None,
    ) -> list[Record]:
        """One row per mineral, sorted by HHI (0-10,000), with the governance-weighted HHI,
        the top country and the named group's combined share."""
        table = concentration_table(
            context.dataset(),
            stage=stage,
            year=year,
            group=group,
            groups=context.groups(),
            measure=measure,
            wgi_missing=context.settings.wgi_missing,
        )
        return frame_records(table)

    @router.get(
        "/groups",
        summary="Country groups (partners, countries of concern, ...)",
        response_model=list[CountryGroup],
    )
    def groups(context: Context) -> list[Record]:
        """Each group's id, name, ISO3 members, description and source."""
        return [jsonable(group) for group in context.groups().values()]

    @router.get(
        "/lists", summary="Official critical-mineral lists", response_model=rows_of(CriticalList)
    )
    def lists(context: Context) -> list[Record]:
        """Each list's id, jurisdiction, name, year, size and completeness caveat."""
        return frame_records(context.dataset().lists)

    @router.get(
        "/sources", summary="Every source a figure cites", response_model=rows_of(Source)
    )
    def sources(context: Context) -> list[Record]:
        """Source id, full citation, publisher, version, URL and licence."""
        result: list[Record] = jsonable(context.dataset().sources)
        return result

    return router


def health_router() -> APIRouter:
    """``/healthz``: cheap, loads nothing."""
    router = APIRouter(tags=["service"])

    @router.get("/healthz", summary="Liveness check")
    def healthz(context: Context) -> Record:
        return {
            "status": "ok",
            "dataset": "loaded" if context.dataset_loaded else "not loaded",
            "store": "open" if context.store is not None else "none",
        }

    return router
