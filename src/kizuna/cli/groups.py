"""``kizuna groups``: country groups (G7, Quad, MSP, EU-27, concern) and the user's edits."""

from __future__ import annotations

from typing import Annotated

import typer

from kizuna.cli.context import CliState, StoreOption
from kizuna.cli.output import console, print_json, table
from kizuna.minerals.groups import edited_ids, reset_group, resolve_group, save_group
from kizuna.model import CountryGroup

app = typer.Typer(help="Country groups: partners, countries of concern, your own.",
                  no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def _record(group: CountryGroup, edited: bool) -> dict[str, object]:
    return {"id": group.id, "name": group.name, "members": sorted(group.members),
            "description": group.description, "source": group.source, "edited": edited}


@app.command("list")
def list_command(ctx: typer.Context, store: StoreOption = None, as_json: JsonFlag = False) -> None:
    """Every group, marking those edited in the store."""
    state: CliState = ctx.obj
    with state.store(store) as opened:
        groups, edited = state.groups(opened), edited_ids(opened)
    rows = [_record(group, group.id in edited) for group in groups.values()]
    if as_json:
        print_json(rows)
        return
    console().print(table(f"{len(rows)} country groups", ["id", "name", "members", "edited"], [
        [str(r["id"]), str(r["name"]), " ".join(r["members"]),  # type: ignore[arg-type]
         "yes" if r["edited"] else ""]
        for r in rows
    ]))


@app.command("show")
def show_command(ctx: typer.Context, group: str, store: StoreOption = None,
                 as_json: JsonFlag = False) -> None:
    """One group with its members and source."""
    state: CliState = ctx.obj
    with state.store(store) as opened:
        found = resolve_group(state.groups(opened), group)
        record = _record(found, found.id in edited_ids(opened))
    if as_json:
        print_json(record)
        return
    out = console()
    out.print(f"[bold]{found.name}[/bold] ({found.id}){' — edited' if record['edited'] else ''}")
    out.print(found.description)
    out.print("Members: " + " ".join(sorted(found.members)))
    out.print(f"Source: {found.source}")


@app.command("set")
def set_command(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="Group id, e.g. concern or my-partners")],
    members: Annotated[list[str], typer.Argument(help="ISO3 codes, e.g. CHN RUS")],
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    description: Annotated[str | None, typer.Option(help="What the group is for")] = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a group or replace a group's members (stored; the shipped default is kept)."""
    state: CliState = ctx.obj
    shipped = state.dataset().groups
    with state.store(store) as opened:
        saved = save_group(opened, shipped, group, members, name=name, description=description)
    if as_json:
        print_json(_record(saved, True))
        return
    screen = console()
    screen.print(f"saved {saved.id}: {' '.join(sorted(saved.members))}")
    if group in shipped and group != "concern":
        screen.print(f"note: {group} is a shipped group ({shipped[group].source}); your edit "
                     f"replaces it in this store until `kizuna groups reset {group}`")


@app.command("reset")
def reset_command(ctx: typer.Context, group: str, store: StoreOption = None) -> None:
    """Drop your edit of a group and return to the shipped default."""
    state: CliState = ctx.obj
    with state.store(store) as opened:
        removed = reset_group(opened, state.dataset().groups, group)
    console().print(f"{group}: {'edit removed' if removed else 'was not edited'}")
