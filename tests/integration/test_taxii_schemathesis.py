"""schemathesis against the app's OpenAPI schema, in process over ASGI: no 5xx, ever.

Two runs over every operation, each case sent anonymously and with a real API key:

* the schema exactly as ``/openapi.json`` serves it;
* the same schema with what the TAXII routes read from the raw request but do not declare
  (the ``match[*]``, ``added_after``, ``limit`` and ``next`` query parameters, and the
  envelope body of a POST) added, so the generated requests reach the hub's filters and
  its envelope validation too.

Each generated case is also replayed with the real API root and collection in its path, so
it gets past the 404 for an unknown root. Bounded by ``max_examples`` to stay well under a
minute on 2 cores.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from kizuna.hub.contract import Actor
from kizuna.hub.service import Hub
from kizuna.settings import Settings
from kizuna.store import open_store
from kizuna.web.app import create_app

TAXII = "application/taxii+json;version=2.1"
ROOT = "fuzz"
COLLECTION = "1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
INDICATOR = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
EXAMPLES = 25

QUERY = {
    "match[id]": {"type": "string"},
    "match[type]": {"type": "string"},
    "match[version]": {"type": "string"},
    "match[spec_version]": {"type": "string"},
    "added_after": {"type": "string"},
    "limit": {"type": "integer"},
    "next": {"type": "string"},
}
ENVELOPE = {
    "type": "object",
    "properties": {
        "objects": {
            "type": "array",
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "type": {"enum": ["indicator", "malware", "marking-definition", "x"]},
                    "spec_version": {"enum": ["2.1", "2.0"]},
                    "id": {"type": "string"},
                    "created": {"type": "string"},
                    "modified": {"type": "string"},
                    "pattern": {"type": "string"},
                    "pattern_type": {"type": "string"},
                    "valid_from": {"type": "string"},
                    "object_marking_refs": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "more": {"type": "boolean"},
    },
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The app on a SQLite hub with one root, one collection, one object and a key."""
    db: Path = tmp_path_factory.mktemp("fuzz") / "hub.db"
    store = open_store(f"sqlite:///{db}")
    hub = Hub(store)
    admin = Actor(None, admin=True)
    hub.add_org(admin, "fuzzer")
    key, _ = hub.create_key(admin, "fuzzer")
    hub.add_root(admin, ROOT)
    hub.add_collection(admin, ROOT, title="fuzz", id=COLLECTION, readers=["fuzzer"],
                       writers=["fuzzer"])
    hub.add_objects(Actor("fuzzer"), ROOT, COLLECTION, {"objects": [{
        "type": "indicator", "spec_version": "2.1", "id": INDICATOR,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '10.0.0.1']", "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00.000Z",
    }]})
    app = create_app(Settings(store=f"sqlite:///{db}"), store=store, hub=hub)
    try:
        yield app, key
    finally:
        store.close()


def augmented(raw: dict[str, Any]) -> dict[str, Any]:
    """The schema plus the TAXII query parameters and POST body it leaves out."""
    schema = copy.deepcopy(raw)
    for path, item in schema["paths"].items():
        if not path.startswith("/taxii2/"):
            continue
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", [])}
            if method in ("get", "delete") and ("objects" in path or "manifest" in path):
                operation.setdefault("parameters", []).extend(
                    {"name": name, "in": "query", "required": False, "schema": spec}
                    for name, spec in QUERY.items() if name not in declared
                )
            if method == "post" and "requestBody" not in operation:
                operation["requestBody"] = {
                    "required": True, "content": {TAXII: {"schema": ENVELOPE}},
                }
    return schema


def check(case: Any, key: str, seen: set[int]) -> None:
    """The case anonymous and with the key, as generated and on the real root/collection."""
    variants = [dict(case.path_parameters or {})]
    if "root" in variants[0]:
        real = {**variants[0], "root": ROOT}
        if "collection_id" in real:
            real["collection_id"] = COLLECTION
        if "object_id" in real:
            real["object_id"] = INDICATOR
        variants.append(real)
    for params in variants:
        case.path_parameters = params
        for auth in (None, f"Bearer {key}"):
            headers = {"Accept": TAXII} if case.path.startswith("/taxii2/") else {}
            if auth:
                headers["Authorization"] = auth
            if case.method.upper() == "POST":
                headers["Content-Type"] = TAXII
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            seen.add(response.status_code)


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def runner(operation: Any, key: str, seen: set[int]) -> Any:
    """A Hypothesis test of one operation."""

    @FUZZ
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        check(case, key, seen)

    return run


def fuzz(schema: Any, key: str, prefix: str = "") -> tuple[list[str], dict[str, set[int]]]:
    """Every operation (under ``prefix``) for ``EXAMPLES`` cases: the failures, and the
    status codes seen, by label.

    Driven with plain Hypothesis over ``operation.as_strategy()``: the schemathesis pytest
    plugin's fixture loader does not work with pytest 9.
    """
    failures = []
    statuses: dict[str, set[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    # DELETE last, so the other operations still find the stored object on the real path
    for operation in sorted(operations, key=lambda op: op.method.upper() == "DELETE"):
        if not operation.path.startswith(prefix):
            continue
        seen = statuses.setdefault(operation.label, set())
        try:
            runner(operation, key, seen)()
        except (Exception, BaseExceptionGroup) as error:  # report every operation's failure
            failures.append(f"{operation.label}: {str(error)[:600]}")
    assert statuses, "no operation was fuzzed"
    return failures, statuses


def test_no_5xx_for_the_served_schema(world: tuple[Any, str]) -> None:
    app, key = world
    failures, statuses = fuzz(schemathesis.openapi.from_asgi("/openapi.json", app), key)
    assert not failures, "\n".join(failures)
    assert len(statuses) >= 16  # the JSON API and every TAXII route
    assert any(200 in seen for label, seen in statuses.items() if "/taxii2/" in label)


def test_no_5xx_with_taxii_filters_and_envelopes(world: tuple[Any, str]) -> None:
    """Also proves the fuzzing gets deep: objects are read (200) and posted (202)."""
    app, key = world
    schema = schemathesis.openapi.from_dict(augmented(app.openapi()))
    schema.app = app
    failures, statuses = fuzz(schema, key, "/taxii2/")
    assert not failures, "\n".join(failures)
    objects = "/taxii2/{root}/collections/{collection_id}/objects/"
    assert 200 in statuses[f"GET {objects}"], statuses[f"GET {objects}"]
    assert 202 in statuses[f"POST {objects}"], statuses[f"POST {objects}"]
    assert statuses[f"GET {objects}"] & {400, 422}  # and the filters were given bad values
