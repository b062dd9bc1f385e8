"""``kizuna scenario``: run disruption scenarios (Monte Carlo), list and show the examples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from kizuna.cli.assets import to_scenario_command
from kizuna.cli.context import CliState
from kizuna.cli.output import console, fmt_number, fmt_share, print_json, table
from kizuna.errors import UsageError

app = typer.Typer(
    help="Disruption scenarios: Monte Carlo simulation of export bans, quotas and outages.",
    no_args_is_help=True,
)

# The bridge from a threatened facility to a scenario lives with the asset register
# (kizuna assets to-scenario); it is also found where scenarios are.
app.command("from-assets", help="Write a facility_outage scenario from your assets (the same "
            "command as kizuna assets to-scenario).")(to_scenario_command)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON")]
PROGRESS_FROM = 50_000
"""Runs with at least this many draws (or on Dask) show a progress bar on stderr."""


def _products(spec: str | None) -> list[Any] | None:
    """``id[:units a year],...`` -> ProductChoice list; None keeps the file's (or all)."""
    from kizuna.scenarios.schema import ProductChoice

    if spec is None:
        return None
    out = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, sep, volume = part.partition(":")
        units = 1.0
        if sep:
            try:
                units = float(volume)
            except ValueError:
                units = -1.0
            if not units >= 0:
                raise UsageError(f"--products {part!r}: {volume!r} is not a number of units "
                                 ">= 0", hint="e.g. --products nmc811:75000,ndfeb-motor",
                                 field="products")
        out.append(ProductChoice(name.strip().casefold(), units))
    if not out:
        raise UsageError("--products is empty", hint="e.g. --products nmc811,lfp",
                         field="products")
    return out


def _write(path: Path, text: str) -> None:
    from kizuna.cli.exposure import _write as write_report

    write_report(path, text)


@app.command("run")
def run_command(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(
        help="A scenario YAML file or a shipped example id (see kizuna scenario list)")],
    draws: Annotated[int, typer.Option(min=1, help="Monte Carlo draws")] = 10_000,
    seed: Annotated[int, typer.Option(min=0, help="Random seed (same seed, same answer)")] = 0,
    products: Annotated[str | None, typer.Option(
        help="Products to propagate to: template ids with optional units a year, e.g. "
             "nmc811:75000,ndfeb-motor (default: the file's, else every template)")] = None,
    perspective: Annotated[str | None, typer.Option(
        help="world (default), an importer with shipped data (USA, GBR) or an import-mix "
             "CSV; overrides the file's")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Run on this Dask scheduler, e.g. tcp://10.0.0.5:8786")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Run on a local Dask cluster of N worker processes")] = None,
    report: Annotated[Path | None, typer.Option(
        help="Also write a self-contained HTML report here")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Simulate a scenario: shortfall by mineral and stage, products not buildable."""
    from kizuna.scenarios.loader import load_scenario
    from kizuna.scenarios.report import report_html
    from kizuna.scenarios.runner import run_scenario

    if scheduler is not None and workers is not None:
        raise UsageError("give --scheduler or --workers, not both", field="workers")
    state: CliState = ctx.obj
    ds = state.dataset()
    parsed = load_scenario(scenario, dataset=ds)
    chosen = _products(products)
    show = not as_json and (draws >= PROGRESS_FROM or scheduler is not None
                            or workers is not None)
    with _progress(show) as progress:
        result = run_scenario(ds, parsed, draws=draws, seed=seed, products=chosen,
                              perspective=perspective, scheduler=scheduler, workers=workers,
                              progress=progress)
    if report is not None:
        _write(report, report_html(result))
    if as_json:
        print_json(result.to_json())
        return
    _print(result, report)


class _progress:
    """A Rich progress bar on stderr, or nothing."""

    def __init__(self, show: bool) -> None:
        self.show = show
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Any:
        if not self.show:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.bar = Progress("draws", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=Console(stderr=True), transient=True)
        self.bar.__enter__()
        self.task = self.bar.add_task("draws", total=None)

        def update(done: int, total: int) -> None:
            self.bar.update(self.task, completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _print(result: Any, report: Path | None) -> None:
    doc = result.to_json(timeline=False)
    screen = console()
    screen.print(f"[bold]{escape(doc['name'])}[/bold]\n{doc['draws']:,} draws, seed "
                 f"{doc['seed']}, {doc['horizon_days']} days, perspective "
                 f"{escape(str(doc['perspective']))} ({escape(doc['run']['scheduler'])}, "
                 f"{doc['run']['seconds']:.1f} s)", soft_wrap=True)
    columns = ["mineral", "stage", "mean", "± s.e.", "p95", "p99", "ES95", "P(any)"]
    optional = [("mean_tonnes", "mean t", fmt_number), ("mean_cost_usd", "mean USD", fmt_number),
                ("price_change_mean", "price", fmt_share)]
    present = [item for item in optional
               if any(r[item[0]] is not None for r in doc["results"])]
    rows = [[r["mineral"], r["stage"], fmt_share(r["mean_shortfall"]),
             f"{100 * r['stderr']:.3f}%" if r["stderr"] is not None else "—",
             fmt_share(r["p95"]), fmt_share(r["p99"]), fmt_share(r["es95"]),
             fmt_share(r["prob_any"]), *(fmt(r[key]) for key, _, fmt in present)]
            for r in doc["results"]]  # fmt: skip
    screen.print(table("Shortfall (share of a year's supply)",
                       columns + [title for _, title, _ in present],
                       [[escape(str(c)) for c in row] for row in rows]))
    if doc["products"]:
        screen.print(table("Products (a year's output not buildable)",
                           ["product", "units a year", "mean share", "mean units",
                            "p95 units", "P(any)"],
                           [[escape(str(c)) for c in (
                               p["id"], fmt_number(p["volume"]), fmt_share(p["mean_share_short"]),
                               fmt_number(p["mean_units_short"], 2),
                               fmt_number(p["p95_units_short"], 2), fmt_share(p["prob_any"]))]
                            for p in doc["products"]]))  # fmt: skip
    for line in doc["assumptions"] + doc["notes"]:
        screen.print(f"· {escape(line)}", soft_wrap=True)
    if report is not None:
        screen.print(f"report written to {escape(str(report))}")


@app.command("list")
def list_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The shipped example scenarios."""
    from kizuna.scenarios.loader import list_examples

    state: CliState = ctx.obj
    examples = list_examples(state.dataset())
    if as_json:
        print_json(examples)
        return
    console().print(table("Example scenarios (kizuna scenario run ID)",
                          ["id", "name", "events", "minerals"],
                          [[escape(str(e["id"])), escape(str(e["name"])), str(e["events"]),
                            escape(", ".join(e["minerals"]))] for e in examples]))


@app.command("show")
def show_command(
    example: Annotated[str, typer.Argument(help="A shipped example id")],
) -> None:
    """Print a shipped example's YAML (a starting point for your own file)."""
    import sys

    from kizuna.scenarios.loader import example_text

    sys.stdout.write(example_text(example))
