"""The JSON API in process: each endpoint's shape and its failure cases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from typing import Any

import pytest
from pydantic import BaseModel

from kizuna.settings import Settings
from kizuna.web.app import create_app
from kizuna.web.client import WebClient
from kizuna.web.schemas import (
    ConcentrationRow,
    CountryFigure,
    CountryGroup,
    CriticalList,
    MineralProfile,
    MineralSummary,
    Source,
)

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


# Response models: /docs shows real schemas, with the library's field names.

SCHEMA_OF = {
    "/api/minerals": "MineralSummary",
    "/api/minerals/{mineral}": "MineralProfile",
    "/api/concentration": "ConcentrationRow",
    "/api/groups": "CountryGroup",
    "/api/lists": "CriticalList",
    "/api/sources": "Source",
}


@pytest.fixture(scope="module")
def openapi(client: WebClient) -> dict[str, Any]:
    schema: dict[str, Any] = client.get("/openapi.json").json()
    return schema


def _properties(openapi: dict[str, Any], name: str) -> set[str]:
    return set(openapi["components"]["schemas"][name]["properties"])


@pytest.mark.parametrize(("path", "name"), SCHEMA_OF.items())
def test_each_api_route_declares_its_response_schema(
    openapi: dict[str, Any], path: str, name: str
) -> None:
    content = openapi["paths"][path]["get"]["responses"]["200"]["content"]
    schema = content["application/json"]["schema"]
    ref = schema.get("$ref") or schema["items"]["$ref"]
    assert ref == f"#/components/schemas/{name}"


def test_schemas_have_exactly_the_librarys_field_names(openapi: dict[str, Any]) -> None:
    from kizuna.data.schema import LISTS, SOURCES
    from kizuna.minerals.concentration import PROFILE_KEYS, TABLE_COLUMNS
    from kizuna.model import CountryGroup

    assert _properties(openapi, "MineralProfile") == set(PROFILE_KEYS)
    assert _properties(openapi, "ConcentrationRow") == set(TABLE_COLUMNS)
    assert _properties(openapi, "CriticalList") == {c.name for c in LISTS.columns}
    assert _properties(openapi, "Source") == {c.name for c in SOURCES.columns}
    assert _properties(openapi, "CountryGroup") == {f.name for f in fields(CountryGroup)}
    assert _properties(openapi, "MineralSummary") == {
        "slug", "name", "symbol", "group", "lists", "status", "category"
    }
    profile = openapi["components"]["schemas"]["MineralProfile"]["properties"]
    assert profile["countries"]["items"] == {"$ref": "#/components/schemas/CountryFigure"}
    nullable = {"anyOf", "type"} & set(profile["hhi"])
    assert nullable == {"anyOf"}, "hhi is null where shares are not computed"


def _undeclared(model: type[BaseModel], record: dict[str, Any]) -> set[str]:
    return set(record) - set(model.model_fields)


@pytest.mark.parametrize("stage", ["mining", "refining"])
def test_every_profile_validates_and_has_no_undeclared_keys(client: WebClient, stage: str) -> None:
    for mineral in (row["slug"] for row in client.get("/api/minerals").json()):
        response = client.get(f"/api/minerals/{mineral}", params={"stage": stage})
        assert response.status_code == 200, (mineral, response.text)
        body = response.json()
        MineralProfile.model_validate(body)
        assert _undeclared(MineralProfile, body) == set(), mineral
        for country in body["countries"]:
            assert _undeclared(CountryFigure, country) == set(), mineral


def test_profile_json_is_the_librarys_profile_unchanged(client: WebClient) -> None:
    from kizuna.data.bundle import load_dataset
    from kizuna.minerals.concentration import mineral_profile
    from kizuna.web.formatting import jsonable

    for stage in ("mining", "refining"):
        expected = jsonable(mineral_profile(load_dataset(), "rare-earths", stage=stage))
        assert client.get("/api/minerals/rare-earths", params={"stage": stage}).json() == expected


@pytest.mark.parametrize(
    ("path", "model"),
    [("/api/concentration?stage=mining", ConcentrationRow),
     ("/api/concentration?stage=refining", ConcentrationRow),
     ("/api/minerals", MineralSummary),
     ("/api/minerals?list=uk-2024", MineralSummary),
     ("/api/groups", CountryGroup),
     ("/api/lists", CriticalList),
     ("/api/sources", Source)],
)
def test_list_responses_validate_against_their_models(
    client: WebClient, path: str, model: type[BaseModel]
) -> None:
    rows = client.get(path).json()
    assert rows
    for row in rows:
        model.model_validate(row)
        assert _undeclared(model, row) == set()


def test_a_profile_without_data_validates_with_nulls(client: WebClient) -> None:
    body = client.get("/api/minerals/germanium").json()
    profile = MineralProfile.model_validate(body)
    assert profile.missing and profile.hhi is None and profile.wgi_year is None


def test_reserves_and_another_series_can_be_asked_for(client: WebClient) -> None:
    reserves = client.get("/api/minerals/rare-earths", params={"measure": "reserves"}).json()
    assert reserves["measure"] == "reserves"
    assert next(c for c in reserves["countries"] if c["iso3"] == "BRA")["value"] == 11_000_000
    bad = client.get("/api/minerals/rare-earths", params={"measure": "vibes"})
    assert bad.status_code == 400 and bad.json()["field"] == "measure"
    rows = client.get("/api/concentration", params={"measure": "reserves"}).json()
    assert rows and all(row["measure"] == "reserves" for row in rows)
    missing = client.get("/api/minerals/cobalt", params={"series": "No such series"})
    assert missing.status_code == 404 and "series available" in missing.json()["hint"]
