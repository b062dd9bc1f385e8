"""The Partners page in a real browser: pick a mineral and stage, exclude a group, reweight."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def _ranked(page: Any) -> list[str]:
    return [str(code) for code in page.locator("#ranking tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.iso3)")]


def test_rank_refining_partners_without_the_countries_of_concern(
    page: Any, kizuna_serve: str, page_log: Any
) -> None:
    page.goto(kizuna_serve + "/")
    page.click("nav >> text=Partners")
    page.select_option("#mineral", "cobalt")
    page.select_option("#stage", "refining")
    page.check("#exclude-concern")
    page.click("#run")
    page.wait_for_selector("#partners-chart .main-svg", timeout=15_000)
    assert page.locator("#partners-chart .barlayer .trace").count() == 7  # one per factor
    assert "Cobalt — partners for refining" in (page.locator("#result-title").text_content()
                                                or "")
    ranked = _ranked(page)
    assert "CHN" not in ranked and "RUS" not in ranked and "FIN" in ranked
    legend = page.locator("#partners-chart .legendtext").all_text_contents()
    assert any("Governance" in text for text in legend)
    page.click("#ranking a[href='#detail-FIN']")
    detail = page.locator("#detail-FIN")
    detail.locator("summary").click()
    assert "iea-cmd-2025" in (detail.text_content() or "")
    page.wait_for_load_state("networkidle")
    assert page_log.external_requests() == []


def test_typing_weights_reorders_the_ranking(page: Any, kizuna_serve: str) -> None:
    page.goto(kizuna_serve + "/partners?mineral=cobalt&stage=mining")
    before = _ranked(page)
    for name in ("reserves", "production", "growth", "rp_years", "alignment", "refining_gap"):
        page.fill(f"#w_{name}", "0")
    page.fill("#w_governance", "100")
    page.click("#run")
    page.wait_for_selector("#ranking")
    after = _ranked(page)
    assert sorted(after) == sorted(before) and after != before
    assert after[0] == "AUS"  # best governance among the countries cobalt's data name
    assert page.locator("#w_governance").input_value() == "100"  # the form keeps what was typed


def test_an_unknown_country_to_exclude_is_explained_on_the_page(
    page: Any, kizuna_serve: str, page_log: Any
) -> None:
    page_log.allow_console_error("status of 400")
    page.goto(kizuna_serve + "/partners")
    page.fill("#countries", "Atlantis")
    page.click("#run")
    error = page.locator("#error").text_content() or ""
    assert "Atlantis" in error and "neither a country group nor a country" in error
    assert page.locator("#countries").input_value() == "Atlantis"
