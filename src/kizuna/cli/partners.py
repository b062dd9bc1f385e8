"""``kizuna partners``: rank countries as mining or refining partners for one mineral."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from kizuna.cli.context import CliState, StoreOption
from kizuna.cli.output import console, fmt_number, print_json, table

if TYPE_CHECKING:
    from kizuna.partners import Candidate, Scouting
    from kizuna.partners.scout import FactorScore

NOT_DATA = "†"


class Stage(StrEnum):
    mining = "mining"
    refining = "refining"


def partners_command(
    ctx: typer.Context,
    mineral: Annotated[str, typer.Argument(help="Mineral slug or name, e.g. cobalt")],
    stage: Annotated[Stage, typer.Option(help="Partners for mining or for refining")]
    = Stage.mining,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", help="Leave out a country group (e.g. concern) or a country (ISO3 or "
        "name); repeatable")] = None,
    partner: Annotated[list[str] | None, typer.Option(
        "--partner", help="Country group that counts for alignment; repeatable (default: "
        "g7, quad, msp, eu27)")] = None,
    weights: Annotated[Path | None, typer.Option(
        help="YAML or TOML file of factor weights over the defaults (docs/partners.md)")]
    = None,
    top: Annotated[int, typer.Option(min=0, help="Rows in the table (0: all)")] = 20,
    country: Annotated[list[str] | None, typer.Option(
        "--country", help="Also show every factor of this country (ISO3), with its sources; "
                          "repeatable")] = None,
    store: StoreOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: a list, best first")]
    = False,
) -> None:
    """Rank countries by reserves, production and its growth, reserve life, governance,
    alignment and the mining-refining gap; every factor, weight and source shown."""
    from kizuna.partners import DEFAULT_PARTNERS, load_weights, scout

    state: CliState = ctx.obj
    chosen = load_weights(weights, stage.value) if weights is not None else None
    with state.store(store) as opened:
        groups = state.groups(opened)
    result = scout(
        state.dataset(), mineral, stage=stage.value, exclude=exclude or (), weights=chosen,
        partners=tuple(partner) if partner else DEFAULT_PARTNERS, groups=groups,
        wgi_missing=state.settings().wgi_missing,
    )
    details = [_find(result, code) for code in country or []]
    if as_json:
        print_json(result.to_json())
        return
    _print_ranking(result, top)
    for candidate in details:
        _print_country(candidate)


def _find(result: Scouting, code: str) -> Candidate:
    from kizuna.errors import NotFoundError

    wanted = code.strip().upper()
    for candidate in result.candidates:
        if candidate.iso3 == wanted:
            return candidate
    ranked = ", ".join(c.iso3 for c in result.candidates[:12])
    more = ", ..." if len(result.candidates) > 12 else ""
    raise NotFoundError(
        f"--country {code!r} is not among the ranked countries for {result.mineral} "
        f"({result.stage})", hint=f"ranked: {ranked}{more}", field="country")


def _points(value: FactorScore) -> str:
    mark = "" if value.raw.status == "data" else NOT_DATA
    return f"{value.contribution:.1f}{mark}"


def _print_ranking(result: Scouting, top: int) -> None:
    from kizuna.partners import FACTORS

    out = console()
    about = result.describe()
    shown = result.candidates if top == 0 else result.candidates[:top]
    excluded = "; ".join(f"{e['given']} ({' '.join(e['members'])})" for e in about["excluded"])
    out.print(f"[bold]{escape(result.name)}[/bold] — partners for {result.stage}; alignment "
              f"counts membership of {', '.join(about['partners'])}"
              + (f"; excluded: {escape(excluded)}" if excluded else ""), soft_wrap=True)
    rows = [
        [f"{c.rank}. {c.name}", c.iso3, f"{c.score:.1f}",
         *(_points(c.factors[f.name]) for f in FACTORS)]
        for c in shown
    ]
    columns = ["country", "ISO3", "score", *(f.short for f in FACTORS)]
    title = (f"Score out of 100 = the sum of the factor columns; {len(shown)} of "
             f"{len(result.candidates)} countries")
    out.print(_ranking_table(title, columns, rows))
    out.print(f"Factors (weights: {escape(about['weights_source'])}):", soft_wrap=True)
    for factor, described in zip(FACTORS, about["factors"], strict=True):
        sources = ", ".join(described["sources"]) or "no data"
        out.print(f"  {factor.short} = {factor.name}, weight "
                  f"{100 * about['weights'][factor.name]:.1f}%: {escape(factor.raw)}; "
                  f"scaled {escape(factor.normalisation)} [{escape(sources)}]", soft_wrap=True)
    out.print(f"{NOT_DATA} not a figure from the data: counted as 0 (not named in the table, "
              "or no figure), the WGI default, or unbounded (scores 1); --country ISO3 or "
              "--json says which and why.", soft_wrap=True)
    for note in result.notes:
        out.print(f"• {escape(note)}", soft_wrap=True)


def _ranking_table(title: str, columns: list[str], rows: list[list[str]]) -> Table:
    """Numbers never cut; a long country name is shortened first (eleven columns in 80)."""
    out = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD,
                collapse_padding=True, pad_edge=False)
    for index, name in enumerate(columns):
        if index == 0:
            out.add_column(name, no_wrap=True, overflow="ellipsis", max_width=17)
            continue
        width = max(len(name), *(len(row[index]) for row in rows)) if rows else len(name)
        out.add_column(name, justify="left" if index == 1 else "right", min_width=width,
                       no_wrap=True)
    for row in rows:
        out.add_row(*(escape(cell) for cell in row))
    return out


def _raw_text(name: str, value: FactorScore) -> str:
    raw = value.raw
    if raw.value is None:
        return "unbounded" if raw.status == "unbounded" else "—"
    if name == "growth":
        return f"{raw.value:+.1%}/yr"
    if name == "refining_gap" or raw.unit == "fraction":
        return f"{raw.value:+.1%}" if name == "refining_gap" else f"{raw.value:.1%}"
    return f"{fmt_number(raw.value)} {raw.unit}".strip()


def _sources_text(value: FactorScore) -> str:
    parts = []
    for source in value.raw.sources:
        year = "" if source.year is None else f" {source.year}"
        parts.append(f"{source.source}{year}: {source.citation}")
    return " | ".join(parts)


def _print_country(candidate: Candidate) -> None:
    out = console()
    rows: list[list[Any]] = []
    for name, value in candidate.factors.items():
        rows.append([name, _raw_text(name, value), f"{value.normalised:.3f}",
                     f"{100 * value.weight:.1f}%", f"{value.contribution:.2f}",
                     value.raw.status])
    out.print(table(f"#{candidate.rank} {candidate.name} ({candidate.iso3}): score "
                    f"{candidate.score:.2f}",
                    ["factor", "raw", "normalised", "weight", "points", "status"],
                    [[escape(str(cell)) for cell in row] for row in rows]))
    for name, value in candidate.factors.items():
        cited = _sources_text(value)
        if value.raw.note or cited:
            out.print(f"  {name}: {escape(value.raw.note or '')}".rstrip(), soft_wrap=True)
        if cited:
            out.print(f"    source: {escape(cited)}", soft_wrap=True)
