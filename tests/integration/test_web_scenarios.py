"""The /scenarios page over HTTP: the editor, a run, and every bad input as a 400 on the page."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from kizuna.scenarios import EXAMPLE_IDS, example_text
from kizuna.settings import Settings
from kizuna.web.app import create_app
from kizuna.web.client import WebClient


@pytest.fixture(scope="module")
def client() -> Iterator[WebClient]:
    with WebClient(create_app(Settings(store="memory://"))) as web:
        yield web


def _error(text: str) -> str:
    found = re.search(r'id="error">(.*?)</p>', text, re.S)
    assert found is not None, "no error on the page"
    return html.unescape(found.group(1))


def _run(client: WebClient, **form: str) -> tuple[int, str]:
    response = client.request("POST", "/scenarios", data=form)
    return response.status_code, response.text


def test_the_page_opens_with_a_shipped_scenario_in_the_editor(client: WebClient) -> None:
    response = client.get("/scenarios?example=drc-cobalt-2025")
    assert response.status_code == 200
    editor = re.search(r'<textarea[^>]*id="text"[^>]*>(.*?)</textarea>', response.text, re.S)
    assert editor is not None
    assert html.unescape(editor.group(1)) == example_text("drc-cobalt-2025")
    for example_id in EXAMPLE_IDS:
        assert f'value="{example_id}"' in response.text
    assert 'href="/scenarios"' in client.get("/").text  # in the navigation


def test_a_run_shows_three_charts_and_the_shortfall_table(client: WebClient) -> None:
    status, page = _run(client, example="drc-cobalt-2025", text=example_text("drc-cobalt-2025"),
                        draws="1000", seed="7", products="nmc811")
    assert status == 200
    assert page.count('class="plot"') == 3
    table = re.search(r'<table class="data compact" id="shortfalls">(.*?)</table>', page, re.S)
    assert table is not None and "cobalt" in table.group(1)
    assert "1,000 draws, seed 7" in page
    products = re.search(r'id="products">(.*?)</table>', page, re.S)
    assert products is not None and "NMC811" in products.group(1)
    assert "Wind turbine" not in products.group(1)  # only the ticked product


def test_the_same_seed_gives_the_same_page_figures(client: WebClient) -> None:
    form = {"example": "china-gallium-controls", "text": example_text("china-gallium-controls"),
            "draws": "500", "seed": "11"}
    tables = [re.search(r'id="shortfalls">(.*?)</table>', _run(client, **form)[1], re.S)
              for _ in range(2)]
    assert tables[0] is not None and tables[1] is not None
    assert tables[0].group(1) == tables[1].group(1)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("probability: 1.0", "probability: 1.5"), "probability"),
        (("duration_days:", "duration_days: -5 #"), "duration_days"),
        (("kind: export_ban", "kind: export_bam"), "events[0].kind"),
        (("country: CHN", "country: XXX"), "country"),
    ],
)
def test_a_mistake_in_the_yaml_is_a_400_naming_its_path_and_nothing_runs(
    client: WebClient, change: tuple[str, str], expected: str
) -> None:
    text = example_text("china-gallium-controls")
    assert change[0] in text
    status, page = _run(client, example="china-gallium-controls", draws="500",
                        text=text.replace(change[0], change[1], 1))
    assert status == 400
    error = _error(page)
    assert expected in error and "china-gallium-controls.yaml" in error
    assert 'class="plot"' not in page
    assert html.escape(change[1]) in page  # the edit is kept in the editor


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"draws": "5000000"}, "draws 5,000,000 is outside 100-200,000"),
        ({"draws": "ten"}, "draws 'ten' is not a whole number"),
        ({"seed": "-1"}, "seed -1 is outside"),
        ({"perspective": "MARS"}, "unknown perspective 'MARS'"),
        ({"products": "toaster"}, "unknown product template 'toaster'"),
        ({"text": "   "}, "the scenario YAML is empty"),
        ({"text": "name: [unclosed"}, "scenario.yaml: line"),
    ],
)
def test_bad_run_options_are_a_400_on_the_page(
    client: WebClient, form: dict[str, str], expected: str
) -> None:
    data = {"text": example_text("china-gallium-controls"), "draws": "500", **form}
    status, page = _run(client, **data)
    assert status == 400
    assert expected in _error(page)


def test_an_unknown_example_is_a_400_with_the_editor_still_usable(client: WebClient) -> None:
    response = client.get("/scenarios?example=nope")
    assert response.status_code == 400
    assert "unknown scenario 'nope'" in _error(response.text)
    assert '<textarea' in response.text
