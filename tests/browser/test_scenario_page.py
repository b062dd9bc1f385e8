"""The Scenarios page in a real browser: load a shipped scenario, edit it, run it, read it."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_run_a_shipped_scenario_and_see_the_charts_and_tables(
    page: Any, kizuna_serve: str, page_log: Any
) -> None:
    page.goto(kizuna_serve + "/scenarios?example=drc-cobalt-2025")
    assert "cobalt" in page.input_value("#text")
    page.fill("#draws", "2000")
    page.click("#run")
    page.wait_for_selector("#scenario-timeline .main-svg", timeout=30_000)
    assert page.locator(".js-plotly-plot").count() == 3
    rows = page.locator("#shortfalls tbody tr")
    assert rows.count() >= 1
    assert "cobalt" in (page.locator("#shortfalls").text_content() or "")
    assert "2,000 draws" in (page.locator("#result").text_content() or "")
    assert page.locator("#example").input_value() == "drc-cobalt-2025"  # the form stays
    page.wait_for_load_state("networkidle")
    assert page_log.external_requests() == []


def test_an_edited_scenario_with_a_mistake_gets_its_yaml_path_on_the_page(
    page: Any, kizuna_serve: str, page_log: Any
) -> None:
    page_log.allow_console_error("status of 400")  # the answer is a 400 page, on purpose
    page.goto(kizuna_serve + "/scenarios")
    text = page.input_value("#text")
    page.fill("#text", text.replace("probability:", "probability: 1.5 #", 1))
    page.click("#run")
    error = page.locator("#error").text_content() or ""
    assert "events[0].probability" in error and "1.5" in error
    assert page.locator("#scenario-timeline").count() == 0  # nothing was run
    assert "1.5" in page.input_value("#text")  # the edit is kept to fix
