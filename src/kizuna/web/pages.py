"""HTML pages: the overview and the mineral pages. Routes call the library, then format."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kizuna.errors import NotFoundError
from kizuna.minerals.concentration import (
    concentration_table,
    mineral_profile,
)
from kizuna.minerals.lists import list_minerals
from kizuna.model import STAGES
from kizuna.web.charts import Chart, profile_chart
from kizuna.web.context import WebContext, web_context
from kizuna.web.formatting import frame_records

Context = Annotated[WebContext, Depends(web_context)]
STORY_MINERAL = "rare-earths"
CONCERN_GROUP = "concern"


def source_title(context: WebContext, source: str | None) -> str:
    """The source's full citation, or its id when the sources table does not know it."""
    if not source:
        return "source not recorded"
    sources = context.dataset().sources
    match = sources[sources["source"] == source]
    if match.empty:
        return source
    return str(match["title"].iat[0])


def _sources(table: pd.DataFrame) -> list[str]:
    return sorted({str(key) for key in table["source"]}) if "source" in table else []


def _highlight(context: WebContext, group: str) -> tuple[frozenset[str], str]:
    found = context.groups().get(group)
    if found is None:
        return frozenset(), ""
    return frozenset(found.members), str(found.name)


def stage_panel(context: WebContext, mineral: str, stage: str, year: int | None) -> dict[str, Any]:
    """One stage of one mineral: its profile and chart, or the reason there are no data."""
    try:
        profile = mineral_profile(
            context.dataset(), mineral, stage=stage, year=year,
            wgi_missing=context.settings.wgi_missing,
        )
    except NotFoundError as error:
        if error.fields.get("field") != "year":
            raise
        return {"stage": stage, "missing": str(error), "profile": None, "chart": None}
    if profile.get("missing"):
        return {"stage": stage, "missing": profile["missing"], "profile": profile, "chart": None}
    members, group_name = _highlight(context, CONCERN_GROUP)
    chart: Chart = profile_chart(
        profile,
        dom_id=f"chart-{profile['mineral']}-{stage}",
        source_title=source_title(context, profile.get("source")),
        highlight=members,
        highlight_name=group_name,
    )
    return {"stage": stage, "missing": None, "profile": profile, "chart": chart}


def pages_router(templates: Jinja2Templates) -> APIRouter:
    """The HTML routes (not in the OpenAPI schema)."""
    router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    @router.get("/")
    def overview(
        request: Request,
        context: Context,
        stage: Annotated[str, Query()] = "mining",
        year: Annotated[int | None, Query()] = None,
        group: Annotated[str, Query()] = CONCERN_GROUP,
    ) -> HTMLResponse:
        dataset = context.dataset()
        story = [stage_panel(context, STORY_MINERAL, name, None) for name in STAGES]
        known = context.groups()
        table = concentration_table(
            dataset, stage=stage, year=year, group=group, groups=known,
            wgi_missing=context.settings.wgi_missing,
        )
        groups = sorted(
            ((key, str(value.name)) for key, value in known.items()), key=lambda g: g[1]
        )
        return templates.TemplateResponse(
            request,
            "overview.html",
            {
                "title": "Critical-mineral supply concentration",
                "nav_current": "overview",
                "story": story,
                "rows": frame_records(table),
                "stage": stage,
                "stages": STAGES,
                "year": year,
                "group": group,
                "group_name": dict(groups).get(group, group),
                "groups": groups,
                "sources": {key: source_title(context, key) for key in _sources(table)},
            },
        )

    @router.get("/minerals")
    def minerals_index(request: Request, context: Context) -> HTMLResponse:
        rows = frame_records(list_minerals(context.dataset()))
        return templates.TemplateResponse(
            request, "minerals.html", {"title": "Minerals", "nav_current": "minerals", "rows": rows}
        )

    @router.get("/minerals/{mineral}")
    def mineral_page(
        request: Request,
        context: Context,
        mineral: str,
        year: Annotated[int | None, Query()] = None,
    ) -> HTMLResponse:
        info = context.dataset().mineral(mineral)
        panels = [stage_panel(context, info.slug, name, year) for name in STAGES]
        return templates.TemplateResponse(
            request,
            "mineral.html",
            {"title": info.name, "nav_current": "minerals", "mineral": info, "panels": panels,
             "year": year},
        )

    return router
