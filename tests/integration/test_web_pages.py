"""The HTML pages, docs and vendored assets in process (the browser tests drive them for real)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from kizuna.settings import Settings
from kizuna.web.app import create_app
from kizuna.web.client import WebClient

EXTERNAL_URL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def client() -> Iterator[WebClient]:
    with WebClient(create_app(Settings(store="memory://"))) as web:
        yield web


def test_create_app_builds_a_new_app_each_call() -> None:
    settings = Settings(store="memory://")
    assert create_app(settings) is not create_app(settings)


def test_overview_shows_rare_earth_charts_and_the_concentration_table(client: WebClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert 'id="concentration"' in html
    assert 'href="/minerals/rare-earths"' in html
    assert html.count('class="plot"') == 2
    assert "/static/vendor/plotly.min.js" in html
    assert not EXTERNAL_URL.search(html)


def test_overview_takes_stage_and_group_from_the_query(client: WebClient) -> None:
    response = client.get("/", params={"stage": "refining", "group": "concern"})
    assert response.status_code == 200
    assert '<option value="refining" selected>' in response.text


def test_overview_with_a_bad_stage_is_an_error_page(client: WebClient) -> None:
    response = client.get("/", params={"stage": "smelting"})
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert "smelting" in response.text


def test_mineral_page_says_plainly_when_a_stage_has_no_data(client: WebClient) -> None:
    response = client.get("/minerals/germanium")
    assert response.status_code == 200
    assert 'class="missing"' in response.text
    assert "germanium" in response.text.lower()


def test_mineral_page_has_a_country_table_and_chart(client: WebClient) -> None:
    html = client.get("/minerals/rare-earths").text
    assert "<th scope=\"col\">Country</th>" in html
    assert 'role="img"' in html


def test_unknown_mineral_page_is_404_with_suggestions(client: WebClient) -> None:
    response = client.get("/minerals/rare-erths")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "rare-earths" in response.text


def test_minerals_index_links_every_mineral(client: WebClient) -> None:
    html = client.get("/minerals").text
    assert 'href="/minerals/rare-earths"' in html


def test_plotly_js_is_served_locally_with_caching_headers(client: WebClient) -> None:
    response = client.get("/static/vendor/plotly.min.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "max-age" in response.headers["cache-control"]
    assert len(response.content) > 1_000_000


def test_unknown_vendor_asset_is_404(client: WebClient) -> None:
    assert client.get("/static/vendor/jquery.js").status_code == 404


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_reference_no_external_urls(client: WebClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert not EXTERNAL_URL.search(response.text)
    assert "cdn" not in response.text.lower()
    for asset in re.findall(r"""(?:src|href)=["']([^"']+)["']""", response.text):
        assert client.get(asset).status_code == 200, asset


def test_openapi_lists_the_api_routes_but_not_the_pages(client: WebClient) -> None:
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {"/api/minerals", "/api/minerals/{mineral}", "/api/concentration", "/healthz"} <= paths
    assert "/" not in paths


def test_own_static_files_are_served(client: WebClient) -> None:
    assert client.get("/static/kizuna.css").status_code == 200
    assert client.get("/static/kizuna.js").status_code == 200
