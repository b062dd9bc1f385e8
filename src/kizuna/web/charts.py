"""Plotly figures for the web pages, built with Plotly's Python API from library results.

A chart is handed to the template as a :class:`Chart`: the figure's JSON (rendered by the
page's own script with the locally served plotly.js), a text alternative for screen readers,
and the caption facts every figure carries — source, unit, year and whether it is an estimate.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from kizuna.web.formatting import fmt_number, fmt_share

TOP_COUNTRIES = 10
CONCERN_COLOUR = "#b3261e"
OTHER_COLOUR = "#1f5fa8"
RESIDUAL_COLOUR = "#9aa3ad"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


@dataclass(frozen=True)
class Chart:
    """What a template needs to show one figure."""

    dom_id: str
    figure_json: str
    alt: str
    title: str
    source: str
    unit: str
    year: Any
    estimated: bool
    basis: str


def _stage_label(stage: str) -> str:
    return {"mining": "Mine production", "refining": "Refining"}.get(stage, stage.capitalize())


def profile_chart(
    profile: Mapping[str, Any],
    *,
    dom_id: str,
    source_title: str,
    highlight: Collection[str] = (),
    highlight_name: str = "",
    top: int = TOP_COUNTRIES,
) -> Chart:
    """A horizontal bar chart of the largest producers in a mineral profile."""
    is_share = profile.get("basis") == "share"
    countries = sorted(profile.get("countries") or [], key=lambda row: -(row.get("share") or 0.0))
    shown = countries[:top]
    labels = [str(row.get("name") or row.get("iso3")) for row in shown]
    shares = [float(row.get("share") or 0.0) for row in shown]
    if is_share:
        values = [share * 100 for share in shares]
    else:
        values = [float(row.get("value") or 0.0) for row in shown]
    colours = [CONCERN_COLOUR if row.get("iso3") in highlight else OTHER_COLOUR for row in shown]
    rest_share = 1.0 - sum(shares) if countries else 0.0
    if rest_share > 0.005:
        labels.append("All others")
        shares.append(rest_share)
        total = profile.get("world_total")
        rest_value = rest_share * float(total) if total else 0.0
        values.append(rest_share * 100 if is_share else rest_value)
        colours.append(RESIDUAL_COLOUR)

    unit = str(profile.get("unit") or "")
    axis_title = "Share of world total (%)" if is_share else unit
    texts = [fmt_share(s) for s in shares]
    figure = go.Figure(
        go.Bar(
            x=values[::-1],
            y=labels[::-1],
            orientation="h",
            marker={"color": colours[::-1]},
            text=texts[::-1],
            textposition="outside",
            cliponaxis=False,
            customdata=[fmt_number(v) for v in values[::-1]],
            hovertemplate=(
                "%{y}: %{text}<extra></extra>"
                if is_share
                else "%{y}: %{customdata} " + unit + " (%{text})<extra></extra>"
            ),
        )
    )
    figure.update_layout(
        height=max(260, 34 * len(labels) + 90),
        margin={"l": 10, "r": 60, "t": 10, "b": 50},
        font={"family": FONT, "size": 13, "color": "#1d2733"},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        xaxis={"title": {"text": axis_title}, "gridcolor": "#e3e7ec", "zeroline": False},
        yaxis={"automargin": True},
        showlegend=False,
    )
    name = str(profile.get("name") or profile.get("mineral") or "")
    year = profile.get("year")
    series = profile.get("series") or _stage_label(str(profile.get("stage", "")))
    title = f"{name} — {series}, {year}"
    leaders = ", ".join(f"{label} {text}" for label, text in zip(labels[:3], texts, strict=False))
    alt = f"Bar chart of {title}, share of world total by country: {leaders}."
    if highlight_name:
        alt += f" Red bars are {highlight_name}."
    return Chart(
        dom_id=dom_id,
        figure_json=figure.to_json().replace("</", "<\\/"),
        alt=alt,
        title=title,
        source=source_title,
        unit="share of world total" if is_share else unit,
        year=year,
        estimated=bool(profile.get("estimated")),
        basis="share" if is_share else "tonnage",
    )
