"""The exposure page: pick a template or upload a BOM, see supply by country and compliance.

An uploaded BOM is read from a temporary file for the one request that carries it and the
file is deleted before the response is sent: nothing is stored, so nobody but the uploader
ever sees it (the page says so). Errors in the file come back on the page, in the same words
as the CLI's, with status 400.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kizuna.errors import InputError, KizunaError
from kizuna.exposure.compute import exposure
from kizuna.exposure.mixes import perspective_of
from kizuna.exposure.report import (
    SUMMARY_HEADERS,
    VERDICT_HEADERS,
    exposure_figure,
    summary_rows,
    verdict_rows,
)
from kizuna.exposure.rules import PACKS as SHIPPED
from kizuna.exposure.rules import evaluate, load_pack
from kizuna.products.bom import load_product
from kizuna.products.templates import describe_templates
from kizuna.web.charts import Chart
from kizuna.web.context import WebContext, web_context

Context = Annotated[WebContext, Depends(web_context)]
MAX_UPLOAD = 5 * 1024 * 1024
PERSPECTIVES = (("world", "World mix"), ("USA", "United States imports (USGS)"),
                ("GBR", "United Kingdom imports (HMRC, by value)"))
PACKS = (("", "none"), ("eu-crma", "EU CRMA 65% benchmark"),
         ("us-ira-30d", "US IRA 30D (historical)"))


def exposure_router(templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    def render(request: Request, form: dict[str, Any], *, result: Any = None,
               verdict: Any = None, error: str | None = None, status: int = 200,
               chart: Chart | None = None) -> HTMLResponse:

        checks = verdict_rows(verdict) if verdict is not None else ([], [])
        return templates.TemplateResponse(request, "exposure.html", {
            "title": "Product exposure", "nav_current": "exposure",
            "templates_": describe_templates(), "perspectives": PERSPECTIVES, "packs": PACKS,
            "form": form, "result": result, "verdict": verdict, "error": error,
            "summary_headers": SUMMARY_HEADERS, "summary": summary_rows(result) if result else [],
            "verdict_headers": VERDICT_HEADERS, "checks": list(zip(*checks, strict=True)),
            "chart": chart,
        }, status_code=status)  # fmt: skip

    @router.get("/exposure")
    def exposure_form(request: Request) -> HTMLResponse:
        return render(request, {"template": "nmc811", "volume": "", "perspective": "world",
                                "rules": "eu-crma", "sheet": ""})

    @router.post("/exposure")
    async def exposure_result(
        request: Request,
        context: Context,
        template: Annotated[str, Form()] = "",
        volume: Annotated[str, Form()] = "",
        perspective: Annotated[str, Form()] = "world",
        rules: Annotated[str, Form()] = "",
        sheet: Annotated[str, Form()] = "",
        bom: UploadFile | None = None,
    ) -> HTMLResponse:
        form = {"template": template, "volume": volume, "perspective": perspective,
                "rules": rules, "sheet": sheet}
        upload = await _read_upload(bom)
        try:
            result, verdict, chart = _compute(context, form, upload)
        except KizunaError as error:
            message = error.message + (f" ({error.hint})" if error.hint else "")
            return render(request, form, error=message, status=error.status)
        return render(request, form, result=result, verdict=verdict, chart=chart)

    return router


async def _read_upload(bom: UploadFile | None) -> tuple[str, bytes] | None:
    if bom is None or not bom.filename:
        return None
    data = await bom.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InputError(f"the BOM file is larger than {MAX_UPLOAD // (1024 * 1024)} MiB",
                         field="bom")
    return Path(bom.filename).name, data


def _compute(context: WebContext, form: dict[str, Any],
             upload: tuple[str, bytes] | None) -> tuple[Any, Any, Chart]:

    ds = context.dataset()
    volume = _volume(form["volume"])
    if form["perspective"] not in {key for key, _ in PERSPECTIVES}:
        raise InputError(f"unknown perspective {form['perspective']!r}", field="perspective")
    if form["rules"] and form["rules"] not in SHIPPED:
        raise InputError(f"unknown rule pack {form['rules']!r}", field="rules")
    if upload is not None:
        name, data = upload
        suffix = Path(name).suffix.casefold()
        if suffix not in (".csv", ".xlsx"):
            raise InputError(f"{name}: a BOM is a .csv or .xlsx file", field="bom")
        with tempfile.TemporaryDirectory(prefix="kizuna-bom-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            product = load_product(str(path), sheet=form["sheet"] or None, dataset=ds)
    else:
        product = load_product(form["template"] or "nmc811", dataset=ds)
    groups = context.groups()
    result = exposure(ds, product, volume=volume, perspective=perspective_of(
        ds, form["perspective"]), groups=groups)
    verdict = evaluate(ds, load_pack(form["rules"]), result, groups=groups) if form[
        "rules"] else None
    concern = groups["concern"].members if "concern" in groups else frozenset()
    figure = exposure_figure(result, frozenset(concern))
    chart = Chart(
        dom_id="exposure-chart", figure_json=figure.to_json().replace("</", "<\\/"),
        alt=_alt(result), title=f"Supply of {product.name} by country and stage",
        source="; ".join(sorted({str(s) for s in result.rows["source"] if s}))[:300],
        unit="share of each mineral's tonnes", year=result.year or "latest",
        estimated=False, basis="tonnage",
    )  # fmt: skip
    return result, verdict, chart


def _volume(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise InputError(f"volume {text!r} is not a number of units >= 0", field="volume")
    return value


def _alt(result: Any) -> str:
    parts = []
    for row in result.to_json()["minerals"]:
        if row["top_iso3"]:
            parts.append(f"{row['mineral']} {row['stage']}: {row['top_iso3']} "
                         f"{row['top_share']:.0%}")
    return "Largest supplier per mineral and stage: " + "; ".join(parts)
