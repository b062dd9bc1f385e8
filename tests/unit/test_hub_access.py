"""Access control as a full matrix: random worlds, every read path, an oracle from docs/access.md.

The oracle below is written from the table in docs/access.md, not from kizuna.hub.access, and
the assertions go through the Hub's public read paths (objects with filters and paging,
object, versions, manifest, status), so a leak anywhere between the rule and the page fails.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubtools import ADMIN, stix_id, ts
from kizuna.errors import NotFoundError
from kizuna.hub.access import StatusAccess, allowed, read_view
from kizuna.hub.contract import (
    Actor,
    AuthError,
    Collection,
    ForbiddenError,
    ObjectAccess,
    ObjectFilter,
    SharingGroup,
    Tlp,
)
from kizuna.hub.service import Hub
from kizuna.intel.stix.markings import TLP1_IDS, TLP2_IDS
from kizuna.store import open_store

ORGS = ("a-org", "b-org", "c-org", "d-org")
ROOT = "root"
COLLECTION_IDS = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222")
# marking id -> TLP level, as docs/access.md states it (TLP 1.0 WHITE -> CLEAR)
MARKING_LEVELS = {
    **{marking: level for level, marking in TLP2_IDS.items()},
    TLP1_IDS["white"]: 0, TLP1_IDS["green"]: 1, TLP1_IDS["amber"]: 2, TLP1_IDS["red"]: 4,
}

org_sets = st.frozensets(st.sampled_from(ORGS))
marking_lists = st.lists(st.sampled_from(sorted(MARKING_LEVELS)), max_size=2, unique=True)


@dataclass
class CollectionSpec:
    readers: frozenset[str]
    writers: frozenset[str]
    grouped: bool
    default: Tlp


@dataclass
class ObjectSpec:
    collection: int
    producer: str
    kind: str
    recipients: frozenset[str]
    versions: list[list[str]]  # the markings of each version


@dataclass
class World:
    group: frozenset[str]
    collections: list[CollectionSpec]
    objects: list[ObjectSpec]
    statuses: dict[str, str] = field(default_factory=dict)  # status id -> poster


@st.composite
def worlds(draw: st.DrawFn) -> World:
    objects = draw(st.lists(st.builds(
        ObjectSpec,
        collection=st.integers(0, 1),
        producer=st.sampled_from(ORGS),
        kind=st.sampled_from(["indicator", "malware"]),
        recipients=org_sets,
        versions=st.lists(marking_lists, min_size=1, max_size=3),
    ), max_size=8))
    collections = []
    for index in range(2):
        producers = {obj.producer for obj in objects if obj.collection == index}
        collections.append(CollectionSpec(
            readers=draw(org_sets),
            writers=draw(org_sets) | producers,
            grouped=draw(st.booleans()),
            default=draw(st.sampled_from(list(Tlp))),
        ))
    return World(draw(org_sets), collections, objects)


def level(world: World, obj: ObjectSpec, markings: list[str]) -> int:
    if markings:
        return max(MARKING_LEVELS[m] for m in markings)
    return int(world.collections[obj.collection].default)


def oracle_sees(world: World, org: str, obj: ObjectSpec, markings: list[str]) -> bool:
    """docs/access.md, "Objects", read literally."""
    spec = world.collections[obj.collection]
    if org not in spec.readers:
        return False
    tlp = level(world, obj, markings)
    if tlp <= 1 or org == obj.producer:
        return True
    if tlp == 2:
        return not spec.grouped or org in world.group
    return org in obj.recipients


def build(world: World) -> tuple[Hub, dict[str, Actor]]:
    hub = Hub(open_store("memory://"))
    identities = {name: hub.add_org(ADMIN, name).identity_id for name in ORGS}
    actors = {name: hub.authenticate(hub.create_key(ADMIN, name)[0]) for name in ORGS}
    hub.add_root(ADMIN, ROOT)
    hub.add_group(ADMIN, "group", sorted(world.group))
    for spec, collection_id in zip(world.collections, COLLECTION_IDS, strict=True):
        hub.add_collection(ADMIN, ROOT, title="c", id=collection_id, readers=spec.readers,
                           writers=spec.writers, sharing_group="group" if spec.grouped else None,
                           default_tlp=spec.default)
    for number, obj in enumerate(world.objects):
        docs = []
        for index, markings in enumerate(obj.versions):
            doc: dict[str, Any] = {
                "type": obj.kind, "spec_version": "2.1", "id": stix_id(obj.kind, number),
                "created": ts(0), "modified": ts(index), "name": "x",
            }
            if obj.kind == "indicator":
                doc.update(pattern="[url:value = 'x']", pattern_type="stix", valid_from=ts(0))
            else:
                doc["is_family"] = False
            if markings:
                doc["object_marking_refs"] = markings
            if obj.recipients:
                doc["x_kizuna_recipients"] = sorted(identities[r] for r in obj.recipients)
            docs.append(doc)
        status = hub.add_objects(actors[obj.producer], ROOT, COLLECTION_IDS[obj.collection],
                                 {"objects": docs})
        assert status["failure_count"] == 0, status["failures"]
        world.statuses[status["id"]] = obj.producer
    return hub, actors


def expected(world: World, org: str, collection: int, words: tuple[str, ...],
             kinds: tuple[str, ...], ids: tuple[str, ...] | None) -> set[tuple[str, str]]:
    found = set()
    for number, obj in enumerate(world.objects):
        object_id = stix_id(obj.kind, number)
        if obj.collection != collection or (kinds and obj.kind not in kinds):
            continue
        if ids is not None and object_id not in ids:
            continue
        last = len(obj.versions) - 1
        for index, markings in enumerate(obj.versions):
            chosen = ("all" in words or ("first" in words and index == 0)
                      or ("last" in words and index == last))
            if chosen and oracle_sees(world, org, obj, markings):
                found.add((object_id, ts(index)))
    return found


def pages(hub: Hub, actor: Actor, collection_id: str, query: ObjectFilter, read: Any,
          key: str) -> list[Any]:
    items: list[Any] = []
    token = None
    while True:
        page = read(actor, ROOT, collection_id, ObjectFilter(**{**query.__dict__, "next": token}))
        items.extend(page.body.get(key, []))
        if not page.body["more"]:
            return items
        token = page.body["next"]


queries = st.tuples(
    st.sampled_from([("last",), ("first",), ("all",), ("first", "last")]),
    st.sampled_from([(), ("indicator",), ("malware", "indicator")]),
    st.sampled_from([1, 2, 5, None]),
    st.booleans(),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), asked=st.lists(queries, min_size=1, max_size=3))
def test_no_read_path_shows_an_object_the_rules_hide(world: World, asked: list[Any]) -> None:
    hub, actors = build(world)
    all_ids = tuple(stix_id(o.kind, n) for n, o in enumerate(world.objects))
    for (org, actor), collection in itertools.product(actors.items(), (0, 1)):
        spec, collection_id = world.collections[collection], COLLECTION_IDS[collection]
        if org not in spec.readers:
            error = ForbiddenError if org in spec.writers else NotFoundError
            for read in (hub.get_objects, hub.manifest):
                with pytest.raises(error):
                    read(actor, ROOT, collection_id, ObjectFilter())
            continue
        for words, kinds, limit, by_id in asked:
            ids = all_ids[::2] if by_id else None
            query = ObjectFilter(ids=ids or (), types=kinds, versions=words, limit=limit)
            want = expected(world, org, collection, words, kinds, ids)
            got = pages(hub, actor, collection_id, query, hub.get_objects, "objects")
            pairs = [(obj["id"], obj["modified"]) for obj in got]
            assert sorted(pairs) == sorted(want)
            listed = pages(hub, actor, collection_id, query, hub.manifest, "objects")
            assert sorted((e["id"], e["version"]) for e in listed) == sorted(want)
        check_single_object_paths(hub, world, org, actor, collection)


def check_single_object_paths(hub: Hub, world: World, org: str, actor: Actor,
                              collection: int) -> None:
    collection_id = COLLECTION_IDS[collection]
    for number, obj in enumerate(world.objects):
        if obj.collection != collection:
            continue
        object_id = stix_id(obj.kind, number)
        visible = [ts(i) for i, m in enumerate(obj.versions) if oracle_sees(world, org, obj, m)]
        last = ts(len(obj.versions) - 1)
        if last in visible:
            page = hub.get_object(actor, ROOT, collection_id, object_id, ObjectFilter())
            assert [o["modified"] for o in page.body["objects"]] == [last]
        else:
            with pytest.raises(NotFoundError):
                hub.get_object(actor, ROOT, collection_id, object_id, ObjectFilter())
        if visible:
            page = hub.versions(actor, ROOT, collection_id, object_id, ObjectFilter())
            assert page.body["versions"] == visible
        else:
            with pytest.raises(NotFoundError):
                hub.versions(actor, ROOT, collection_id, object_id, ObjectFilter())
    for status_id, poster in world.statuses.items():
        if poster == org:
            assert hub.status(actor, ROOT, status_id)["id"] == status_id
        else:
            with pytest.raises(NotFoundError):
                hub.status(actor, ROOT, status_id)


def test_anonymous_actors_only_discover() -> None:
    hub = Hub(open_store("memory://"))
    hub.add_root(ADMIN, ROOT)
    anonymous = Actor(None)
    assert hub.discovery(anonymous)["api_roots"] == ["/taxii2/root/"]
    with pytest.raises(AuthError):
        hub.api_root(anonymous, ROOT)
    with pytest.raises(AuthError):
        hub.collections(anonymous, ROOT)
    with pytest.raises(AuthError):
        hub.status(anonymous, ROOT, "x")
    assert not allowed(anonymous, "read", None)


def test_only_the_local_operator_administers() -> None:
    assert allowed(ADMIN, "admin")
    decision = allowed(Actor("a-org", "kz_1"), "admin")
    assert not decision
    assert "local operator" in decision.reason


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("members", [frozenset(), frozenset({"a-org"})])
def test_compiled_view_agrees_with_allowed_on_every_combination(
    grouped: bool, members: frozenset[str]
) -> None:
    collection = Collection("c", ROOT, "t", readers=frozenset({"a-org", "b-org"}),
                            sharing_group="g" if grouped else None)
    group = SharingGroup("g", members)
    for org, tlp, producer, recipients in itertools.product(
        ("a-org", "b-org", "c-org"), list(Tlp), ORGS[:3],
        [frozenset(), frozenset({"a-org"}), frozenset({"b-org", "c-org"})],
    ):
        actor = Actor(org, "kz_x")
        view = read_view(actor, collection, group)
        decision = allowed(actor, "read", ObjectAccess(collection, producer, tlp, recipients),
                           group=group)
        attr = ("," + ",".join(sorted(recipients)) + ",") if recipients else ""
        compiled = view is not None and view.sees(str(int(tlp)), producer, attr)
        assert compiled == decision.allowed, (org, tlp, producer, recipients, decision.reason)


def test_every_decision_explains_itself() -> None:
    collection = Collection("c", ROOT, "t", readers=frozenset({"a-org"}))
    access = ObjectAccess(collection, "b-org", Tlp.RED, frozenset())
    decision = allowed(Actor("a-org", "k"), "read", access)
    assert not decision
    assert decision.reason == "TLP:RED is limited to the producer and the recipients it named"
    assert allowed(Actor("a-org", "k"), "read_status", StatusAccess("a-org"))
    assert not allowed(Actor("b-org", "k"), "read_status", StatusAccess("a-org"))
