"""``kizuna exposure``, ``kizuna comply`` and ``kizuna products``: a product's supply exposure,
its compliance with a rule pack, and the shipped product templates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from kizuna.cli.context import CliState, StoreOption
from kizuna.cli.output import console, fmt_number, fmt_share, print_json, table
from kizuna.errors import InputError, UsageError

Product = Annotated[str, typer.Argument(
    help="A template id (see kizuna products) or a BOM file (.csv, .xlsx)")]
ParamOption = Annotated[list[str] | None, typer.Option(
    "--param", help="Template parameter NAME=VALUE (repeatable), e.g. magnet_kg=2")]
SheetOption = Annotated[str | None, typer.Option(help="Sheet of an .xlsx BOM")]
VolumeOption = Annotated[float | None, typer.Option(
    min=0, help="Units per year (default: the BOM's volume, or 1)")]
YearOption = Annotated[int | None, typer.Option(help="Supply data year (default: latest)")]
PerspectiveOption = Annotated[str | None, typer.Option(
    help="world (default), an importer with shipped data (USA, GBR) or an import-mix CSV "
         "(mineral,stage,origin,share)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON")]
ReportOption = Annotated[Path | None, typer.Option(
    help="Also write a self-contained HTML report here")]


def _params(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values or []:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param {value!r} is not NAME=VALUE",
                             hint="e.g. --param magnet_kg=2", field="param")
        out[name.strip()] = text.strip()
    return out


def _compute(state: CliState, store: str | None, spec: str, params: list[str] | None,
             sheet: str | None, volume: float | None, year: int | None,
             perspective: str | None) -> tuple[Any, Any]:
    from kizuna.exposure.compute import exposure
    from kizuna.exposure.mixes import perspective_of
    from kizuna.products.bom import load_product

    ds = state.dataset()
    product = load_product(spec, _params(params), sheet=sheet, dataset=ds)
    with state.store(store) as opened:
        groups = state.groups(opened)
    view = perspective_of(ds, perspective)
    return exposure(ds, product, volume=volume, year=year, perspective=view,
                    groups=groups), groups


def exposure_command(
    ctx: typer.Context,
    product: Product,
    volume: VolumeOption = None,
    year: YearOption = None,
    perspective: PerspectiveOption = None,
    param: ParamOption = None,
    sheet: SheetOption = None,
    report: ReportOption = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Tonnes of each mineral by stage and country, and per-mineral concentration."""
    from kizuna.exposure.report import report_html

    state: CliState = ctx.obj
    result, groups = _compute(state, store, product, param, sheet, volume, year, perspective)
    if report is not None:
        _write(report, report_html(result, [], _concern(groups)))
    if as_json:
        print_json(result.to_json())
        return
    screen = console()
    rows = [
        [r["mineral"], r["stage"], fmt_number(r["tonnes"], 3),
         "—" if r["top_iso3"] is None else f"{r['top_iso3']} {fmt_share(r['top_share'])}",
         fmt_share(r["concern_share"]), fmt_number(r["hhi"]),
         r["basis"] + (f" (proxy: {r['proxy']})" if r["proxy"] else "")]
        for r in result.to_json()["minerals"]
    ]  # fmt: skip
    screen.print(table(
        f"{result.product.name}: {result.volume:,.6g} × {result.product.unit}",
        ["mineral", "stage", "tonnes", "largest", "concern", "HHI", "basis"],
        [[escape(str(cell)) for cell in row] for row in rows],
    ))
    for line in result.assumptions:
        screen.print(f"· {escape(line)}", soft_wrap=True)
    if report is not None:
        screen.print(f"report written to {escape(str(report))}")


def comply_command(
    ctx: typer.Context,
    product: Product,
    rules: Annotated[str, typer.Option(
        help="A shipped pack (eu-crma, us-ira-30d) or a YAML rule file")],
    volume: VolumeOption = None,
    year: Annotated[int | None, typer.Option(
        help="Year the rules apply to (thresholds by year) and of the supply data")] = None,
    perspective: PerspectiveOption = None,
    param: ParamOption = None,
    sheet: SheetOption = None,
    report: ReportOption = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a product against a rule pack; exit 3 when any rule fails (0 when all pass)."""
    from kizuna.exposure.report import report_html
    from kizuna.exposure.rules import EXIT_FAILED, evaluate, load_pack

    state: CliState = ctx.obj
    pack = load_pack(rules)
    data_year = _data_year(state, year)
    result, groups = _compute(state, store, product, param, sheet, volume, data_year,
                              perspective)
    verdict = evaluate(state.dataset(), pack, result, year=year, groups=groups)
    if report is not None:
        _write(report, report_html(result, [verdict], _concern(groups)))
    if as_json:
        print_json(verdict.to_json())
    else:
        screen = console()
        screen.print(f"[bold]{escape(pack.name)}[/bold]\n{escape(pack.label)}", soft_wrap=True)
        screen.print(table(
            f"{result.product.name}: {'PASS' if verdict.passed else 'FAIL'}",
            ["rule", "mineral", "stage", "result", "value", "limit", "detail"],
            [[escape(str(c)) for c in (
                r["rule"], r["mineral"], r["stage"], "pass" if r["passed"] else "FAIL",
                fmt_share(r["value"]) if r["rule"] != "min_sources" else fmt_number(r["value"]),
                fmt_share(r["limit"]), r["detail"])] for r in verdict.results],
        ))  # fmt: skip
    if not verdict.passed:
        raise typer.Exit(EXIT_FAILED)


def _data_year(state: CliState, year: int | None) -> int | None:
    """The rule year is not always a supply-data year (thresholds run to 2027 and beyond)."""
    if year is None:
        return None
    years = {int(y) for y in state.dataset().supply["year"].dropna().unique()}
    return year if year in years else None


def _concern(groups: Any) -> frozenset[str]:
    group = groups.get("concern")
    return frozenset() if group is None else frozenset(group.members)


def _write(path: Path, text: str) -> None:
    if path.is_dir():
        raise InputError(f"--report {path} is a folder", hint="give a file name ending .html",
                         field="report")
    try:
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as error:
        raise InputError(f"cannot write the report {path}: {error.strerror}",
                         field="report") from None


def products_command(as_json: JsonFlag = False) -> None:
    """The shipped product templates, their units and parameters."""
    from kizuna.products.templates import describe_templates

    templates = describe_templates()
    if as_json:
        print_json(templates)
        return
    screen = console()
    screen.print(table("Product templates", ["id", "name", "unit", "parameters"], [
        [escape(str(t["id"])), escape(str(t["name"])), escape(str(t["unit"])),
         escape(", ".join(f"{p['name']}={p['default']}" for p in t.get("parameters", [])))]
        for t in templates
    ]))  # fmt: skip
