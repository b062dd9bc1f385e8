"""The partners page: rank countries as mining or refining partners for one mineral.

A GET form (so a ranking is a link one can share): mineral, stage, groups and countries to
exclude, the partner groups alignment counts, and the weights, prefilled with the defaults.
The ranking comes from ``kizuna.partners.scout``, the same call as ``kizuna partners``; a
bad value comes back on the page in the CLI's words, with its HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import plotly.graph_objects as go
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kizuna.errors import KizunaError
from kizuna.minerals.selection import check_stage
from kizuna.model import STAGES
from kizuna.partners import (
    DEFAULT_PARTNERS,
    FACTOR_NAMES,
    FACTORS,
    Scouting,
    check_weights,
    default_weights,
    resolve_weights,
    scout,
)
from kizuna.web.charts import FONT, Chart
from kizuna.web.context import WebContext, web_context

Context = Annotated[WebContext, Depends(web_context)]
DEFAULT_MINERAL = "cobalt"
CHART_TOP = 15
COLOURS = {
    "reserves": "#1f5fa8", "production": "#4c9be8", "growth": "#8fc3f2",
    "rp_years": "#6a4fa3", "governance": "#2e8b57", "alignment": "#9bd39b",
    "refining_gap": "#e0a030",
}  # fmt: skip
ListQuery = Annotated[list[str] | None, Query()]


@dataclass(frozen=True)
class PartnersForm:
    """What the form says, as text, so it can be shown again as typed."""

    mineral: str
    stage: str
    exclude: tuple[str, ...]
    countries: str
    partners: tuple[str, ...]
    weights: dict[str, str]

    def excluded(self) -> list[str]:
        return [*self.exclude, *(p.strip() for p in self.countries.split(",") if p.strip())]


def partners_router(templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    @router.get("/partners")
    def partners_page(
        request: Request,
        context: Context,
        mineral: str = DEFAULT_MINERAL,
        stage: str = "mining",
        exclude: ListQuery = None,
        countries: str = "",
        partner: ListQuery = None,
        run: str = "",
    ) -> HTMLResponse:
        weights = {name: request.query_params.get(f"w_{name}", "") for name in FACTOR_NAMES}
        form = PartnersForm(
            mineral=mineral, stage=stage, exclude=tuple(exclude or ()), countries=countries,
            partners=tuple(partner or ()) if run else DEFAULT_PARTNERS, weights=weights,
        )
        page: dict[str, Any] = {
            "title": "Partner scouting", "nav_current": "partners", "form": form,
            "minerals": _minerals(context), "stages": STAGES, "groups": context.groups(),
            "factors": FACTORS, "defaults": _defaults(form.stage), "result": None,
            "about": None, "chart": None, "error": None,
        }  # fmt: skip
        try:
            result = _scout(context, form)
        except KizunaError as error:
            page["error"] = error.message + (f" ({error.hint})" if error.hint else "")
            return templates.TemplateResponse(request, "partners.html", page,
                                              status_code=error.status)
        page.update(result=result, about=result.describe(), chart=_chart(result))
        return templates.TemplateResponse(request, "partners.html", page)

    return router


def _defaults(stage: str) -> dict[str, str]:
    """The stage's default weights in percent, as the inputs' placeholders."""
    chosen = stage if stage in STAGES else "mining"
    return {name: f"{100 * value:g}" for name, value in default_weights(chosen).items()}


def _minerals(context: WebContext) -> list[tuple[str, str]]:
    """Minerals with country figures, by name (product categories are not minerals)."""
    ds = context.dataset()
    supply = ds.supply
    with_data = set(supply.loc[~supply["is_aggregate"], "mineral"].astype(str))
    found = [(info.slug, info.name) for info in ds.minerals.values()
             if info.slug in with_data and info.group != "category"]
    return sorted(found, key=lambda item: item[1].casefold())


def _weights(form: PartnersForm) -> dict[str, Any]:
    """The weights typed (in percent, like the defaults shown); blank keeps the default."""
    given: dict[str, Any] = {}
    for name, text in form.weights.items():
        if not text.strip():
            continue
        try:
            given[name] = float(text)
        except ValueError:
            given[name] = text
    return given


def _scout(context: WebContext, form: PartnersForm) -> Scouting:
    stage = check_stage(form.stage)
    percent = check_weights(_weights(form), where="the weights on this form")
    given = {name: value / 100 for name, value in percent.items()}
    weights = resolve_weights(stage, given, source="the weights on this form") if given else None
    return scout(context.dataset(), form.mineral, stage=stage, exclude=form.excluded(),
                 weights=weights, partners=form.partners, groups=context.groups(),
                 wgi_missing=context.settings.wgi_missing)


def _chart(result: Scouting) -> Chart:
    shown = result.candidates[:CHART_TOP][::-1]  # Plotly draws the first bar at the bottom
    labels = [f"{c.rank}. {c.name}" for c in shown]
    figure = go.Figure()
    for factor in FACTORS:
        values = [c.factors[factor.name] for c in shown]
        figure.add_trace(go.Bar(
            name=f"{factor.label} ({100 * result.weights.values[factor.name]:.0f}%)",
            x=[v.contribution for v in values], y=labels, orientation="h",
            marker={"color": COLOURS[factor.name]},
            customdata=[[_raw_label(factor.name, v.raw.value, v.raw.unit, v.raw.status),
                         f"{v.normalised:.2f}"] for v in values],
            hovertemplate=(f"%{{y}} — {factor.label}: %{{x:.1f}} points<br>raw %{{customdata[0]}}"
                           ", normalised %{customdata[1]}<extra></extra>"),
        ))  # fmt: skip
    figure.update_layout(
        barmode="stack", height=max(300, 30 * len(shown) + 130),
        margin={"l": 10, "r": 20, "t": 10, "b": 90},
        font={"family": FONT, "size": 13, "color": "#1d2733"},
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        xaxis={"title": {"text": "Score: points out of 100, by factor"}, "range": [0, 100],
               "gridcolor": "#e3e7ec", "zeroline": False},
        yaxis={"automargin": True},
        legend={"orientation": "h", "y": -0.18, "x": 0},
    )  # fmt: skip
    leaders = "; ".join(f"{c.rank}. {c.name} {c.score:.1f}" for c in result.candidates[:5])
    sources = sorted({label.split(" ")[0] for labels_ in result.sources.values()
                      for label in labels_})
    years = sorted({label for labels_ in result.sources.values() for label in labels_
                    if any(ch.isdigit() for ch in label)})
    return Chart(
        dom_id="partners-chart", figure_json=figure.to_json().replace("</", "<\\/"),
        alt=f"Stacked bar chart of partner scores for {result.name} ({result.stage}), "
            f"points by factor. Best: {leaders}.",
        title=f"{result.name}: partner score for {result.stage}, the best "
              f"{min(CHART_TOP, len(result.candidates))}",
        source=", ".join(sources), unit="points out of 100 (weight × normalised value)",
        year=", ".join(years), estimated=result.estimated, basis="score",
    )  # fmt: skip


def _raw_label(name: str, value: float | None, unit: str, status: str) -> str:
    if value is None:
        return "unbounded" if status == "unbounded" else f"none ({status})"
    if name == "growth":
        return f"{value:+.1%}/yr"
    if name == "refining_gap":
        return f"{value:+.1%}"
    if unit == "fraction":
        return f"{value:.1%}"
    return f"{value:,.4g} {unit}"
