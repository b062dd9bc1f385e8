"""``kizuna assets``: an organisation's register of critical assets, its exposure, and the
bridge to a supply scenario.

Like ``kizuna intel`` these act as the organisation whose API key is in ``KIZUNA_API_KEY``
(or ``--key-file``); a register is private to that organisation. ``kizuna scenario
from-assets`` is the same command as ``kizuna assets to-scenario``.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kizuna.cli.context import CliState, StoreOption
from kizuna.cli.intel import CollectionOption, JsonFlag, KeyFile, OrgCheck, acting
from kizuna.cli.output import console, print_json, table
from kizuna.errors import UsageError

if TYPE_CHECKING:
    from kizuna.intel.assets import AssetExposure

app = typer.Typer(help="Your organisation's asset register: import, exposure, and the bridge "
                  "to supply scenarios.", no_args_is_help=True)

AssetOption = Annotated[list[str] | None, typer.Option(
    "--asset", help="Asset id (repeatable) [default: every asset]")]


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The register, .csv or .xlsx")],
    sheet: Annotated[str | None, typer.Option(help="Excel sheet, if the workbook has several")
                     ] = None,
    merge: Annotated[bool, typer.Option(
        "--merge", help="Add and update the file's assets but keep the others [default: the "
        "file is the register]")] = False,
    key_file: KeyFile = None,
    org: OrgCheck = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a register file cell by cell and store it (all or nothing)."""
    from kizuna.intel.assets import read_register, save_register

    state: CliState = ctx.obj
    register = read_register(file, dataset=state.dataset(), sheet=sheet)
    with acting(ctx, store, key_file, org) as session:
        report = save_register(session.hub.store, session.actor, register, merge=merge,
                               imported_at=session.hub.clock().strftime("%Y-%m-%dT%H:%M:%SZ"))
    if as_json:
        print_json(report.to_json())
        return
    console().print(f"register of {report.org}: {report.assets} assets from {file.name} "
                    f"({report.created} new, {report.updated} changed, {report.unchanged} "
                    f"unchanged, {report.removed} removed)")


@app.command("list")
def list_command(
    ctx: typer.Context,
    key_file: KeyFile = None,
    org: OrgCheck = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The assets of your register."""
    from kizuna.intel.assets import load_assets, register_summary

    with acting(ctx, store, key_file, org) as session:
        assets = load_assets(session.hub.store, session.actor)
        summary = register_summary(session.hub.store, session.actor)
    if as_json:
        print_json({"register": summary, "assets": [a.to_json() for a in assets]})
        return
    rows = [[a.asset_id, a.name, a.kind, a.country, a.sector, a.mineral or "-", a.stage or "-",
             _capacity(a), a.part_of or "-",
             "; ".join(f"{s.vendor} {s.product} {s.version}".strip() for s in a.software) or "-"]
            for a in assets]
    title = f"{len(assets)} assets" + (f" (from {summary['source']}, {summary['imported_at']})"
                                       if summary else "")
    console().print(table(title, ["asset", "name", "kind", "country", "sector", "mineral",
                                  "stage", "capacity", "part of", "software"], rows))


def _capacity(asset: Any) -> str:
    if asset.capacity_share is not None:
        return f"{asset.capacity_share:.0%} of country"
    if asset.capacity_tonnes is not None:
        return f"{asset.capacity_tonnes:,.0f} t/yr"
    return "-"


def _exposures(session: Any, assets_wanted: list[str] | None,
               versions: Path | None, as_of: str | None,
               collection: list[str] | None) -> list[AssetExposure]:
    from kizuna.intel.assets import asset_exposure, load_assets, read_versions
    from kizuna.intel.assets.exposure import EXPOSURE_TYPES
    from kizuna.intel.hubread import pick_collections, read_objects

    day = _date(as_of)
    data = read_versions(versions) if versions is not None else None
    assets = load_assets(session.hub.store, session.actor)
    places = pick_collections(session.hub, session.actor, collection or [])
    objects = read_objects(session.hub, session.actor, EXPOSURE_TYPES, places)
    found = asset_exposure(assets, objects, versions=data, as_of=day)
    if assets_wanted:
        known = {item.asset.asset_id for item in found}
        for asset_id in assets_wanted:
            if asset_id not in known:
                raise UsageError(f"no asset {asset_id!r} in the register of {session.org}",
                                 hint="kizuna assets list shows them", option="--asset")
    return found


def _date(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of {text!r} is not a date (YYYY-MM-DD)",
                         option="--as-of") from None


@app.command("exposure")
def exposure_command(
    ctx: typer.Context,
    asset: AssetOption = None,
    versions: Annotated[Path | None, typer.Option(
        help="CSV of affected version ranges per CVE (KEV has none)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date for 'overdue' "
                                              "(YYYY-MM-DD) [default: today]")] = None,
    collection: CollectionOption = None,
    key_file: KeyFile = None,
    org: OrgCheck = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Per asset: KEV entries on its software, adversaries after its sector or country, and
    a score with its parts."""
    with acting(ctx, store, key_file, org) as session:
        found = _exposures(session, asset, versions, as_of, collection)
    if asset:
        found = [item for item in found if item.asset.asset_id in set(asset)]
    found.sort(key=lambda item: (-item.score.total, item.asset.asset_id))
    if as_json:
        from kizuna.intel.assets import WEIGHTS

        print_json({"weights": WEIGHTS, "assets": [item.to_json() for item in found]})
        return
    _print_exposure(found)


def _print_exposure(found: list[AssetExposure]) -> None:
    out = console()
    if not found:
        out.print("Your register is empty: import it with kizuna assets import FILE "
                  "(columns in docs/intel.md).")
        return
    rows = [[item.asset.asset_id, item.asset.name, item.asset.kind, item.asset.country,
             item.asset.sector, f"{item.score.total:g}", f"{item.score.kev:g}",
             f"{item.score.adversaries:g}", str(len(item.kev)),
             str(sum(f.ransomware for f in item.kev)), str(len(item.adversaries))]
            for item in found]
    out.print(table(f"Exposure of {len(found)} assets (score = KEV part + adversary part, "
                    "each capped at 50)", ["asset", "name", "kind", "country", "sector",
                                           "score", "KEV", "adversaries", "KEV entries",
                                           "ransomware", "adversary count"], rows))
    for item in found:
        if not item.kev and not item.adversaries:
            continue
        out.print(f"\n[bold]{item.asset.asset_id}[/bold] {item.asset.name}: score "
                  f"{item.score.total:g}")
        for f in item.kev:
            flags = [f"{f.match} match", f"version {f.version}", f"due {f.due_date}"]
            if f.ransomware:
                flags.append("RANSOMWARE known")
            if f.overdue:
                flags.append("past KEV due date")
            software = f"{f.software.vendor} {f.software.product} {f.software.version}".strip()
            out.print(f"  {f.cve} {f.kev_vendor} {f.kev_product} on {f.on_asset} ({software}): "
                      f"{', '.join(flags)} [+{f.points:g}]", markup=False)
        for a in item.adversaries:
            ident = f" {a.attack_id}" if a.attack_id else ""
            amb = " (ambiguous links only)" if a.ambiguous_only else ""
            out.print(f"  {a.name}{ident} targets the {' and '.join(a.reasons)}{amb} "
                      f"[+{a.points:g}]", markup=False)
    out.print("\nKEV has no version data: matches say 'version not assessed' unless --versions "
              "supplies ranges. Weights: docs/intel.md.")


@app.command("to-scenario")
def to_scenario_command(
    ctx: typer.Context,
    probability: Annotated[float, typer.Option(
        help="Chance the outage happens within the horizon (your estimate, 0-1)")],
    duration: Annotated[float, typer.Option(help="Outage length in days (your estimate)")],
    asset: AssetOption = None,
    start_day: Annotated[float, typer.Option("--start-day", help="Day of the horizon the "
                                             "outage starts")] = 0,
    horizon: Annotated[int, typer.Option(help="Scenario horizon in days")] = 365,
    out: Annotated[Path | None, typer.Option(help="Write the YAML here [default: stdout]")
                   ] = None,
    versions: Annotated[Path | None, typer.Option(help="Version ranges CSV (as for exposure)")
                        ] = None,
    collection: CollectionOption = None,
    key_file: KeyFile = None,
    org: OrgCheck = None,
    store: StoreOption = None,
) -> None:
    """Write a facility_outage scenario from your assets, with their exposure as evidence.

    Probability and duration are yours to give: Kizuna does not estimate them. Run the file
    with: kizuna scenario run FILE. Also available as kizuna scenario from-assets.
    """
    from kizuna.intel.assets import outage_scenario, register_summary

    state: CliState = ctx.obj
    with acting(ctx, store, key_file, org) as session:
        found = _exposures(session, asset, versions, None, collection)
        summary = register_summary(session.hub.store, session.actor) or {}
        text = outage_scenario(
            found, probability=probability, duration_days=duration, start_day=start_day,
            horizon_days=horizon, org=session.org, selected=asset or [],
            register=_register_text(summary), dataset=state.dataset())
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {out} ({error.strerror})", option="--out") from None
    console().print(f"wrote {out}; run it with: kizuna scenario run {out}")


def _register_text(summary: dict[str, Any]) -> str:
    if not summary:
        return ""
    return (f"{summary.get('source')} (sha256 {str(summary.get('sha256', ''))[:12]}..., "
            f"imported {summary.get('imported_at')})")
