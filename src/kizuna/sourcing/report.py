"""Figures and the self-contained HTML report of a sourcing plan.

``sourcing_figures(result)`` returns the Plotly figures a page draws: the cost-risk frontier
(cost against the risk measure, one marker per cap), the transition path (cost per year with
and without the rules, and the rules' extra cost in percent) and the plan (tonnes by country
at each stage, risk-group countries in red). ``report_html`` embeds plotly.js from the
installed ``plotly`` package, as the exposure and scenario reports do: the file opens offline
and fetches nothing.
"""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from kizuna.sourcing.solve import SourcingResult

_FONT = {"family": "system-ui, sans-serif", "size": 13}
_BLUE, _RED, _GREY, _GREEN = "#1f5fa8", "#b3261e", "#9aa3ad", "#2e7d32"
TOP = 8


def risk_label(result: SourcingResult) -> str:
    if result.measure == "cvar" and result.cvar:
        return (f"CVaR {result.cvar['alpha']:.0%} of shortfall cost (USD), scenario "
                f"{result.cvar['scenario']}, {result.cvar['draws']:,} draws")
    return "risk proxy: share of stage tonnes from the risk group"


def frontier_figure(result: SourcingResult) -> go.Figure:
    """Cost against risk, one point per risk cap (the least-cost plan first)."""
    points = [p for p in result.frontier if p["cost"] is not None]
    share = result.measure != "cvar"
    xs = [p["risk"] for p in points]
    figure = go.Figure(go.Scatter(
        x=xs, y=[p["cost"] for p in points], mode="lines+markers", name="frontier",
        line={"color": _BLUE}, marker={"size": 9},
        customdata=[[p["risk_cap"]] for p in points],
        hovertemplate=("risk %{x:.1%}" if share else "CVaR %{x:,.0f} USD")
        + "<br>cost %{y:,.0f} USD<extra></extra>"))
    if points:
        figure.add_trace(go.Scatter(x=[xs[0]], y=[points[0]["cost"]], mode="markers",
                                    name="least cost", marker={"size": 14, "color": _RED,
                                                               "symbol": "diamond"},
                                    hoverinfo="skip"))
    figure.update_xaxes(title_text=risk_label(result), gridcolor="#e5e7eb",
                        tickformat=".0%" if share else ",.0f", autorange="reversed")
    figure.update_yaxes(title_text="cost (USD)", gridcolor="#e5e7eb", tickformat=",.0f")
    figure.update_layout(height=420, plot_bgcolor="white", font=_FONT, showlegend=False,
                         margin={"l": 90, "r": 20, "t": 20, "b": 60})
    return figure


def years_figure(result: SourcingResult) -> go.Figure:
    """Cost per year with and without the rules, and the rules' extra cost in percent."""
    points = (result.years or {}).get("points", [])
    years = [p["year"] for p in points]
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Bar(x=years, y=[p["cost"] for p in points], name="with the rules",
                            marker_color=_BLUE,
                            hovertemplate="%{x}: %{y:,.0f} USD<extra>with the rules</extra>"),
                     secondary_y=False)
    figure.add_trace(go.Bar(x=years, y=[p["cost_without_rules"] for p in points],
                            name="without the rules", marker_color=_GREY,
                            hovertemplate="%{x}: %{y:,.0f} USD<extra>without</extra>"),
                     secondary_y=False)
    figure.add_trace(go.Scatter(x=years, y=[p["rule_premium_share"] for p in points],
                                name="extra cost of the rules", mode="lines+markers",
                                line={"color": _RED},
                                hovertemplate="%{x}: +%{y:.2%}<extra></extra>"),
                     secondary_y=True)
    figure.update_yaxes(title_text="cost (USD)", tickformat=",.0f", gridcolor="#e5e7eb",
                        secondary_y=False)
    figure.update_yaxes(title_text="extra cost of the rules", tickformat=".1%",
                        rangemode="tozero", secondary_y=True)
    figure.update_xaxes(dtick=1, title_text="year")
    figure.update_layout(height=420, plot_bgcolor="white", font=_FONT, barmode="group",
                         margin={"l": 90, "r": 70, "t": 20, "b": 60},
                         legend={"orientation": "h", "y": -0.2})
    return figure


def plan_figure(result: SourcingResult) -> go.Figure:
    """Share of each mineral's tonnes by country, per stage (risk-group countries red)."""
    stages = ("mining", "refining")
    figure = make_subplots(rows=1, cols=2, shared_yaxes=True,
                           subplot_titles=[s.capitalize() for s in stages])
    minerals = sorted({r["mineral"] for r in result.plan})
    for column, stage in enumerate(stages, start=1):
        for mineral in minerals:
            rows = sorted((r for r in result.plan if (r["mineral"], r["stage"]) == (
                mineral, stage)), key=lambda r: -r["share"])
            for rank, row in enumerate(rows[:TOP]):
                colour = _RED if row["risk_group"] else (_BLUE if rank % 2 == 0 else "#5b91cc")
                figure.add_trace(go.Bar(
                    y=[mineral], x=[row["share"]], orientation="h", text=[row["iso3"]],
                    textposition="inside", insidetextanchor="middle", marker_color=colour,
                    name=row["iso3"], hovertemplate=f"{html.escape(mineral)} · "
                    f"{html.escape(str(row['iso3']))}: %{{x:.1%}} ({row['tonnes']:,.4g} t)"
                    "<extra></extra>"), row=1, col=column)
            rest = sum(r["share"] for r in rows[TOP:])
            if rest > 1e-9:
                figure.add_trace(go.Bar(y=[mineral], x=[rest], orientation="h", text=["others"],
                                        marker_color=_GREY, name="others",
                                        hovertemplate="others %{x:.1%}<extra></extra>"),
                                 row=1, col=column)
    figure.update_layout(barmode="stack", showlegend=False, plot_bgcolor="white", font=_FONT,
                         height=max(300, 44 * len(minerals) + 120),
                         margin={"l": 110, "r": 20, "t": 40, "b": 40})
    figure.update_xaxes(range=[0, 1], tickformat=".0%", gridcolor="#e5e7eb")
    return figure


def sourcing_figures(result: SourcingResult) -> dict[str, go.Figure]:
    """The figures that apply to this result: plan, frontier, years."""
    out: dict[str, go.Figure] = {}
    if result.plan:
        out["plan"] = plan_figure(result)
    if result.frontier:
        out["frontier"] = frontier_figure(result)
    if result.years:
        out["years"] = years_figure(result)
    return out


def fmt(value: Any, kind: str = "number") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "share":
        return f"{value:.1%}"
    if kind == "usd":
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


PLAN_HEADERS = ["mineral", "stage", "country", "tonnes", "share", "cost (USD)"]
PATH_HEADERS = ["mineral", "mine", "refinery", "supplier", "tonnes", "cost (USD)"]
FRONTIER_HEADERS = ["risk cap", "risk", "cost (USD)", "extra cost", "status"]
YEAR_HEADERS = ["year", "status", "caps in force", "cost (USD)", "without the rules (USD)",
                "extra cost", "risk"]
SUPPLIER_HEADERS = ["supplier", "mineral", "stage", "country", "owner", "tonnes",
                    "capacity (t)", "use"]


def table_rows(result: SourcingResult) -> dict[str, list[list[str]]]:
    """Every table of the report and the page, as text cells."""
    share = result.measure != "cvar"
    first = result.frontier[0]["cost"] if result.frontier else None
    years = (result.years or {}).get("points", [])
    return {
        "plan": [[r["mineral"], r["stage"], str(r["iso3"]), fmt(r["tonnes"]),
                  fmt(r["share"], "share"), fmt(r["cost"], "usd")] for r in result.plan],
        "paths": [[p["mineral"], p["mine_iso3"] or "–", p["refine_iso3"] or "–",
                   " → ".join(s for s in (p["mine_supplier"], p["refine_supplier"]) if s)
                   or "–", fmt(p["tonnes"]), fmt(p["cost"], "usd")]
                  for p in sorted(result.paths, key=lambda p: (p["mineral"], -p["tonnes"]))],
        "frontier": [[fmt(p["risk_cap"], "share" if share else "usd"),
                      fmt(p["risk"], "share" if share else "usd"), fmt(p["cost"], "usd"),
                      fmt(p["cost"] / first - 1, "share") if p["cost"] and first else "–",
                      p["status"]] for p in result.frontier],
        "years": [[str(p["year"]), p["status"],
                   ", ".join(f"{k} {v:.0%}" for k, v in sorted(p["limits"].items())) or "–",
                   fmt(p["cost"], "usd"), fmt(p["cost_without_rules"], "usd"),
                   fmt(p["rule_premium_share"], "share"), fmt(p["risk"], "share")]
                  for p in years],
        "suppliers": [[s["supplier"], s["mineral"], s["stage"], s["iso3"], s["owner"] or "–",
                       fmt(s["tonnes"]), fmt(s["capacity_t"]), fmt(s["use"], "share")]
                      for s in result.suppliers],
    }  # fmt: skip


def _table(headers: list[str], rows: list[list[str]], dom_id: str) -> str:
    head = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table id='{dom_id}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary(result: SourcingResult) -> str:
    """One sentence: status, cost, risk (and CVaR)."""
    parts = [f"status {result.status}"]
    if result.cost is not None:
        parts.append(f"cost {result.cost:,.0f} USD")
    if result.risk is not None:
        parts.append(f"risk proxy {result.risk:.1%}")
    if result.unplanned:
        parts.append(f"{len(result.unplanned)} mineral(s) not planned (no supply data)")
    if result.cvar:
        parts.append(f"CVaR {result.cvar['alpha']:.0%} {result.cvar['value']:,.0f} USD "
                     f"(mean shortfall cost {result.cvar['mean']:,.0f} USD)")
    return ", ".join(parts)


_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#1b1f24;line-height:1.45}
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.92rem}
th,td{border-bottom:1px solid #d5d9de;padding:.35rem .5rem;text-align:left;vertical-align:top}
.bad{background:#fdecea;border-left:4px solid #b3261e;padding:.5rem .8rem}
small,.muted{color:#5b6470}
"""
_CHART_TEXT = {
    "plan": ("The plan: share of each mineral by country and stage",
             "Risk-group countries in red."),
    "frontier": ("Cost-risk frontier",
                 "Least cost for each cap on the risk; the red diamond is the least-cost plan."),
    "years": ("Transition path",
              "Cost per year with and without the rules; the line is the rules' extra cost."),
}


def report_html(result: SourcingResult) -> str:
    """A complete HTML document with plotly.js inlined (opens offline)."""
    plotly_js = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_text(
        "utf-8")
    figures = sourcing_figures(result)
    tables = table_rows(result)
    parts = [f"<h1>Sourcing plan: {html.escape(result.product)}</h1>",
             f"<p class='muted'>volume {result.volume:,.6g} · rules "
             f"{html.escape(result.pack or 'none')} · generated "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC by Kizuna</p>",
             f"<p id='summary'><b>{html.escape(summary(result))}</b></p>"]
    if result.violations:
        parts += ["<div class='bad'><b>Constraints that cannot be met together</b><ul>",
                  *(f"<li>{html.escape(v)}</li>" for v in result.violations), "</ul></div>"]
    if result.unplanned:
        parts += ["<p><b>Not planned</b> (no supply data with tonnes):</p><ul>",
                  *(f"<li>{html.escape(u)}</li>" for u in result.unplanned), "</ul>"]
    if result.years:
        parts.append(f"<p>{html.escape(result.years['curve']['text'])}.</p>")
    for name, (title, caption) in _CHART_TEXT.items():
        if name in figures:
            parts += [f"<h2>{title}</h2>", f"<p class='muted'>{caption}</p>",
                      f"<div id='{name}-chart'></div>"]
    sections = (("Transition path by year", YEAR_HEADERS, "years"),
                ("Frontier points", FRONTIER_HEADERS, "frontier"),
                ("Plan by mineral, stage and country", PLAN_HEADERS, "plan"),
                ("Named suppliers", SUPPLIER_HEADERS, "suppliers"),
                ("Supply paths", PATH_HEADERS, "paths"))
    for title, headers, key in sections:
        if tables[key]:
            parts += [f"<h2>{title}</h2>", _table(headers, tables[key], f"{key}-table")]
    parts += ["<h2>Assumptions</h2><ul>",
              *(f"<li>{html.escape(a)}</li>" for a in result.assumptions), "</ul>",
              "<h2>Notes</h2><ul>", *(f"<li>{html.escape(n)}</li>" for n in result.notes),
              "</ul>"]
    scripts = ""
    for name, figure in figures.items():
        data = figure.to_json().replace("</", "<\\/")
        scripts += (f"(function(){{const f={data};Plotly.newPlot('{name}-chart',f.data,"
                    "f.layout,{displaylogo:false,responsive:true});})();")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Kizuna sourcing: {html.escape(result.product)}</title>"
            f"<style>{_STYLE}</style><script>{plotly_js}</script></head><body>"
            + "".join(parts) + f"<script>{scripts}</script></body></html>")
