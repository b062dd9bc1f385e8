"""The bridge from a threatened facility to a supply scenario (``facility_outage``).

``outage_scenario(exposures, probability=..., duration_days=...)`` writes the YAML of a
scenario for ``kizuna.scenarios`` (docs/scenarios.md): one ``facility_outage`` event per
facility, at the facility's country, mineral and stage, sized by the register's capacity —
``capacity_share`` as the share of the country's stage output, else ``capacity_tonnes`` as
a named facility's capacity. An IT/OT system stands for the facility it is ``part_of``.

What the tool must not invent, it does not: the probability and the duration are the
analyst's inputs (written as such in the file); a facility without a capacity in the
register is refused rather than sized by guess. The exposure findings (KEV entries on the
facility's software, adversaries after its sector or country, the score and its parts) go
into the file's ``description``, ``sources`` and ``notes`` as the stated evidence.

The text is checked by the scenario package's own parser before it is returned, so a file
this function writes always loads (``kizuna scenario run FILE``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import yaml

from kizuna.errors import InputError
from kizuna.intel.assets.exposure import WEIGHTS, AssetExposure, version_label
from kizuna.intel.assets.schema import Asset

if TYPE_CHECKING:
    from kizuna.data.bundle import Dataset

MAX_DURATION = 3650
MAX_EVIDENCE = 12  # KEV findings and adversaries listed per facility in sources


def _facility(item: AssetExposure, by_id: dict[str, AssetExposure]) -> AssetExposure:
    asset = item.asset
    if asset.kind == "it-ot-system":
        if asset.part_of is None or asset.part_of not in by_id:
            raise InputError(f"asset {asset.asset_id} is an IT/OT system that is part of no "
                             "facility", hint="set its part_of to the facility it runs, in "
                             "the register", field="asset", value=asset.asset_id)
        return by_id[asset.part_of]
    return item


def _check_facility(asset: Asset) -> None:
    if asset.mineral is None or asset.stage is None:
        raise InputError(f"asset {asset.asset_id} ({asset.kind}) has no mineral and stage, so "
                         "its outage cuts no modelled supply",
                         hint="give the facility's mineral, stage and capacity in the register",
                         field="asset", value=asset.asset_id)
    if asset.capacity_share is None and asset.capacity_tonnes is None:
        raise InputError(f"asset {asset.asset_id} has no capacity in the register; the size of "
                         "its outage would have to be invented",
                         hint="add capacity_tonnes or capacity_share (share of the country's "
                         "stage output) to the register", field="asset", value=asset.asset_id)


def _check_inputs(probability: float, duration_days: float, start_day: float,
                  horizon_days: int) -> None:
    if not 0 < probability <= 1:
        raise InputError(f"probability {probability:g} is outside (0, 1]",
                         hint="the chance the outage happens within the horizon, e.g. 0.1",
                         field="probability")
    if not 0 < duration_days <= MAX_DURATION:
        raise InputError(f"duration {duration_days:g} days is outside (0, {MAX_DURATION}]",
                         field="duration")
    if not 1 <= horizon_days <= MAX_DURATION:
        raise InputError(f"horizon {horizon_days} days is outside 1-{MAX_DURATION}",
                         field="horizon")
    if not 0 <= start_day < horizon_days:
        raise InputError(f"start day {start_day:g} is outside the horizon 0-{horizon_days - 1}",
                         field="start_day")


def _plain(value: float) -> float | int:
    """A whole number as an int, so the file says 21, not 21.0."""
    return int(value) if float(value).is_integer() else value


def _event(item: AssetExposure, source: AssetExposure, probability: float,
           duration_days: float, start_day: float, org: str) -> dict[str, Any]:
    asset = item.asset
    event: dict[str, Any] = {
        "kind": "facility_outage",
        "label": f"cyber outage at {asset.name} ({asset.asset_id})",
        "country": asset.country,
        "minerals": [asset.mineral],
        "stage": asset.stage,
        "cause": "cyber",
    }
    if asset.capacity_share is not None:
        event["share"] = asset.capacity_share
    else:
        event["facility"] = {"name": asset.name, "capacity_tonnes_per_year": asset.capacity_tonnes}
    event.update({"start_day": _plain(start_day), "duration_days": _plain(duration_days),
                  "probability": _plain(probability)})
    via = "" if source is item else f" via its IT/OT system {source.asset.asset_id}"
    event["source"] = (f"asset register of {org}: {asset.asset_id}{via}; exposure score "
                       f"{item.score.total:g}/100 (KEV {item.score.kev:g}, adversaries "
                       f"{item.score.adversaries:g})")
    event["note"] = ("probability and duration_days are the analyst's inputs, not estimated by "
                     "Kizuna; the size is the register's capacity")
    return event


def _evidence(item: AssetExposure) -> list[str]:
    lines = []
    for finding in item.kev[:MAX_EVIDENCE]:
        flags = [f"{finding.match} match", version_label(finding.version)]
        if finding.ransomware:
            flags.append("known ransomware use")
        flags.append(f"KEV due date {finding.due_date}")
        lines.append(f"CISA KEV {finding.cve} ({finding.kev_vendor} {finding.kev_product}) on "
                     f"{finding.on_asset} software {finding.software.vendor} "
                     f"{finding.software.product} {finding.software.version}".rstrip()
                     + ": " + ", ".join(flags))
    for adversary in item.adversaries[:MAX_EVIDENCE]:
        name = adversary.name + (f" ({adversary.attack_id})" if adversary.attack_id else "")
        claims = "; ".join(f"{c.kind} {c.text!r} from {c.source.origin} of {c.source.object_name}"
                           f" ({c.source.publisher}{', ambiguous link' if c.ambiguous else ''})"
                           for c in adversary.claims[:3])
        lines.append(f"Adversary {name} targets the asset's {' and '.join(adversary.reasons)}:"
                     f" {claims}")
    hidden = max(0, len(item.kev) - MAX_EVIDENCE) + max(0, len(item.adversaries) - MAX_EVIDENCE)
    if hidden:
        lines.append(f"... and {hidden} more findings (kizuna assets exposure --json)")
    return lines


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:80] or "assets"


def outage_scenario(exposures: Sequence[AssetExposure], *, probability: float,
                    duration_days: float, start_day: float = 0, horizon_days: int = 365,
                    org: str = "", selected: Sequence[str] = (), register: str = "",
                    dataset: Dataset | None = None, today: date | None = None) -> str:
    """The YAML text of a facility_outage scenario (see the module docstring).

    ``selected``: asset ids to include (a system stands for its facility); empty means every
    facility with a mineral, stage and capacity. ``dataset`` is used to check the text.
    """
    _check_inputs(probability, duration_days, start_day, horizon_days)
    by_id = {item.asset.asset_id: item for item in exposures}
    chosen: list[tuple[AssetExposure, AssetExposure]] = []
    if selected:
        for asset_id in selected:
            if asset_id not in by_id:
                raise InputError(f"no asset {asset_id!r} in the register", field="asset",
                                 value=asset_id, hint="list them with: kizuna assets list")
            facility = _facility(by_id[asset_id], by_id)
            _check_facility(facility.asset)
            chosen.append((facility, by_id[asset_id]))
    else:
        for item in exposures:
            asset = item.asset
            if asset.mineral and asset.stage and (asset.capacity_share is not None
                                                  or asset.capacity_tonnes is not None):
                chosen.append((item, item))
        if not chosen:
            raise InputError("no facility in the register has a mineral, stage and capacity",
                             hint="add them to the register, or pick one with --asset")
    unique = list({f.asset.asset_id: (f, s) for f, s in chosen}.values())
    text = _yaml(unique, probability, duration_days, start_day, horizon_days, org, register,
                 today or date.today())
    _validate(text, dataset)
    return text


def _yaml(chosen: list[tuple[AssetExposure, AssetExposure]], probability: float,
          duration_days: float, start_day: float, horizon_days: int, org: str, register: str,
          today: date) -> str:
    names = [facility.asset.name for facility, _ in chosen]
    ids = [facility.asset.asset_id for facility, _ in chosen]
    who = f" of {org}" if org else ""
    scenario: dict[str, Any] = {
        "id": _slug(f"cyber-outage-{'-'.join(ids)}"),
        "name": (f"cyber outage at {names[0]}" if len(names) == 1
                 else f"cyber outages at {len(names)} facilities{who}"),
        "description": (
            f"Written by kizuna assets to-scenario on {today.isoformat()} from the asset "
            f"register{who}. Each facility's outage is one event with probability "
            f"{probability:g} over the {horizon_days}-day horizon, lasting {duration_days:g} "
            "days: both figures are the analyst's inputs, not estimates. The evidence in "
            "sources is what Kizuna's exposure check found (KEV entries matched by vendor and "
            "product, adversaries claimed to target the sector or country); it says why the "
            "facility is threatened, not how likely an outage is."),
        "horizon_days": horizon_days,
        "events": [_event(f, s, probability, duration_days, start_day, org) for f, s in chosen],
        "sources": [],
        "notes": [
            "probability and duration_days are the analyst's inputs (kizuna assets to-scenario "
            "--probability --duration); Kizuna does not estimate them.",
            f"start_day {start_day:g}: the outage starts on that day of the horizon (an input).",
            "Exposure score weights: " + ", ".join(f"{k} {v:g}" for k, v in WEIGHTS.items()),
        ],
    }
    if register:
        scenario["sources"].append(f"asset register{who}: {register}")
    for facility, _source in chosen:
        asset = facility.asset
        scenario["notes"].append(
            f"{asset.asset_id} {asset.name}: exposure score {facility.score.total:g}/100 (KEV "
            f"{facility.score.kev:g}, adversaries {facility.score.adversaries:g}); capacity "
            + (f"{asset.capacity_share:g} of {asset.country}'s {asset.mineral} {asset.stage}"
               if asset.capacity_share is not None else
               f"{asset.capacity_tonnes:g} t/yr of {asset.mineral} ({asset.stage})")
            + " from the register")
        scenario["sources"].extend(f"{asset.asset_id}: {line}" for line in _evidence(facility))
    if not scenario["sources"]:
        del scenario["sources"]
    header = ("# A facility-outage scenario written by `kizuna assets to-scenario`.\n"
              "# probability and duration_days are the analyst's inputs; the sources are the\n"
              "# exposure findings they rest on. Run it: kizuna scenario run THIS_FILE\n")
    return header + yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, width=100)


def _validate(text: str, dataset: Dataset | None) -> None:
    from kizuna.scenarios import parse_scenario_text  # noqa: PLC0415 - loads the engine

    try:
        parse_scenario_text(text, origin="to-scenario.yaml", dataset=dataset)
    except InputError as error:
        raise InputError(f"the scenario would not load: {error.message}", hint=error.hint,
                         **{k: v for k, v in error.fields.items() if k != "hint"}) from None
