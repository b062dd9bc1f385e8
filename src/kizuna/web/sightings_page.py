"""The sightings page: what partners saw of the shared indicators, over time.

``GET /intel/sightings`` (behind the hub's API key, like the other intel pages) reads the
sightings and indicators the organisation may see through the hub's service, so TLP decides
what is shown, and draws events sighted per day per indicator and per reporting partner,
with the list below. ``?indicator=ID`` narrows to one indicator.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import plotly.graph_objects as go
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from kizuna.hub.contract import Actor
from kizuna.intel.hubread import read_objects, readable_collections
from kizuna.intel.matcher.sightings import REPORTER
from kizuna.intel.stix.markings import level_name, level_of
from kizuna.web.charts import FONT, Chart
from kizuna.web.context import WebContext, web_context
from kizuna.web.intel_page import Seen, intel_reader

Context = Annotated[WebContext, Depends(web_context)]
Reader = Annotated[Actor, Depends(intel_reader)]
MAX_ROWS = 300
MAX_TRACES = 8
OTHERS = "others"
SOURCE = "sightings in your hub collections (kizuna intel match --push)"
COLOURS = ("#1f5fa8", "#b3261e", "#2e7d32", "#8e5a00", "#6a1b9a", "#00695c", "#c2185b",
           "#455a64", "#9aa5b1")


def sightings_router(templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

    @router.get("/intel/sightings")
    def sightings_page(request: Request, context: Context, actor: Reader,
                       indicator: str = "") -> HTMLResponse:
        hub = context.hub()
        places = readable_collections(hub, actor)
        objects = read_objects(hub, actor, ("sighting", "indicator"), places,
                               cache=context.read_cache)
        seen = Seen(str(actor.org), places, objects)
        indicators = {o["id"]: o for o in objects if o.get("type") == "indicator"}
        rows = sighting_rows([o for o in objects if o.get("type") == "sighting"], indicators)
        shown = [r for r in rows if not indicator or r["indicator_id"] == indicator]
        return templates.TemplateResponse(request, "intel_sightings.html", {
            "title": "Threat intel: sightings", "nav_current": "intel", "seen": seen,
            "rows": shown[:MAX_ROWS], "total": len(shown), "max_rows": MAX_ROWS,
            "indicator": indicator, "indicator_label": _label(indicators.get(indicator)),
            "by_indicator": sightings_chart(shown, "label", "sightings-by-indicator",
                                            "Events sighted per day, per indicator"),
            "by_partner": sightings_chart(shown, "partner", "sightings-by-partner",
                                          "Events sighted per day, per reporting partner"),
            "partners": sorted({r["partner"] for r in shown}),
        })  # fmt: skip

    return router


def _label(indicator: Mapping[str, Any] | None) -> str:
    if indicator is None:
        return ""
    return str(indicator.get("name") or indicator.get("pattern") or indicator["id"])


def sighting_rows(sightings: Sequence[Mapping[str, Any]],
                  indicators: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per sighting, newest last event first."""
    rows = []
    for sighting in sightings:
        target = str(sighting.get("sighting_of_ref", ""))
        refs = sighting.get("where_sighted_refs") or [sighting.get("created_by_ref", "?")]
        level = level_of([str(r) for r in sighting.get("object_marking_refs") or ()])
        known = indicators.get(target)
        rows.append({
            "id": sighting["id"], "indicator_id": target,
            "label": _label(known) if known else f"{target} (not readable)",
            "pattern": str(known.get("pattern", "")) if known else "",
            "partner": str(sighting.get(REPORTER) or refs[0]),
            "count": int(sighting.get("count", 1) or 1),
            "first_seen": str(sighting.get("first_seen", "")),
            "last_seen": str(sighting.get("last_seen") or sighting.get("created", "")),
            "tlp": level_name(level) if level is not None else "collection default",
        })
    rows.sort(key=lambda r: (r["last_seen"], r["id"]), reverse=True)
    return rows


def sightings_chart(rows: Sequence[Mapping[str, Any]], key: str, dom_id: str,
                    title: str) -> Chart | None:
    """Stacked bars: events per day (of each sighting's last event) by ``key``."""
    if not rows:
        return None
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row[key]] += row["count"]
    top = [name for name, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]
    kept = set(top[:MAX_TRACES])
    per_day: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        name = row[key] if row[key] in kept else OTHERS
        per_day[name][row["last_seen"][:10]] += row["count"]
    names = [n for n in top if n in kept] + ([OTHERS] if OTHERS in per_day else [])
    figure = go.Figure([
        go.Bar(name=_short(name), x=sorted(per_day[name]),
               y=[per_day[name][day] for day in sorted(per_day[name])],
               marker={"color": COLOURS[index % len(COLOURS)]},
               hovertemplate=f"{_short(name)}<br>%{{x}}: %{{y}} events<extra></extra>")
        for index, name in enumerate(names)])
    figure.update_layout(barmode="stack", height=340, margin={"l": 10, "r": 20, "t": 10,
                                                              "b": 60},
                         font={"family": FONT, "size": 13, "color": "#1d2733"},
                         paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                         legend={"orientation": "h", "y": -0.25})
    figure.update_xaxes(type="date", title_text="day of the last sighted event (UTC)",
                        tickformat="%b %d, %Y", dtick=86_400_000)
    figure.update_yaxes(title_text="events", gridcolor="#e3e7ec", rangemode="tozero")
    days = sorted({row["last_seen"][:10] for row in rows})
    alt = (f"Stacked bars of {sum(totals.values()):,} sighted events over {len(days)} days "
           f"from {days[0]} to {days[-1]}, by {'indicator' if key == 'label' else 'partner'}; "
           f"the most sighted is {_short(top[0])} with {totals[top[0]]:,} events.")
    return Chart(dom_id=dom_id, figure_json=figure.to_json().replace("</", "<\\/"), alt=alt,
                 title=title, source=SOURCE, unit="events (sighting counts)",
                 year=f"{days[0]} to {days[-1]}", estimated=False, basis="count")


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"
