"""``kizuna intel match`` and ``kizuna intel export``: indicators against telemetry, sightings
shared back, and the files defenders load.

Registered onto the ``kizuna intel`` app by :func:`register`. Like the other intel commands
these act as an organisation of the hub (its key from ``KIZUNA_API_KEY`` or ``--key-file``);
``match --indicators FILE`` without ``--push`` needs no hub at all.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from kizuna.cli.context import StoreOption
from kizuna.cli.output import console, print_json, table
from kizuna.errors import InputError, UsageError
from kizuna.hub.contract import Actor

if TYPE_CHECKING:
    from kizuna.cli.intel import Session
    from kizuna.intel.matcher import MatchReport
    from kizuna.intel.matcher.exports import Export

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
KeyFile = Annotated[Path | None, typer.Option(
    "--key-file", help="File holding the organisation's API key [default: env "
    "KIZUNA_API_KEY]")]
OrgCheck = Annotated[str | None, typer.Option(
    "--org", help="The organisation you mean to act as; must be the key's")]
ADMIN = Actor(None, admin=True)
SHOWN = 30


def register(app: typer.Typer) -> None:
    """Add ``match`` and ``export`` to the ``kizuna intel`` app."""
    app.command("match")(match_command)
    app.command("export")(export_command)


@contextmanager
def _session(ctx: typer.Context, store: str | None, key_file: Path | None,
             org: str | None) -> Iterator[Session]:
    from kizuna.cli.intel import acting

    with acting(ctx, store, key_file, org) as session:
        yield session


def _identity(session: Session) -> tuple[str, set[str]]:
    """The acting organisation's identity id, and every organisation's (the local CLI
    reads the hub's configuration, never intelligence, as its operator)."""
    orgs = session.hub.orgs(ADMIN)
    mine = next(o.identity_id for o in orgs if o.name == session.org)
    return mine, {o.identity_id for o in orgs}


def _bundle_objects(path: Path) -> list[dict[str, Any]]:
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        data = orjson.loads(raw)
    except OSError as error:
        raise InputError(f"cannot read {path} ({error.strerror})", field="indicators",
                         value=str(path)) from None
    except (orjson.JSONDecodeError, gzip.BadGzipFile) as error:
        raise InputError(f"{path} is not a JSON STIX bundle ({error})", field="indicators",
                         value=str(path)) from None
    objects = data.get("objects") if isinstance(data, dict) else data
    if not isinstance(objects, list):
        raise InputError(f"{path} has no objects list", hint="give a STIX bundle or a JSON "
                         "list of objects", field="indicators", value=str(path))
    return [obj for obj in objects if isinstance(obj, dict)]


def _progress(total: int, quiet: bool) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    out = Console(stderr=True)
    bar = Progress(TextColumn("matching"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TimeRemainingColumn(), console=out, transient=True,
                   disable=quiet or not out.is_terminal)
    bar.add_task("matching", total=total)
    return bar


def match_command(
    ctx: typer.Context,
    logs: Annotated[list[Path], typer.Argument(help="Telemetry files (Zeek TSV or JSON logs, "
                                               "JSON lines, CSV)")],
    fmt: Annotated[str, typer.Option("--format", help="zeek, jsonl or csv")] = "zeek",
    collection: Annotated[str | None, typer.Option(
        help="Match the indicators of this hub collection (id or title)")] = None,
    indicators: Annotated[Path | None, typer.Option(
        help="Match the indicators of this STIX bundle file instead")] = None,
    field_map: Annotated[list[str] | None, typer.Option(
        "--field-map", help="COLUMN=FIELD,... for jsonl/csv (columns: ts, src_ip, dst_ip, "
        "src_port, dst_port, protocol, domain, url, email, md5, sha1, sha256); overrides "
        "Zeek's")] = None,
    push: Annotated[bool, typer.Option(
        "--push", help="Post the sightings to the hub as your organisation")] = False,
    push_to: Annotated[str | None, typer.Option(
        "--push-to", help="Collection for the sightings [default: --collection, or the one "
        "you can write]")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address to spread the files over")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Dask workers on this machine (or threads with neither option)")] = None,
    key_file: KeyFile = None,
    org: OrgCheck = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Match indicators against telemetry; report (and --push) STIX sightings."""
    from kizuna.intel.matcher import build_lookup, parse_field_map, plan_files, scan

    if (collection is None) == (indicators is None):
        raise UsageError("give exactly one of --collection and --indicators",
                         option="--collection")
    plans = plan_files(logs, fmt, parse_field_map(field_map or []))  # errors before any work
    source = indicators
    objects: list[dict[str, Any]] = [] if source is None else _bundle_objects(source)
    needs_hub = collection is not None or push
    with _maybe_session(ctx, store, key_file, org, needs_hub) as session:
        if collection is not None and session is not None:
            from kizuna.intel.hubread import pick_collections, read_objects

            places = pick_collections(session.hub, session.actor, [collection])
            objects = read_objects(session.hub, session.actor, ["indicator"], places)
        lookup = build_lookup(objects)
        total = sum(p.size - p.data_start for p in plans)
        with _progress(total, as_json) as bar:
            task = bar.task_ids[0]
            report = scan(plans, lookup, scheduler=scheduler or ("local" if workers else None),
                          workers=workers, progress=lambda n: bar.advance(task, n))
        pushed = None
        if push and session is not None:
            pushed = _push(session, report, objects, push_to or collection)
    if as_json:
        body = report.to_json()
        if pushed is not None:
            body["pushed"] = pushed
        print_json(body)
        return
    _print_report(report, pushed)


@contextmanager
def _maybe_session(ctx: typer.Context, store: str | None, key_file: Path | None,
                   org: str | None, needed: bool) -> Iterator[Session | None]:
    if not needed:
        yield None
        return
    with _session(ctx, store, key_file, org) as session:
        yield session


def _push(session: Session, report: MatchReport, objects: list[dict[str, Any]],
          wanted: str | None) -> dict[str, Any]:
    from kizuna.cli.intel import _writable
    from kizuna.intel.matcher.sightings import push_sightings, sightings_for

    place = _writable(session, wanted)
    mine, organisations = _identity(session)
    created = session.hub.clock().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    by_id = {str(o.get("id")): o for o in objects if o.get("type") == "indicator"}
    sightings = sightings_for(report, by_id, where_sighted=mine, created=created,
                              organisations=organisations, reporter=session.org)
    markings = [o for o in objects if o.get("type") == "marking-definition"]
    result = push_sightings(session.hub, session.actor, place.root, place.collection,
                            sightings, markings)
    body = result.to_json()
    body["title"] = place.title
    return body


def _print_report(report: MatchReport, pushed: dict[str, Any] | None) -> None:
    out = console()
    rate = report.events / report.seconds if report.seconds else 0.0
    out.print(f"{report.events:,} events in {len(report.files)} file(s) against "
              f"{report.indicators:,} indicators in {report.seconds:.2f} s ({rate:,.0f} "
              f"events/s): {len(report.matches):,} indicators sighted, {report.bad_lines:,} "
              "bad lines", markup=False, soft_wrap=True)
    if report.matches:
        rows = [[m.indicator_id, f"{m.count:,}", m.first_seen, m.last_seen]
                for m in report.matches[:SHOWN]]
        out.print(table("sightings", ["indicator", "events", "first seen", "last seen"], rows))
        if len(report.matches) > SHOWN:
            out.print(f"... and {len(report.matches) - SHOWN:,} more (--json lists all)")
    for item in report.unsupported[:SHOWN]:
        out.print(f"unsupported {item.indicator_id}: {item.reason}", markup=False, soft_wrap=True)
    if len(report.unsupported) > SHOWN:
        out.print(f"... {len(report.unsupported) - SHOWN:,} more unsupported (--json lists "
                  "all)")
    for bad in report.bad_examples[:SHOWN]:
        out.print(f"bad line {bad.file}:{bad.line}: {bad.reason}", markup=False, soft_wrap=True)
    if pushed is not None:
        out.print(f"pushed {pushed['posted']:,} sightings to {pushed['title']} "
                  f"({pushed['root']}/{pushed['collection']}): {pushed['stored']:,} stored, "
                  f"{len(pushed['failures'])} refused", markup=False, soft_wrap=True)
        for failure in pushed["failures"][:SHOWN]:
            out.print(f"  refused {failure.get('id')}: {failure.get('message')}",
                      markup=False, soft_wrap=True)


def export_command(
    ctx: typer.Context,
    collection: Annotated[str, typer.Option(help="Collection id or title to export")],
    fmt: Annotated[str, typer.Option("--format", help="zeek, suricata or csv")] = "zeek",
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for the files [default: print the one file; suricata needs a "
        "folder]")] = None,
    key_file: KeyFile = None,
    org: OrgCheck = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Export a collection's indicators as you may read them (never TLP:RED) for Zeek,
    Suricata or a spreadsheet."""
    from kizuna.intel.matcher.exports import EXPORT_FORMATS, export_indicators

    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt!r}", hint="use zeek, suricata or csv",
                         field="format", value=fmt)
    if fmt == "suricata" and out is None:
        raise UsageError("a Suricata export is several files: give --out FOLDER",
                         option="--out")
    if out is not None and not out.is_dir():
        raise InputError(f"--out {out} is not a folder", field="out", value=str(out))
    from kizuna.intel.hubread import pick_collections, read_objects

    with _session(ctx, store, key_file, org) as session:
        places = pick_collections(session.hub, session.actor, [collection])
        objects = read_objects(session.hub, session.actor, ["indicator"], places)
        source = f"kizuna:{places[0].title or places[0].collection}"
        export = export_indicators(objects, fmt, source=source, now=time.time())
    _write(export, out, as_json)


def _write(export: Export, out: Path | None, as_json: bool) -> None:
    if out is None:
        text = next(iter(export.files.values()))
        if as_json:
            print_json(export.to_json())
            return
        typer.echo(text, nl=False)
        if export.withheld:
            typer.echo(f"{len(export.withheld):,} indicators withheld (TLP:RED, expired, "
                       "unsupported or no form in this format); --json lists them", err=True)
        return
    for name, text in export.files.items():
        (out / name).write_text(text, encoding="utf-8")
    if as_json:
        body = export.to_json()
        body["folder"] = str(out)
        print_json(body)
        return
    shown = console()
    shown.print(f"{export.format}: {export.exported:,} indicators, {export.values:,} values "
                f"-> {', '.join(str(out / n) for n in sorted(export.files))}", markup=False,
                soft_wrap=True)
    for ident, reason in export.withheld[:SHOWN]:
        shown.print(f"withheld {ident}: {reason}", markup=False, soft_wrap=True)
    if len(export.withheld) > SHOWN:
        shown.print(f"... {len(export.withheld) - SHOWN:,} more withheld (--json lists all)")
