"""HTML pages: the overview and the mineral pages. Routes call the library, then format."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kizuna.errors import NotFoundError
from kizuna.minerals.concentration import concentration_table, mineral_profile
from kizuna.minerals.governance import governance_weights
from kizuna.minerals.lists import list_minerals
from kizuna.minerals.metrics import HHI_WGI_FORMULA
from kizuna.minerals.selection import check_stage
from kizuna.model import STAGES
from kizuna.web.charts import Chart, profile_chart
from kizuna.web.context import WebContext, web_context
from kizuna.web.formatting import frame_records
from kizuna.web.story import overview_lede

Context = Annotated[WebContext, Depends(web_context)]
StageQuery = Annotated[str | None, Query(description="mining or refining; both when omitted")]
YearQuery = Annotated[int | None, Query()]
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


def governance_terms(context: WebContext) -> dict[str, Any]:
    """What the pages say about HHI × WGI: the WGI year, the formulas and the default score."""
    weights = governance_weights(
        context.dataset().governance, missing_default=context.settings.wgi_missing
    )
    return {**weights.describe(), "hhi_wgi_formula": HHI_WGI_FORMULA}


def stage_panel(
    context: WebContext, mineral: str, stage: str, year: int | None, *, strict: bool = True
) -> dict[str, Any]:
    """One stage of one mineral: its profile and chart, or the reason there are no data.

    With ``strict=False`` a year this stage does not have is shown as the panel's reason
    (``year_error`` keeps the error); otherwise it is raised.
    """
    try:
        profile = mineral_profile(
            context.dataset(), mineral, stage=stage, year=year,
            wgi_missing=context.settings.wgi_missing,
        )
    except NotFoundError as error:
        if strict or error.fields.get("field") != "year":
            raise
        return {"stage": stage, "missing": str(error), "profile": None, "chart": None,
                "year_error": error}
    panel: dict[str, Any] = {"stage": stage, "profile": profile, "chart": None,
                             "missing": profile.get("missing"), "year_error": None}
    if panel["missing"]:
        return panel
    members, group_name = _highlight(context, CONCERN_GROUP)
    chart: Chart = profile_chart(
        profile,
        dom_id=f"chart-{profile['mineral']}-{stage}",
        source_title=source_title(context, profile.get("source")),
        highlight=members,
        highlight_name=group_name,
    )
    panel["chart"] = chart
    return panel


def mineral_panels(
    context: WebContext, mineral: str, stage: str | None, year: int | None
) -> list[dict[str, Any]]:
    """The stage panels of a mineral page; an unknown stage is a 400, a year no stage has a 404.

    With one stage asked for, the library's own error is raised. With both, a year one stage
    lacks is said in that panel; a year neither has is a 404 naming each stage's years.
    """
    if stage is not None:
        return [stage_panel(context, mineral, check_stage(stage), year)]
    panels = [stage_panel(context, mineral, name, year, strict=False) for name in STAGES]
    failed = [panel for panel in panels if panel["year_error"]]
    if failed and all(panel["year_error"] or panel["profile"]["year"] is None for panel in panels):
        hint = "; ".join(f"{panel['stage']}: {panel['year_error'].hint}" for panel in failed)
        raise NotFoundError(f"no data for {mineral} in {year}", hint=hint, field="year",
                            value=year)
    return panels


def pages_router(templates: Jinja2Templates) -> APIRouter:
    """The HTML routes (not in the OpenAPI schema)."""
    router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    @router.get("/")
    def overview(
        request: Request,
        context: Context,
        stage: Annotated[str, Query()] = "mining",
        year: YearQuery = None,
        group: Annotated[str, Query()] = CONCERN_GROUP,
    ) -> HTMLResponse:
        check_stage(stage)
        known = context.groups()
        table = concentration_table(
            context.dataset(), stage=stage, year=year, group=group, groups=known,
            wgi_missing=context.settings.wgi_missing,
        )
        story = [stage_panel(context, STORY_MINERAL, name, None) for name in STAGES]
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
                "lede": overview_lede(story),
                "rows": frame_records(table),
                "stage": stage,
                "stages": STAGES,
                "year": year,
                "group": group,
                "group_name": dict(groups).get(group, group),
                "groups": groups,
                "sources": {key: source_title(context, key) for key in _sources(table)},
                "governance": governance_terms(context),
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
        stage: StageQuery = None,
        year: YearQuery = None,
    ) -> HTMLResponse:
        info = context.dataset().mineral(mineral)
        panels = mineral_panels(context, info.slug, stage, year)
        return templates.TemplateResponse(
            request,
            "mineral.html",
            {"title": info.name, "nav_current": "minerals", "mineral": info, "panels": panels,
             "year": year, "governance": governance_terms(context)},
        )

    return router
