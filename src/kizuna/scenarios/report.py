"""Figures and the self-contained HTML report of a scenario run.

``scenario_figures(result)`` returns three Plotly figures a page can draw: the mean shortfall
over time (with the probability of being short on each day), the distribution of the
annual shortfall per mineral and stage (a box per row built from the sample's quantiles, so
it stays small for a million draws), and the share of each product's output that cannot be
built. ``report_html`` embeds plotly.js from the installed ``plotly`` package, as the exposure
report does: the file opens offline and sends nothing anywhere.
"""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from kizuna.scenarios.result import ScenarioResult

_FONT = {"family": "system-ui, sans-serif", "size": 13}
_PALETTE = ("#1f5fa8", "#b3261e", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037",
            "#c2185b", "#455a64", "#9e9d24")


def _label(mineral: str, stage: str) -> str:
    return f"{mineral} ({stage})"


def timeline_figure(result: ScenarioResult) -> go.Figure:
    """Mean shortfall and probability of shortfall on each day, per mineral and stage."""
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                           subplot_titles=("Mean shortfall (share of daily supply)",
                                           "Probability of a shortfall that day"))
    days = [step * result.model.step_days for step in range(result.model.steps)]
    shown = [(i, n) for i, n in enumerate(result.model.nodes) if n.reported]
    for rank, (index, node) in enumerate(shown):
        colour = _PALETTE[rank % len(_PALETTE)]
        name = _label(node.mineral, node.stage)
        figure.add_trace(go.Scatter(x=days, y=result.mean_path[index], name=name,
                                    legendgroup=name, line={"color": colour},
                                    hovertemplate=f"{html.escape(name)} day %{{x}}: "
                                                  "%{y:.1%}<extra></extra>"), row=1, col=1)
        figure.add_trace(go.Scatter(x=days, y=result.probability_path[index], name=name,
                                    legendgroup=name, showlegend=False,
                                    line={"color": colour, "dash": "dot"},
                                    hovertemplate=f"{html.escape(name)} day %{{x}}: "
                                                  "%{y:.1%}<extra></extra>"), row=2, col=1)
    figure.update_yaxes(tickformat=".0%", rangemode="tozero", gridcolor="#e5e7eb")
    figure.update_xaxes(title_text="day of the horizon", row=2, col=1, gridcolor="#e5e7eb")
    figure.update_layout(height=560, plot_bgcolor="white", font=_FONT,
                         margin={"l": 60, "r": 20, "t": 40, "b": 40})
    return figure


def distribution_figure(result: ScenarioResult) -> go.Figure:
    """Annual shortfall per mineral and stage: box from the 5/25/50/75/95th percentiles."""
    figure = go.Figure()
    for rank, (index, node) in enumerate(
            (i, n) for i, n in enumerate(result.model.nodes) if n.reported):
        values = np.asarray(result.shortfall[:, index], dtype=np.float64)
        p5, q1, median, q3, p95 = np.quantile(values, (0.05, 0.25, 0.5, 0.75, 0.95))
        name = _label(node.mineral, node.stage)
        figure.add_trace(go.Box(
            y=[name], q1=[q1], median=[median], q3=[q3], lowerfence=[p5], upperfence=[p95],
            mean=[float(values.mean())], orientation="h", name=name, boxpoints=False,
            marker_color=_PALETTE[rank % len(_PALETTE)], showlegend=False,
            hovertemplate=f"{html.escape(name)}<extra></extra>"))  # fmt: skip
    figure.update_xaxes(tickformat=".1%", rangemode="tozero", gridcolor="#e5e7eb",
                        title_text="shortfall, share of a year's supply (box 25-75%, "
                                   "whiskers 5-95%, dashed mean)")
    figure.update_layout(height=max(260, 44 * len(figure.data) + 120), plot_bgcolor="white",
                         font=_FONT, margin={"l": 160, "r": 20, "t": 20, "b": 60})
    return figure


def products_figure(result: ScenarioResult) -> go.Figure:
    """Mean share of each product's year of output that cannot be built, 95th percentile."""
    frame = result.products_frame()
    figure = go.Figure()
    if not frame.empty:
        p95 = [result.product_short[:, i].astype(np.float64) for i in range(len(frame))]
        highs = [float(np.quantile(v, 0.95)) if v.size else 0.0 for v in p95]
        figure.add_trace(go.Bar(
            y=list(frame["name"]), x=list(frame["mean_share_short"]), orientation="h",
            marker_color="#1f5fa8", name="mean",
            error_x={"type": "data", "symmetric": False,
                     "array": [max(0.0, h - m) for h, m in zip(highs, frame["mean_share_short"],
                                                                strict=True)],
                     "arrayminus": [0.0] * len(frame)},
            hovertemplate="%{y}: mean %{x:.2%} of a year's output<extra></extra>"))  # fmt: skip
    figure.update_xaxes(tickformat=".1%", rangemode="tozero", gridcolor="#e5e7eb",
                        title_text="share of a year's output that cannot be built "
                                   "(bar mean, whisker 95th percentile)")
    figure.update_layout(height=max(220, 44 * len(frame) + 120), plot_bgcolor="white",
                         font=_FONT, margin={"l": 260, "r": 20, "t": 20, "b": 60})
    return figure


def scenario_figures(result: ScenarioResult) -> dict[str, go.Figure]:
    """The report's figures by name: ``timeline``, ``distribution``, ``products``."""
    return {"timeline": timeline_figure(result), "distribution": distribution_figure(result),
            "products": products_figure(result)}


# --- HTML ------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;
max-width:76rem;padding:0 1rem;color:#1b1f24;line-height:1.45}
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.9rem}
th,td{border-bottom:1px solid #d5d9de;padding:.3rem .45rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
small,.muted{color:#5b6470}
"""

RESULT_COLUMNS = [("mineral", "mineral"), ("stage", "stage"), ("mean_shortfall", "mean"),
                  ("stderr", "± s.e."), ("p95", "p95 (VaR)"), ("p99", "p99"),
                  ("es95", "ES 95%"), ("prob_any", "P(any)"), ("mean_tonnes", "mean t"),
                  ("mean_cost_usd", "mean cost USD"), ("price_change_mean", "price change")]
PRODUCT_COLUMNS = [("name", "product"), ("unit", "unit"), ("volume", "units a year"),
                   ("mean_share_short", "mean share short"), ("mean_units_short", "mean units"),
                   ("p95_units_short", "p95 units"), ("prob_any", "P(any)")]
_SHARES = {"mean_shortfall", "stderr", "p95", "p99", "es95", "prob_any", "mean_share_short",
           "price_change_mean"}


def _cell(key: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "<td class='n'>–</td>"
    if key in _SHARES:
        return f"<td class='n'>{100 * float(value):.2f}%</td>"
    if isinstance(value, float):
        return f"<td class='n'>{value:,.4g}</td>"
    return f"<td>{html.escape(str(value))}</td>"


def _table(columns: list[tuple[str, str]], rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th scope='col'>{html.escape(title)}</th>" for _, title in columns)
    body = "".join("<tr>" + "".join(_cell(key, row.get(key)) for key, _ in columns) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(result: ScenarioResult) -> str:
    """A complete HTML document with plotly.js inlined (opens offline)."""
    plotly_js = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_text(
        "utf-8")
    doc = result.to_json(timeline=False)
    figures = {name: figure.to_json().replace("</", "<\\/")
               for name, figure in scenario_figures(result).items()}
    model = result.model
    parts = [
        f"<h1>Scenario: {html.escape(model.name)}</h1>",
        f"<p class='muted'>{result.draws:,} draws · seed {result.seed} · data year "
        f"{model.year or 'latest'} · {model.horizon_days} days · perspective: "
        f"{html.escape(model.perspective)} · {html.escape(result.scheduler)}, "
        f"{result.seconds:.1f} s · generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by "
        "Kizuna</p>",
        "<h2>Shortfall by mineral and stage</h2>",
        "<p class='muted'>Shortfall = supply lost over the horizon as a share of one year's "
        "supply at that stage, after stockpiles and responses.</p>",
        _table(RESULT_COLUMNS, doc["results"]), "<div id='distribution'></div>",
        "<h2>Over time</h2><div id='timeline'></div>",
        "<h2>Products</h2>", _table(PRODUCT_COLUMNS, doc["products"]),
        "<div id='products'></div>",
        "<h2>Assumptions</h2><ul>", *(f"<li>{html.escape(a)}</li>" for a in doc["assumptions"]),
        "</ul>",
    ]  # fmt: skip
    if doc["notes"]:
        parts += ["<h2>Notes</h2><ul>", *(f"<li>{html.escape(n)}</li>" for n in doc["notes"]),
                  "</ul>"]
    parts += ["<h2>Sources</h2><ul>", *(f"<li>{html.escape(s)}</li>" for s in doc["sources"]),
              "</ul>"]
    draw = "".join(f"{{const f={text};Plotly.newPlot('{name}',f.data,f.layout,"
                   "{displaylogo:false,responsive:true});}"
                   for name, text in figures.items())
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Kizuna scenario: {html.escape(model.name)}</title>"
        f"<style>{_STYLE}</style><script>{plotly_js}</script></head><body>"
        + "".join(parts) + f"<script>{draw}</script></body></html>"
    )
