"""``kizuna hub``: organisations, API keys, sharing groups, API roots, collections, audit.

A thin layer over :class:`kizuna.hub.contract.HubService`; the caller is the local
administrator (``Actor(org=None, admin=True)``). Every command takes ``--store`` and
``--json``; errors are one line on stderr, exit 1 (2 for bad arguments).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kizuna.cli.context import CliState, StoreOption
from kizuna.cli.hub_peer import peer_app, sync_command
from kizuna.cli.output import console, print_json, table
from kizuna.errors import UsageError
from kizuna.hub.contract import Actor, Tlp

if TYPE_CHECKING:
    from kizuna.hub.service import Hub

ADMIN = Actor(org=None, admin=True)

app = typer.Typer(help="The TAXII hub: organisations, keys, groups, API roots, collections.",
                  no_args_is_help=True)
org_app = typer.Typer(help="Partner organisations.", no_args_is_help=True)
key_app = typer.Typer(help="API keys (the secret is printed once, only its hash is kept).",
                      no_args_is_help=True)
group_app = typer.Typer(help="Sharing groups of organisations (TLP:AMBER audiences).",
                        no_args_is_help=True)
root_app = typer.Typer(help="TAXII API roots (served at /taxii2/NAME/).", no_args_is_help=True)
collection_app = typer.Typer(help="TAXII collections and who may read and write them.",
                             no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(key_app, name="key")
app.add_typer(group_app, name="group")
app.add_typer(root_app, name="root")
app.add_typer(collection_app, name="collection")
app.add_typer(peer_app, name="peer")
app.command("sync")(sync_command)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
Title = Annotated[str | None, typer.Option(help="Human-readable title")]


class Outcome(StrEnum):
    ok = "ok"
    denied = "denied"
    error = "error"


@contextmanager
def open_hub(ctx: typer.Context, store: str | None) -> Iterator[Hub]:
    """The hub on the configured store (or this command's ``--store``)."""
    from kizuna.hub.service import Hub

    state: CliState = ctx.obj
    settings = state.settings(store=store)
    with state.store(store) as opened:
        yield Hub(opened, node_name=settings.node_name)


def names(value: str | None, option: str) -> list[str]:
    """A comma-separated list of names; an empty item is a usage error."""
    if value is None:
        return []
    items = [item.strip() for item in value.split(",")]
    if not all(items):
        raise UsageError(f"{option} has an empty name in {value!r}",
                         hint="separate names with commas, e.g. tokyo-cert,london-ncsc",
                         option=option)
    return items


def record(item: Any) -> dict[str, Any]:
    """A contract dataclass as JSON-ready data (sets sorted, enums by name)."""
    data = dataclasses.asdict(item)
    for key, value in data.items():
        if isinstance(value, frozenset | set):
            data[key] = sorted(value)
        elif isinstance(value, Enum):
            data[key] = value.name
    return data


def show(rows: Sequence[dict[str, Any]], title: str, columns: Sequence[str]) -> None:
    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, list | tuple):
            return ",".join(str(item) for item in value)
        if isinstance(value, bool):
            return "yes" if value else ""
        return str(value)

    console().print(table(title, columns, [[cell(row.get(c)) for c in columns] for row in rows]))


# --------------------------------------------------------------------------- organisations


@org_app.command("add")
def org_add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Slug, e.g. tokyo-cert")],
            title: Title = None,
            identity: Annotated[str | None, typer.Option(
                help="An organisation of another node: the identity id it has there "
                     "(kizuna hub org list on that node), for federation")] = None,
            store: StoreOption = None, as_json: JsonFlag = False) -> None:
    """Add a partner organisation (with its STIX identity as producer)."""
    with open_hub(ctx, store) as hub:
        org = record(hub.add_org(ADMIN, name, title=title, identity_id=identity))
    if as_json:
        print_json(org)
        return
    console().print(f"added organisation {org['name']} ({org['identity_id']})")


@org_app.command("list")
def org_list(ctx: typer.Context, store: StoreOption = None, as_json: JsonFlag = False) -> None:
    """Every organisation."""
    with open_hub(ctx, store) as hub:
        rows = [record(org) for org in hub.orgs(ADMIN)]
    if as_json:
        print_json(rows)
        return
    show(rows, f"{len(rows)} organisations",
         ["name", "title", "identity_id", "created", "demo", "remote"])


# --------------------------------------------------------------------------- keys


@key_app.command("create")
def key_create(ctx: typer.Context,
               org: Annotated[str, typer.Option(help="Organisation the key acts for")],
               store: StoreOption = None, as_json: JsonFlag = False) -> None:
    """Create an API key; the secret is printed once and never stored."""
    with open_hub(ctx, store) as hub:
        secret, info = hub.create_key(ADMIN, org)
    if as_json:
        print_json({"org": info.org, "key": secret, "key_id": info.key_id})
        return
    out = console()
    out.print(f"API key {info.key_id} for {info.org} (shown once; store it now):")
    out.print(secret, markup=False, highlight=False)


@key_app.command("revoke")
def key_revoke(ctx: typer.Context,
               key_id: Annotated[str, typer.Argument(help="The key's public id, e.g. kz_7f3a9c")],
               store: StoreOption = None, as_json: JsonFlag = False) -> None:
    """Revoke an API key at once."""
    with open_hub(ctx, store) as hub:
        info = record(hub.revoke_key(ADMIN, key_id))
    if as_json:
        print_json(info)
        return
    console().print(f"revoked {info['key_id']} ({info['org']}) at {info['revoked']}")


@key_app.command("list")
def key_list(ctx: typer.Context,
             org: Annotated[str | None, typer.Option(help="Only this organisation's keys")] = None,
             store: StoreOption = None, as_json: JsonFlag = False) -> None:
    """API keys (ids, never secrets)."""
    with open_hub(ctx, store) as hub:
        rows = [record(key) for key in hub.keys(ADMIN, org)]
    if as_json:
        print_json(rows)
        return
    show(rows, f"{len(rows)} keys", ["key_id", "org", "created", "revoked", "demo"])


# --------------------------------------------------------------------------- groups, roots


@group_app.command("add")
def group_add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Group name")],
              orgs: Annotated[str, typer.Option(help="Member organisations: A,B,...")],
              store: StoreOption = None, as_json: JsonFlag = False) -> None:
    """Create a sharing group of organisations."""
    members = names(orgs, "--orgs")
    with open_hub(ctx, store) as hub:
        group = record(hub.add_group(ADMIN, name, members))
    if as_json:
        print_json(group)
        return
    console().print(f"sharing group {group['name']}: {', '.join(group['members'])}")


@root_app.command("add")
def root_add(ctx: typer.Context,
             name: Annotated[str, typer.Argument(help="URL segment under /taxii2/")],
             title: Title = None,
             description: Annotated[str, typer.Option(help="What the root is for")] = "",
             max_content_length: Annotated[
                 int, typer.Option(min=1024, help="Largest envelope (bytes) it accepts; the "
                                   "server's taxii_max_content_length also applies")
             ] = 10 * 1024 * 1024,
             store: StoreOption = None, as_json: JsonFlag = False) -> None:
    """Add a TAXII API root."""
    with open_hub(ctx, store) as hub:
        root = record(hub.add_root(ADMIN, name, title=title, description=description,
                                   max_content_length=max_content_length))
    if as_json:
        print_json(root)
        return
    console().print(f"API root {root['name']} at /taxii2/{root['name']}/")


# --------------------------------------------------------------------------- collections


def _uuid(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise UsageError(f"--id {value!r} is not a UUID",
                         hint="use a UUID such as 91a7b528-80eb-42ed-a74d-c6fbd5a26116",
                         option="--id") from None


@collection_app.command("add")
def collection_add(
    ctx: typer.Context,
    root: Annotated[str, typer.Option(help="API root name")],
    title: Annotated[str, typer.Option(help="Collection title")],
    collection_id: Annotated[
        str | None, typer.Option("--id", help="Keep this UUID (a moved or mirrored collection)")
    ] = None,
    read: Annotated[str | None, typer.Option(help="Organisations that may read: A,B")] = None,
    write: Annotated[str | None, typer.Option(help="Organisations that may write: A,B")] = None,
    group: Annotated[
        str | None, typer.Option(help="Sharing group for TLP:AMBER (default: the readers)")
    ] = None,
    description: Annotated[str, typer.Option(help="What the collection holds")] = "",
    default_tlp: Annotated[str, typer.Option(
        "--default-tlp",
        help="TLP of objects posted without a TLP marking: clear, green, amber, "
             "amber+strict or red (e.g. clear for public feeds such as ATT&CK)")] = "amber",
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a collection to an API root; prints its id."""
    readers, writers = names(read, "--read"), names(write, "--write")
    wanted = _uuid(collection_id)
    level = _tlp(default_tlp)
    with open_hub(ctx, store) as hub:
        made = record(hub.add_collection(ADMIN, root, title=title, id=wanted, readers=readers,
                                         writers=writers, sharing_group=group,
                                         description=description, default_tlp=level))
    if as_json:
        print_json(made)
        return
    console().print(f"collection {made['id']} ({made['title']}) in {made['root']}")


_TLP_NAMES = {"clear": Tlp.CLEAR, "white": Tlp.CLEAR, "green": Tlp.GREEN, "amber": Tlp.AMBER,
              "amber+strict": Tlp.AMBER_STRICT, "red": Tlp.RED}


def _tlp(value: str) -> Tlp:
    level = _TLP_NAMES.get(value.strip().lower().removeprefix("tlp:"))
    if level is None:
        raise UsageError(f"--default-tlp {value!r} is not a TLP level",
                         hint="use clear, green, amber, amber+strict or red",
                         option="--default-tlp")
    return level


@collection_app.command("list")
def collection_list(
    ctx: typer.Context,
    root: Annotated[str | None, typer.Option(help="Only this API root")] = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Collections with their readers, writers and sharing group."""
    with open_hub(ctx, store) as hub:
        rows = [record(item) for item in hub.list_collections(ADMIN, root)]
    if as_json:
        print_json(rows)
        return
    show(rows, f"{len(rows)} collections",
         ["id", "root", "title", "readers", "writers", "sharing_group", "default_tlp"])


def _change_access(ctx: typer.Context, root: str, collection_id: str, read: str | None,
                   write: str | None, store: str | None, as_json: bool, *, grant: bool) -> None:
    readers, writers = names(read, "--read"), names(write, "--write")
    if not readers and not writers:
        raise UsageError("name organisations with --read and/or --write", option="--read")
    change = ({"add_readers": readers, "add_writers": writers} if grant
              else {"remove_readers": readers, "remove_writers": writers})
    with open_hub(ctx, store) as hub:
        made = record(hub.change_access(ADMIN, root, collection_id, **change))
    if as_json:
        print_json(made)
        return
    console().print(f"collection {made['id']}: readers {', '.join(made['readers']) or '-'}; "
                    f"writers {', '.join(made['writers']) or '-'}")


CollectionArg = Annotated[str, typer.Argument(help="Collection id (kizuna hub collection list)")]
RootOption = Annotated[str, typer.Option(help="API root name")]
ReadOption = Annotated[str | None, typer.Option(help="Organisations to read: A,B")]
WriteOption = Annotated[str | None, typer.Option(help="Organisations to write: A,B")]


@collection_app.command("grant")
def collection_grant(
    ctx: typer.Context,
    collection_id: CollectionArg,
    root: RootOption,
    read: ReadOption = None,
    write: WriteOption = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Let more organisations read or write a collection (a partner who joins later reads
    what is already there, under the usual TLP rules)."""
    _change_access(ctx, root, collection_id, read, write, store, as_json, grant=True)


@collection_app.command("revoke")
def collection_revoke(
    ctx: typer.Context,
    collection_id: CollectionArg,
    root: RootOption,
    read: ReadOption = None,
    write: WriteOption = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Withdraw read or write rights on a collection."""
    _change_access(ctx, root, collection_id, read, write, store, as_json, grant=False)


# --------------------------------------------------------------------------- audit


@app.command("audit")
def audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Most recent N entries")] = 100,
    outcome: Annotated[Outcome | None, typer.Option(help="Only this outcome")] = None,
    since: Annotated[str | None, typer.Option(help="Only entries at or after this time")] = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The audit log: writes, key changes and denied requests (who, what, when, outcome)."""
    with open_hub(ctx, store) as hub:
        rows = [record(entry) for entry in hub.audit(
            ADMIN, limit=limit, since=since, outcome=None if outcome is None else outcome.value)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["detail"] = " ".join(f"{k}={v}" for k, v in sorted(row["detail"].items()))
    show(rows, f"{len(rows)} audit entries", ["at", "actor", "action", "target", "outcome",
                                              "detail"])
