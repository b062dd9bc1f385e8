"""The TAXII 2.1 routes in process: every route, media-type rule, error status and credential."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from taxii_world import (
    PRIVATE_ID,
    ROOT,
    SHARED_ID,
    TAXII,
    World,
    build_world,
    envelope,
    indicator,
    stix_id,
)

from kizuna.settings import Settings
from kizuna.web.app import create_app
from kizuna.web.client import WebClient

OBJECTS = f"/taxii2/{ROOT}/collections/{SHARED_ID}/objects/"
POST = {"Content-Type": TAXII}


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[WebClient, World]]:
    """The app on a fresh SQLite store, with the hub it built seeded with the test world."""
    app = create_app(Settings(store=f"sqlite:///{tmp_path / 'k.db'}",
                              taxii_max_content_length=64 * 1024))
    with WebClient(app) as client:
        yield client, build_world(app.state.kizuna.hub())


def assert_taxii_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """A TAXII error message with ``status``: media type, title, description, http_status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == TAXII
    body: dict[str, Any] = response.json()
    assert body["http_status"] == str(status)
    assert body["title"] and body["description"]
    assert set(body) <= {"title", "description", "error_id", "error_code", "http_status",
                         "external_details", "details"}
    return body


def post(client: WebClient, world: World, *objects: dict[str, Any],
         key: str | None = None, url: str = OBJECTS) -> httpx.Response:
    headers = {**world.bearer(key or world.tokyo), **POST}
    return client.request("POST", url, headers=headers, content=json.dumps(envelope(*objects)))


# --------------------------------------------------------------------------- discovery


def test_discovery_is_open_to_anonymous_clients_and_lists_the_api_root(web) -> None:  # type: ignore[no-untyped-def]
    client, _ = web
    response = client.get("/taxii2/", headers={"Accept": TAXII})
    assert response.status_code == 200
    assert response.headers["content-type"] == TAXII
    body = response.json()
    assert body["title"]
    assert any(root.rstrip("/").endswith(f"/taxii2/{ROOT}") for root in body["api_roots"])


@pytest.mark.parametrize("accept", [
    TAXII,
    "application/taxii+json",
    "application/taxii+json; version=2.1",
    "*/*",
    "application/*",
    "application/json, application/taxii+json;version=2.1;q=0.5",
])
def test_accept_headers_that_allow_taxii_2_1_are_served(web, accept: str) -> None:  # type: ignore[no-untyped-def]
    client, _ = web
    response = client.get("/taxii2/", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == TAXII


@pytest.mark.parametrize("accept", [
    "application/json",
    "application/taxii+json;version=2.0",
    "application/stix+json;version=2.1",
    "application/taxii+json;version=2.1;q=0",
    "text/html",
])
def test_accept_headers_that_exclude_taxii_2_1_are_406(web, accept: str) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    response = client.get(f"/taxii2/{ROOT}/", headers={**world.bearer(world.tokyo),
                                                       "Accept": accept})
    body = assert_taxii_error(response, 406)
    assert TAXII in body["description"]


# --------------------------------------------------------------------------- credentials


def test_api_root_with_a_bearer_key_states_max_content_length(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    response = client.get(f"/taxii2/{ROOT}/", headers=world.bearer(world.tokyo))
    assert response.status_code == 200
    body = response.json()
    assert TAXII in body["versions"]
    assert body["max_content_length"] > 0


def test_http_basic_with_the_key_as_password_authenticates_any_username(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    token = base64.b64encode(f"whoever:{world.tokyo}".encode()).decode()
    response = client.get(f"/taxii2/{ROOT}/collections/{SHARED_ID}/",
                          headers={"Accept": TAXII, "Authorization": f"Basic {token}"})
    assert response.status_code == 200
    assert response.json()["id"] == SHARED_ID


@pytest.mark.parametrize("authorization", [
    None,
    "Bearer not-a-key",
    "Bearer ",
    "Token abc",
    "Basic !!!not-base64",
    "Basic " + base64.b64encode(b"user-without-password").decode(),
])
def test_missing_or_bad_credentials_are_401_with_a_challenge(  # type: ignore[no-untyped-def]
    web, authorization: str | None
) -> None:
    client, _ = web
    headers = {"Accept": TAXII}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = client.get(f"/taxii2/{ROOT}/collections/", headers=headers)
    assert_taxii_error(response, 401)
    challenge = response.headers["www-authenticate"]
    assert "Bearer" in challenge and "Basic" in challenge


def test_a_revoked_key_is_401(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    response = client.get(f"/taxii2/{ROOT}/", headers=world.bearer(world.revoked))
    assert_taxii_error(response, 401)


def test_the_secret_never_appears_in_an_error(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    response = client.get(f"/taxii2/{ROOT}/", headers=world.bearer(world.revoked))
    assert world.revoked not in response.text


# --------------------------------------------------------------------------- roots, collections


def test_an_unknown_api_root_is_404(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    assert_taxii_error(client.get("/taxii2/nowhere/", headers=world.bearer(world.tokyo)), 404)


def test_collections_list_only_what_the_organisation_may_see(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    url = f"/taxii2/{ROOT}/collections/"
    tokyo = {c["id"] for c in client.get(url, headers=world.bearer(world.tokyo))
             .json()["collections"]}
    london = {c["id"] for c in client.get(url, headers=world.bearer(world.london))
              .json()["collections"]}
    outsider = client.get(url, headers=world.bearer(world.outsider))
    assert tokyo == {SHARED_ID, PRIVATE_ID}
    assert london == {SHARED_ID}
    assert outsider.status_code == 200
    assert outsider.json().get("collections", []) == []


def test_a_collection_states_what_the_caller_may_do(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    url = f"/taxii2/{ROOT}/collections/{SHARED_ID}/"
    london = client.get(url, headers=world.bearer(world.london)).json()
    assert london["id"] == SHARED_ID and london["title"] == "Shared indicators"
    assert london["can_read"] is True and london["can_write"] is False


@pytest.mark.parametrize("who, collection", [
    ("london", PRIVATE_ID),
    ("outsider", SHARED_ID),
    ("tokyo", "00000000-0000-4000-8000-000000000000"),
    ("tokyo", "not-a-uuid"),
])
def test_a_collection_the_caller_cannot_see_is_404_like_one_that_does_not_exist(  # type: ignore[no-untyped-def]
    web, who: str, collection: str
) -> None:
    client, world = web
    key = getattr(world, who)
    for suffix in ("", "objects/", "manifest/"):
        response = client.get(f"/taxii2/{ROOT}/collections/{collection}/{suffix}",
                              headers=world.bearer(key))
        assert_taxii_error(response, 404)


# --------------------------------------------------------------------------- add objects


def test_posting_an_envelope_is_202_with_a_status_resource(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    response = post(client, world, indicator(1), indicator(2))
    assert response.status_code == 202, response.text
    assert response.headers["content-type"] == TAXII
    status = response.json()
    assert status["total_count"] == 2
    assert status["success_count"] + status["failure_count"] + status["pending_count"] == 2
    assert status["status"] in {"complete", "pending"}
    again = client.get(f"/taxii2/{ROOT}/status/{status['id']}/", headers=world.bearer(world.tokyo))
    assert again.status_code == 200
    assert again.headers["content-type"] == TAXII
    assert again.json()["id"] == status["id"]


def test_a_reader_who_may_not_write_is_403(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    assert_taxii_error(post(client, world, indicator(1), key=world.london), 403)


def test_posting_to_an_invisible_collection_is_404(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    url = f"/taxii2/{ROOT}/collections/{PRIVATE_ID}/objects/"
    assert_taxii_error(post(client, world, indicator(1), key=world.london, url=url), 404)


@pytest.mark.parametrize("content_type", [
    "application/json",
    "application/stix+json;version=2.1",
    "application/taxii+json;version=2.0",
    "text/plain",
])
def test_a_body_that_is_not_taxii_2_1_json_is_415(web, content_type: str) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    response = client.request("POST", OBJECTS, content=json.dumps(envelope(indicator(1))),
                              headers={**world.bearer(world.tokyo),
                                       "Content-Type": content_type})
    assert_taxii_error(response, 415)


def test_a_post_without_content_type_is_415(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    response = client.request("POST", OBJECTS, content=b"{}", headers=world.bearer(world.tokyo))
    assert_taxii_error(response, 415)


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b""])
def test_malformed_json_is_400_and_stores_nothing(web, body: bytes) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    response = client.request("POST", OBJECTS, content=body,
                              headers={**world.bearer(world.tokyo), **POST})
    assert_taxii_error(response, 400)
    assert client.get(OBJECTS, headers=world.bearer(world.tokyo)).json().get("objects", []) == []


@pytest.mark.parametrize("body", [[], "text", {"objects": "not a list"}])
def test_json_that_is_not_an_envelope_is_422(web, body: Any) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    response = client.request("POST", OBJECTS, content=json.dumps(body),
                              headers={**world.bearer(world.tokyo), **POST})
    assert_taxii_error(response, 422)


def test_a_body_over_the_limit_by_content_length_is_413_and_stores_nothing(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    big = envelope(*(indicator(n) for n in range(400)))
    response = client.request("POST", OBJECTS, content=json.dumps(big),
                              headers={**world.bearer(world.tokyo), **POST})
    body = assert_taxii_error(response, 413)
    assert "65,536" in body["description"]
    assert client.get(OBJECTS, headers=world.bearer(world.tokyo)).json().get("objects", []) == []


def test_a_streamed_body_over_the_limit_is_413_without_content_length(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web

    async def chunks() -> Any:
        for _ in range(100):
            yield b" " * 1024

    response = client.request("POST", OBJECTS, content=chunks(),
                              headers={**world.bearer(world.tokyo), **POST})
    assert "content-length" not in response.request.headers
    assert_taxii_error(response, 413)


# --------------------------------------------------------------------------- read objects


def test_objects_come_back_with_the_date_added_headers(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    post(client, world, indicator(1), indicator(2))
    response = client.get(OBJECTS, headers=world.bearer(world.london))
    assert response.status_code == 200
    assert response.headers["content-type"] == TAXII
    body = response.json()
    assert {o["id"] for o in body["objects"]} == {stix_id("indicator", 1),
                                                  stix_id("indicator", 2)}
    assert body["more"] is False
    first = response.headers["x-taxii-date-added-first"]
    last = response.headers["x-taxii-date-added-last"]
    assert first <= last


def test_match_filters_select_by_id_and_type(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    post(client, world, indicator(1), indicator(2), indicator(3))
    wanted = f"{stix_id('indicator', 1)},{stix_id('indicator', 3)}"
    by_id = client.get(OBJECTS, params={"match[id]": wanted}, headers=world.bearer(world.tokyo))
    assert {o["id"] for o in by_id.json()["objects"]} == set(wanted.split(","))
    by_type = client.get(OBJECTS, params={"match[type]": "malware"},
                         headers=world.bearer(world.tokyo))
    assert by_type.status_code == 200
    assert by_type.json().get("objects", []) == []


@pytest.mark.parametrize("params", [
    {"limit": "0"},
    {"limit": "-3"},
    {"limit": "ten"},
    {"added_after": "yesterday"},
    {"added_after": "2026-13-01T00:00:00Z"},
    {"match[version]": "newest"},
    {"match[id]": "not-an-id"},
    {"match[type]": "Bad Type"},
    {"match[spec_version]": "two"},
    {"match[type]": "indicator,,malware"},
    {"next": "definitely-not-a-token"},
])
def test_a_bad_filter_is_400_naming_it(web, params: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    response = client.get(OBJECTS, params=params, headers=world.bearer(world.tokyo))
    assert_taxii_error(response, 400)


def test_pagination_walks_every_object_once_with_headers_on_each_page(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    post(client, world, *(indicator(n) for n in range(7)))
    seen: list[str] = []
    params: dict[str, str] = {"limit": "3"}
    pages = 0
    while True:
        response = client.get(OBJECTS, params=params, headers=world.bearer(world.london))
        assert response.status_code == 200
        body = response.json()
        pages += 1
        seen += [o["id"] for o in body.get("objects", [])]
        assert "x-taxii-date-added-first" in response.headers
        if not body["more"]:
            break
        params = {"limit": "3", "next": body["next"]}
    assert pages == 3
    assert sorted(seen) == sorted(stix_id("indicator", n) for n in range(7))


def test_added_after_returns_only_later_additions(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    post(client, world, indicator(1))
    first = client.get(OBJECTS, headers=world.bearer(world.tokyo))
    stamp = first.headers["x-taxii-date-added-last"]
    post(client, world, indicator(2))
    later = client.get(OBJECTS, params={"added_after": stamp}, headers=world.bearer(world.tokyo))
    assert [o["id"] for o in later.json()["objects"]] == [stix_id("indicator", 2)]


def test_an_object_its_versions_and_the_manifest(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    post(client, world, indicator(1))
    post(client, world, indicator(1, modified="2026-02-01T00:00:00.000Z"))
    url = f"{OBJECTS}{stix_id('indicator', 1)}/"
    latest = client.get(url, headers=world.bearer(world.london))
    assert latest.status_code == 200
    assert [o["modified"] for o in latest.json()["objects"]] == ["2026-02-01T00:00:00.000Z"]
    assert "x-taxii-date-added-last" in latest.headers
    every = client.get(url, params={"match[version]": "all"}, headers=world.bearer(world.london))
    assert len(every.json()["objects"]) == 2
    versions = client.get(url + "versions/", headers=world.bearer(world.london))
    assert versions.status_code == 200
    assert versions.headers["content-type"] == TAXII
    assert sorted(versions.json()["versions"]) == ["2026-01-01T00:00:00.000Z",
                                                   "2026-02-01T00:00:00.000Z"]
    assert "x-taxii-date-added-first" in versions.headers
    manifest = client.get(OBJECTS.replace("objects/", "manifest/"),
                          headers=world.bearer(world.london))
    assert manifest.status_code == 200
    record = manifest.json()["objects"][0]
    assert record["id"] == stix_id("indicator", 1)
    assert {"id", "date_added", "version"} <= set(record)
    assert "x-taxii-date-added-first" in manifest.headers


def test_an_unknown_object_is_404_on_every_object_route(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    url = f"{OBJECTS}{stix_id('indicator', 99)}/"
    assert_taxii_error(client.get(url, headers=world.bearer(world.tokyo)), 404)
    assert_taxii_error(client.get(url + "versions/", headers=world.bearer(world.tokyo)), 404)
    assert_taxii_error(client.request("DELETE", url, headers=world.bearer(world.tokyo)), 404)


def test_delete_removes_the_object(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    post(client, world, indicator(1))
    url = f"{OBJECTS}{stix_id('indicator', 1)}/"
    deleted = client.request("DELETE", url, params={"match[version]": "all"},
                             headers=world.bearer(world.tokyo))
    assert deleted.status_code == 200
    assert_taxii_error(client.get(url, headers=world.bearer(world.tokyo)), 404)


def test_a_reader_may_not_delete(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    post(client, world, indicator(1))
    url = f"{OBJECTS}{stix_id('indicator', 1)}/"
    assert_taxii_error(client.request("DELETE", url, headers=world.bearer(world.london)), 403)
    assert client.get(url, headers=world.bearer(world.tokyo)).status_code == 200


def test_a_status_is_404_when_unknown_or_for_another_organisation(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    status = post(client, world, indicator(1)).json()
    unknown = client.get(f"/taxii2/{ROOT}/status/00000000-0000-4000-8000-000000000000/",
                         headers=world.bearer(world.tokyo))
    assert_taxii_error(unknown, 404)
    other = client.get(f"/taxii2/{ROOT}/status/{status['id']}/",
                       headers=world.bearer(world.london))
    assert other.status_code in {403, 404}
    assert_taxii_error(other, other.status_code)


# --------------------------------------------------------------------------- HTTP errors


@pytest.mark.parametrize("method, path", [
    ("PUT", "/taxii2/"),
    ("POST", f"/taxii2/{ROOT}/collections/"),
    ("DELETE", f"/taxii2/{ROOT}/collections/{SHARED_ID}/objects/"),
    ("POST", f"/taxii2/{ROOT}/collections/{SHARED_ID}/manifest/"),
])
def test_a_wrong_method_is_a_taxii_405_with_allow(web, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    response = client.request(method, path, headers=world.bearer(world.tokyo))
    body = assert_taxii_error(response, 405)
    assert method in body["description"]
    assert response.headers["allow"]


def test_an_unknown_path_under_taxii2_is_a_taxii_404(web) -> None:  # type: ignore[no-untyped-def]
    client, world = web
    response = client.get(f"/taxii2/{ROOT}/collections/{SHARED_ID}/nothing/here/",
                          headers=world.bearer(world.tokyo))
    assert_taxii_error(response, 404)


def test_the_json_api_keeps_its_own_error_body(web) -> None:  # type: ignore[no-untyped-def]
    client, _ = web
    response = client.get("/api/minerals/unobtainium")
    assert response.status_code == 404
    assert response.json()["error"] == "not-found"
    assert "http_status" not in response.json()


def test_the_taxii_routes_are_in_the_openapi_schema(web) -> None:  # type: ignore[no-untyped-def]
    client, _ = web
    paths = client.get("/openapi.json").json()["paths"]
    assert "/taxii2/{root}/collections/{collection_id}/objects/" in paths
    assert {"get", "post"} <= set(paths["/taxii2/{root}/collections/{collection_id}/objects/"])


def test_the_spliced_envelope_carries_exactly_the_objects_the_hub_returns(web) -> None:  # type: ignore[no-untyped-def]
    """The route joins stored JSON texts without parsing them; the result must be the same
    envelope the hub gives in-process, object for object, for a paged read too."""
    from kizuna.hub.contract import ObjectFilter

    client, world = web
    post(client, world, *(indicator(n) for n in range(1, 6)))
    hub = client.app.state.kizuna.hub()
    actor = hub.authenticate(world.london)
    expected = hub.get_objects(actor, ROOT, SHARED_ID, ObjectFilter(limit=3)).body
    response = client.get(OBJECTS, params={"limit": 3}, headers=world.bearer(world.london))
    body = response.json()
    assert body["objects"] == expected["objects"] and len(body["objects"]) == 3
    assert body["more"] is True and body["next"] == expected["next"]
    rest = client.get(OBJECTS, params={"limit": 3, "next": body["next"]},
                      headers=world.bearer(world.london)).json()
    assert rest["more"] is False and len(rest["objects"]) == 2
    empty = client.get(OBJECTS, params={"match[type]": "malware"},
                       headers=world.bearer(world.london))
    assert empty.json() == {"more": False}
