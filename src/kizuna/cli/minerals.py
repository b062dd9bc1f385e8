"""``kizuna minerals``: lists, country tables and concentration."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape

from kizuna.cli.context import CliState, StoreOption
from kizuna.cli.output import console, fmt_number, fmt_share, print_json, records, table

app = typer.Typer(help="Minerals: official lists, supply by country, concentration.",
                  no_args_is_help=True)


class Stage(StrEnum):
    mining = "mining"
    refining = "refining"


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
StageOption = Annotated[Stage, typer.Option(help="Stage of supply")]
YearOption = Annotated[int | None, typer.Option(help="Data year (default: latest available)")]


@app.command("list")
def list_command(
    ctx: typer.Context,
    list_id: Annotated[str | None, typer.Option("--list", help="Only members of this list, "
                                                "e.g. jp-rare-metals, uk-2024, eu-crma-critical")]
    = None,
    as_json: JsonFlag = False,
) -> None:
    """List minerals, optionally only one official list's members."""
    state: CliState = ctx.obj
    dataset = state.dataset()
    from kizuna.minerals.lists import list_minerals
    frame = list_minerals(dataset, list_id)
    if as_json:
        print_json(records(frame))
        return
    title = f"{len(frame)} minerals" + (f" on list {list_id}" if list_id else "")
    if list_id:
        about = dataset.lists.set_index("list_id").loc[list_id]
        title += f": {about['name']} ({about['jurisdiction']}, {about['year']})"
    rows = [
        [row["name"], row["slug"], row["symbol"] or "", row["group"],
         row["status"] or ", ".join(row["lists"])]
        for row in records(frame)
    ]
    columns = ["name", "slug", "symbol", "group", "status" if list_id else "lists"]
    screen = console()
    screen.print(table(title, columns, rows))
    if list_id and not bool(about["complete"]):
        screen.print(f"[yellow]Partial list:[/yellow] {about['note']}")


@app.command("lists")
def lists_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The official critical-mineral lists Kizuna knows, with completeness caveats."""
    state: CliState = ctx.obj
    frame = state.dataset().lists
    if as_json:
        print_json(records(frame))
        return
    rows = [
        [row["list_id"], row["jurisdiction"], str(row["year"]), row["name"],
         str(row["entries"]), "yes" if row["complete"] else "partial"]
        for row in records(frame)
    ]
    console().print(table("Critical-mineral lists (use with: minerals list --list ID)",
                          ["id", "where", "year", "name", "entries", "complete"], rows))


class Measure(StrEnum):
    production = "production"
    capacity = "capacity"
    reserves = "reserves"
    share = "share"


MeasureOption = Annotated[
    Measure | None,
    typer.Option(help="What is measured (default: production tonnages, else published shares)"),
]


@app.command("show")
def show_command(
    ctx: typer.Context,
    mineral: Annotated[str, typer.Argument(help="Mineral slug or name, e.g. rare-earths")],
    stage: StageOption = Stage.mining,
    year: YearOption = None,
    measure: MeasureOption = None,
    series: Annotated[str | None, typer.Option(help="Pick another series by name")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Country table and concentration metrics for one mineral and stage."""
    state: CliState = ctx.obj
    from kizuna.minerals.concentration import mineral_profile
    profile = mineral_profile(
        state.dataset(), mineral, stage=stage.value, year=year, series=series,
        measure=measure.value if measure else None, wgi_missing=state.settings().wgi_missing,
    )
    if as_json:
        print_json(profile)
        return
    _print_profile(profile)


def _headline(profile: dict[str, Any]) -> list[str]:
    lines = [
        f"[bold]{escape(profile['name'])}[/bold] — {profile['stage']}, {profile['year_label']}, "
        f"{escape(profile['series'])} ({escape(profile['unit'])}); source: "
        f"{escape(profile['source'])}"
        + (f", confidence {profile['confidence']}" if profile["confidence"] else "")
    ]
    if profile["world_total"] is not None:
        kind = "" if profile["world_total_kind"] == "published" else " (sum of the listed areas)"
        lines.append(f"World total: {fmt_number(profile['world_total'])} "
                     f"{escape(profile['unit'])}{kind}")
    if profile["hhi"] is not None:
        lines.append(
            f"HHI {profile['hhi']:,.0f} (upper {profile['hhi_upper']:,.0f}) · top-1 "
            f"{fmt_share(profile['top1_share'])} · top-3 {fmt_share(profile['top3_share'])} · "
            f"named {fmt_share(profile['named_share'])} · HHI-WGI {profile['hhi_wgi']:,.0f} "
            f"(WGI {profile['wgi_year']}; no WGI: {profile['wgi_missing_default']:g})"
        )
    return lines


def _print_profile(profile: dict[str, Any]) -> None:
    out = console()
    if profile["missing"]:
        out.print(f"[bold]{escape(profile['name'])}[/bold] ({profile['stage']}): "
                  f"{escape(profile['missing'])}")
        return
    for line in _headline(profile):
        out.print(line)
    is_share = profile["basis"] == "share"

    def mark(estimated: bool) -> str:
        return " e" if estimated else ""

    rows = [
        [c["name"], c["iso3"], *([] if is_share else [fmt_number(c["value"])]),
         fmt_share(c["share"]) + mark(c["estimated"])]
        for c in profile["countries"]
    ]
    residual = profile["residual"]
    if residual:
        rows.append([f"({residual['name']})", residual["area"],
                     *([] if is_share else [fmt_number(residual["value"])]),
                     fmt_share(residual["share"]) + mark(residual["estimated"])])
    columns = ["country", "ISO3", *([] if is_share else [profile["unit"]]), "share"]
    out.print(table("", columns, [[escape(cell) for cell in row] for row in rows]))
    for note in profile["notes"]:
        out.print(f"• {escape(note)}")
    if profile["other_series"]:
        out.print("Other series (use --series/--measure): "
                  + "; ".join(escape(s) for s in profile["other_series"]))


@app.command("concentration")
def concentration_command(
    ctx: typer.Context,
    stage: StageOption = Stage.mining,
    year: YearOption = None,
    measure: MeasureOption = None,
    group: Annotated[str, typer.Option(help="Country group whose share is shown "
                                       "(see kizuna groups list)")] = "concern",
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """One row per mineral, highest HHI first, with top country and a group's share."""
    state: CliState = ctx.obj
    with state.store(store) as opened:
        groups = state.groups(opened)
    from kizuna.minerals.concentration import concentration_table
    frame = concentration_table(
        state.dataset(), stage=stage.value, year=year, group=group, groups=groups,
        measure=measure.value if measure else None,
        wgi_missing=state.settings().wgi_missing,
    )
    if as_json:
        print_json(records(frame))
        return
    rows = [
        [row["name"] + (" †" if row["basis"] == "share" else "")
         + (" ‡" if row["low_coverage"] else ""),
         f"{row['year']}{'e' if row['estimated'] else ''}", fmt_number(row["hhi"]),
         fmt_number(row["hhi_wgi"]), row["top1_iso3"], fmt_share(row["top1_share"]),
         fmt_share(row["top3_share"]), fmt_share(row["group_share"])]
        for row in records(frame)
    ]
    screen = console()
    screen.print(table(
        f"Concentration at the {stage.value} stage ({len(rows)} minerals)",
        ["mineral", "year", "HHI", "HHI-WGI", "top", "share", "top-3", group],
        [[escape(cell) for cell in row] for row in rows],
    ))
    screen.print("† published refining shares, not tonnages · ‡ named countries hold under "
                 "half the world total, so the HHI understates concentration · e: USGS "
                 "estimate · shares are of USGS's rounded world total and can exceed 100%")
