"""The Products page in a real browser: upload a BOM, see the chart and the compliance table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

BOM = """product,component,mineral,quantity,unit,mining_mix,refining_mix,volume
Cell pack,cathode,cobalt,5.7,kg,AUS:0.5;CAN:0.5,FIN:0.6;JPN:0.4,1000
Cell pack,cathode,lithium,6.9,kg,AUS:0.6;CHL:0.4,CHL:0.5;USA:0.5,1000
Cell pack,anode,graphite,64,kg,MOZ:0.5;CAN:0.5,JPN:0.6;USA:0.4,1000
"""


def test_upload_a_bom_and_see_the_chart_and_the_compliance_table(
    page: Any, kizuna_serve: str, page_log: Any, tmp_path: Path
) -> None:
    bom = tmp_path / "pack.csv"
    bom.write_text(BOM)
    page.goto(kizuna_serve + "/exposure")
    page.set_input_files("#bom", str(bom))
    page.select_option("#rules", "eu-crma")
    page.click("#run")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15_000)
    assert page.locator(".js-plotly-plot .barlayer .point path").count() >= 3
    assert "Cell pack" in (page.locator("h2").first.text_content() or "")
    rows = page.locator("#compliance-table tbody tr")
    assert rows.count() >= 3
    assert page.locator("#compliance-table tr.fail").count() == 0  # partner-sourced: passes
    assert "all rules pass" in (page.locator("#compliance").text_content() or "")
    page.wait_for_load_state("networkidle")
    assert page_log.external_requests() == []


def test_template_at_the_world_mix_fails_the_crma_benchmark_on_the_page(
    page: Any, kizuna_serve: str
) -> None:
    page.goto(kizuna_serve + "/exposure")
    page.select_option("#template", "nmc811")
    page.fill("#volume", "75000")
    page.select_option("#rules", "eu-crma")
    page.click("#run")
    page.wait_for_selector("#compliance-table")
    failing = page.locator("#compliance-table tr.fail")
    assert failing.count() >= 2
    assert "CHN" in (page.locator("#compliance-table").text_content() or "")


def test_a_bad_bom_gets_the_error_on_the_page(page: Any, kizuna_serve: str, page_log: Any,
                                              tmp_path: Path) -> None:
    page_log.allow_console_error("status of 400")  # the answer is a 400 page, on purpose
    bad = tmp_path / "bad.csv"
    bad.write_text("product,component,mineral,quantity,unit\nX,c,unobtainium,1,kg\n")
    page.goto(kizuna_serve + "/exposure")
    page.set_input_files("#bom", str(bad))
    page.click("#run")
    error = page.locator("#error").text_content() or ""
    assert page.locator("#bom").count() == 1  # the form is still there to try again
    assert "bad.csv" in error and "row 2" in error and "mineral" in error
