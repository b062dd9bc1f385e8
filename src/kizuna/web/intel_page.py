"""The threat-intelligence pages: adversaries by sector and sponsor, asset exposure, and the
path from a threatened facility to a supply scenario.

Every page needs the organisation's hub API key, sent as the TAXII routes take it
(``Authorization: Bearer KEY``, or HTTP Basic with the key as the password, so a browser
asks for it with its own login prompt); without one the answer is 401 with the challenge.
Everything shown is read through the hub's service as that organisation, so the TLP rules
of docs/access.md decide what is on the page: what the organisation may not see is absent.
The asset register shown is the organisation's own. Nothing is stored by these pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from kizuna.errors import InputError, KizunaError, StoreError
from kizuna.hub.contract import Actor, AuthError
from kizuna.intel.assets import (
    WEIGHTS,
    AssetExposure,
    asset_exposure,
    load_assets,
    outage_scenario,
    register_summary,
)
from kizuna.intel.assets.exposure import EXPOSURE_TYPES
from kizuna.intel.hubread import Place, read_objects, readable_collections
from kizuna.intel.picture import (
    CLAIM_LABELS,
    Adversary,
    GroupFilter,
    filter_groups,
    threat_picture,
)
from kizuna.intel.sectors import sector_of, sectors
from kizuna.intel.stix.markings import level_name, level_of
from kizuna.model.countries import to_iso3
from kizuna.web.context import WebContext, web_context
from kizuna.web.intel_charts import exposure_chart, sector_sponsor_chart
from kizuna.web.taxii_http import credentials

Context = Annotated[WebContext, Depends(web_context)]
PREVIEW_DRAWS = 5_000
MAX_ROWS = 300  # adversaries listed on one page; the filters narrow the rest
MAX_KEV = 40  # KEV findings listed per asset (the score counts them all)
BASES = (("any", "CFR sponsor or attributed country"), ("cfr", "CFR-assessed sponsor only"),
         ("attributed", "attributed country only"))


def intel_reader(request: Request) -> Actor:
    """A FastAPI dependency: the organisation behind the request's API key, or 401."""
    secret = credentials(request.headers.get("authorization"))
    if secret is None:
        raise AuthError("the threat-intelligence pages need your organisation's hub API key",
                        hint="sign in with any user name and the API key as the password, or "
                        "send Authorization: Bearer KEY")
    context: WebContext = request.app.state.kizuna
    actor: Actor = context.hub().authenticate(secret)
    if actor.org is None:
        raise AuthError("the threat-intelligence pages need your organisation's hub API key")
    return actor


Reader = Annotated[Actor, Depends(intel_reader)]


@dataclass(frozen=True)
class Seen:
    """What the organisation could read, for the page to say so."""

    org: str
    places: list[Place]
    objects: list[dict[str, Any]]



def _seen(context: WebContext, actor: Actor, types: tuple[str, ...]) -> Seen:
    hub = context.hub()
    places = readable_collections(hub, actor)
    return Seen(str(actor.org), places,
                read_objects(hub, actor, types, places, cache=context.read_cache))


def _iso3(text: str, field: str) -> str | None:
    if not text.strip():
        return None
    try:
        return to_iso3(text.strip())
    except InputError as error:
        raise InputError(f"{field}: {error.message}", hint=error.hint, field=field) from None


def _message(error: KizunaError) -> str:
    return error.message + (f" ({error.hint})" if error.hint else "")


def intel_router(templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    @router.get("/intel")
    def adversaries(request: Request, context: Context, actor: Reader, sector: str = "",
                    sponsor: str = "", basis: str = "any", victim: str = "",
                    ambiguous: str = "1", attack_only: str = "") -> HTMLResponse:
        form: dict[str, Any] = {"sector": sector, "sponsor": sponsor, "basis": basis,
                                "victim": victim, "ambiguous": ambiguous != "0",
                                "attack_only": bool(attack_only)}
        seen = _seen(context, actor, ("intrusion-set", "threat-actor", "relationship",
                                      "attack-pattern", "malware", "tool"))
        rows = threat_picture(seen.objects)
        error, status, shown = None, 200, rows
        try:
            spec = _filter(form)
            shown = filter_groups(rows, spec)
        except KizunaError as caught:
            error, status = _message(caught), caught.status
        chart = sector_sponsor_chart(rows, basis=basis if basis in dict(BASES) else "any",
                                     include_ambiguous=ambiguous != "0")
        return templates.TemplateResponse(request, "intel.html", {
            "title": "Threat intel: who targets what", "nav_current": "intel", "seen": seen,
            "rows": shown[:MAX_ROWS], "matching": len(shown), "total": len(rows),
            "form": form, "bases": BASES, "error": error,
            "chart": chart, "sectors": list(sectors().values()), "labels": CLAIM_LABELS,
            "tlp": _tlp(seen, shown[:MAX_ROWS]), "max_rows": MAX_ROWS,
            "counts": _counts(rows),
        }, status_code=status)  # fmt: skip

    @router.get("/intel/assets")
    def exposure_page(request: Request, context: Context, actor: Reader,
                      as_of: str = "") -> HTMLResponse:
        error, status = None, 200
        try:
            day = date.fromisoformat(as_of) if as_of else date.today()
        except ValueError:
            error, status, day = f"as_of {as_of!r} is not a date (YYYY-MM-DD)", 400, date.today()
        found, seen, summary = _exposure(context, actor, day)
        found.sort(key=lambda item: (-item.score.total, item.asset.asset_id))
        return templates.TemplateResponse(request, "intel_assets.html", {
            "title": "Threat intel: asset exposure", "nav_current": "intel", "seen": seen,
            "found": found, "summary": summary, "chart": exposure_chart(found),
            "weights": WEIGHTS, "as_of": day.isoformat(), "error": error, "max_kev": MAX_KEV,
        }, status_code=status)  # fmt: skip

    @router.get("/intel/assets/{asset_id}/scenario")
    def scenario_path(request: Request, context: Context, actor: Reader, asset_id: str,
                      probability: str = "", duration: str = "",
                      start_day: str = "0") -> HTMLResponse:
        found, seen, summary = _exposure(context, actor, date.today())
        item = _asset(found, asset_id)
        form = {"probability": probability, "duration": duration, "start_day": start_day}
        facility = next((f for f in found if f.asset.asset_id == item.asset.part_of), item)
        page: dict[str, Any] = {
            "title": f"From {item.asset.name} to a scenario", "nav_current": "intel",
            "seen": seen, "item": item, "facility": facility, "form": form, "error": None,
            "text": None, "doc": None, "draws": PREVIEW_DRAWS}
        status = 200
        if probability or duration:
            try:
                text = _scenario_text(context, found, seen.org, summary, asset_id, form)
                page["text"] = text
                page["doc"] = _preview(context, text)
            except KizunaError as caught:
                page["error"], status = _message(caught), caught.status
        return templates.TemplateResponse(request, "intel_scenario.html", page,
                                          status_code=status)

    @router.get("/intel/assets/{asset_id}/scenario.yaml")
    def scenario_file(context: Context, actor: Reader, asset_id: str, probability: str = "",
                      duration: str = "", start_day: str = "0") -> Response:
        found, seen, summary = _exposure(context, actor, date.today())
        _asset(found, asset_id)
        form = {"probability": probability, "duration": duration, "start_day": start_day}
        text = _scenario_text(context, found, seen.org, summary, asset_id, form)
        return Response(text, media_type="application/yaml", headers={
            "Content-Disposition": f'attachment; filename="{asset_id}-outage.yaml"'})

    return router


def _filter(form: dict[str, Any]) -> GroupFilter:
    if form["basis"] not in dict(BASES):
        raise InputError(f"unknown sponsor basis {form['basis']!r}", field="basis")
    sector = form["sector"].strip()
    return GroupFilter(sector=(sector_of(sector) or sector) if sector else None,
                       sponsor=_iso3(form["sponsor"], "sponsor"), sponsor_basis=form["basis"],
                       victim=_iso3(form["victim"], "victim"),
                       include_ambiguous=form["ambiguous"], attack_only=form["attack_only"])


def _tlp(seen: Seen, rows: list[Adversary]) -> dict[str, str]:
    by_id = {obj["id"]: obj for obj in seen.objects}
    out = {}
    for row in rows:
        obj = by_id.get(row.id)
        level = level_of(obj.get("object_marking_refs") or []) if obj else None
        out[row.id] = level_name(level) if level is not None else "collection default"
    return out


def _counts(rows: list[Adversary]) -> dict[str, int]:
    return {"intrusion_sets": sum(r.kind == "intrusion-set" for r in rows),
            "actors": sum(r.kind == "threat-actor" for r in rows)}


def _exposure(context: WebContext, actor: Actor, day: date
              ) -> tuple[list[AssetExposure], Seen, dict[str, Any] | None]:
    store = context.store
    if store is None:
        raise StoreError("the store is not open")
    seen = _seen(context, actor, EXPOSURE_TYPES)
    assets = load_assets(store, actor)
    summary = register_summary(store, actor)
    return asset_exposure(assets, seen.objects, as_of=day), seen, summary


def _asset(found: list[AssetExposure], asset_id: str) -> AssetExposure:
    for item in found:
        if item.asset.asset_id == asset_id:
            return item
    from kizuna.errors import NotFoundError  # noqa: PLC0415 - only for the 404

    raise NotFoundError(f"no asset {asset_id!r} in your register", field="asset",
                        hint="see /intel/assets")


def _number(text: str, field: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise InputError(f"{field} {text!r} is not a number", field=field) from None


def _scenario_text(context: WebContext, found: list[AssetExposure], org: str,
                   summary: dict[str, Any] | None, asset_id: str, form: dict[str, str]) -> str:
    if not form["probability"].strip() or not form["duration"].strip():
        raise InputError("give both the probability and the duration",
                         hint="they are your estimates: Kizuna does not make them up")
    register = ""
    if summary:
        register = f"{summary.get('source')} (imported {summary.get('imported_at')})"
    return outage_scenario(
        found, probability=_number(form["probability"], "probability"),
        duration_days=_number(form["duration"], "duration"),
        start_day=_number(form["start_day"] or "0", "start_day"), org=org,
        selected=[asset_id], register=register, dataset=context.dataset())


def _preview(context: WebContext, text: str) -> dict[str, Any]:
    from kizuna.scenarios import parse_scenario_text, run_scenario  # noqa: PLC0415

    dataset = context.dataset()
    scenario = parse_scenario_text(text, origin="to-scenario.yaml", dataset=dataset)
    result = run_scenario(dataset, scenario, draws=PREVIEW_DRAWS, seed=1, products=[])
    doc: dict[str, Any] = result.to_json(timeline=False)
    return doc
