"""Interop: the OASIS ``taxii2-client`` drives every endpoint of a real server on 127.0.0.1,
and the OASIS ``stix2-validator`` accepts every object the hub returns."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages
from taxii_world import ROOT, SHARED_ID, TAXII, World, build_world, envelope, indicator, stix_id

from kizuna.settings import Settings
from kizuna.web.app import create_app
from servetools import serving


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    """``create_app`` under uvicorn in a thread on a free port, with a temporary SQLite store
    and the test world seeded through the hub the app built."""
    store = tmp_path_factory.mktemp("taxii") / "k.db"
    app = create_app(Settings(store=f"sqlite:///{store}", host="127.0.0.1", port=0))
    with serving(app, "the TAXII test server") as base:
        yield base, build_world(app.state.kizuna.hub())


def collection(base: str, key: str, collection_id: str = SHARED_ID) -> Collection:
    return Collection(f"{base}/taxii2/{ROOT}/collections/{collection_id}/",
                      user="partner", password=key)


def assert_valid_stix(objects: list[dict[str, Any]]) -> None:
    options = ValidationOptions(version="2.1", strict=False)
    for item in objects:
        result = validate_instance(item, options)
        assert result.is_valid, [str(error) for error in result.errors]


def test_the_client_discovers_the_server_and_its_api_root(live) -> None:  # type: ignore[no-untyped-def]
    base, world = live
    server = Server(f"{base}/taxii2/", user="partner", password=world.tokyo)
    assert server.title
    roots = {urlsplit(root.url).path for root in server.api_roots}
    assert f"/taxii2/{ROOT}/" in roots
    root = ApiRoot(f"{base}/taxii2/{ROOT}/", user="partner", password=world.tokyo)
    assert TAXII in root.versions
    assert root.max_content_length > 0
    assert SHARED_ID in {c.id for c in root.collections}


def test_the_client_adds_reads_pages_versions_manifests_and_deletes(live) -> None:  # type: ignore[no-untyped-def]
    base, world = live
    writer = collection(base, world.tokyo)
    assert writer.can_write and writer.can_read
    status = writer.add_objects(envelope(*(indicator(n) for n in range(100, 105))),
                                poll_interval=0.05, timeout=10)
    assert status.status == "complete"
    assert status.success_count == 5 and status.failure_count == 0
    root = ApiRoot(f"{base}/taxii2/{ROOT}/", user="partner", password=world.tokyo)
    assert root.get_status(status.id).id == status.id

    reader = collection(base, world.london)
    assert not reader.can_write
    everything = reader.get_objects()
    ids = {o["id"] for o in everything["objects"]}
    assert {stix_id("indicator", n) for n in range(100, 105)} <= ids
    assert_valid_stix(everything["objects"])

    paged: list[str] = []
    for page in as_pages(reader.get_objects, per_request=2):
        paged += [o["id"] for o in page.get("objects", [])]
    assert sorted(paged) == sorted(ids)

    one = reader.get_object(stix_id("indicator", 100))
    assert [o["id"] for o in one["objects"]] == [stix_id("indicator", 100)]
    assert_valid_stix(one["objects"])
    writer.add_objects(envelope(indicator(100, modified="2026-03-01T00:00:00.000Z")),
                       poll_interval=0.05, timeout=10)
    versions = reader.object_versions(stix_id("indicator", 100))
    assert len(versions["versions"]) == 2
    manifest = reader.get_manifest(type="indicator")
    assert stix_id("indicator", 101) in {r["id"] for r in manifest["objects"]}
    filtered = reader.get_objects(id=stix_id("indicator", 102), type="indicator")
    assert [o["id"] for o in filtered["objects"]] == [stix_id("indicator", 102)]

    writer.delete_object(stix_id("indicator", 104), version="all")
    with pytest.raises(requests.HTTPError) as gone:
        reader.get_object(stix_id("indicator", 104))
    assert gone.value.response.status_code == 404
    body = gone.value.response.json()
    assert body["http_status"] == "404"


def test_a_revoked_key_is_refused_with_401(live) -> None:  # type: ignore[no-untyped-def]
    base, world = live
    with pytest.raises(requests.HTTPError) as refused:
        ApiRoot(f"{base}/taxii2/{ROOT}/", user="partner", password=world.revoked).refresh()
    assert refused.value.response.status_code == 401
    assert "Basic" in refused.value.response.headers["WWW-Authenticate"]


def test_a_request_with_no_accept_header_at_all_is_406(live) -> None:  # type: ignore[no-untyped-def]
    base, _ = live
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", "/taxii2/")  # http.client sends no Accept header
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 406
    assert response.getheader("Content-Type") == TAXII
    assert body["http_status"] == "406"


def test_an_oversized_envelope_is_refused_before_it_is_read(live) -> None:  # type: ignore[no-untyped-def]
    base, world = live
    response = requests.post(
        f"{base}/taxii2/{ROOT}/collections/{SHARED_ID}/objects/",
        data=b"x" * (Settings().taxii_max_content_length + 1),
        headers={"Accept": TAXII, "Content-Type": TAXII,
                 "Authorization": f"Bearer {world.tokyo}"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.json()["http_status"] == "413"


def test_every_stored_object_passes_the_oasis_validator(live, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, world = live
    writer = collection(base, world.tokyo)
    writer.add_objects(envelope(*(indicator(n) for n in range(200, 210))),
                       poll_interval=0.05, timeout=10)
    objects: list[dict[str, Any]] = []
    for page in as_pages(collection(base, world.london).get_objects, per_request=4):
        objects += page.get("objects", [])
    assert len(objects) >= 10
    assert_valid_stix(objects)
