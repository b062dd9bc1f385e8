"""The /sourcing page over HTTP: a shareable GET plan, POST with uploads, errors as 400s."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from kizuna.settings import Settings
from kizuna.web.app import create_app
from kizuna.web.client import WebClient


@pytest.fixture(scope="module")
def client() -> Iterator[WebClient]:
    with WebClient(create_app(Settings(store="memory://"))) as web:
        yield web


def _found(pattern: str, text: str) -> str:
    found = re.search(pattern, text, re.S)
    assert found is not None, f"{pattern!r} not on the page"
    return html.unescape(found.group(1))


def test_the_form_opens_and_is_in_the_navigation(client: WebClient) -> None:
    response = client.get("/sourcing")
    assert response.status_code == 200
    assert 'id="product"' in response.text and 'id="suppliers"' in response.text
    assert 'id="summary"' not in response.text  # nothing planned without a product
    assert 'href="/sourcing"' in client.get("/").text


def test_a_shared_link_plans_years_and_frontier_with_three_charts(client: WebClient) -> None:
    response = client.get("/sourcing?product=nmc811&volume=75000&rules=eu-crma&frontier=4"
                          "&years=2026-2028")
    assert response.status_code == 200
    page = response.text
    assert page.count('class="plot"') == 3  # plan, frontier, years
    assert "status optimal" in _found(r'id="summary"[^>]*>(.*?)</p>', page)
    years = _found(r'id="years-table">(.*?)</table>', page)
    assert all(str(y) in years for y in (2026, 2027, 2028)) and "crma-65 79%" in years
    assert _found(r'id="frontier-table">(.*?)</table>', page).count("<tr>") == 5
    assert "--years 2026-2028" in page  # the same plan from the command line


def test_an_infeasible_plan_lists_the_conflicts_on_the_page(client: WebClient) -> None:
    response = client.request("POST", "/sourcing", data={"product": "nmc811", "volume": "5e7",
                                                          "rules": "eu-crma"})
    assert response.status_code == 200
    conflicts = _found(r'id="violations">(.*?)</ul>', response.text)
    assert re.search(r"graphite refining: partner capacity [\d.]+ kt < demand [\d.]+ kt "
                     r"under crma-65", conflicts)


def test_cvar_on_the_page_reports_the_draws(client: WebClient) -> None:
    response = client.request("POST", "/sourcing", data={
        "product": "nmc811", "volume": "75000", "risk": "cvar",
        "scenario": "china-graphite-anode-controls", "draws": "500", "frontier": "3"})
    assert response.status_code == 200
    assert "CVaR 95%" in _found(r'id="summary"[^>]*>(.*?)</p>', response.text)
    assert "CVaR 95% of shortfall cost" in response.text  # the frontier's axis
    assert _found(r'id="frontier-table">(.*?)</table>', response.text).count("<tr>") == 4


def test_an_uploaded_supplier_file_is_planned_and_not_kept(client: WebClient) -> None:
    file = ("ours.csv", b"supplier,mineral,stage,country,capacity_t,premium\n"
                        b"Nordic Cobalt,cobalt,refining,FIN,3,0.0\n", "text/csv")
    response = client.request("POST", "/sourcing", data={"product": "nmc811",
                                                          "volume": "75000"},
                              files={"suppliers": file})
    assert response.status_code == 200
    assert "Nordic Cobalt" in _found(r'id="suppliers-table">(.*?)</table>', response.text)


@pytest.mark.parametrize(("form", "message"), [
    ({"volume": "-3"}, "volume '-3' is not a number"),
    ({"years": "2030-2026"}, "the last year is before the first"),
    ({"years": "2026-2045"}, "at most 15 years on the page"),
    ({"draws": "5", "scenario": "drc-cobalt-2025"}, "draws '5' is not a whole number"),
    ({"risk": "cvar"}, "--risk cvar needs a scenario"),
    ({"rules": "nope"}, "unknown rule pack 'nope'"),
    ({"assumptions": "capacity: 3"}, "unknown field 'capacity'"),
    ({"assumptions": "capacity_share: [1"}, "not valid YAML"),
])
def test_bad_input_is_a_400_naming_the_field(client: WebClient, form: dict[str, str],
                                            message: str) -> None:
    response = client.request("POST", "/sourcing", data={"product": "nmc811", **form})
    assert response.status_code == 400
    assert message in _found(r'id="error">(.*?)</p>', response.text)
    assert 'id="run"' in response.text  # the form is there to try again


def test_a_bad_supplier_file_names_row_and_column(client: WebClient) -> None:
    file = ("bad.csv", b"supplier,mineral,stage,country,capacity_t\nA,cobalt,refining,FIN,-1\n",
            "text/csv")
    response = client.request("POST", "/sourcing", data={"product": "nmc811"},
                              files={"suppliers": file})
    assert response.status_code == 400
    assert "bad.csv row 2, column 'capacity_t'" in _found(r'id="error">(.*?)</p>',
                                                          response.text)
