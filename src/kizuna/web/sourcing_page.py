"""The sourcing page: plan a product's sourcing under a rule pack, see the cost-risk frontier,
the transition path and the plan.

GET ``/sourcing`` shows the form; with ``product=...`` in the query it also plans (so a plan
is a link one can share). POST runs the same with an uploaded supplier file and assumptions
YAML: both are read for that one answer and not stored. Bad input comes back on the page in
the CLI's words, with status 400; runs are bounded (draws, frontier points, years, a time
limit per solve) so that a page answers in seconds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kizuna.errors import InputError, KizunaError
from kizuna.exposure.rules import PACKS as SHIPPED
from kizuna.products.bom import load_product
from kizuna.products.templates import describe_templates
from kizuna.scenarios import EXAMPLE_IDS, list_examples
from kizuna.sourcing import SourcingResult, load_suppliers, parse_assumptions
from kizuna.sourcing.plan import PlanRequest, run_plan
from kizuna.sourcing.report import (
    FRONTIER_HEADERS,
    PATH_HEADERS,
    PLAN_HEADERS,
    SUPPLIER_HEADERS,
    YEAR_HEADERS,
    risk_label,
    sourcing_figures,
    summary,
    table_rows,
)
from kizuna.web.charts import Chart
from kizuna.web.context import WebContext, web_context

Context = Annotated[WebContext, Depends(web_context)]
MAX_WEB_DRAWS = 20_000
MAX_POINTS = 30
MAX_YEARS = 15
MAX_UPLOAD = 2 * 1024 * 1024
TIME_LIMIT = 20.0  # seconds per solve on the page
PACKS = (("", "none"), ("eu-crma", "EU CRMA 65% benchmark"),
         ("us-ira-30d", "US IRA 30D (historical)"))
MEASURES = (("proxy", "risk-group share (linear proxy)"),
            ("cvar", "CVaR of shortfall cost over scenario draws"))
FIELDS = ("product", "volume", "rules", "risk", "risk_weight", "frontier", "years",
          "scenario", "draws", "alpha", "seed", "assumptions")
DEFAULTS = {"product": "nmc811", "volume": "75000", "rules": "eu-crma", "risk": "proxy",
            "risk_weight": "0", "frontier": "8", "years": "", "scenario": "", "draws": "2000",
            "alpha": "0.95", "seed": "0", "assumptions": ""}


def sourcing_router(templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    def render(request: Request, context: WebContext, form: dict[str, str], *,
               result: SourcingResult | None = None, error: str | None = None,
               status: int = 200) -> HTMLResponse:
        return templates.TemplateResponse(request, "sourcing.html", {
            "title": "Sourcing", "nav_current": "sourcing", "form": form,
            "templates_": describe_templates(), "packs": PACKS, "measures": MEASURES,
            "examples": list_examples(context.dataset()), "max_draws": MAX_WEB_DRAWS,
            "max_points": MAX_POINTS, "error": error, "result": result,
            "summary": summary(result) if result is not None else "",
            "tables": table_rows(result) if result is not None else {},
            "headers": {"plan": PLAN_HEADERS, "paths": PATH_HEADERS,
                        "frontier": FRONTIER_HEADERS, "years": YEAR_HEADERS,
                        "suppliers": SUPPLIER_HEADERS},
            "charts": _charts(result) if result is not None else [],
        }, status_code=status)  # fmt: skip

    def answer(request: Request, context: WebContext, form: dict[str, str],
               upload: tuple[str, bytes] | None) -> HTMLResponse:
        try:
            result = _plan(context, form, upload)
        except KizunaError as error:
            message = error.message + (f" ({error.hint})" if error.hint else "")
            return render(request, context, form, error=message, status=error.status)
        return render(request, context, form, result=result)

    @router.get("/sourcing")
    def sourcing_form(request: Request, context: Context) -> HTMLResponse:
        query = request.query_params
        form = {name: query.get(name, DEFAULTS[name]) for name in FIELDS}
        if "product" not in query:
            return render(request, context, form)
        return answer(request, context, form, None)

    @router.post("/sourcing")
    def sourcing_run(
        request: Request,
        context: Context,
        product: Annotated[str, Form()] = DEFAULTS["product"],
        volume: Annotated[str, Form()] = "",
        rules: Annotated[str, Form()] = "",
        risk: Annotated[str, Form()] = "proxy",
        risk_weight: Annotated[str, Form()] = "0",
        frontier: Annotated[str, Form()] = "",
        years: Annotated[str, Form()] = "",
        scenario: Annotated[str, Form()] = "",
        draws: Annotated[str, Form()] = DEFAULTS["draws"],
        alpha: Annotated[str, Form()] = DEFAULTS["alpha"],
        seed: Annotated[str, Form()] = "0",
        assumptions: Annotated[str, Form()] = "",
        suppliers: UploadFile | None = None,
    ) -> HTMLResponse:
        form = {"product": product, "volume": volume, "rules": rules, "risk": risk,
                "risk_weight": risk_weight, "frontier": frontier, "years": years,
                "scenario": scenario, "draws": draws, "alpha": alpha, "seed": seed,
                "assumptions": assumptions}
        upload = None
        if suppliers is not None and suppliers.filename:
            data = suppliers.file.read(MAX_UPLOAD + 1)
            if len(data) > MAX_UPLOAD:
                error = InputError("the supplier file is larger than 2 MiB", field="suppliers")
                return render(request, context, form, error=error.message, status=400)
            upload = (Path(suppliers.filename).name, data)
        return answer(request, context, form, upload)

    return router


def _number(text: str, field: str, low: float, high: float, *, whole: bool = False,
            default: float | None = None) -> float | None:
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned:
        return default
    try:
        value = float(cleaned)
    except ValueError:
        value = float("nan")
    if not low <= value <= high or (whole and not value.is_integer()):
        kind = "a whole number" if whole else "a number"
        raise InputError(f"{field} {text!r} is not {kind} from {low:g} to {high:,.6g}",
                         field=field)
    return value


def _plan(context: WebContext, form: dict[str, str],
          upload: tuple[str, bytes] | None) -> SourcingResult:
    ds = context.dataset()
    if form["rules"] and form["rules"] not in SHIPPED:
        raise InputError(f"unknown rule pack {form['rules']!r}", field="rules")
    if form["scenario"] and form["scenario"] not in EXAMPLE_IDS:
        raise InputError(f"unknown scenario {form['scenario']!r}",
                         hint="pick a shipped scenario", field="scenario")
    years = form["years"].strip() or None
    if years is not None:
        from kizuna.sourcing import parse_years  # noqa: PLC0415 - light, checked here

        first, last = parse_years(years)
        if last - first + 1 > MAX_YEARS:
            raise InputError(f"years {years!r}: at most {MAX_YEARS} years on the page",
                             hint="the CLI plans up to 30", field="years")
    frontier = _number(form["frontier"], "frontier", 0, MAX_POINTS, whole=True, default=0)
    request = PlanRequest(
        product=load_product(form["product"] or "nmc811", dataset=ds),
        volume=_number(form["volume"], "volume", 0, 1e12),
        rules=form["rules"] or None, risk=form["risk"] or None,
        risk_weight=_number(form["risk_weight"], "risk weight", 0, 1e9, default=0.0) or 0.0,
        frontier=int(frontier) if frontier and frontier >= 2 else None,
        years=years, scenario=form["scenario"] or None,
        draws=int(_number(form["draws"], "draws", 100, MAX_WEB_DRAWS, whole=True,
                          default=2000) or 2000),
        alpha=_number(form["alpha"], "alpha", 0, 0.999, default=0.95) or 0.0,
        seed=int(_number(form["seed"], "seed", 0, 2**32, whole=True, default=0) or 0),
        assumptions=_assumptions(form["assumptions"]), time_limit=TIME_LIMIT,
        groups=context.groups(),
    )  # fmt: skip
    if upload is None:
        return run_plan(ds, request)
    name, data = upload
    if Path(name).suffix.casefold() not in (".csv", ".xlsx"):
        raise InputError(f"{name}: a supplier file is a .csv or .xlsx file", field="suppliers")
    with tempfile.TemporaryDirectory(prefix="kizuna-suppliers-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        suppliers = load_suppliers(path, ds)
    return run_plan(ds, PlanRequest(**{**request.__dict__, "suppliers": suppliers}))


def _assumptions(text: str) -> Any:
    if not text.strip():
        return None
    if len(text) > 50_000:
        raise InputError("the assumptions are longer than 50,000 characters",
                         field="assumptions")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as error:
        first = str(error).strip().splitlines()[0]
        raise InputError(f"assumptions: not valid YAML ({first})",
                         field="assumptions") from None
    return parse_assumptions(doc, "assumptions")


_CHART_TEXT = {
    "frontier": ("Cost-risk frontier: least cost for each cap on the risk", None),
    "years": ("Transition path: cost per year with and without the rules", "USD; extra cost %"),
    "plan": ("The plan: share of each mineral by country and stage", "share of tonnes"),
}


def _charts(result: SourcingResult) -> list[Chart]:
    figures = sourcing_figures(result)
    out = []
    for name, (title, unit) in _CHART_TEXT.items():
        if name not in figures:
            continue
        out.append(Chart(
            dom_id=f"sourcing-{name}",
            figure_json=figures[name].to_json().replace("</", "<\\/"),
            alt=_alt(result, name), title=title,
            source="USGS MCS 2026 supply and prices; Kizuna's sourcing assumptions (listed "
                   "below)",
            unit=unit or f"USD against {risk_label(result)}",
            year=(f"{result.years['first']}-{result.years['last']}" if result.years
                  else "latest"),
            estimated=False, basis="tonnage",
        ))  # fmt: skip
    return out


def _alt(result: SourcingResult, name: str) -> str:
    if name == "frontier":
        points = [p for p in result.frontier if p["cost"] is not None]
        if not points:
            return "No frontier point could be planned."
        return (f"{len(points)} plans from risk {points[0]['risk']:,.4g} at "
                f"{points[0]['cost']:,.0f} USD to {points[-1]['risk']:,.4g} at "
                f"{points[-1]['cost']:,.0f} USD")
    if name == "years" and result.years:
        return str(result.years["curve"]["text"])
    top = sorted(result.plan, key=lambda r: -r["share"])[:4]
    return "Largest sources: " + "; ".join(
        f"{r['mineral']} {r['stage']} {r['iso3']} {r['share']:.0%}" for r in top)
