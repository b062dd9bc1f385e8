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


@dataclass
class Bars:
    """The bars of one chart, largest first: the top countries, then "All others"."""

    labels: list[str]
    values: list[float]
    texts: list[str]
    colours: list[str]
    is_share: bool
    unit: str


def profile_bars(
    profile: Mapping[str, Any], highlight: Collection[str], top: int = TOP_COUNTRIES
) -> Bars:
    """The largest producers of a profile, and the rest of the world as one grey bar.

    Countries come sorted by value from the library. Published shares are drawn in percent,
    tonnages in their unit. Where USGS gives no
    additive world total (shares are null), bars are the values and no rest bar is drawn.
    """
    is_share = profile.get("basis") == "share"
    shown = list(profile.get("countries") or [])[:top]  # the library sorts by value
    shares = [row.get("share") for row in shown]
    bars = Bars(
        labels=[str(row.get("name") or row.get("iso3")) for row in shown],
        values=[float((row.get("share") or 0.0) * 100 if is_share else row.get("value") or 0.0)
                for row in shown],
        texts=[fmt_share(share) if share is not None else fmt_number(row.get("value"))
               for share, row in zip(shares, shown, strict=True)],
        colours=[CONCERN_COLOUR if row.get("iso3") in highlight else OTHER_COLOUR
                 for row in shown],
        is_share=is_share,
        unit=str(profile.get("unit") or ""),
    )
    if shown and all(share is not None for share in shares):
        rest = 1.0 - sum(float(share) for share in shares if share is not None)
        if rest > 0.005:
            total = profile.get("world_total")
            bars.labels.append("All others")
            bars.values.append(rest * 100 if is_share else rest * float(total or 0.0))
            bars.texts.append(fmt_share(rest))
            bars.colours.append(RESIDUAL_COLOUR)
    return bars


def bar_figure(bars: Bars) -> go.Figure:
    """A horizontal Plotly bar chart, largest bar on top, styled like the pages."""
    hover = ("%{y}: %{text}<extra></extra>" if bars.is_share
             else "%{y}: %{customdata} " + bars.unit + " (%{text})<extra></extra>")
    figure = go.Figure(
        go.Bar(
            x=bars.values[::-1],
            y=bars.labels[::-1],
            orientation="h",
            marker={"color": bars.colours[::-1]},
            text=bars.texts[::-1],
            textposition="outside",
            cliponaxis=False,
            customdata=[fmt_number(v) for v in bars.values[::-1]],
            hovertemplate=hover,
        )
    )
    figure.update_layout(
        height=max(260, 34 * len(bars.labels) + 90),
        margin={"l": 10, "r": 60, "t": 10, "b": 50},
        font={"family": FONT, "size": 13, "color": "#1d2733"},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        xaxis={"title": {"text": "Share of world total (%)" if bars.is_share else bars.unit},
               "gridcolor": "#e3e7ec", "zeroline": False},
        yaxis={"automargin": True},
        showlegend=False,
    )
    return figure


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
    bars = profile_bars(profile, highlight, top)
    name = str(profile.get("name") or profile.get("mineral") or "")
    year = profile.get("year")
    series = profile.get("series") or _stage_label(str(profile.get("stage", "")))
    title = f"{name} — {series}, {year}"
    leaders = ", ".join(
        f"{label} {text}" for label, text in zip(bars.labels[:3], bars.texts, strict=False)
    )
    measured = "share of world total" if profile.get("top1_share") is not None else bars.unit
    alt = f"Bar chart of {title}, {measured} by country: {leaders}."
    if highlight_name:
        alt += f" Red bars are {highlight_name}."
    return Chart(
        dom_id=dom_id,
        figure_json=bar_figure(bars).to_json().replace("</", "<\\/"),
        alt=alt,
        title=title,
        source=source_title,
        unit="share of world total" if bars.is_share else bars.unit,
        year=year,
        estimated=bool(profile.get("estimated")),
        basis="share" if bars.is_share else "tonnage",
    )
