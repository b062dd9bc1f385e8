"""``kizuna hub peer add|list|remove|status`` and ``kizuna hub sync``: federation of hubs.

The local administrator configures peers (docs/federation.md); keys are given only by
reference (``env:VAR`` or ``file:PATH``) and read when a sync runs. Bad input is one line
naming the option and exit 1, and nothing is written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kizuna.cli.context import CliState, StoreOption
from kizuna.cli.output import console, print_json
from kizuna.hub.contract import Actor

if TYPE_CHECKING:
    from kizuna.hub.service import Hub

ADMIN = Actor(org=None, admin=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]

peer_app = typer.Typer(help="Peer hubs this node syncs with over TAXII 2.1 (federation).",
                       no_args_is_help=True)


@contextmanager
def _hub(ctx: typer.Context, store: str | None) -> Iterator[Hub]:
    from kizuna.hub.service import Hub

    state: CliState = ctx.obj
    settings = state.settings(store=store)
    with state.store(store) as opened:
        yield Hub(opened, node_name=settings.node_name)


@peer_app.command("add")
def peer_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The peer's name here, e.g. london")],
    url: Annotated[str, typer.Option(help="The peer's TAXII API root, e.g. "
                                     "http://london.example:8000/taxii2/pact/")],
    key_ref: Annotated[str, typer.Option("--key-ref", help="Where the key the peer issued to "
                                         "this node is: env:VAR or file:PATH (never the key)")],
    maps: Annotated[list[str], typer.Option("--map", help="LOCAL=REMOTE collection ids "
                                            "(LOCAL may be ROOT/ID); repeat for more")],
    org: Annotated[str | None, typer.Option(help="The organisation of this hub that stands "
                                            "for the peer (default: NAME)")] = None,
    direction: Annotated[str, typer.Option(help="pull (fetch from the peer), push (send to "
                                           "it) or both")] = "pull",
    allow: Annotated[str, typer.Option(help="Levels the peer may receive: a subset of "
                                       "clear,green,amber (AMBER+STRICT and RED go only to "
                                       "named recipients)")] = "clear,green,amber",
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a peer hub; nothing is contacted until a sync."""
    from kizuna.hub.federation.peers import add_peer

    with _hub(ctx, store) as hub:
        peer = add_peer(hub.store, ADMIN, name=name, url=url, key_ref=key_ref, maps=maps,
                        org=org, direction=direction, allow=allow)
    data = peer.to_json()
    if as_json:
        print_json(data)
    else:
        _line(
            f"peer {peer.name} added: {peer.direction} with {peer.url} for "
            f"{len(peer.maps)} collection{'s' if len(peer.maps) != 1 else ''}, as "
            f"{peer.org}; allowed {', '.join(data['allow'])}")
    _note_missing_key(peer.key_ref)


def _line(text: str) -> None:
    """One line of text, never wrapped or marked up (URLs and ids stay whole)."""
    console().print(text, markup=False, highlight=False, soft_wrap=True)


def _note_missing_key(ref: str) -> None:
    kind, _, value = ref.partition(":")
    if kind == "env" and not os.environ.get(value):
        sys.stderr.write(f"note: {value} is not set in this shell; set it where "
                         "`kizuna serve` or `kizuna hub sync` runs\n")
    elif kind == "file" and not os.path.exists(value):
        sys.stderr.write(f"note: {value} does not exist yet; create it where the sync runs\n")


@peer_app.command("list")
def peer_list(ctx: typer.Context, store: StoreOption = None, as_json: JsonFlag = False) -> None:
    """Every peer with its URL, key reference, organisation and collections."""
    from kizuna.hub.federation.peers import list_peers

    with _hub(ctx, store) as hub:
        rows = [peer.to_json() for peer in list_peers(hub.store)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        _line(f"{row['name']}: {row['direction']} with {row['url']} as {row['org']}, key "
              f"{row['key_ref']}, allowed {','.join(row['allow'])}")
        for m in row["maps"]:
            _line(f"  {m['root']}/{m['local']} = {m['remote']}")
    if not rows:
        _line("no peers (add one with: kizuna hub peer add NAME --url URL --key-ref env:VAR "
              "--map LOCAL=REMOTE)")


@peer_app.command("remove")
def peer_remove(ctx: typer.Context,
                name: Annotated[str, typer.Argument(help="The peer's name")],
                store: StoreOption = None, as_json: JsonFlag = False) -> None:
    """Forget a peer and its cursors (what it brought stays)."""
    from kizuna.hub.federation.peers import remove_peer

    with _hub(ctx, store) as hub:
        peer = remove_peer(hub.store, ADMIN, name)
    if as_json:
        print_json(peer.to_json())
        return
    _line(f"peer {peer.name} removed")


@peer_app.command("status")
def peer_status(ctx: typer.Context,
                name: Annotated[str | None, typer.Argument(help="Only this peer")] = None,
                store: StoreOption = None, as_json: JsonFlag = False) -> None:
    """Per peer: last sync, cursors, objects in and out, withheld by marking, errors."""
    from kizuna.hub.federation import state as peer_state
    from kizuna.hub.federation.peers import list_peers, load_peer

    with _hub(ctx, store) as hub:
        peers = [load_peer(hub.store, name)] if name else list_peers(hub.store)
        rows = [peer_state.status_row(p, peer_state.load(hub.store, p.name)) for p in peers]
    if as_json:
        print_json(rows)
        return
    _print_status(rows)


def _print_status(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        ok = "never synced" if not row["last_sync"] else (
            "failed" if row["failing"] else "ok")
        withheld = "; ".join(f"{k} {v:,}" for k, v in sorted(row["withheld"].items()))
        _line(f"{row['name']} ({row['direction']} with {row['url']} as {row['org']}): last sync "
              f"{row['last_sync'] or '-'} {ok}; in {row['in']:,}, out {row['out']:,}, withheld "
              f"by marking {withheld or 'none'}, refused {row['refused_in']:,} in / "
              f"{row['refused_out']:,} out")
        for mapped in row["maps"]:
            _line(f"  {mapped['local']} = {mapped['remote']}: pull cursor "
                  f"{mapped['pull_cursor'] or 'start'}, push cursor "
                  f"{mapped['push_cursor'] or 'start'}")
        if row["last_error"]:
            error = row["last_error"]
            since = "" if row["failing"] else ", since resolved"
            _line(f"  last error ({error['at']}, {error['kind']}{since}): {error['reason']}")
        if row["refusals"]:
            last = row["refusals"][-1]
            _line(f"  last refused object ({'from' if last['direction'] == 'in' else 'by'} "
                  f"the peer): {last['id']} {last['reason']}")
    if not rows:
        _line("no peers")


def sync_command(
    ctx: typer.Context,
    peer: Annotated[list[str] | None, typer.Option(help="Only this peer (repeatable)")] = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Sync with the peers now: pull and push what is new since the saved cursors."""
    from kizuna.hub.federation.sync import sync_all

    with _hub(ctx, store) as hub:
        results = sync_all(hub, peer or None)
    if as_json:
        print_json([result.to_json() for result in results])
    else:
        for result in results:
            line = (f"{result.peer}: received {result.received:,} (refused {result.refused:,}), "
                    f"sent {result.sent:,} (refused by the peer {result.rejected:,}), withheld "
                    f"{result.withheld:,} by marking, {result.seconds:.1f} s")
            _line(line + (" - ok" if result.ok else " - FAILED"))
    failed = [result for result in results if not result.ok]
    for result in failed:
        sys.stderr.write(f"error: peer {result.peer}: {'; '.join(result.errors)}\n")
    if failed:
        raise typer.Exit(1)
