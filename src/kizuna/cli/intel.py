"""``kizuna intel``: public feeds into hub collections, and who targets what.

These commands act as an organisation of the hub, never as the administrator (who reads no
intelligence, docs/access.md): its API key comes from ``KIZUNA_API_KEY`` or ``--key-file``
(never a command-line value, which other users could see). ``--org`` only checks that the
key is the one meant. Every reporting command has ``--json``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kizuna.cli.context import CliState, StoreOption
from kizuna.cli.intel_match import register as register_match_commands
from kizuna.cli.output import console, print_json, table
from kizuna.errors import InputError, UsageError
from kizuna.hub.contract import Actor

if TYPE_CHECKING:
    from kizuna.hub.service import Hub
    from kizuna.intel.feeds import Feed
    from kizuna.intel.picture import Adversary, Claim

KEY_ENV = "KIZUNA_API_KEY"

app = typer.Typer(help="Threat intelligence: import ATT&CK, KEV and the MISP galaxy; who "
                  "targets what.", no_args_is_help=True)
register_match_commands(app)  # match and export: kizuna/cli/intel_match.py

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
KeyFile = Annotated[Path | None, typer.Option(
    "--key-file", help=f"File holding the organisation's API key [default: env {KEY_ENV}]")]
OrgCheck = Annotated[str | None, typer.Option(
    "--org", help="The organisation you mean to act as; must be the key's")]
CollectionOption = Annotated[list[str] | None, typer.Option(
    "--collection", help="Collection id or title (repeatable) [default: every one you can "
    "read]")]


class Kind(StrEnum):
    attack = "attack"
    kev = "kev"
    galaxy = "galaxy"


class Basis(StrEnum):
    any = "any"
    cfr = "cfr"
    attributed = "attributed"


# --------------------------------------------------------------------------- acting as an org


def api_key(key_file: Path | None) -> str:
    """The API key from --key-file or KIZUNA_API_KEY; a usage error says how to get one."""
    if key_file is not None:
        try:
            secret = key_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise UsageError(f"cannot read the key file {key_file} ({error.strerror})",
                             option="--key-file") from None
        if not secret:
            raise UsageError(f"the key file {key_file} is empty", option="--key-file")
        return secret
    secret = os.environ.get(KEY_ENV, "").strip()
    if not secret:
        raise UsageError(
            "this command acts as an organisation of the hub and needs its API key",
            hint=f"set {KEY_ENV} to the key (kizuna hub key create --org NAME prints one; "
            "`kizuna intel demo` on an empty hub prints demo keys), or pass --key-file FILE",
            option="--key-file")
    return secret


@dataclass
class Session:
    """The hub and store of one command, and the organisation it acts as."""

    hub: Hub
    actor: Actor

    @property
    def org(self) -> str:
        assert self.actor.org is not None
        return self.actor.org


@contextmanager
def acting(ctx: typer.Context, store: str | None, key_file: Path | None,
           org: str | None = None) -> Iterator[Session]:
    """Open the hub and authenticate the organisation's key (``--org`` must agree)."""
    from kizuna.hub.service import Hub

    state: CliState = ctx.obj
    settings = state.settings(store=store)
    secret = api_key(key_file)
    with state.store(store) as opened:
        hub = Hub(opened, node_name=settings.node_name)
        actor = hub.authenticate(secret)
        if org is not None and org != actor.org:
            raise UsageError(f"--org {org} but the API key is {actor.org}'s",
                             hint="use that organisation's key, or drop --org", option="--org")
        yield Session(hub, actor)


def progress_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


# --------------------------------------------------------------------------- import


@app.command("import")
def import_command(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Argument(help="attack, kev or galaxy")],
    source: Annotated[str, typer.Argument(
        help="A path (.json or .json.gz; for galaxy the clusters folder or threat-actor.json), "
        "a URL, or 'official' (the publisher's URL; attack also takes ics, mobile, "
        "enterprise)")],
    collection: Annotated[str | None, typer.Option(
        help="Collection id or title to post to [default: the one you can write]")] = None,
    intrusion_sets: Annotated[str | None, typer.Option(
        "--intrusion-sets", help="galaxy: the MISP mitre-intrusion-set.json [default: beside "
        "threat-actor.json]")] = None,
    key_file: KeyFile = None,
    org: OrgCheck = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import a feed into a hub collection (idempotent; a newer release adds versions)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from kizuna.intel.feeds import import_feed, read_feed

    with acting(ctx, store, key_file, org) as session:
        place = _writable(session, collection)
        out = progress_console()
        with out.status(f"reading {kind.value} from {source} ..."):
            feed: Feed = read_feed(kind.value, source, intrusion_sets=intrusion_sets,
                                   now=session.hub.clock())
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=out, transient=True,
                      disable=as_json or not out.is_terminal) as bar:
            task = bar.add_task(f"posting {feed.release}", total=len(feed.objects))
            report = import_feed(session.hub, session.actor, place.root, place.collection,
                                 feed, progress=lambda n: bar.advance(task, n))
    if as_json:
        print_json(report.to_json())
        return
    _print_report(report, place.title)


def _writable(session: Session, wanted: str | None) -> Any:
    from kizuna.intel.hubread import pick_collections

    places = pick_collections(session.hub, session.actor, [wanted] if wanted else [],
                              right="can_write")
    if len(places) == 1:
        return places[0]
    if not places:
        raise InputError(f"{session.org} can write no collection",
                         hint="an administrator adds it as a writer: kizuna hub collection add "
                         f"--root ROOT --title Feeds --read {session.org} --write {session.org}")
    listed = ", ".join(f"{p.title!r} ({p.collection})" for p in places)
    raise UsageError(f"{session.org} can write {len(places)} collections: {listed}",
                     hint="choose one with --collection ID_OR_TITLE", option="--collection")


def _print_report(report: Any, title: str) -> None:
    out = console()
    out.print(f"{report.release} from {report.source} -> {title} ({report.root}/"
              f"{report.collection}) in {report.seconds:.2f} s")
    out.print(f"  {report.total:,} objects: {report.new_objects:,} new, {report.new_versions:,} "
              f"new versions, {report.unchanged:,} already stored, {report.failed:,} refused")
    out.print("  by type: " + ", ".join(f"{k} {v:,}" for k, v in report.counts.items()))
    for note in report.notes:
        out.print(f"  note: {note}", markup=False)
    for failure in report.failures:
        out.print(f"  refused {failure['id']}: {failure['message']}", markup=False)


# --------------------------------------------------------------------------- groups


def _claims_text(claims: list[Claim], *, codes: bool = True) -> str:
    shown = []
    for claim in claims:
        text = claim.value if codes and claim.value else claim.text
        shown.append(text + ("?" if claim.ambiguous else ""))
    return ", ".join(dict.fromkeys(shown))


def group_row(row: Adversary) -> list[str]:
    sponsors = row.of("cfr-sponsor")
    countries = row.of("attributed-country")
    sectors = [c for c in row.of("target-sector") if c.value]
    victims = row.of("victim")
    return [row.attack_id or "-", row.name, _claims_text(sponsors) or "-",
            _claims_text(countries) or "-", _claims_text(sectors) or "-",
            str(len({c.value or c.text for c in victims})), str(len(row.techniques)),
            ", ".join(dict.fromkeys(c.source.object_name for c in row.claims)) or "-"]


@app.command("groups")
def groups_command(
    ctx: typer.Context,
    sector: Annotated[str | None, typer.Option(help="A sector (energy, mining, ...) or a "
                                               "target category as the source spells it")] = None,
    sponsor: Annotated[str | None, typer.Option(help="ISO3 of a suspected sponsor or "
                                                "attributed country")] = None,
    sponsor_basis: Annotated[Basis, typer.Option(
        "--sponsor-basis", help="Which claim --sponsor matches: cfr (CFR-assessed sponsor), "
        "attributed (the galaxy's country), or any")] = Basis.any,
    victim: Annotated[str | None, typer.Option(help="ISO3 of a suspected victim country")] = None,
    no_ambiguous: Annotated[bool, typer.Option(
        "--no-ambiguous", help="Ignore claims that reach an ATT&CK group only through an "
        "ambiguous galaxy link")] = False,
    attack_only: Annotated[bool, typer.Option(
        "--attack-only", help="Only ATT&CK intrusion sets (not galaxy actors without one)")
    ] = False,
    collection: CollectionOption = None,
    key_file: KeyFile = None,
    org: OrgCheck = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Intrusion sets and actors with sponsor, target sectors, victims and techniques."""
    from kizuna.intel.hubread import pick_collections, read_objects
    from kizuna.intel.picture import PICTURE_TYPES, GroupFilter, filter_groups, threat_picture
    from kizuna.intel.sectors import sector_of

    spec = GroupFilter(
        sector=(sector_of(sector) or sector) if sector else None,
        sponsor=_iso3(sponsor, "--sponsor"), sponsor_basis=sponsor_basis.value,
        victim=_iso3(victim, "--victim"), include_ambiguous=not no_ambiguous,
        attack_only=attack_only)
    with acting(ctx, store, key_file, org) as session:
        places = pick_collections(session.hub, session.actor, collection or [])
        objects = read_objects(session.hub, session.actor, PICTURE_TYPES, places)
    rows = filter_groups(threat_picture(objects), spec)
    if as_json:
        print_json({"filters": spec.__dict__, "count": len(rows),
                    "claim_kinds": _claim_labels(), "groups": [r.to_json() for r in rows]})
        return
    columns = ["ATT&CK", "name", "CFR sponsor", "attributed", "sectors", "victims",
               "techniques", "sources (galaxy actors)"]
    console().print(table(f"{len(rows)} adversaries" + _filters_text(spec), columns,
                          [group_row(row) for row in rows]))
    if sector and sector_of(sector) is None:
        console().print(f"note: {sector!r} is not in the sector vocabulary (docs/intel.md); it "
                        "matched target categories spelled that way only", markup=False)
    console().print("CFR sponsor: the CFR Cyber Operations Tracker's suspected state sponsor; "
                    "attributed: the MISP galaxy's country. '?' = only through an ambiguous "
                    "galaxy link. kizuna intel group NAME shows each claim's source.")


def _claim_labels() -> dict[str, str]:
    from kizuna.intel.picture import CLAIM_LABELS

    return dict(CLAIM_LABELS)


def _filters_text(spec: Any) -> str:
    parts = [f"{name} {value}" for name, value in (("sector", spec.sector),
                                                   ("sponsor", spec.sponsor),
                                                   ("victim", spec.victim)) if value]
    return f" ({', '.join(parts)})" if parts else ""


def _iso3(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    from kizuna.model.countries import to_iso3

    try:
        return to_iso3(value)
    except InputError as error:
        raise UsageError(f"{option}: {error.message}", hint=error.hint, option=option) from None


@app.command("group")
def group_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="ATT&CK id (G0034), name, alias or STIX id")],
    collection: CollectionOption = None,
    key_file: KeyFile = None,
    org: OrgCheck = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """One adversary with every claim, its source object, field and link."""
    from kizuna.errors import NotFoundError
    from kizuna.intel.hubread import pick_collections, read_objects
    from kizuna.intel.picture import CLAIM_LABELS, PICTURE_TYPES, threat_picture

    with acting(ctx, store, key_file, org) as session:
        places = pick_collections(session.hub, session.actor, collection or [])
        objects = read_objects(session.hub, session.actor, PICTURE_TYPES, places)
    wanted = name.casefold()
    rows = [r for r in threat_picture(objects)
            if wanted in {r.id.casefold(), (r.attack_id or "").casefold(), r.name.casefold(),
                          *(a.casefold() for a in r.aliases)}]
    if not rows:
        raise NotFoundError(f"no adversary {name!r} among the objects you can read",
                            hint="kizuna intel groups lists them", field="name", value=name)
    if as_json:
        print_json([row.to_json() for row in rows])
        return
    out = console()
    for row in rows:
        out.print(f"[bold]{row.name}[/bold] {row.attack_id or ''} ({row.kind}, {row.id})")
        for link in row.links:
            state = "" if link.imported else " (not among the objects you can read)"
            out.print(f"  linked: {link.actor_name} -> {link.attack_id} {link.attack_name}: "
                      f"{link.basis}{', AMBIGUOUS' if link.ambiguous else ''}{state}",
                      markup=False)
        for claim in row.claims:
            via = (f" via {claim.source.via.basis} link {claim.source.via.relationship}"
                   f"{' (ambiguous)' if claim.source.via.ambiguous else ''}"
                   if claim.source.via else "")
            out.print(f"  {CLAIM_LABELS[claim.kind]}: {claim.text}"
                      f"{' = ' + claim.value if claim.value else ''} — {claim.source.origin} "
                      f"of {claim.source.object_name} ({claim.source.publisher}){via}",
                      markup=False)
        for technique in row.techniques:
            out.print(f"  uses {technique.attack_id or ''} {technique.name} "
                      f"({technique.relationship})", markup=False)


# --------------------------------------------------------------------------- demo


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    collection: Annotated[str | None, typer.Option(
        help="Collection id or title to load into [default: the one you can write]")] = None,
    key_file: KeyFile = None,
    store: StoreOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Load the SYNTHETIC demo: threat bundle into a shared collection, asset register.

    On an empty hub it first creates the two demo partners (keys printed once, marked DEMO)
    and loads the demo as tokyo-cert; otherwise it loads it as the organisation of your key.
    """
    from kizuna.hub.demo import seed_demo
    from kizuna.hub.service import Hub
    from kizuna.intel.demo import load_demo

    state: CliState = ctx.obj
    settings = state.settings(store=store)
    seeded: dict[str, Any] | None = None
    with state.store(store) as opened:
        hub = Hub(opened, node_name=settings.node_name)
        if not hub.orgs(Actor(None, admin=True)) and key_file is None and not os.environ.get(
                KEY_ENV):
            seeded = seed_demo(hub)
            actor = hub.authenticate(seeded["keys"]["tokyo-cert"])
        else:
            actor = hub.authenticate(api_key(key_file))
        session = Session(hub, actor)
        place = _writable(session, collection)
        loaded = load_demo(hub, actor, place.root, place.collection, opened,
                           dataset=state.dataset(), imported_at=_now(hub))
    result = {"org": actor.org, "collection": place.collection, "root": place.root,
              "bundle": loaded.bundle.to_json(), "register": loaded.register.to_json(),
              "keys": seeded["keys"] if seeded else {}}
    if as_json:
        print_json(result)
        return
    out = console()
    if seeded:
        out.print("DEMO: the hub was empty, so two demo partners were created. DEMO keys "
                  "(shown only now; for trying Kizuna, never for real intelligence):")
        for name, key in seeded["keys"].items():
            out.print(f"  DEMO {name}  {key}", markup=False, highlight=False)
        out.print(f"Use one: export {KEY_ENV}=<the tokyo-cert key above>")
    out.print(f"SYNTHETIC demo loaded as {actor.org}: {loaded.bundle.new_objects} new objects in "
              f"{place.title!r}, {loaded.register.assets} assets in its register. Made-up data, "
              "labelled synthetic.")


def _now(hub: Hub) -> str:
    return hub.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
