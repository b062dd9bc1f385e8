"""The sightings page in Debian's chromium: charts per indicator and per partner drawn by the
installed Plotly, the list, the indicator filter, and TLP deciding what a partner sees."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from inteltools import seeded_store
from kizuna.hub.contract import Actor
from kizuna.hub.service import Hub
from kizuna.intel.hubread import read_objects, readable_collections
from kizuna.intel.matcher import Match, MatchReport
from kizuna.intel.matcher.sightings import push_sightings, sightings_for
from kizuna.settings import Settings
from kizuna.store import open_store
from kizuna.web.app import create_app
from servetools import serving

RED_IP = "203.0.113.200"


def _report(indicators: list[dict[str, Any]], day: int) -> MatchReport:
    matches = [Match(obj["id"], 3 + n, f"2026-01-{day:02d}T08:00:00.000Z",
                     f"2026-01-{day:02d}T09:{n:02d}:00.000Z")
               for n, obj in enumerate(indicators)]
    return MatchReport(events=1000, bad_lines=0, matches=matches, unsupported=[])


def _share_sightings(url: str, keys: dict[str, str]) -> None:
    """Both demo partners report sightings on two days; tokyo also sights its RED one."""
    with open_store(url) as store:
        hub = Hub(store)
        identities = {o.name: o.identity_id for o in hub.orgs(Actor(None, admin=True))}
        for name, days in (("tokyo-cert", (6, 8)), ("london-ncsc", (7,))):
            actor = hub.authenticate(keys[name])
            place = readable_collections(hub, actor)[0]
            indicators = sorted(read_objects(hub, actor, ["indicator"]), key=lambda o: o["id"])
            chosen = [o for o in indicators if RED_IP in o["pattern"]] + [
                o for o in indicators if "domain-name" in o["pattern"]][:2]
            for day in days:
                sightings = sightings_for(_report(chosen, day), {o["id"]: o for o in chosen},
                                          where_sighted=identities[name],
                                          created="2026-01-10T00:00:00.000Z",
                                          organisations=set(identities.values()),
                                          reporter=name)
                pushed = push_sightings(hub, actor, place.root, place.collection, sightings)
                assert pushed.failures == [], pushed.failures


@pytest.fixture(scope="module")
def sightings_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    url, keys = seeded_store(tmp_path_factory.mktemp("sightings-browser") / "k.db")
    _share_sightings(url, keys)
    app = create_app(Settings(store=url, demo=False))
    with serving(app, "the sightings test server") as base:
        yield base, keys


def test_sightings_over_time_per_indicator_and_per_partner(page: Any, page_log: Any,
                                                          sightings_server) -> None:
    base, keys = sightings_server
    page.set_extra_http_headers({"Authorization": f"Bearer {keys['tokyo-cert']}"})
    response = page.goto(f"{base}/intel/sightings")
    assert response is not None and response.status == 200
    assert "Signed in as tokyo-cert" in page.locator("#signed-in").inner_text()
    for chart in ("#sightings-by-indicator", "#sightings-by-partner"):
        page.wait_for_selector(f"{chart} .main-svg", timeout=15_000)
        assert page.locator(f"{chart} g.trace.bars").count() >= 2
    partners = set(page.locator("#sightings td.partner").all_inner_texts())
    assert partners == {"tokyo-cert", "london-ncsc"}
    assert page.locator("#sightings tbody tr").count() == 3 * 2 + 2 * 1
    assert any("plotly" in url and url.startswith(base) for url in page_log.requests)
    page.locator("#sightings tbody tr a").first.click()
    page.wait_for_selector("#filtered")
    assert "/intel/sightings?indicator=indicator--" in page.url
    assert 0 < page.locator("#sightings tbody tr").count() < 8


def test_a_partner_sees_no_sighting_of_a_red_indicator_it_was_not_given(
        page: Any, sightings_server) -> None:
    base, keys = sightings_server
    page.set_extra_http_headers({"Authorization": f"Bearer {keys['london-ncsc']}"})
    page.goto(f"{base}/intel/sightings")
    text = page.locator("#sightings").inner_text()
    assert RED_IP not in text
    assert set(page.locator("#sightings td.partner").all_inner_texts()) == {"tokyo-cert",
                                                                           "london-ncsc"}
    assert "TLP:RED" not in page.content()


def test_the_page_asks_for_the_key(browser: Any, sightings_server) -> None:
    base, _ = sightings_server
    anonymous = browser.new_context()
    try:
        assert anonymous.request.get(f"{base}/intel/sightings").status == 401
    finally:
        anonymous.close()
