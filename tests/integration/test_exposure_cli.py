"""``kizuna exposure``, ``kizuna comply`` and ``kizuna products`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clitools import kizuna

PARTNER_BOM = """product,component,mineral,quantity,unit,mining_mix,refining_mix,volume
Pack,cathode,cobalt,5.7,kg,AUS:0.5;CAN:0.5,FIN:0.6;JPN:0.4,100
Pack,cathode,nickel,45.6,kg,CAN:0.5;AUS:0.5,JPN:0.5;FIN:0.5,100
Pack,cathode,lithium,6.9,kg,AUS:0.6;CHL:0.4,CHL:0.5;USA:0.5,100
Pack,cathode,manganese,5.3,kg,AUS:0.5;GAB:0.5,JPN:0.5;USA:0.5,100
Pack,anode,graphite,64,kg,MOZ:0.5;CAN:0.5,JPN:0.6;USA:0.4,100
"""


def test_exposure_json_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kizuna(capsys, "exposure", "nmc811", "--volume", "75000", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert {"product", "volume", "year", "rows", "minerals"} <= set(doc)
    assert doc["product"] == "nmc811" and doc["volume"] == 75000
    assert {"mineral", "stage", "iso3", "tonnes", "share"} <= set(doc["rows"][0])
    summary = {(m["mineral"], m["stage"]): m for m in doc["minerals"]}
    assert {"mineral", "stage", "tonnes", "concern_share", "hhi", "top_iso3",
            "top_share"} <= set(next(iter(summary.values())))
    assert summary[("cobalt", "mining")]["top_iso3"] == "COD"
    assert summary[("graphite", "mining")]["top_iso3"] == "CHN"
    cobalt = sum(r["tonnes"] for r in doc["rows"] if r["mineral"] == "cobalt"
                 and r["stage"] == "mining")
    assert cobalt == pytest.approx(0.076 * 75000 / 1000, rel=0.05)


def test_comply_fails_with_exit_3_and_says_which_stages(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = kizuna(capsys, "comply", "nmc811", "--rules", "eu-crma", "--json")
    assert code == 3
    doc = json.loads(out)
    assert doc["passed"] is False
    failed = {(r["mineral"], r["stage"]) for r in doc["rules"] if not r["passed"]}
    assert ("graphite", "mining") in failed and ("cobalt", "mining") in failed
    assert all({"rule", "mineral", "stage", "passed", "value", "limit", "detail"} <= set(r)
               for r in doc["rules"])
    code, out, _ = kizuna(capsys, "comply", "nmc811", "--rules", "eu-crma")
    assert code == 3 and "FAIL" in out and "proxy" in out


def test_partner_sourced_bom_passes_and_writes_a_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bom = tmp_path / "pack.csv"
    bom.write_text(PARTNER_BOM)
    report = tmp_path / "report.html"
    code, out, err = kizuna(capsys, "comply", str(bom), "--rules", "eu-crma",
                            "--report", str(report))
    assert code == 0, out + err
    html = report.read_text()
    assert "Plotly.newPlot" in html and "all rules pass" in html
    assert "<script src=" not in html  # plotly.js is inlined: opens offline
    assert "Assumptions" in html


@pytest.mark.parametrize(("args", "message"), [
    (["exposure", "nmc812"], "nmc811"),
    (["exposure", "nmc811", "--perspective", "Atlantis"], "perspective"),
    (["exposure", "ndfeb-motor", "--param", "magnet_kg"], "NAME=VALUE"),
    (["comply", "nmc811", "--rules", "nope"], "neither a shipped pack"),
])
def test_bad_arguments_get_one_line(capsys: pytest.CaptureFixture[str], args: list[str],
                                    message: str) -> None:
    code, out, err = kizuna(capsys, *args)
    assert code in (1, 2)
    assert message in err and "Traceback" not in err
    assert out == ""


def test_bad_bom_names_file_row_and_column(capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    bom = tmp_path / "bad.csv"
    bom.write_text("product,component,mineral,quantity,unit\nX,c,cobalt,-1,kg\n")
    code, _, err = kizuna(capsys, "exposure", str(bom))
    assert code == 1
    assert "bad.csv" in err and "row 2" in err and "quantity" in err


def test_products_lists_the_templates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kizuna(capsys, "products", "--json")
    assert code == 0
    ids = {t["id"] for t in json.loads(out)}
    assert {"nmc811", "lfp", "ndfeb-motor", "wind-dd", "jet-engine", "fighter-ree"} <= ids
