"""Compliance rule packs: the shipped packs, user rule files, and their verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.data.bundle import load_dataset
from kizuna.errors import InputError
from kizuna.exposure.compute import exposure
from kizuna.exposure.rules import evaluate, load_pack
from kizuna.products.model import Line, Product

DS = load_dataset()
PARTNERS = {"mining": {"AUS": 0.6, "CAN": 0.4}, "refining": {"JPN": 0.5, "FIN": 0.5}}


def battery(sourced: bool) -> Product:
    sourcing = PARTNERS if sourced else {}
    return Product("b", "battery", "1 kWh", 1.0, tuple(
        Line(m, kg, "cell", sourcing=sourcing)
        for m, kg in (("cobalt", 0.076), ("lithium", 0.092), ("nickel", 0.608),
                      ("graphite", 0.854), ("manganese", 0.071))
    ))


def test_eu_crma_fails_world_mix_stages_above_65_percent_and_names_them() -> None:
    verdict = evaluate(DS, load_pack("eu-crma"), exposure(DS, battery(False)))
    assert not verdict.passed
    failed = {(r["mineral"], r["stage"]) for r in verdict.results if not r["passed"]}
    assert ("graphite", "mining") in failed and ("cobalt", "mining") in failed
    graphite = next(r for r in verdict.results if (r["mineral"], r["stage"]) ==
                    ("graphite", "mining"))
    assert graphite["value"] > 0.65 and graphite["limit"] == 0.65
    assert "China (CHN)" in graphite["detail"] and "above" in graphite["detail"]
    assert "proxy" in load_pack("eu-crma").label


def test_partner_sourced_bom_passes_eu_crma() -> None:
    verdict = evaluate(DS, load_pack("eu-crma"), exposure(DS, battery(True)))
    assert verdict.passed, [r for r in verdict.results if not r["passed"]]
    assert all(r["value"] <= 0.65 for r in verdict.results)


def test_ira_30d_threshold_by_year_and_feoc_location_proxy() -> None:
    pack = load_pack("us-ira-30d")
    assert "Historical" in pack.label
    sourced = evaluate(DS, pack, exposure(DS, battery(True)), year=2025)
    assert sourced.passed
    share = next(r for r in sourced.results if r["rule"] == "30d-critical-minerals")
    assert share["value"] == pytest.approx(1.0) and share["limit"] == 0.6
    world = evaluate(DS, pack, exposure(DS, battery(False)), year=2023)
    feoc = [r for r in world.results if r["rule"] == "30d-feoc" and not r["passed"]]
    assert feoc and all("location proxy" in r["detail"] for r in feoc)
    assert next(r for r in world.results if r["rule"] == "30d-critical-minerals")["limit"] == 0.4


def test_feoc_uses_supplier_owners_when_the_bom_names_them() -> None:
    owned = Product("p", "p", "u", 1.0, (Line("cobalt", 1.0, "c", sourcing=PARTNERS,
                                              owners={"refining": "CHN"}),))
    verdict = evaluate(DS, load_pack("us-ira-30d"), exposure(DS, owned))
    refining = next(r for r in verdict.results
                    if r["rule"] == "30d-feoc" and r["stage"] == "refining")
    assert not refining["passed"] and "owned or controlled in CHN" in refining["detail"]


def test_user_rule_file(tmp_path: Path) -> None:
    path = tmp_path / "ours.yaml"
    path.write_text("""
id: ours
rules:
  - {id: no-chn, kind: exclude, countries: [CHN], stages: [refining]}
  - {id: two-sources, kind: min_sources, count: 2, minerals: [cobalt]}
  - {id: cap-concern, kind: max_share, who: "group:concern", limit: 0.5}
""")
    verdict = evaluate(DS, load_pack(str(path)), exposure(DS, battery(True)))
    assert verdict.passed
    kinds = {r["rule"] for r in verdict.results}
    assert kinds == {"no-chn", "two-sources", "cap-concern"}
    world = evaluate(DS, load_pack(str(path)), exposure(DS, battery(False)))
    assert any(r["rule"] == "no-chn" and not r["passed"] for r in world.results)


@pytest.mark.parametrize(("text", "message"), [
    ("rules: []", "non-empty 'rules'"),
    ("rules: [{kind: cap}]", "kind 'cap'"),
    ("rules: [{kind: max_share, who: CHN, limit: 2}]", "field limit"),
    ("rules: [{kind: min_sources, count: 0}]", "field count"),
    ("rules: [{kind: exclude}]", "field countries"),
    ("rules: [{kind: exclude, countries: [XYZ1]}]", "unknown country"),
    ("rules: [{kind: exclude, countries: [CHN], stages: [smelting]}]", "field stages"),
    ("rules: {", "not a readable YAML"),
])
def test_bad_rule_files_are_refused_with_the_file_and_field(tmp_path: Path, text: str,
                                                             message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as caught:
        load_pack(str(path))
    assert "bad.yaml" in caught.value.message


def test_unknown_pack() -> None:
    with pytest.raises(InputError, match="neither a shipped pack nor a file"):
        load_pack("eu-crmaa")
