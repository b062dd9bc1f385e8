"""The Sourcing page in a real browser: plan, see the frontier, the path and the plan drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_plan_a_transition_and_see_the_frontier_path_and_plan_charts(
    page: Any, kizuna_serve: str, page_log: Any
) -> None:
    page.goto(kizuna_serve + "/sourcing")
    page.select_option("#product", "nmc811")
    page.fill("#volume", "75000")
    page.select_option("#rules", "eu-crma")
    page.fill("#years", "2026-2028")
    page.fill("#frontier", "5")
    page.click("#run")
    page.wait_for_selector("#summary", timeout=30_000)
    assert "status optimal" in (page.locator("#summary").text_content() or "")
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3",
                           timeout=15_000)
    frontier = page.locator("#sourcing-frontier .scatterlayer .point")
    assert frontier.count() >= 5  # one marker per cap, plus the least-cost diamond
    assert page.locator("#sourcing-years .barlayer .point path").count() == 6  # 3 years x 2
    assert page.locator("#years-table tbody tr").count() == 3
    assert "crma-65 65%" not in (page.locator("#years-table").text_content() or "")
    assert page.locator("#plan-table tbody tr").count() >= 10
    page.wait_for_load_state("networkidle")
    assert page_log.external_requests() == []


def test_an_infeasible_plan_and_a_bad_supplier_file_answer_on_the_page(
    page: Any, kizuna_serve: str, page_log: Any, tmp_path: Path
) -> None:
    page.goto(kizuna_serve + "/sourcing")
    page.fill("#volume", "5e7")
    page.select_option("#rules", "eu-crma")
    page.fill("#frontier", "0")
    page.click("#run")
    page.wait_for_selector("#violations", timeout=30_000)
    assert "graphite refining: partner capacity" in (
        page.locator("#violations").text_content() or "")
    page_log.allow_console_error("status of 400")  # the next answer is a 400 page, on purpose
    bad = tmp_path / "suppliers.csv"
    bad.write_text("supplier,mineral,stage,country,capacity_t\nA,cobalt,refining,FIN,-1\n")
    page.set_input_files("#suppliers", str(bad))
    page.click("#run")
    error = page.locator("#error").text_content() or ""
    assert "suppliers.csv row 2, column 'capacity_t'" in error
    assert page.locator("#run").count() == 1
