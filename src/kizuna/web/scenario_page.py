"""The scenarios page: pick a shipped scenario or edit its YAML, run it, see the distributions.

The YAML in the editor is parsed by the same function as ``kizuna scenario run`` reads a
file with, so a mistake comes back on the page in the CLI's words, with its YAML path
(``events[2].duration_days``), and status 400; nothing is run. Nothing is stored either: an
edited scenario lives in the form. Runs are capped at :data:`MAX_WEB_DRAWS` draws so a page
answers in seconds; the CLI (and Dask) take a million.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kizuna.errors import InputError, KizunaError
from kizuna.products.templates import describe_templates
from kizuna.scenarios import (
    EXAMPLE_IDS,
    ScenarioResult,
    example_text,
    list_examples,
    parse_scenario_text,
    run_scenario,
)
from kizuna.scenarios.report import scenario_figures
from kizuna.web.charts import Chart
from kizuna.web.context import WebContext, web_context

Context = Annotated[WebContext, Depends(web_context)]
MAX_WEB_DRAWS = 200_000
DEFAULT_DRAWS = 10_000
MAX_YAML = 200_000  # characters
PERSPECTIVES = (("", "as the file says (default: world)"), ("world", "World market"),
                ("USA", "United States imports (USGS)"),
                ("GBR", "United Kingdom imports (HMRC, by value)"))
_CHARTS = (
    ("timeline", "Shortfall over the horizon, per mineral and stage",
     "share of daily supply; probability of a shortfall"),
    ("distribution", "Distribution of the year's shortfall across draws",
     "share of a year's supply"),
    ("products", "Output of each product that cannot be built",
     "share of a year's output"),
)


@dataclass(frozen=True)
class Form_:
    example: str
    text: str
    draws: str
    seed: str
    perspective: str
    products: tuple[str, ...]


def scenario_router(templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    def render(request: Request, context: WebContext, form: Form_, *,
               result: ScenarioResult | None = None, error: str | None = None,
               status: int = 200) -> HTMLResponse:
        doc = result.to_json(timeline=False) if result is not None else None
        return templates.TemplateResponse(request, "scenarios.html", {
            "title": "Disruption scenarios", "nav_current": "scenarios",
            "examples": list_examples(context.dataset()), "form": form,
            "templates_": describe_templates(), "perspectives": PERSPECTIVES,
            "max_draws": MAX_WEB_DRAWS, "error": error, "doc": doc,
            "charts": _charts(result) if result is not None else [],
        }, status_code=status)  # fmt: skip

    @router.get("/scenarios")
    def scenarios_form(request: Request, context: Context, example: str = "") -> HTMLResponse:
        chosen = example or EXAMPLE_IDS[0]
        if chosen not in EXAMPLE_IDS:
            error = InputError(f"unknown scenario {example!r}",
                               hint="pick one from the list of shipped scenarios",
                               field="example")
            form = Form_(EXAMPLE_IDS[0], example_text(EXAMPLE_IDS[0]), str(DEFAULT_DRAWS), "1",
                         "", ())
            return render(request, context, form, error=_message(error), status=error.status)
        form = Form_(chosen, example_text(chosen), str(DEFAULT_DRAWS), "1", "", ())
        return render(request, context, form)

    @router.post("/scenarios")
    def scenarios_run(
        request: Request,
        context: Context,
        example: Annotated[str, Form()] = "",
        text: Annotated[str, Form()] = "",
        draws: Annotated[str, Form()] = str(DEFAULT_DRAWS),
        seed: Annotated[str, Form()] = "1",
        perspective: Annotated[str, Form()] = "",
        products: Annotated[list[str] | None, Form()] = None,
    ) -> HTMLResponse:
        form = Form_(example, text, draws, seed, perspective, tuple(products or ()))
        try:
            result = _run(context, form)
        except KizunaError as error:
            return render(request, context, form, error=_message(error), status=error.status)
        return render(request, context, form, result=result)

    return router


def _message(error: KizunaError) -> str:
    return error.message + (f" ({error.hint})" if error.hint else "")


def _whole(text: str, field: str, low: int, high: int) -> int:
    try:
        value = int(text.strip().replace(",", "").replace("_", ""))
    except ValueError:
        raise InputError(f"{field} {text!r} is not a whole number",
                         hint=f"use a whole number from {low:,} to {high:,}",
                         field=field) from None
    if not low <= value <= high:
        raise InputError(f"{field} {value:,} is outside {low:,}-{high:,}",
                         hint="for more draws use kizuna scenario run --draws N"
                         if field == "draws" else f"use {low:,}-{high:,}", field=field)
    return value


def _run(context: WebContext, form: Form_) -> ScenarioResult:
    if not form.text.strip():
        raise InputError("the scenario YAML is empty",
                         hint="pick an example and edit it, or paste a scenario", field="text")
    if len(form.text) > MAX_YAML:
        raise InputError(f"the scenario YAML is longer than {MAX_YAML:,} characters",
                         field="text")
    draws = _whole(form.draws, "draws", 100, MAX_WEB_DRAWS)
    seed = _whole(form.seed, "seed", 0, 2**63 - 1)
    if form.perspective not in {key for key, _ in PERSPECTIVES}:
        raise InputError(f"unknown perspective {form.perspective!r}", field="perspective")
    ds = context.dataset()
    origin = f"{form.example}.yaml (edited)" if form.example in EXAMPLE_IDS else "scenario.yaml"
    scenario = parse_scenario_text(form.text, origin=origin, dataset=ds)
    return run_scenario(ds, scenario, draws=draws, seed=seed,
                        products=list(form.products) or None,
                        perspective=form.perspective or None)


def _charts(result: ScenarioResult) -> list[Chart]:
    figures = scenario_figures(result)
    doc_sources = "; ".join(result.model.sources)[:300] or "the bundled supply tables"
    alt = _alt(result)
    charts = []
    for name, title, unit in _CHARTS:
        figure: Any = figures[name]
        charts.append(Chart(
            dom_id=f"scenario-{name}", figure_json=figure.to_json().replace("</", "<\\/"),
            alt=alt if name != "products" else _products_alt(result), title=title,
            source=doc_sources, unit=unit, year=result.model.year or "latest",
            estimated=False, basis="tonnage",
        ))  # fmt: skip
    return charts


def _alt(result: ScenarioResult) -> str:
    frame = result.results_frame()
    if frame.empty:
        return "No mineral and stage is touched by this scenario."
    top = frame.sort_values("mean_shortfall", ascending=False).head(3)
    parts = [f"{row.mineral} {row.stage}: mean shortfall {row.mean_shortfall:.1%} of a year's "
             f"supply, 95th percentile {row.p95:.1%}" for row in top.itertuples()]
    return "Largest shortfalls — " + "; ".join(parts)


def _products_alt(result: ScenarioResult) -> str:
    frame = result.products_frame()
    if frame.empty:
        return "No products were chosen."
    parts = [f"{row.name}: {row.mean_share_short:.1%} of a year's output cannot be built"
             for row in frame.itertuples()]
    return "; ".join(parts)
