"""``kizuna source plan``: the least-cost sourcing mix that meets a rule pack (docs/sourcing.md).

Exit codes: 0 optimal, 3 infeasible (one line per conflict on stderr), 1 bad input, 2 bad
arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from kizuna.cli.context import CliState
from kizuna.cli.exposure import ParamOption, Product, SheetOption, VolumeOption, _params
from kizuna.cli.output import console, fmt_number, fmt_share, print_json, table

app = typer.Typer(help="Sourcing optimisation: least-cost mixes under rule packs.",
                  no_args_is_help=True)


@app.command("plan")
def plan_command(
    ctx: typer.Context,
    product: Product,
    volume: VolumeOption = None,
    rules: Annotated[str | None, typer.Option(
        help="A shipped pack (eu-crma, us-ira-30d) or a YAML rule file")] = None,
    risk_weight: Annotated[float, typer.Option(
        min=0, help="USD per tonne routed through a risk-group country at one stage")] = 0.0,
    frontier: Annotated[int | None, typer.Option(
        min=2, help="Also sweep the risk cap over N points (cost-risk frontier)")] = None,
    assumptions: Annotated[Path | None, typer.Option(
        help="YAML file of assumptions (capacity_share, premium ...)")] = None,
    param: ParamOption = None,
    sheet: SheetOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Least-cost tonnes along mine -> refinery paths; exit 3 when infeasible."""
    from kizuna.exposure.rules import load_pack
    from kizuna.products.bom import load_product
    from kizuna.sourcing import EXIT_INFEASIBLE, build, solve
    from kizuna.sourcing import frontier as sweep
    from kizuna.sourcing.assumptions import Assumptions, load_assumptions

    state: CliState = ctx.obj
    ds = state.dataset()
    chosen = load_assumptions(assumptions) if assumptions is not None else Assumptions()
    pack = load_pack(rules) if rules else None
    loaded = load_product(product, _params(param), sheet=sheet, dataset=ds)
    model = build(ds, loaded, volume=volume, pack=pack, assumptions=chosen)
    result = sweep(model, frontier) if frontier else solve(model, risk_weight=risk_weight)
    if as_json:
        print_json(result.to_json())
    else:
        _print(result, loaded.name, model.volume)
    if result.status != "optimal":
        for line in result.violations:
            typer.echo(f"infeasible: {line}", err=True)
        raise typer.Exit(EXIT_INFEASIBLE)


def _print(result: object, name: str, volume: float) -> None:
    from kizuna.sourcing import SourcingResult

    assert isinstance(result, SourcingResult)
    screen = console()
    screen.print(f"[bold]{escape(name)}[/bold] x {volume:,.6g}: {result.status}"
                 + (f", cost {result.cost:,.0f} USD, risk {result.risk:.1%}"
                    if result.cost is not None and result.risk is not None else ""))
    if result.plan:
        screen.print(table("plan by stage", ["mineral", "stage", "country", "tonnes", "share"],
                           [[r["mineral"], r["stage"], str(r["iso3"]),
                             fmt_number(r["tonnes"], 3), fmt_share(r["share"])]
                            for r in result.plan]))
    if result.frontier:
        screen.print(table("cost-risk frontier", ["risk cap", "cost (USD)", "risk"],
                           [[fmt_share(p["risk_cap"]),
                             "infeasible" if p["cost"] is None else fmt_number(p["cost"]),
                             "—" if p["risk"] is None else fmt_share(p["risk"])]
                            for p in result.frontier]))
    for line in result.assumptions + result.notes:
        screen.print(f"· {escape(line)}", soft_wrap=True)
