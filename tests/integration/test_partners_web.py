"""The partners page in process: the ranking, its chart data, bad input and private mode."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from kizuna.settings import Settings
from kizuna.web.app import create_app
from kizuna.web.client import WebClient

EXTERNAL_URL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def client() -> Iterator[WebClient]:
    with WebClient(create_app(Settings(store="memory://", demo=False))) as web:
        yield web


def _figure(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="partners-chart-data">(.*?)</script>',
                      html, re.DOTALL)
    assert found, "no chart data on the page"
    figure: dict[str, object] = json.loads(found.group(1))
    return figure


def test_the_page_ranks_with_a_stacked_chart_and_every_factor(client: WebClient) -> None:
    response = client.get("/partners", params={"mineral": "cobalt", "stage": "refining",
                                               "exclude": "concern", "run": "1",
                                               "partner": ["g7", "msp"]})
    assert response.status_code == 200
    html = response.text
    assert 'aria-current="page"' in html and ">Partners<" in html
    assert 'id="ranking"' in html and 'id="factors"' in html
    assert 'data-iso3="CHN"' not in html and 'data-iso3="FIN"' in html
    assert "Excluded: concern (CHN IRN PRK RUS)" in html
    assert "Alignment counts membership of g7, msp" in html
    figure = _figure(html)
    traces = figure["data"]
    assert isinstance(traces, list) and len(traces) == 7
    assert figure["layout"]["barmode"] == "stack"  # type: ignore[index]
    assert html.count('class="partner-detail"') == html.count("data-iso3=")
    assert "iea-cmd-2025" in html and "usgs-mcs2026" in html
    assert not EXTERNAL_URL.search(html)


def test_the_bare_page_shows_a_default_ranking(client: WebClient) -> None:
    response = client.get("/partners")
    assert response.status_code == 200
    assert 'id="ranking"' in response.text and "Cobalt — partners for mining" in response.text


def test_weights_typed_on_the_form_are_used(client: WebClient) -> None:
    response = client.get("/partners", params={"mineral": "cobalt", "w_governance": "100",
                                               "w_reserves": "0", "w_production": "0",
                                               "w_growth": "0", "w_rp_years": "0",
                                               "w_alignment": "0", "w_refining_gap": "0"})
    assert response.status_code == 200
    assert "the weights on this form" in response.text
    rows = re.findall(r'data-iso3="([A-Z]{3})"', response.text)
    assert rows[0] == "AUS"  # the best WGI among cobalt's countries


@pytest.mark.parametrize(("params", "status", "words"), [
    ({"mineral": "unobtainium"}, 404, "unknown mineral"),
    ({"mineral": "cobalt", "stage": "smelting"}, 400, "unknown stage"),
    ({"mineral": "cobalt", "countries": "Atlantis"}, 400, "neither a country group"),
    ({"mineral": "cobalt", "w_governance": "-5"}, 400, "weights are finite numbers"),
    ({"mineral": "cobalt", "w_governance": "lots"}, 400, "not a number"),
])  # fmt: skip
def test_bad_input_comes_back_on_the_page(client: WebClient, params: dict[str, str],
                                          status: int, words: str) -> None:
    response = client.get("/partners", params=params)
    assert response.status_code == status
    assert 'id="error"' in response.text and words in response.text
    assert 'id="partners-form"' in response.text  # the form is there to try again


def test_the_page_is_private_when_mineral_data_are() -> None:
    settings = Settings(store="memory://", demo=False, minerals_public=False)
    with WebClient(create_app(settings)) as web:
        assert web.get("/partners", headers={"Accept": "text/html"}).status_code == 401
