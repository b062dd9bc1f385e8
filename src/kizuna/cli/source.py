"""``kizuna source plan``: the least-cost sourcing mix that meets a rule pack (docs/sourcing.md).

Exit codes: 0 optimal, 3 infeasible (one line per conflict on stderr), 4 the solver did not
finish (time limit or numerical failure; never reported as infeasible), 1 bad input, 2 bad
arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from kizuna.cli.context import CliState
from kizuna.cli.exposure import ParamOption, SheetOption, VolumeOption, _params
from kizuna.cli.output import console, fmt_number, fmt_share, print_json, table
from kizuna.errors import UsageError

app = typer.Typer(help="Sourcing optimisation: least-cost mixes under rule packs.",
                  no_args_is_help=True)

ProductOrFile = Annotated[str, typer.Argument(
    help="A template id (kizuna products), a BOM file (.csv, .xlsx), or a portfolio "
         "ID:UNITS,ID:UNITS")]


@app.command("plan")
def plan_command(
    ctx: typer.Context,
    product: ProductOrFile,
    volume: VolumeOption = None,
    rules: Annotated[str | None, typer.Option(
        help="A shipped pack (eu-crma, us-ira-30d) or a YAML rule file")] = None,
    risk: Annotated[str | None, typer.Option(
        help="Risk measure: proxy (share from the risk group) or cvar (CVaR of shortfall "
             "cost over scenario draws; the default with --scenario)")] = None,
    risk_weight: Annotated[float, typer.Option(
        min=0, help="Weight of risk in the objective: USD per tonne-stage in the risk group "
                    "(proxy) or USD per USD of CVaR (cvar)")] = 0.0,
    frontier: Annotated[int | None, typer.Option(
        min=2, max=200, help="Also sweep the risk cap over N points (cost-risk frontier)")
    ] = None,
    years: Annotated[str | None, typer.Option(
        help="Plan a transition path, e.g. 2026-2030 (caps tighten, capacity grows)")] = None,
    scenario: Annotated[str | None, typer.Option(
        help="Scenario for CVaR: a shipped id (kizuna scenario list) or a YAML file")] = None,
    draws: Annotated[int, typer.Option(min=1, help="Scenario draws for CVaR")] = 10_000,
    alpha: Annotated[float, typer.Option(
        help="CVaR level: the mean of the worst (1 - alpha) of draws")] = 0.95,
    seed: Annotated[int, typer.Option(min=0, help="Scenario seed")] = 0,
    suppliers: Annotated[Path | None, typer.Option(
        help="CSV/XLSX of named suppliers (supplier, mineral, stage, country, capacity_t)")
    ] = None,
    assumptions: Annotated[Path | None, typer.Option(
        help="YAML file of assumptions (capacity_share, premium, transition ...)")] = None,
    time_limit: Annotated[float | None, typer.Option(
        help="Seconds HiGHS may take per solve (then status time_limit, exit 4)")] = None,
    report: Annotated[Path | None, typer.Option(
        help="Also write a self-contained HTML report here")] = None,
    param: ParamOption = None,
    sheet: SheetOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Least-cost tonnes along mine -> refinery paths; exit 3 infeasible, 4 unsolved."""
    from kizuna.sourcing.plan import PlanRequest, run_plan

    state: CliState = ctx.obj
    ds = state.dataset()
    request = PlanRequest(
        product=_product(product, param, sheet, volume, ds), volume=volume, rules=rules, risk=risk,
        risk_weight=risk_weight, frontier=frontier, years=years, scenario=scenario,
        draws=draws, alpha=alpha, seed=seed, suppliers=suppliers, assumptions=assumptions,
        time_limit=time_limit,
    )  # fmt: skip
    result = run_plan(ds, request)
    if report is not None:
        from kizuna.cli.exposure import _write
        from kizuna.sourcing.report import report_html

        _write(report, report_html(result))
    if as_json:
        print_json(result.to_json())
    else:
        _print(result)
        if report is not None:
            console().print(f"report written to {escape(str(report))}")
    for line in result.unplanned:
        typer.echo(f"warning: not planned: {line}", err=True)
    if result.status != "optimal":
        for line in result.violations:
            typer.echo(f"{result.status}: {line}", err=True)
        raise typer.Exit(result.exit_code)


def _product(spec: str, param: list[str] | None, sheet: str | None, volume: float | None,
             ds: Any) -> Any:
    """One product (template or BOM file) or a portfolio ``id:units,id:units``."""
    from kizuna.products.bom import load_product

    if "," not in spec and (":" not in spec or Path(spec).exists()):
        return load_product(spec, _params(param), sheet=sheet, dataset=ds)
    if param or sheet or volume is not None:
        raise UsageError("--volume, --param and --sheet apply to one product, not a "
                         "portfolio", hint="give each product's units: nmc811:75000,lfp:20000",
                         field="product")
    out = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, units = part.partition(":")
        try:
            count = float(units) if units else None
        except ValueError:
            count = -1.0
        if count is not None and not count >= 0:
            raise UsageError(f"portfolio item {part!r}: {units!r} is not a number of units "
                             ">= 0", hint="e.g. nmc811:75000,ndfeb-motor:250000",
                             field="product")
        item = load_product(name, dataset=ds)
        out.append((item, item.volume if count is None else count))
    return out


def _print(result: Any) -> None:
    from kizuna.sourcing.report import (
        FRONTIER_HEADERS,
        SUPPLIER_HEADERS,
        YEAR_HEADERS,
        summary,
        table_rows,
    )

    screen = console()
    screen.print(f"[bold]{escape(result.product)}[/bold] x {result.volume:,.6g}: "
                 f"{escape(summary(result))}")
    rows = table_rows(result)
    if result.years:
        screen.print(table("transition path", YEAR_HEADERS, rows["years"]))
        screen.print(escape(result.years["curve"]["text"]))
    if result.plan:
        screen.print(table("plan by stage" + (f" ({result.years['last']})" if result.years
                                              else ""),
                           ["mineral", "stage", "country", "tonnes", "share", "cost (USD)"],
                           [[r["mineral"], r["stage"], str(r["iso3"]),
                             fmt_number(r["tonnes"], 3), fmt_share(r["share"]),
                             fmt_number(r["cost"])] for r in result.plan]))
    if rows["suppliers"]:
        screen.print(table("named suppliers", SUPPLIER_HEADERS, rows["suppliers"]))
    if result.frontier:
        screen.print(table("cost-risk frontier", FRONTIER_HEADERS, rows["frontier"]))
    for line in result.assumptions + result.notes:
        screen.print(f"· {escape(line)}", soft_wrap=True)
