"""``kizuna source plan``: JSON contract, exit codes, years, CVaR, suppliers, report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from clitools import kizuna

PLAN_KEYS = {"mineral", "stage", "iso3", "tonnes", "cost"}
PATH_KEYS = {"mineral", "mine_iso3", "refine_iso3", "tonnes"}
SUPPLIERS = """supplier,mineral,stage,country,capacity_t,premium,owner,min_order_t,start_year
Nordic Cobalt,cobalt,refining,FIN,2,0.05,FIN,0.5,
Maple Anode,graphite,refining,CAN,30,0.0,CHN,,
Prairie Anode,graphite,refining,CAN,40,0.15,CAN,,2028
"""


def test_plan_json_has_the_contract_fields_and_meets_demand(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kizuna(capsys, "source", "plan", "nmc811", "--volume", "75000", "--rules",
                          "eu-crma", "--json")
    assert code == 0
    doc = json.loads(out)
    assert {"status", "cost", "plan", "paths", "frontier", "violations"} <= set(doc)
    assert "years" not in doc
    assert doc["status"] == "optimal" and doc["cost"] > 0 and doc["violations"] == []
    assert all(set(row) >= PLAN_KEYS for row in doc["plan"])
    assert all(set(row) >= PATH_KEYS for row in doc["paths"])
    keys = [(r["mineral"], r["stage"], r["iso3"]) for r in doc["plan"]]
    assert len(keys) == len(set(keys))  # one row per mineral, stage and country
    cobalt = sum(p["tonnes"] for p in doc["paths"] if p["mineral"] == "cobalt")
    assert cobalt == pytest.approx(0.076 * 75)
    assert sum(r["cost"] for r in doc["plan"]) == pytest.approx(doc["cost"])


def test_infeasible_plan_exits_3_with_one_line_per_conflict(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kizuna(capsys, "source", "plan", "nmc811", "--volume", "5e7", "--rules",
                            "eu-crma", "--json")
    assert code == 3
    assert json.loads(out)["status"] == "infeasible"
    assert re.search(r"infeasible: graphite refining: partner capacity [\d.]+ kt < demand "
                     r"[\d.]+ kt under crma-65", err)
    assert "Traceback" not in err


def test_a_time_limit_exits_4_and_is_not_called_infeasible(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = kizuna(capsys, "source", "plan", "nmc811", "--volume", "75000",
                            "--rules", "eu-crma", "--time-limit", "1e-9", "--json")
    assert code == 4
    assert json.loads(out)["status"] == "time_limit"
    assert err.startswith("time_limit: HiGHS stopped at the time limit")
    assert "infeasible:" not in err


def test_years_give_a_year_by_year_block_and_frontier_of_the_last_year(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kizuna(capsys, "source", "plan", "nmc811", "--volume", "75000", "--rules",
                          "eu-crma", "--years", "2026-2030", "--frontier", "3", "--json")
    assert code == 0
    doc = json.loads(out)
    years = doc["years"]
    assert [p["year"] for p in years["points"]] == [2026, 2027, 2028, 2029, 2030]
    limits = [p["limits"]["crma-65"] for p in years["points"]]
    assert limits == pytest.approx([0.93, 0.86, 0.79, 0.72, 0.65])
    for point in years["points"]:
        assert point["status"] == "optimal"
        assert all(set(row) >= PLAN_KEYS for row in point["plan"])
        assert point["cost"] >= point["cost_without_rules"] - 1e-6
    assert doc["cost"] == pytest.approx(years["points"][-1]["cost"])
    assert len(doc["frontier"]) == 3
    assert all(set(p) >= {"risk_cap", "cost", "risk"} for p in doc["frontier"])
    assert "peak" in years["curve"]["text"]


def test_cvar_over_scenario_draws_is_reported_and_can_be_the_objective(
        capsys: pytest.CaptureFixture[str]) -> None:
    common = ("source", "plan", "nmc811", "--volume", "75000", "--scenario",
              "china-graphite-anode-controls", "--draws", "2000", "--seed", "3", "--json")
    code, out, _ = kizuna(capsys, *common, "--risk", "proxy")
    assert code == 0
    cheapest = json.loads(out)
    assert cheapest["measure"] == "proxy" and cheapest["cvar"]["draws"] == 2000
    code, out, _ = kizuna(capsys, *common, "--risk-weight", "5")
    assert code == 0
    hedged = json.loads(out)
    assert hedged["measure"] == "cvar"
    assert cheapest["cvar"]["value"] > 1000  # Chinese anode graphite: the least-cost plan
    assert hedged["cvar"]["value"] < 0.5 * cheapest["cvar"]["value"]
    assert hedged["cost"] > cheapest["cost"]


def test_named_suppliers_are_planned_and_reported(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    file = tmp_path / "suppliers.csv"
    file.write_text(SUPPLIERS)
    code, out, _ = kizuna(capsys, "source", "plan", "nmc811", "--volume", "75000", "--rules",
                          "us-ira-30d", "--suppliers", str(file), "--json")
    assert code == 0
    doc = json.loads(out)
    named = {s["supplier"]: s for s in doc["suppliers"]}
    assert set(named) == {"Nordic Cobalt", "Maple Anode", "Prairie Anode"}
    assert named["Maple Anode"]["tonnes"] == pytest.approx(0)  # owned in CHN: 30d-feoc
    assert all(s["tonnes"] <= s["capacity_t"] + 1e-6 for s in named.values())


def test_report_is_a_self_contained_page_with_the_frontier_chart(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = tmp_path / "plan.html"
    code, _, _ = kizuna(capsys, "source", "plan", "nmc811", "--volume", "75000", "--rules",
                        "eu-crma", "--frontier", "4", "--years", "2026-2027", "--report",
                        str(report))
    assert code == 0
    page = report.read_text("utf-8")
    assert "Plotly.newPlot('frontier-chart'" in page and "Plotly.newPlot('years-chart'" in page
    assert "id='plan-table'" in page and "id='years-table'" in page
    assert not re.search(r"<script[^>]+src=", page)  # plotly.js inlined, nothing fetched


@pytest.mark.parametrize(("args", "field"), [
    (("no-such-product",), "no-such-product"),
    (("nmc811", "--years", "2030-2026"), "--years"),
    (("nmc811", "--risk", "cvar"), "--scenario"),
    (("nmc811", "--scenario", "drc-cobalt-2025", "--alpha", "1.5"), "alpha"),
    (("nmc811", "--suppliers", "MISSING.csv"), "supplier file"),
])
def test_bad_input_is_one_line_naming_the_field_exit_1(
        capsys: pytest.CaptureFixture[str], args: tuple[str, ...], field: str) -> None:
    code, _, err = kizuna(capsys, "source", "plan", *args)
    assert code == 1
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert field in err


def test_a_mineral_without_a_usgs_price_is_one_error_naming_prices(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bom = tmp_path / "lens.csv"
    bom.write_text("component,mineral,quantity,unit\nlens,fluorspar,2,kg\n")
    code, _, err = kizuna(capsys, "source", "plan", str(bom))
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "no price for fluorspar" in err and "prices" in err


def test_every_product_template_plans_with_the_bundled_prices(
        capsys: pytest.CaptureFixture[str]) -> None:
    for product in ("lfp", "ndfeb-motor", "wind-dd", "jet-engine"):  # iron ore, molybdenum
        code, out, err = kizuna(capsys, "source", "plan", product, "--json")
        assert code == 0, err
        assert json.loads(out)["status"] == "optimal"


def test_negative_supplier_capacity_names_row_and_column(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = tmp_path / "bad.csv"
    file.write_text("supplier,mineral,stage,country,capacity_t\nA,cobalt,refining,FIN,-3\n")
    code, _, err = kizuna(capsys, "source", "plan", "nmc811", "--suppliers", str(file))
    assert code == 1
    assert "bad.csv row 2, column 'capacity_t': '-3' is not tonnes >= 0" in err


def test_a_portfolio_plans_the_summed_demand(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("price_default: 5000\n")
    code, out, err = kizuna(capsys, "source", "plan", "nmc811:75000,ndfeb-motor:1000",
                            "--assumptions", str(prices), "--json")
    assert code == 0
    doc = json.loads(out)
    cobalt = sum(p["tonnes"] for p in doc["paths"] if p["mineral"] == "cobalt")
    neodymium = sum(p["tonnes"] for p in doc["paths"] if p["mineral"] == "neodymium")
    assert cobalt == pytest.approx(0.076 * 75)
    assert neodymium > 0 and any("rare-earths mix" in n for n in doc["notes"])
    assert "warning: not planned: boron" in err  # no supply data: listed, not infeasible
    code, _, err = kizuna(capsys, "source", "plan", "nmc811:75000,lfp:10", "--volume", "3")
    assert code == 2 and "apply to one product" in err
