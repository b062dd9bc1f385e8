"""Federation between real nodes: each on its own SQLite store, served on 127.0.0.1.

Convergence of two and three nodes under concurrent writes (with the background sync of
``kizuna serve`` doing the work), the marking boundary, producers and markings travelling
unchanged, loop-freedom, push, and the producer rule across nodes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedtools import (
    ROOT,
    Node,
    build_nodes,
    close_nodes,
    indicator,
    peer,
    serving_nodes,
    version_of,
)
from kizuna.hub.contract import Tlp
from kizuna.hub.federation import state as peer_state
from kizuna.hub.federation.sync import sync_all
from kizuna.hub.paging import MEDIA_TYPE_TAXII
from kizuna.jsontext import canonical

SHAREABLE = (None, Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER)  # None: the collection default (AMBER)


@pytest.fixture
def make_nodes(tmp_path: Path) -> Iterator[Callable[[Sequence[str]], list[Node]]]:
    made: list[Node] = []

    def make(names: Sequence[str]) -> list[Node]:
        nodes = build_nodes(tmp_path, names)
        made.extend(nodes)
        return nodes

    yield make
    close_nodes(made)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def writer(node: Node, tag: str, count: int, key: str | None = None) -> list[dict[str, Any]]:
    """Objects at every level, some with a second version, posted over TAXII in envelopes
    of 7 as the node's own organisation; returns every version posted."""
    levels = [*SHAREABLE, Tlp.RED]
    posted = []
    for number in range(count):
        level = levels[number % len(levels)]
        posted.append(indicator(tag, number, tlp=level))
        if number % 4 == 0:
            posted.append(indicator(tag, number, tlp=level, modified="2026-02-01T00:00:00.000Z"))
    headers = {"Accept": MEDIA_TYPE_TAXII, "Content-Type": MEDIA_TYPE_TAXII,
               "Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=node.api_root, headers=headers, timeout=30) as client:
        for start in range(0, len(posted), 7):
            response = client.post(f"collections/{node.collection}/objects/",
                                    json={"objects": posted[start:start + 7]})
            assert response.status_code == 202, response.text
            assert response.json()["failure_count"] == 0, response.text
    return posted


def own_key(node: Node) -> str:
    from kizuna.hub.contract import Actor

    return node.hub.create_key(Actor(None, admin=True), node.org)[0]


def shareable(objects: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    return {version_of(obj) for obj in objects if red not in obj.get("object_marking_refs", [])}


def write_concurrently(nodes: Sequence[Node], count: int) -> dict[str, list[dict[str, Any]]]:
    keys = {node.name: own_key(node) for node in nodes}
    posted: dict[str, list[dict[str, Any]]] = {}
    threads = [threading.Thread(target=lambda n=node: posted.__setitem__(
        n.name, writer(n, n.name, count, keys[n.name]))) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(posted) == {node.name for node in nodes}, "a writer failed (see above)"
    return posted


def expected(node: Node, posted: dict[str, list[dict[str, Any]]]) -> set[tuple[str, str]]:
    """What a node must hold: everything it produced, and the others' shareable versions."""
    mine = {version_of(obj) for obj in posted[node.name]}
    return mine | set().union(*(shareable(objs) for name, objs in posted.items()
                                if name != node.name))


# ---------------------------------------------------------------- convergence


def test_two_nodes_converge_after_concurrent_writes_on_both(make_nodes) -> None:
    tokyo, london = make_nodes(["tokyo", "london"])
    with serving_nodes([tokyo, london], peer_sync=True, interval=0.2):
        peer(tokyo, london)
        peer(london, tokyo)
        posted = write_concurrently([tokyo, london], 60)
        for node in (tokyo, london):
            wait_for(lambda n=node: n.versions() == expected(n, posted),
                     f"{node.name} to converge")
    assert len(shareable(posted["tokyo"])) > 40  # the test moved a real amount
    red = {version_of(o) for o in posted["tokyo"]} - shareable(posted["tokyo"])
    assert red and not red & london.versions()
    both = shareable(posted["tokyo"]) | shareable(posted["london"])
    assert both <= tokyo.versions() and both <= london.versions()


def test_three_nodes_in_a_chain_converge_and_nothing_echoes(make_nodes) -> None:
    """tokyo - london - paris: tokyo's objects reach paris through london, and no node is
    ever sent back what came from it (each link's "out" is exactly the other side's)."""
    tokyo, london, paris = make_nodes(["tokyo", "london", "paris"])
    with serving_nodes([tokyo, london, paris], peer_sync=True, interval=0.2):
        for left, right in ((tokyo, london), (london, paris)):
            peer(left, right)
            peer(right, left)
        posted = write_concurrently([tokyo, london, paris], 40)
        for node in (tokyo, london, paris):
            wait_for(lambda n=node: n.versions() == expected(n, posted),
                     f"{node.name} to converge")
        time.sleep(1.0)  # a few more rounds: an echo would show now
    share = {name: shareable(objs) for name, objs in posted.items()}
    out = {(node.name, other): peer_state.load(node.store, other)["out"]
           for node, other in ((tokyo, "london"), (london, "tokyo"), (london, "paris"),
                               (paris, "london"))}
    assert out[("london", "tokyo")] == len(share["london"] | share["paris"])
    assert out[("london", "paris")] == len(share["london"] | share["tokyo"])
    assert out[("tokyo", "london")] == len(share["tokyo"])
    assert out[("paris", "london")] == len(share["paris"])
    for node in (tokyo, london, paris):  # what came in was stored, once
        received = sum(peer_state.load(node.store, p.name)["in"]
                       for p in (tokyo, london, paris) if p is not node and
                       node.store.kv_get("hub:peers", p.name) is not None)
        assert received == len(expected(node, posted)) - len(
            {version_of(o) for o in posted[node.name]})


def test_three_nodes_in_a_triangle_converge_and_never_send_back(make_nodes) -> None:
    nodes = make_nodes(["tokyo", "london", "paris"])
    with serving_nodes(nodes, peer_sync=True, interval=0.2):
        for node in nodes:
            for other in nodes:
                if other is not node:
                    peer(node, other)
        posted = write_concurrently(nodes, 30)
        for node in nodes:
            wait_for(lambda n=node: n.versions() == expected(n, posted),
                     f"{node.name} to converge")
    share = {name: shareable(objs) for name, objs in posted.items()}
    for node in nodes:
        for other in nodes:
            if other is not node:
                third = next(n for n in nodes if n not in (node, other))
                sent = peer_state.load(node.store, other.name)["out"]
                # never the receiver's own objects: only ours and the third node's
                assert sent <= len(share[node.name] | share[third.name])


# ---------------------------------------------------------------- the boundary


def test_red_and_amber_strict_leave_only_for_a_named_recipient(make_nodes) -> None:
    tokyo, london = make_nodes(["tokyo", "london"])
    for_london = [tokyo.identities["london-cert"]]
    objects = {
        "red": indicator("b", 1, tlp=Tlp.RED),
        "strict": indicator("b", 2, tlp=Tlp.AMBER_STRICT),
        "red-named": indicator("b", 3, tlp=Tlp.RED, recipients=for_london),
        "strict-named": indicator("b", 4, tlp=Tlp.AMBER_STRICT, recipients=for_london),
        "amber": indicator("b", 5, tlp=Tlp.AMBER),
        "unmarked": indicator("b", 6, tlp=None),
    }
    assert tokyo.post(*objects.values())["failure_count"] == 0
    with serving_nodes([tokyo, london]):
        peer(london, tokyo)
        peer(tokyo, london)  # tokyo's side of the boundary: london is its peer
        assert all(result.ok for result in sync_all(london.hub))
    got = {key for key, obj in objects.items() if version_of(obj) in london.versions()}
    assert got == {"red-named", "strict-named", "amber", "unmarked"}
    status = peer_state.load(tokyo.store, "london")
    assert status["withheld"] == {"TLP:RED": 1, "TLP:AMBER+STRICT": 1}
    assert status["out"] == 4


def test_the_allow_list_keeps_amber_home_and_unmarked_objects_keep_their_level(
        make_nodes) -> None:
    """tokyo's peer london is allowed clear and green only: AMBER (and an unmarked object,
    AMBER by tokyo's collection default) stay home, counted as withheld."""
    tokyo, london = make_nodes(["tokyo", "london"])
    tokyo.post(indicator("a", 1, tlp=Tlp.GREEN), indicator("a", 2, tlp=Tlp.AMBER),
               indicator("a", 3, tlp=None), indicator("a", 4, tlp=Tlp.CLEAR))
    with serving_nodes([tokyo, london]):
        peer(tokyo, london, direction="push", allow="clear,green")
        results = sync_all(tokyo.hub)
    assert [r.ok for r in results] == [True]
    assert (results[0].sent, results[0].withheld) == (2, 2)
    assert {v[0] for v in london.versions()} == {indicator("a", n)["id"] for n in (1, 4)}
    status = peer_state.load(tokyo.store, "london")
    assert status["withheld"] == {"TLP:AMBER": 2}
    assert status["maps"][f"{ROOT}/{tokyo.collection}"]["push_after"] is not None


def test_an_unmarked_object_keeps_its_origin_level_on_the_next_node(make_nodes) -> None:
    """London's collection defaults to CLEAR; tokyo's unmarked object (AMBER at home) stays
    AMBER on london: a node never re-marks another node's object."""
    tokyo, london = make_nodes(["tokyo", "london"])
    from kizuna.hub import registry as reg

    value = london.store.kv_get(reg.COLLECTIONS, f"{ROOT}/{london.collection}")
    london.store.kv_put(reg.COLLECTIONS, f"{ROOT}/{london.collection}",
                        {**value, "default_tlp": int(Tlp.CLEAR)})
    obj = indicator("u", 1, tlp=None)
    tokyo.post(obj)
    with serving_nodes([tokyo, london]):
        peer(london, tokyo)
        peer(tokyo, london)
        sync_all(london.hub)
    record = london.records()[version_of(obj)]
    assert record.attrs["tlp"] == str(int(Tlp.AMBER))
    assert record.attrs["producer"] == "tokyo-cert" and record.attrs["origin"] == "tokyo"
    assert canonical(record.doc) == canonical(obj)  # exactly as posted: nothing added


def test_from_a_node_that_does_not_name_producers_unmarked_objects_stay_at_least_amber(
        make_nodes) -> None:
    """Tokyo has not made london its peer: london reads it as any partner does (no
    producer claims), so london attributes the objects to the peer's organisation and,
    not knowing the level tokyo gave an unmarked object, keeps it at least AMBER although
    its own collection defaults to CLEAR."""
    tokyo, london = make_nodes(["tokyo", "london"])
    from kizuna.hub import registry as reg

    value = london.store.kv_get(reg.COLLECTIONS, f"{ROOT}/{london.collection}")
    london.store.kv_put(reg.COLLECTIONS, f"{ROOT}/{london.collection}",
                        {**value, "default_tlp": int(Tlp.CLEAR)})
    unmarked, green = indicator("f", 1, tlp=None), indicator("f", 2, tlp=Tlp.GREEN)
    tokyo.post(unmarked, green)
    with serving_nodes([tokyo, london]):
        peer(london, tokyo)
        assert sync_all(london.hub)[0].ok
    records = london.records()
    assert records[version_of(unmarked)].attrs["tlp"] == str(int(Tlp.AMBER))
    assert records[version_of(green)].attrs["tlp"] == str(int(Tlp.GREEN))
    assert {r.attrs["producer"] for r in records.values()} == {"tokyo-cert"}


def test_producer_and_markings_travel_and_only_the_producer_adds_versions(make_nodes) -> None:
    tokyo, london = make_nodes(["tokyo", "london"])
    first = indicator("p", 1, tlp=Tlp.GREEN)
    tokyo.post(first)
    with serving_nodes([tokyo, london]):
        peer(london, tokyo)
        peer(tokyo, london)
        sync_all(london.hub)
        forged = indicator("p", 1, tlp=Tlp.CLEAR, modified="2026-05-01T00:00:00.000Z")
        status = london.post(forged)  # london-cert, on its own node, on tokyo's object
        assert status["failure_count"] == 1
        assert "only its producer" in status["failures"][0]["message"]
        newer = indicator("p", 1, tlp=Tlp.GREEN, modified="2026-03-01T00:00:00.000Z")
        tokyo.post(newer)
        sync_all(london.hub)
        sync_all(tokyo.hub)
    assert {version_of(first), version_of(newer)} == london.versions()
    assert tokyo.versions() == london.versions()  # and nothing of london's forgery came home
    for record in london.records().values():
        assert record.attrs["producer"] == "tokyo-cert"
        assert record.doc["object_marking_refs"] == first["object_marking_refs"]


def test_a_peer_may_not_relay_for_an_organisation_of_this_node(make_nodes) -> None:
    """London's key on tokyo posts claims: one naming tokyo-cert (tokyo's own), one an
    identity tokyo does not know, one london-cert; only the last is stored."""
    tokyo, london = make_nodes(["tokyo", "london"])
    with serving_nodes([tokyo, london]):
        peer(tokyo, london)  # tokyo knows london-cert as its peer's organisation
        key = london.key_file(tokyo).read_text().strip()
        objects = [indicator("r", n) for n in range(3)]
        claims = [{"producer": tokyo.identities["tokyo-cert"], "tlp": 1},
                  {"producer": "identity--00000000-0000-4000-8000-000000000000", "tlp": 1},
                  {"producer": tokyo.identities["london-cert"], "tlp": 1}]
        response = httpx.post(f"{tokyo.api_root}collections/{tokyo.collection}/objects/",
                              json={"objects": objects, "x_kizuna_relay": claims},
                              headers={"Accept": MEDIA_TYPE_TAXII,
                                       "Content-Type": MEDIA_TYPE_TAXII,
                                       "Authorization": f"Bearer {key}"})
    assert response.status_code == 202
    failures = {f["id"]: f["message"] for f in response.json()["failures"]}
    assert "may not relay objects of tokyo-cert" in failures[objects[0]["id"]]
    assert "is not an organisation of this node" in failures[objects[1]["id"]]
    assert tokyo.versions() == {version_of(objects[2])}
    assert tokyo.records()[version_of(objects[2])].attrs["producer"] == "london-cert"
    status = peer_state.load(tokyo.store, "london")
    assert (status["in"], status["refused_in"]) == (1, 2)


def test_push_sends_every_version_and_moves_its_cursor(make_nodes) -> None:
    tokyo, london = make_nodes(["tokyo", "london"])
    objects = [indicator("v", n, modified=f"2026-01-0{day}T00:00:00.000Z")
               for n in range(30) for day in (1, 2, 3)]
    tokyo.post(*objects)
    with serving_nodes([tokyo, london]):
        peer(tokyo, london, direction="push")
        first = sync_all(tokyo.hub, page=25)[0]
        again = sync_all(tokyo.hub, page=25)[0]
    assert (first.ok, first.sent, again.sent) == (True, 90, 0)
    assert london.versions() == {version_of(obj) for obj in objects}
    assert peer_state.load(london.store, "tokyo")["in"] == 0  # london has no peer tokyo


def test_with_peer_sync_off_nothing_moves_until_a_sync_is_asked_for(make_nodes) -> None:
    tokyo, london = make_nodes(["tokyo", "london"])
    obj = indicator("o", 1, tlp=Tlp.GREEN)
    tokyo.post(obj)
    with serving_nodes([tokyo, london], peer_sync=False, interval=0.1):
        peer(london, tokyo)
        peer(tokyo, london)
        time.sleep(0.6)  # six intervals: a background sync would have moved it
        assert london.versions() == set()
        assert peer_state.load(london.store, "tokyo")["last_sync"] is None
        assert sync_all(london.hub)[0].received == 1
    assert london.versions() == {version_of(obj)}
