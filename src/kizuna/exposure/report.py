"""Exposure figures and the self-contained HTML report.

``exposure_figure`` is one Plotly figure: stacked bars of each mineral's supply by country,
one panel per stage, countries of concern in red. The report (``report_html``) embeds
plotly.js from the installed ``plotly`` package, so the file opens offline and sends nothing
anywhere; the page in ``kizuna serve`` draws the same figure with the locally served copy.
"""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from kizuna.exposure.compute import Exposure
from kizuna.exposure.mixes import OTHER
from kizuna.exposure.rules import Verdict
from kizuna.model.types import STAGES

TOP = 6
CONCERN_COLOURS = ("#b3261e", "#d9534f", "#e57373", "#ef9a9a", "#f4b6b6", "#f8d0d0")
OTHER_COLOURS = ("#1f5fa8", "#3a78bd", "#5b91cc", "#7ea9d9", "#a3c2e4", "#c6d8ee")
GREY = "#9aa3ad"


def exposure_figure(result: Exposure, concern: frozenset[str]) -> go.Figure:
    """Share of each mineral's supply by country, per stage (top countries, rest grey)."""
    figure = make_subplots(rows=1, cols=len(STAGES), shared_yaxes=True,
                           subplot_titles=[s.capitalize() for s in STAGES])
    rows = result.rows
    minerals = sorted(set(rows["mineral"]))
    for column, stage in enumerate(STAGES, start=1):
        for mineral in minerals:
            group = rows[(rows["mineral"] == mineral) & (rows["stage"] == stage)]
            if group.empty:
                continue
            named = group[group["iso3"].notna() & (group["iso3"] != OTHER)]
            top = named.nlargest(TOP, "share")
            for rank, row in enumerate(top.itertuples()):
                palette = CONCERN_COLOURS if row.iso3 in concern else OTHER_COLOURS
                figure.add_trace(_bar(mineral, float(row.share), f"{row.iso3}",
                                      str(row.country), palette[rank % len(palette)],
                                      float(row.tonnes)), row=1, col=column)
            rest = float(group["share"].sum()) - float(top["share"].sum())
            if rest > 1e-9:
                label = str(group["basis"].iloc[0]) if group["iso3"].isna().all() else "others"
                figure.add_trace(_bar(mineral, rest, label, label, GREY,
                                      float(group["tonnes"].sum()) * rest), row=1, col=column)
    figure.update_layout(
        barmode="stack", showlegend=False, height=max(320, 46 * len(minerals) + 120),
        margin={"l": 110, "r": 20, "t": 40, "b": 40}, plot_bgcolor="white",
        font={"family": "system-ui, sans-serif", "size": 13},
    )  # fmt: skip
    figure.update_xaxes(range=[0, 1], tickformat=".0%", gridcolor="#e5e7eb")
    return figure


def _bar(mineral: str, share: float, text: str, name: str, colour: str,
         tonnes: float) -> go.Bar:
    return go.Bar(
        y=[mineral], x=[share], orientation="h", text=[text], textposition="inside",
        insidetextanchor="middle", marker_color=colour, name=name,
        hovertemplate=f"{html.escape(mineral)} · {html.escape(name)}: %{{x:.1%}} "
                      f"({tonnes:,.3g} t)<extra></extra>",
    )  # fmt: skip


def _table(headers: list[str], rows: list[list[Any]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th scope='col'>{html.escape(h)}</th>" for h in headers)
    body = []
    for index, row in enumerate(rows):
        css = f" class='{classes[index]}'" if classes else ""
        cells = "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row)
        body.append(f"<tr{css}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "pass" if value else "FAIL"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def summary_rows(result: Exposure) -> list[list[Any]]:
    return [
        [r["mineral"], r["stage"], r["tonnes"],
         None if r["top_iso3"] is None else f"{r['top_iso3']} {r['top_share']:.1%}",
         None if r["concern_share"] is None else f"{r['concern_share']:.1%}",
         None if r["hhi"] is None else round(r["hhi"]), r["basis"],
         r["proxy"] or ""]
        for r in result.to_json()["minerals"]
    ]  # fmt: skip


SUMMARY_HEADERS = ["mineral", "stage", "tonnes", "largest country", "from concern group",
                   "HHI", "basis", "proxy"]
VERDICT_HEADERS = ["rule", "mineral", "stage", "result", "value", "limit", "detail"]


def verdict_rows(verdict: Verdict) -> tuple[list[list[Any]], list[str]]:
    rows = [[r["rule"], r["mineral"], r["stage"], r["passed"], r["value"], r["limit"],
             r["detail"]] for r in verdict.results]
    return rows, ["pass" if r["passed"] else "fail" for r in verdict.results]


_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#1b1f24;line-height:1.45}
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.92rem}
th,td{border-bottom:1px solid #d5d9de;padding:.35rem .5rem;text-align:left;vertical-align:top}
tr.fail td{background:#fdecea} tr.pass td{background:#eef7ee}
.label{background:#fff8e1;border-left:4px solid #f0b400;padding:.5rem .8rem}
small,.muted{color:#5b6470}
"""


def report_html(result: Exposure, verdicts: list[Verdict], concern: frozenset[str]) -> str:
    """A complete HTML document with plotly.js inlined (opens offline)."""
    plotly_js = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_text(
        "utf-8")
    figure = exposure_figure(result, concern).to_json().replace("</", "<\\/")
    product = result.product
    parts = [
        f"<h1>Exposure: {html.escape(product.name)}</h1>",
        f"<p class='muted'>{result.volume:,.6g} × {html.escape(product.unit)} · data year "
        f"{result.year or 'latest'} · perspective: {html.escape(result.perspective.label)} · "
        f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by Kizuna</p>",
        "<h2>Supply by country and stage</h2>",
        "<p class='muted'>Share of each mineral's supply at each stage; countries of concern "
        "in red, the rest of the world grey.</p>",
        "<div id='exposure-chart'></div>",
        "<h2>Per mineral</h2>", _table(SUMMARY_HEADERS, summary_rows(result)),
    ]
    for verdict in verdicts:
        rows, classes = verdict_rows(verdict)
        outcome = "all rules pass" if verdict.passed else "some rules FAIL"
        parts += [f"<h2>Compliance: {html.escape(verdict.pack.name)} — {outcome}</h2>",
                  f"<p class='label'>{html.escape(verdict.pack.label)}</p>",
                  _table(VERDICT_HEADERS, rows, classes),
                  f"<p class='muted'>Source: {html.escape(verdict.pack.source)}</p>"]
    parts += ["<h2>Assumptions</h2><ul>",
              *(f"<li>{html.escape(a)}</li>" for a in result.assumptions), "</ul>",
              "<h2>Sources</h2><ul>",
              *(f"<li>{html.escape(s)}</li>" for s in result.sources), "</ul>",
              "<h2>All rows</h2>",
              _table(["mineral", "stage", "iso3", "country", "tonnes", "share", "basis"],
                     [[r["mineral"], r["stage"], r["iso3"], r["country"], r["tonnes"],
                       f"{r['share']:.2%}", r["basis"]] for r in result.to_json()["rows"]])]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Kizuna exposure: {html.escape(product.name)}</title>"
        f"<style>{_STYLE}</style><script>{plotly_js}</script></head><body>"
        + "".join(parts)
        + f"<script>const f={figure};Plotly.newPlot('exposure-chart',f.data,f.layout,"
        "{displaylogo:false,responsive:true});</script></body></html>"
    )
