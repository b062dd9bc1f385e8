"""The JSON API in process: each endpoint's shape and its failure cases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kizuna.settings import Settings
from kizuna.web.app import create_app
from kizuna.web.client import WebClient

PROFILE_KEYS = {
    "mineral", "stage", "year", "unit", "source", "world_total", "hhi", "top1_share",
    "top3_share", "countries",
}


@pytest.fixture(scope="module")
def client() -> Iterator[WebClient]:
    with WebClient(create_app(Settings(store="memory://"))) as web:
        yield web


def test_healthz_says_ok_and_reports_the_store(client: WebClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["store"] == "open"


def test_minerals_lists_slug_name_symbol_group_and_lists(client: WebClient) -> None:
    rows = client.get("/api/minerals").json()
    assert {"slug", "name", "symbol", "group", "lists"} <= set(rows[0])
    assert "rare-earths" in {row["slug"] for row in rows}


def test_minerals_filtered_by_list_keeps_only_that_lists_members(client: WebClient) -> None:
    list_id = client.get("/api/lists").json()[0]["list_id"]
    rows = client.get("/api/minerals", params={"list": list_id}).json()
    assert rows
    assert all(list_id in row["lists"] for row in rows)


def test_unknown_list_is_404_naming_the_lists(client: WebClient) -> None:
    response = client.get("/api/minerals", params={"list": "no-such-list"})
    assert response.status_code == 404
    assert response.json()["error"] == "not-found"
    assert "no-such-list" in response.json()["message"]


def test_mineral_profile_has_the_cli_json_shape(client: WebClient) -> None:
    profile = client.get("/api/minerals/rare-earths").json()
    assert set(profile) >= PROFILE_KEYS
    assert profile["stage"] == "mining"
    assert profile["basis"] == "tonnage"
    assert profile["countries"][0]["iso3"] == "CHN"
    assert {"iso3", "name", "value", "share"} <= set(profile["countries"][0])
    assert 0.5 < profile["top1_share"] < 0.8


def test_refining_profile_is_a_share_basis(client: WebClient) -> None:
    profile = client.get("/api/minerals/rare-earths", params={"stage": "refining"}).json()
    assert profile["basis"] == "share"
    assert profile["countries"][0]["iso3"] == "CHN"
    assert profile["top1_share"] > 0.85


def test_unknown_mineral_is_404_with_close_matches(client: WebClient) -> None:
    response = client.get("/api/minerals/rare-erths")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "not-found"
    assert "rare-erths" in body["message"]
    assert "rare-earths" in body["hint"]


def test_bad_stage_is_400_naming_the_stages(client: WebClient) -> None:
    response = client.get("/api/minerals/cobalt", params={"stage": "smelting"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad-input"
    assert "smelting" in response.json()["message"]
    assert "refining" in response.json()["hint"]


def test_year_that_is_not_a_number_is_400_naming_the_parameter(client: WebClient) -> None:
    response = client.get("/api/concentration", params={"year": "last"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad-input"
    assert body["parameter"] == "year"
    assert "'year'" in body["message"]
    assert "\n" not in body["message"]


def test_year_without_data_is_404_naming_the_available_years(client: WebClient) -> None:
    response = client.get("/api/minerals/rare-earths", params={"year": 1999})
    assert response.status_code == 404
    assert "1999" in response.json()["message"]
    assert "years available" in response.json()["hint"]


def test_concentration_has_one_row_per_mineral_sorted_by_hhi(client: WebClient) -> None:
    rows = client.get("/api/concentration").json()
    minerals = [row["mineral"] for row in rows]
    assert len(minerals) == len(set(minerals))
    assert "rare-earths" in minerals
    hhis = [row["hhi"] for row in rows]
    assert hhis == sorted(hhis, reverse=True)
    assert {"hhi_wgi", "top1_iso3", "top1_share", "group", "group_share", "source"} <= set(rows[0])


def test_concentration_with_an_unknown_group_is_404(client: WebClient) -> None:
    response = client.get("/api/concentration", params={"group": "nowhere"})
    assert response.status_code == 404
    assert "nowhere" in response.json()["message"]


def test_groups_lists_and_sources_are_lists_of_records(client: WebClient) -> None:
    groups = client.get("/api/groups").json()
    assert "concern" in {group["id"] for group in groups}
    assert all(isinstance(group["members"], list) for group in groups)
    assert {"list_id", "jurisdiction", "name", "year"} <= set(client.get("/api/lists").json()[0])
    assert {"source", "title"} <= set(client.get("/api/sources").json()[0])


def test_unknown_api_path_is_a_json_404(client: WebClient) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"] == "not-found"


def test_group_edits_in_the_store_reach_the_api() -> None:
    from kizuna.data.bundle import load_dataset
    from kizuna.minerals.groups import save_group
    from kizuna.store import open_store

    store = open_store("memory://")
    save_group(store, load_dataset().groups, "pact", ["JPN", "GBR"], name="Japan-UK pact")
    with WebClient(create_app(Settings(store="memory://"), store=store)) as web:
        groups = {g["id"]: g for g in web.get("/api/groups").json()}
        assert sorted(groups["pact"]["members"]) == ["GBR", "JPN"]
        rows = web.get("/api/concentration?stage=refining&group=pact").json()
    cobalt = next(row for row in rows if row["mineral"] == "cobalt")
    assert cobalt["group"] == "pact" and cobalt["group_share"] > 0
    store.close()
