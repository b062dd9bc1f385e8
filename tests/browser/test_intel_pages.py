"""The threat-intelligence pages in Debian's chromium: the login, the adversaries' heatmap and
claims, the exposure chart, and the path from a facility to a run scenario."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from inteltools import seeded_store
from kizuna.settings import Settings
from kizuna.web.app import create_app
from servetools import serving


@pytest.fixture(scope="module")
def intel_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """A real uvicorn server on a store with the demo partners and the synthetic demo."""
    url, keys = seeded_store(tmp_path_factory.mktemp("intel-browser") / "k.db")
    with serving(create_app(Settings(store=url, demo=False)), "the intel test server") as base:
        yield base, keys


@pytest.fixture
def signed_in(page: Any, intel_server: tuple[str, dict]) -> tuple[Any, str]:
    """The harness's page (which fails on console errors and outside requests), signed in as
    tokyo-cert with its API key."""
    base, keys = intel_server
    page.set_extra_http_headers({"Authorization": f"Bearer {keys['tokyo-cert']}"})
    return page, base


def test_the_pages_are_behind_the_browsers_login(browser: Any, intel_server) -> None:
    base, keys = intel_server
    from playwright.sync_api import Error

    anonymous = browser.new_context()
    try:
        asked = anonymous.request.get(f"{base}/intel")
        assert asked.status == 401
        assert asked.headers["www-authenticate"].startswith("Basic ")
        with pytest.raises(Error, match="ERR_INVALID_AUTH_CREDENTIALS"):
            anonymous.new_page().goto(f"{base}/intel")  # headless: a login it cannot answer
    finally:
        anonymous.close()
    login = browser.new_context(http_credentials={"username": "analyst",
                                                  "password": keys["london-ncsc"]})
    try:
        page = login.new_page()
        response = page.goto(f"{base}/intel")
        assert response is not None and response.status == 200
        assert "Signed in as london-ncsc" in page.locator("#signed-in").inner_text()
    finally:
        login.close()


def test_adversaries_heatmap_filters_and_claim_sources(signed_in) -> None:
    page, base = signed_in
    page.goto(f"{base}/intel")
    page.wait_for_selector("#sector-sponsor .main-svg")  # Plotly drew the heatmap
    page.select_option("#sector", "mining")
    page.click("#apply")
    page.wait_for_url("**/intel?sector=mining**")
    rows = page.locator("#adversaries tr.adversary")
    assert rows.count() == 1
    assert "Copper Lynx (synthetic)" in rows.first.inner_text()
    page.locator("#adversaries details summary").first.click()
    claims = page.locator("#adversaries ul.claims").first.inner_text()
    assert "meta.cfr-target-category" in claims and "SYNTHETIC" in claims


def test_from_exposure_to_a_scenario_run(signed_in) -> None:
    page, base = signed_in
    page.goto(f"{base}/intel/assets")
    page.wait_for_selector("#exposure-scores .main-svg")
    assert "CVE-2099-0001" in page.locator("#asset-DEMO-REF-01").inner_text()
    page.click('#row-DEMO-REF-01 a.to-scenario')
    page.wait_for_selector("#estimates")
    page.fill("#probability", "0.1")
    page.fill("#duration", "21")
    page.click("#write")
    page.wait_for_selector("#preview")
    assert "cobalt" in page.locator("#shortfalls").inner_text()
    assert "probability: 0.1" in page.locator("#yaml").inner_text()
    page.click("#open-in-scenarios button")
    page.wait_for_selector("#result")
    assert "cobalt" in page.locator("#shortfalls").inner_text()
