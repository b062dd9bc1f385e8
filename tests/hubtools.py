"""Helpers for the hub tests: deterministic STIX objects, partner setups and paging loops.

``CORE_CHECKS`` is the suite every store kind runs (memory and SQLite in
tests/integration/test_hub_core.py, PostgreSQL in tests/postgres/test_hub_postgres.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from kizuna.errors import InputError, NotFoundError
from kizuna.hub.contract import Actor, AuthError, ForbiddenError, ObjectFilter, Page, Tlp
from kizuna.hub.service import Hub
from kizuna.intel.stix.markings import TLP2_IDS
from kizuna.store import Store

ADMIN = Actor(None, admin=True)
ROOT = "pact"
COLLECTION = "0b7e7c1e-5b8a-4f3e-9a61-2f1c0d9e8a01"


def stix_id(kind: str, number: int) -> str:
    """A predictable RFC 4122 (version 4) identifier."""
    return f"{kind}--{uuid.UUID(int=number, version=4)}"


def ts(second: int = 0, fraction: str = ".000") -> str:
    return f"2024-01-01T00:00:{second:02d}{fraction}Z"


def indicator(number: int, *, tlp: Tlp | None = None, modified: str | None = None,
              **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stix_id("indicator", number),
        "created": ts(),
        "modified": modified or ts(),
        "name": f"indicator {number}",
        "pattern": f"[ipv4-addr:value = '10.0.{number // 256 % 256}.{number % 256}']",
        "pattern_type": "stix",
        "valid_from": ts(),
    }
    if tlp is not None:
        obj["object_marking_refs"] = [TLP2_IDS[int(tlp)]]
    obj.update(extra)
    return obj


def malware(number: int, *, tlp: Tlp | None = None, modified: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "malware",
        "spec_version": "2.1",
        "id": stix_id("malware", number),
        "created": ts(),
        "modified": modified or ts(),
        "name": f"malware {number}",
        "is_family": False,
    }
    if tlp is not None:
        obj["object_marking_refs"] = [TLP2_IDS[int(tlp)]]
    return obj


@dataclass
class Partners:
    """Three organisations: tokyo and london read and write; paris is outside."""

    hub: Hub
    tokyo: Actor
    london: Actor
    paris: Actor
    keys: dict[str, str]

    def post(self, actor: Actor, *objects: dict[str, Any]) -> dict[str, Any]:
        return self.hub.add_objects(actor, ROOT, COLLECTION, {"objects": list(objects)})


def partners(hub: Hub, *, sharing_group: list[str] | None = None) -> Partners:
    keys = {}
    for name in ("tokyo-cert", "london-ncsc", "paris-anssi"):
        hub.add_org(ADMIN, name, title=name.split("-")[0].title())
        keys[name] = hub.create_key(ADMIN, name)[0]
    hub.add_root(ADMIN, ROOT, title="Pact")
    group = None
    if sharing_group is not None:
        group = "amber-group"
        hub.add_group(ADMIN, group, sharing_group)
    hub.add_collection(ADMIN, ROOT, title="Shared", id=COLLECTION,
                       readers=["tokyo-cert", "london-ncsc"],
                       writers=["tokyo-cert", "london-ncsc"], sharing_group=group)
    return Partners(hub, *(hub.authenticate(keys[name]) for name in keys), keys=keys)


def read_all(hub: Hub, actor: Actor, query: ObjectFilter | None = None,
             read: Callable[..., Page] | None = None, key: str = "objects") -> list[Any]:
    """Every item across pages (following ``next``)."""
    read = read or hub.get_objects
    query = query or ObjectFilter()
    items: list[Any] = []
    token = None
    for _ in range(10_000):
        page = read(actor, ROOT, COLLECTION, replace(query, next=token))
        items.extend(page.body.get(key, []))
        if not page.body["more"]:
            return items
        token = page.body["next"]
    raise AssertionError("paging did not end")


def ids_versions(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(obj["id"], obj["modified"]) for obj in objects]


# ---------------------------------------------------------------- the core suite


def check_every_object_once_across_pages(hub: Hub) -> None:
    env = partners(hub)
    posted = [indicator(n) for n in range(23)]
    for start in range(0, 23, 5):
        env.post(env.tokyo, *posted[start:start + 5])
    got = read_all(hub, env.london, ObjectFilter(limit=4))
    assert sorted(ids_versions(got)) == sorted(ids_versions(posted))
    assert len(got) == len(set(ids_versions(got)))


def check_status_is_kept_and_private(hub: Hub) -> None:
    env = partners(hub)
    status = env.post(env.tokyo, indicator(1), {"type": "indicator", "id": "nonsense"})
    assert (status["total_count"], status["success_count"], status["failure_count"]) == (2, 1, 1)
    again = Hub(hub.store).status(env.tokyo, ROOT, status["id"])
    assert again == status
    with pytest.raises(NotFoundError):
        hub.status(env.london, ROOT, status["id"])


def check_versions_and_version_filters(hub: Hub) -> None:
    env = partners(hub)
    stamps = [ts(1), ts(2, ".5"), ts(3)]
    env.post(env.tokyo, *(indicator(7, modified=stamp) for stamp in stamps))
    obj_id = stix_id("indicator", 7)
    versions = hub.versions(env.london, ROOT, COLLECTION, obj_id, ObjectFilter()).body
    assert versions["versions"] == stamps
    def modified(*words: str) -> list[str]:
        page = hub.get_object(env.london, ROOT, COLLECTION, obj_id, ObjectFilter(versions=words))
        return sorted(obj["modified"] for obj in page.body["objects"])
    assert modified("last") == [stamps[2]]
    assert modified("first") == [stamps[0]]
    assert modified("all") == sorted(stamps)
    assert modified("first", "last") == [stamps[0], stamps[2]]
    assert modified("2024-01-01T00:00:02.500Z") == [stamps[1]]


def check_repost_is_idempotent_and_changed_copy_conflicts(hub: Hub) -> None:
    env = partners(hub)
    first = env.post(env.tokyo, indicator(1))
    again = env.post(env.tokyo, indicator(1))
    assert first["success_count"] == again["success_count"] == 1
    changed = env.post(env.tokyo, indicator(1, name="changed"))
    assert changed["failures"][0]["message"] == (
        "a different object with this id and modified already exists"
    )
    assert len(read_all(hub, env.tokyo)) == 1


def check_only_the_producer_adds_versions(hub: Hub) -> None:
    env = partners(hub)
    env.post(env.tokyo, indicator(1))
    status = env.post(env.london, indicator(1, modified=ts(9)))
    assert status["failure_count"] == 1
    assert "only its producer" in status["failures"][0]["message"]


def check_filters(hub: Hub) -> None:
    env = partners(hub)
    env.post(env.tokyo, indicator(1), malware(2))
    middle = hub.get_objects(env.tokyo, ROOT, COLLECTION, ObjectFilter()).date_added_last
    env.post(env.tokyo, indicator(3))
    assert [o["id"] for o in read_all(hub, env.london, ObjectFilter(types=["malware"]))] == [
        stix_id("malware", 2)
    ]
    by_id = read_all(hub, env.london, ObjectFilter(ids=[stix_id("indicator", 3)]))
    assert [o["id"] for o in by_id] == [stix_id("indicator", 3)]
    after = read_all(hub, env.london, ObjectFilter(added_after=middle))
    assert [o["id"] for o in after] == [stix_id("indicator", 3)]
    assert read_all(hub, env.london, ObjectFilter(spec_versions=["2.0"])) == []
    manifest = read_all(hub, env.london, read=hub.manifest)
    assert {entry["media_type"] for entry in manifest} == {"application/stix+json;version=2.1"}


def check_delete_is_for_the_producer(hub: Hub) -> None:
    env = partners(hub)
    env.post(env.tokyo, indicator(1, tlp=Tlp.GREEN), indicator(2, tlp=Tlp.RED))
    with pytest.raises(ForbiddenError):
        hub.delete_object(env.london, ROOT, COLLECTION, stix_id("indicator", 1), ObjectFilter())
    with pytest.raises(NotFoundError):  # london cannot see the RED one: it does not exist
        hub.delete_object(env.london, ROOT, COLLECTION, stix_id("indicator", 2), ObjectFilter())
    hub.delete_object(env.tokyo, ROOT, COLLECTION, stix_id("indicator", 1), ObjectFilter())
    assert [o["id"] for o in read_all(hub, env.tokyo)] == [stix_id("indicator", 2)]


def check_tlp_on_every_read_path(hub: Hub) -> None:
    env = partners(hub)
    env.post(env.tokyo, indicator(1, tlp=Tlp.RED), indicator(2, tlp=Tlp.GREEN))
    red = stix_id("indicator", 1)
    assert [o["id"] for o in read_all(hub, env.london)] == [stix_id("indicator", 2)]
    assert [e["id"] for e in read_all(hub, env.london, read=hub.manifest)] == [
        stix_id("indicator", 2)
    ]
    denied_before = len(hub.audit(ADMIN, outcome="denied", limit=1000))
    for call in (hub.get_object, hub.versions):
        with pytest.raises(NotFoundError):
            call(env.london, ROOT, COLLECTION, red, ObjectFilter())
    denied = hub.audit(ADMIN, outcome="denied", limit=1000)[denied_before:]
    assert [(e.action, e.outcome) for e in denied] == [("read", "denied"),
                                                       ("versions", "denied")]
    assert all(e.target.endswith(red) for e in denied)  # audited, though the answer is 404
    with pytest.raises(NotFoundError):  # an id that does not exist at all is not a denial
        hub.get_object(env.london, ROOT, COLLECTION, stix_id("indicator", 99), ObjectFilter())
    assert len(hub.audit(ADMIN, outcome="denied", limit=1000)) == denied_before + 2
    with pytest.raises(NotFoundError):
        hub.get_objects(env.paris, ROOT, COLLECTION, ObjectFilter())
    with pytest.raises(AuthError):
        hub.get_objects(Actor(None), ROOT, COLLECTION, ObjectFilter())
    assert len(read_all(hub, env.tokyo)) == 2


def check_bad_next_token_is_input_error(hub: Hub) -> None:
    env = partners(hub)
    env.post(env.tokyo, *(indicator(n) for n in range(3)))
    page = hub.get_objects(env.tokyo, ROOT, COLLECTION, ObjectFilter(limit=1))
    token = page.body["next"]
    with pytest.raises(InputError):
        hub.get_objects(env.tokyo, ROOT, COLLECTION, ObjectFilter(limit=1, next="garbage"))
    with pytest.raises(InputError):  # a token of another query
        hub.get_objects(env.tokyo, ROOT, COLLECTION,
                        ObjectFilter(limit=1, types=["indicator"], next=token))


CORE_CHECKS: list[Callable[[Hub], None]] = [
    check_every_object_once_across_pages,
    check_status_is_kept_and_private,
    check_versions_and_version_filters,
    check_repost_is_idempotent_and_changed_copy_conflicts,
    check_only_the_producer_adds_versions,
    check_filters,
    check_delete_is_for_the_producer,
    check_tlp_on_every_read_path,
    check_bad_next_token_is_input_error,
]


def core_id(check: Callable[[Hub], None]) -> str:
    return check.__name__.removeprefix("check_")


def make_hub(store: Store, clock: Callable[..., Any] | None = None) -> Hub:
    return Hub(store, node_name="test-node", clock=clock)
