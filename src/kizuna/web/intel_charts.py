"""Plotly figures of the threat-intelligence pages, built from library results.

* ``sector_sponsor_chart`` — adversaries by target sector and by sponsor claim (a heatmap
  whose cells count adversaries, with their names on hover);
* ``exposure_chart`` — each asset's score as its KEV part and adversary part (stacked bars).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import plotly.graph_objects as go

from kizuna.intel.assets.exposure import WEIGHTS, AssetExposure
from kizuna.intel.picture import SPONSOR_KINDS, Adversary
from kizuna.intel.sectors import sectors
from kizuna.web.charts import FONT, Chart

NONE_STATED = "none stated"
MAX_COLUMNS = 12
GALAXY_SOURCE = ("MISP galaxy threat-actor cluster (CFR Cyber Operations Tracker fields and "
                 "the galaxy's own), linked to ATT&CK intrusion sets")


def _layout(figure: go.Figure, height: int) -> None:
    figure.update_layout(height=height, margin={"l": 10, "r": 20, "t": 10, "b": 60},
                         font={"family": FONT, "size": 13, "color": "#1d2733"},
                         paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")


def sector_sponsor_cells(rows: Sequence[Adversary], basis: str = "any",
                         include_ambiguous: bool = True) -> dict[tuple[str, str], list[str]]:
    """(sector slug, sponsor ISO3 or NONE_STATED) -> adversary names."""
    kinds = SPONSOR_KINDS[basis]
    cells: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in rows:
        claims = [c for c in row.claims if include_ambiguous or not c.ambiguous]
        row_sectors = {c.value for c in claims if c.kind == "target-sector" and c.value}
        sponsors = {c.value for c in claims if c.kind in kinds and c.value} or {NONE_STATED}
        for sector in row_sectors:
            for sponsor in sponsors:
                cells[(sector, sponsor)].append(row.name)
    return dict(cells)


def sector_sponsor_chart(rows: Sequence[Adversary], *, basis: str = "any",
                         include_ambiguous: bool = True) -> Chart | None:
    cells = sector_sponsor_cells(rows, basis, include_ambiguous)
    if not cells:
        return None
    by_sponsor = Counter(sponsor for (_sector, sponsor), names in cells.items()
                         for _ in names)
    columns = [s for s, _ in by_sponsor.most_common() if s != NONE_STATED][:MAX_COLUMNS]
    if NONE_STATED in by_sponsor:
        columns.append(NONE_STATED)
    labels = {slug: sector.label for slug, sector in sectors().items()}
    present = sorted({sector for sector, _ in cells}, key=lambda slug: labels.get(slug, slug))
    z = [[len(cells.get((sector, sponsor), [])) for sponsor in columns] for sector in present]
    hover = [[", ".join(sorted(set(cells.get((sector, sponsor), [])))[:8]) or "none"
              for sponsor in columns] for sector in present]
    figure = go.Figure(go.Heatmap(
        z=z, x=columns, y=[labels.get(s, s) for s in present], text=hover,
        colorscale=[[0, "#f4f6f9"], [0.0001, "#d6e4f5"], [1, "#1f5fa8"]],
        hovertemplate="%{y} × %{x}: %{z} adversaries<br>%{text}<extra></extra>",
        texttemplate="%{z}", showscale=False, xgap=2, ygap=2))
    _layout(figure, max(300, 28 * len(present) + 110))
    figure.update_xaxes(title_text="sponsor claim (ISO3)", side="bottom")
    figure.update_yaxes(autorange="reversed", automargin=True)
    top = max(((sector, sponsor) for sector, sponsor in cells),
              key=lambda key: len(cells[key]))
    alt = (f"Heatmap of {len(rows)} adversaries by target sector and sponsor claim; the "
           f"largest cell is {labels.get(top[0], top[0])} × {top[1]} with "
           f"{len(cells[top])} adversaries.")
    basis_text = {"any": "CFR sponsor or attributed country", "cfr": "CFR-assessed sponsor",
                  "attributed": "attributed country"}[basis]
    return Chart(dom_id="sector-sponsor", figure_json=figure.to_json().replace("</", "<\\/"),
                 alt=alt, title=f"Adversaries by target sector and sponsor ({basis_text})",
                 source=GALAXY_SOURCE, unit="number of adversaries", year="as imported",
                 estimated=False, basis="count")


def exposure_chart(found: Sequence[AssetExposure]) -> Chart | None:
    if not found:
        return None
    shown = sorted(found, key=lambda item: item.score.total)
    names = [f"{item.asset.asset_id}" for item in shown]
    figure = go.Figure([
        go.Bar(name="KEV part", y=names, x=[item.score.kev for item in shown],
               orientation="h", marker={"color": "#b3261e"},
               hovertemplate="%{y}: KEV part %{x}<extra></extra>"),
        go.Bar(name="adversary part", y=names, x=[item.score.adversaries for item in shown],
               orientation="h", marker={"color": "#1f5fa8"},
               hovertemplate="%{y}: adversary part %{x}<extra></extra>"),
    ])
    _layout(figure, max(260, 34 * len(shown) + 100))
    figure.update_layout(barmode="stack", legend={"orientation": "h", "y": -0.2})
    figure.update_xaxes(title_text="exposure score (0-100)",
                        range=[0, WEIGHTS["kev_cap"] + WEIGHTS["adversary_cap"]],
                        gridcolor="#e3e7ec")
    figure.update_yaxes(automargin=True)
    top = shown[-1]
    alt = (f"Exposure score of {len(shown)} assets, split into KEV part and adversary part; "
           f"highest: {top.asset.asset_id} with {top.score.total:g} (KEV {top.score.kev:g}, "
           f"adversaries {top.score.adversaries:g}).")
    return Chart(dom_id="exposure-scores", figure_json=figure.to_json().replace("</", "<\\/"),
                 alt=alt, title="Exposure score per asset", source="CISA KEV and MISP galaxy "
                 "claims you can read; your asset register", unit="points (KEV part + "
                 "adversary part, each capped at 50)", year="as imported", estimated=False,
                 basis="score")
