"""The ``kizuna`` command: a thin Typer layer over library functions.

Errors: a ``KizunaError`` prints one line on stderr and exits with its ``exit_code`` (1, or 2
for bad arguments and settings); bad command-line syntax exits 2 (Click's usage errors). No
traceback unless ``--debug`` (or ``KIZUNA_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from kizuna.cli import assets as assets_commands
from kizuna.cli import data as data_commands
from kizuna.cli import demo as demo_commands
from kizuna.cli import exposure as exposure_commands
from kizuna.cli import groups as groups_commands
from kizuna.cli import hub as hub_commands
from kizuna.cli import intel as intel_commands
from kizuna.cli import minerals as minerals_commands
from kizuna.cli import partners as partners_commands
from kizuna.cli import scenario as scenario_commands
from kizuna.cli import source as source_commands
from kizuna.cli.context import CliState, StoreOption
from kizuna.errors import KizunaError
from kizuna.settings import Settings

app = typer.Typer(
    name="kizuna",
    help="Kizuna: critical-mineral supply analytics and shared threat intelligence.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(minerals_commands.app, name="minerals")
app.add_typer(groups_commands.app, name="groups")
app.add_typer(data_commands.app, name="data")
app.add_typer(hub_commands.app, name="hub")
app.add_typer(scenario_commands.app, name="scenario")
app.add_typer(intel_commands.app, name="intel")
app.add_typer(assets_commands.app, name="assets")
app.add_typer(source_commands.app, name="source")
app.add_typer(demo_commands.app, name="demo")
app.command("exposure")(exposure_commands.exposure_command)
app.command("comply")(exposure_commands.comply_command)
app.command("products")(exposure_commands.products_command)
app.command("partners")(partners_commands.partners_command)


@app.callback()
def main(
    ctx: typer.Context,
    store: Annotated[
        str | None,
        typer.Option(help="Store URL: sqlite:///path.db, postgresql://..., memory:// "
                     "[env KIZUNA_STORE]"),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Config file (TOML) [env KIZUNA_CONFIG]")
    ] = None,
    debug: Annotated[bool | None, typer.Option("--debug", help="Show tracebacks")] = None,
) -> None:
    """Global options apply to every command."""
    ctx.obj = CliState(overrides={"store": store, "debug": debug}, config_file=config)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to bind [env KIZUNA_HOST]")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port [env KIZUNA_PORT]")
    ] = None,
    get: Annotated[
        str | None, typer.Option("--get", help="Answer one request for PATH and exit")
    ] = None,
    store: StoreOption = None,
    demo: Annotated[
        bool | None,
        typer.Option("--demo/--no-demo", help="Seed two demo partners on an empty hub and "
                     "print their keys [env KIZUNA_DEMO; default on]"),
    ] = None,
    production: Annotated[
        bool | None,
        typer.Option("--production", help="Refuse to start while a demo key is active "
                     "[env KIZUNA_PRODUCTION]"),
    ] = None,
) -> None:
    """Run the web app, JSON API (docs at /docs) and TAXII 2.1 hub (at /taxii2/)."""
    state: CliState = ctx.obj
    settings = state.settings(host=host, port=port, store=store, demo=demo,
                              production=production)
    from kizuna.web.server import get_once
    from kizuna.web.server import serve as run_server

    if get is not None:
        status, body = get_once(settings, get)
        sys.stdout.write(body + ("" if body.endswith("\n") else "\n"))
        raise typer.Exit(0 if status < 400 else 1)
    run_server(settings)


@app.command("settings")
def show_settings(ctx: typer.Context) -> None:
    """Show every setting with its environment variable and effective value."""
    from kizuna.cli.output import print_json

    state: CliState = ctx.obj
    effective = state.settings()
    rows = Settings.describe()
    for row in rows:
        row["value"] = getattr(effective, row["name"])
    print_json(rows)


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("KIZUNA_DEBUG", "").lower() in {"1", "true", "yes"}


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point with the error policy applied."""
    args = sys.argv[1:] if argv is None else argv
    debug = _debug_requested(args)
    try:
        # Without standalone mode Click returns the code of a typer.Exit instead of raising.
        code = app(args=args, prog_name="kizuna", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("aborted\n")
        sys.exit(1)
    except typer.TyperException as exc:  # Typer's (vendored Click) usage errors: exit 2
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            sys.stderr.write(f"error: {exc}\n")
        sys.exit(getattr(exc, "exit_code", 2))
    except KizunaError as exc:
        if debug:
            raise
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(exc.exit_code)
    except Exception as exc:
        if debug:
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        name = type(exc).__name__
        sys.stderr.write(f"error: unexpected {name}: {message} (rerun with --debug)\n")
        sys.exit(1)
