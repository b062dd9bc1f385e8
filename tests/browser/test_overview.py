"""The overview page and the mineral pages in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_kizuna_serve_overview_shows_the_table_and_a_rendered_chart_offline(
    page: Any, kizuna_serve: str, page_log: Any
) -> None:
    """The issue's acceptance test: the overview from a running `kizuna serve` command."""
    page.goto(kizuna_serve + "/")
    rows = page.locator("#concentration tbody tr")
    assert rows.count() > 1
    assert page.locator('#concentration tr[data-mineral="rare-earths"]').count() == 1
    first_header = page.locator("#concentration thead th").first.text_content() or ""
    assert first_header.strip() == "Mineral"
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15_000)
    assert page.locator(".js-plotly-plot .barlayer .point path").count() >= 2
    page.wait_for_load_state("networkidle")
    assert any(url.endswith("/static/vendor/plotly.min.js") for url in page_log.requests)
    assert page_log.external_requests() == []


def test_overview_draws_plotly_bar_charts_for_mining_and_refining(
    page: Any, kizuna_serve: str
) -> None:
    page.goto(kizuna_serve + "/")
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15_000)
    charts = page.locator(".js-plotly-plot")
    assert charts.count() == 2
    for index in range(2):
        bars = charts.nth(index).locator(".barlayer .point path")
        assert bars.count() >= 2
    labels = [charts.nth(i).get_attribute("aria-label") or "" for i in range(2)]
    assert all(label.startswith("Bar chart of Rare earths") for label in labels)
    assert all("China" in label for label in labels)
    captions = page.locator(".chart-meta").all_inner_texts()
    assert "estimate" in captions[0]
    assert "not tonnages" in captions[1]


def test_table_columns_sort_when_their_heading_is_clicked(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.locator("#concentration button.sort", has_text="Mineral").click()
    names = page.locator("#concentration tbody th").all_inner_texts()
    assert names == sorted(names, key=str.lower)
    header = page.locator("#concentration thead th").first
    assert header.get_attribute("aria-sort") == "ascending"


def test_mineral_link_opens_the_mineral_page_with_a_chart(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.locator('#concentration tr[data-mineral="rare-earths"] a').click()
    page.wait_for_url("**/minerals/rare-earths")
    assert page.locator("h1").inner_text() == "Rare earths"
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=15_000)
    assert page.locator("table.data.compact tbody tr").count() > 1


def test_pages_and_api_docs_request_nothing_outside_localhost(
    page: Any, live_server: str, page_log: Any
) -> None:
    for path in ("/", "/minerals", "/minerals/rare-earths", "/docs"):
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
    assert any(url.endswith("/static/vendor/plotly.min.js") for url in page_log.requests)
    assert page_log.external_requests() == []


def test_unknown_mineral_shows_an_error_page_with_suggestions(
    page: Any, live_server: str, page_log: Any
) -> None:
    page_log.allow_console_error("404")
    response = page.goto(live_server + "/minerals/rare-erths")
    assert response is not None and response.status == 404
    assert "rare-erths" in page.locator("h1").inner_text()
    assert "rare-earths" in page.locator(".hint").inner_text()


def test_refining_table_flags_low_coverage_and_states_the_wgi_terms(
    page: Any, live_server: str
) -> None:
    page.goto(live_server + "/?stage=refining")
    neon = page.locator('#concentration tr[data-mineral="neon"]')
    assert neon.get_attribute("class") == "low-coverage"
    assert neon.locator(".flag.warn").is_visible()
    method = page.locator("#hhi-wgi-method").inner_text()
    assert "Worldwide Governance Indicators" in method
    assert "0–100,000" in method
    scroll = page.locator(".table-scroll").first
    width = scroll.evaluate("el => el.scrollWidth - el.clientWidth")
    assert width <= 4, f"the concentration table overflows its box by {width}px at 1280px"
