"""The threat-intelligence pages in process: login by API key, TLP filtering, the path to a
scenario (the browser tests drive them in chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from inteltools import seeded_store
from kizuna.settings import Settings
from kizuna.web.app import create_app
from kizuna.web.client import WebClient


@dataclass
class Site:
    web: WebClient
    keys: dict[str, str]

    def get(self, path: str, org: str | None = "tokyo-cert", **kwargs):
        headers = {"Authorization": f"Bearer {self.keys[org]}"} if org else {}
        return self.web.get(path, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url, keys = seeded_store(tmp_path_factory.mktemp("intel-web") / "k.db")
    with WebClient(create_app(Settings(store=url, demo=False))) as web:
        yield Site(web, keys)


@pytest.mark.parametrize("path", ["/intel", "/intel/assets",
                                  "/intel/assets/DEMO-REF-01/scenario"])
def test_every_page_asks_for_an_api_key_with_a_login_challenge(site: Site, path: str) -> None:
    response = site.get(path, org=None)
    assert response.status_code == 401
    assert "Basic" in response.headers["www-authenticate"]
    assert "API key" in response.text
    bad = site.web.get(path, headers={"Authorization": "Bearer kz_000000000000_nope"})
    assert bad.status_code == 401


def test_the_nav_links_to_the_threat_intel_page(site: Site) -> None:
    html = site.get("/intel").text
    assert '<a href="/intel" aria-current="page">Threat intel</a>' in html


def test_adversaries_by_sector_and_sponsor_with_sources(site: Site) -> None:
    response = site.get("/intel", params={"sector": "mining"})
    assert response.status_code == 200
    html = response.text
    assert "Signed in as <b>tokyo-cert</b>" in html
    assert "Copper Lynx (synthetic)" in html and "Harbour Wren" not in html.split(
        'id="adversaries"')[1]
    assert "meta.cfr-target-category" in html  # each claim's source field
    assert 'id="sector-sponsor"' in html  # the heatmap
    assert "/static/vendor/plotly.min.js" in html and "cdn" not in html.lower()


def test_what_tlp_keeps_from_a_partner_is_absent(site: Site) -> None:
    tokyo = site.get("/intel", params={"sector": "manufacturing"}).text
    london = site.get("/intel", params={"sector": "manufacturing"}, org="london-ncsc").text
    assert "TLP:AMBER+STRICT" in tokyo  # Quiet Kiln's intrusion set: tokyo produced it
    assert "TLP:AMBER+STRICT" not in london
    assert "Signed in as <b>london-ncsc</b>" in london
    table = london.split('id="adversaries"')[1]
    assert "(galaxy actor)" in table.split("Quiet Kiln (synthetic)")[1][:40]
    assert "(galaxy actor)" not in tokyo.split('id="adversaries"')[1].split(
        "Quiet Kiln (synthetic)")[1][:40]


def test_a_bad_filter_is_shown_on_the_page_with_400(site: Site) -> None:
    response = site.get("/intel", params={"sponsor": "Atlantis"})
    assert response.status_code == 400
    assert "unknown country" in response.text


def test_exposure_lists_the_owners_assets_with_findings_and_score_parts(site: Site) -> None:
    html = site.get("/intel/assets").text
    assert 'id="row-DEMO-REF-01"' in html and "CVE-2099-0001" in html
    assert "version not assessed" in html
    assert 'href="/intel/assets/DEMO-REF-01/scenario"' in html
    assert 'id="exposure-scores"' in html
    london = site.get("/intel/assets", org="london-ncsc").text
    assert "DEMO-REF-01" not in london and 'id="empty"' in london  # tokyo's register only
    assert site.get("/intel/assets/DEMO-REF-01/scenario", org="london-ncsc").status_code == 404


def test_the_path_from_a_facility_to_tonnes_at_risk(site: Site) -> None:
    form = site.get("/intel/assets/DEMO-MINE-01-SCADA/scenario").text
    assert 'id="estimates"' in form and 'id="preview"' not in form
    assert "Demo lithium mine (synthetic)" in form  # a system stands for its facility
    params = {"probability": "0.1", "duration": "30"}
    result = site.get("/intel/assets/DEMO-MINE-01-SCADA/scenario", params=params)
    assert result.status_code == 200
    assert 'id="shortfalls"' in result.text and "lithium" in result.text
    download = site.get("/intel/assets/DEMO-MINE-01-SCADA/scenario.yaml", params=params)
    assert download.headers["content-type"].startswith("application/yaml")
    doc = yaml.safe_load(download.text)
    assert doc["events"][0]["probability"] == 0.1
    assert doc["events"][0]["duration_days"] == 30


def test_the_scenario_page_refuses_to_invent_the_estimates(site: Site) -> None:
    response = site.get("/intel/assets/DEMO-REF-01/scenario", params={"probability": "0.1"})
    assert response.status_code == 400
    assert "give both the probability and the duration" in response.text
    port = site.get("/intel/assets/DEMO-PORT-01/scenario",
                    params={"probability": "0.1", "duration": "3"})
    assert port.status_code == 400 and "has no mineral and stage" in port.text
