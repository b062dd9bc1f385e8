"""``kizuna source plan``: JSON contract and exit codes."""

from __future__ import annotations

import json

import pytest

from clitools import kizuna


def test_plan_json_has_the_contract_fields_and_meets_demand(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kizuna(capsys, "source", "plan", "nmc811", "--volume", "75000", "--rules",
                          "eu-crma", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["status"] == "optimal" and doc["cost"] > 0 and doc["violations"] == []
    assert set(doc["plan"][0]) >= {"mineral", "stage", "iso3", "tonnes", "cost"}
    assert set(doc["paths"][0]) >= {"mineral", "mine_iso3", "refine_iso3", "tonnes"}
    cobalt = sum(p["tonnes"] for p in doc["paths"] if p["mineral"] == "cobalt")
    assert cobalt == pytest.approx(0.076 * 75)


def test_infeasible_plan_exits_3_with_one_line_per_conflict(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = kizuna(capsys, "source", "plan", "nmc811", "--volume", "5e7", "--rules",
                          "eu-crma")
    assert code == 3
    assert "infeasible: graphite refining: partner capacity" in err
    assert "Traceback" not in err


def test_unknown_product_is_one_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = kizuna(capsys, "source", "plan", "no-such-product")
    assert code == 1 and len(err.strip().splitlines()) <= 2 and "Traceback" not in err


def test_frontier_json_lists_points(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = kizuna(capsys, "source", "plan", "nmc811", "--volume", "75000", "--rules",
                          "eu-crma", "--frontier", "3", "--json")
    assert code == 0
    assert [set(p) >= {"risk_cap", "cost", "risk"} for p in json.loads(out)["frontier"]] == [
        True] * 3
