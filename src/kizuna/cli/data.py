"""``kizuna data``: rebuild the bundled tables from the public source files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kizuna.cli.output import console, print_json, table

app = typer.Typer(help="Bundled data: rebuild the normalised tables from the sources.",
                  no_args_is_help=True)


@app.command("build")
def build_command(
    source: Annotated[
        Path, typer.Option("--from", help="Folder with the public datasets (as ../shared/data)")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Where to write the tables (default: the package's own)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Import USGS MCS 2026, WGI, the critical-mineral lists and refining shares."""
    from kizuna.data.build import (
        build_tables,
        check_output_dir,
        default_tables_dir,
        write_tables,
    )

    destination = out or default_tables_dir()
    check_output_dir(destination)  # refuse a foreign folder before the build, not after
    tables = build_tables(source)
    target = write_tables(tables, destination)
    summary = {name: len(frame) for name, frame in tables.items()}
    if as_json:
        print_json({"out": str(target), "tables": summary})
        return
    screen = console()
    screen.print(f"Tables written to {target}")
    rows = [[name, f"{count:,}"] for name, count in summary.items()]
    screen.print(table("", ["table", "rows"], rows))
