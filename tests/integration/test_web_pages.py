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


def _text(html: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("path", ["/minerals/cobalt?stage=x", "/?stage=x"])
def test_an_unknown_stage_is_a_400_page_naming_the_stages(client: WebClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    text = _text(response.text)
    assert "unknown stage 'x'" in text.replace("&#39;", "'")
    assert "use one of: mining, refining" in text


def test_a_year_no_stage_has_is_a_404_page_naming_each_stages_years(client: WebClient) -> None:
    response = client.get("/minerals/cobalt", params={"year": 1850})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    text = _text(response.text)
    assert "no data for cobalt in 1850" in text
    assert "mining: years available: 2024, 2025" in text
    assert "refining: years available: 2024" in text


def test_a_year_the_asked_stage_lacks_is_the_librarys_404(client: WebClient) -> None:
    response = client.get("/minerals/cobalt", params={"stage": "refining", "year": 1850})
    assert response.status_code == 404
    assert "no refining data for cobalt in 1850" in response.text
    assert "years available: 2024" in response.text


def test_overview_with_an_unavailable_year_is_a_404_naming_the_years(client: WebClient) -> None:
    response = client.get("/", params={"year": 1850})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "1850" in response.text
    assert "years available: " in response.text


def test_a_year_one_stage_has_shows_that_stage_and_says_the_other_has_none(
    client: WebClient,
) -> None:
    response = client.get("/minerals/cobalt", params={"year": 2025})
    assert response.status_code == 200
    assert response.text.count('class="plot"') == 1
    assert "no refining data for cobalt in 2025" in response.text


def test_the_stage_parameter_shows_only_that_stage(client: WebClient) -> None:
    html = client.get("/minerals/cobalt", params={"stage": "refining"}).text
    assert 'id="stage-refining"' in html
    assert 'id="stage-mining"' not in html


@pytest.mark.parametrize("path", ["/", "/minerals/rare-earths"])
def test_pages_state_the_wgi_year_default_score_and_scale(client: WebClient, path: str) -> None:
    profile = client.get("/api/minerals/rare-earths").json()
    text = _text(client.get(path).text)
    assert "Worldwide Governance Indicators" in text
    assert "World Governance Indicators" not in text
    assert f"Worldwide Governance Indicators for {profile['wgi_year']}" in text
    assert f"does not cover scores {profile['wgi_missing_default']:g}" in text
    assert "0–100,000" in text
    assert profile["hhi_wgi_formula"] in text
    assert profile["wgi_formula"] in text


def test_the_overview_sentence_is_written_from_the_rare_earth_figures(client: WebClient) -> None:
    mining = client.get("/api/minerals/rare-earths", params={"stage": "mining"}).json()
    refining = client.get("/api/minerals/rare-earths", params={"stage": "refining"}).json()
    lede = _text(re.search(r'<p class="lede">(.*?)</p>', client.get("/").text, re.S)[1])
    mined = round(mining["countries"][0]["share"] * 100)
    refined = round(refining["countries"][0]["share"] * 100)
    assert f"in {mining['year']} China mined {mined}% of the world's rare earths (USGS, " \
           "estimate)" in lede.replace("&#39;", "'")
    assert f"in {refining['year']} it held {refined}% of magnet rare earth elements" in lede
    assert "two-thirds" not in lede


def test_overview_table_shows_named_share_and_flags_low_coverage(client: WebClient) -> None:
    html = client.get("/", params={"stage": "refining"}).text
    rows = client.get("/api/concentration", params={"stage": "refining"}).json()
    low = {row["mineral"] for row in rows if row["low_coverage"]}
    assert {"neon", "krypton", "xenon"} <= low
    for mineral in low:
        row = re.search(rf'<tr data-mineral="{mineral}" class="low-coverage">(.*?)</tr>',
                        html, re.S)
        assert row is not None, mineral
        assert "low coverage" in row[1]
    assert "Named" in html
    neon = next(row for row in rows if row["mineral"] == "neon")
    assert f"{neon['named_share'] * 100:.1f}%" in html


def test_overview_table_shows_the_compilers_confidence_where_given(client: WebClient) -> None:
    """E.g. manganese refining (Stratas, HPMSM) is 'low'; USGS tonnage rows have none."""
    html = client.get("/", params={"stage": "refining"}).text
    for item in client.get("/api/concentration", params={"stage": "refining"}).json():
        row = re.search(rf'<tr data-mineral="{item["mineral"]}"[^>]*>(.*?)</tr>', html, re.S)
        assert row is not None, item["mineral"]
        if item["confidence"]:
            assert f"{item['confidence']} confidence" in row[1]
        else:
            assert "confidence" not in row[1]


def test_mineral_page_lists_other_series_and_flags_an_estimated_residual(
    client: WebClient,
) -> None:
    profile = client.get("/api/minerals/rare-earths").json()
    assert profile["residual"]["estimated"]
    html = client.get("/minerals/rare-earths").text
    for item in profile["other_series"]:
        assert item in html
    residual = re.search(r'<tr class="residual">(.*?)</tr>', html, re.S)
    assert residual is not None
    assert 'class="flag"' in residual[1]


def test_mineral_page_without_additive_world_total_still_draws_values(client: WebClient) -> None:
    html = client.get("/minerals/boron").text
    assert "not additive" in html
    assert html.count('class="plot"') >= 1
