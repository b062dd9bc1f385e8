"""A property over random objects, markings, recipients and topologies of three real nodes.

Three nodes (each its own SQLite store, served on 127.0.0.1) stay up for the whole test;
every example gets fresh collections on each node and a fresh set of peers: a random set of
links, each configured on both sides with a random direction and allowed levels. Random
objects (every TLP level, or none; random recipients; one or two versions) are posted at
their home nodes, and every node syncs until nothing moves. Then each node must hold exactly
what the rules let reach it — its own objects, and another node's object only along a chain
of links that each carry it (a link X→Y moves data when Y pulls from X or X pushes to Y; it
carries CLEAR, GREEN and AMBER when X allows that level to Y, AMBER+STRICT and RED only when
Y's organisation is a recipient the producer named). In particular: zero objects anywhere
the rules forbid them.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedtools import ADMIN, ROOT, Node, build_nodes, close_nodes, indicator, serving_nodes
from kizuna.hub.contract import Tlp
from kizuna.hub.federation.peers import add_peer, list_peers, remove_peer
from kizuna.hub.federation.sync import sync_all
from kizuna.intel.stix.objects import normalise_timestamp

NAMES = ("tokyo", "london", "paris")
LEVELS = [None, Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED]
ALLOWS = ["clear", "clear,green", "clear,green,amber", "green,amber"]


@dataclass(frozen=True)
class Link:
    """``node`` has ``other`` as a peer: how it syncs and what it lets go to it."""

    node: int
    other: int
    direction: str
    allow: str


@dataclass(frozen=True)
class Thing:
    home: int
    level: Tlp | None
    recipients: frozenset[int]
    versions: int


pairs = list(itertools.combinations(range(3), 2))
links = st.lists(st.sampled_from(pairs), unique=True, min_size=1, max_size=3).flatmap(
    lambda chosen: st.tuples(*[
        st.tuples(st.sampled_from(["pull", "push", "both"]), st.sampled_from(ALLOWS),
                  st.sampled_from(["pull", "push", "both"]), st.sampled_from(ALLOWS))
        for _ in chosen]).map(lambda configs, chosen=chosen: [
            link for (a, b), (d1, a1, d2, a2) in zip(chosen, configs, strict=True)
            for link in (Link(a, b, d1, a1), Link(b, a, d2, a2))]))
things = st.lists(st.builds(Thing, home=st.integers(0, 2), level=st.sampled_from(LEVELS),
                            recipients=st.frozensets(st.integers(0, 2)),
                            versions=st.integers(1, 2)), min_size=1, max_size=12)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Node]]:
    nodes = build_nodes(tmp_path_factory.mktemp("property"), NAMES)
    with serving_nodes(nodes):
        yield nodes
    close_nodes(nodes)


def fresh_example(nodes: list[Node], topology: list[Link]) -> None:
    """New collections on every node, and exactly the peers of ``topology``."""
    orgs = [node.org for node in nodes]
    for node in nodes:
        for existing in list_peers(node.store):
            remove_peer(node.store, ADMIN, existing.name)
        node.collection = str(uuid.uuid4())
        node.hub.add_collection(ADMIN, ROOT, title="example", id=node.collection,
                                readers=orgs, writers=orgs)
    for link in topology:
        node, other = nodes[link.node], nodes[link.other]
        add_peer(node.store, ADMIN, name=other.name, url=other.api_root,
                 key_ref=f"file:{node.key_file(other)}",
                 maps=[f"{ROOT}/{node.collection}={other.collection}"], org=other.org,
                 direction=link.direction, allow=link.allow)


def objects_of(thing: Thing, number: int, nodes: list[Node]) -> list[dict[str, Any]]:
    recipients = [nodes[0].identities[nodes[i].org] for i in sorted(thing.recipients)]
    return [indicator(f"p-{uuid.uuid4()}", number, tlp=thing.level, recipients=recipients,
                      modified=f"2026-01-0{day}T00:00:00.000Z")
            for day in range(1, thing.versions + 1)]


def carries(link: Link, thing: Thing, links: list[Link]) -> bool:
    """Whether data moves from ``link.node`` to ``link.other`` and may carry ``thing``."""
    back = next(x for x in links if x.node == link.other and x.other == link.node)
    if link.direction not in ("push", "both") and back.direction not in ("pull", "both"):
        return False
    level = Tlp.AMBER if thing.level is None else thing.level  # the collection default
    if level >= Tlp.AMBER_STRICT:
        return link.other in thing.recipients
    return level.name.lower() in link.allow.split(",")


def reach(thing: Thing, links: list[Link]) -> set[int]:
    holds = {thing.home}
    moved = True
    while moved:
        moved = False
        for link in links:
            if link.node in holds and link.other not in holds and carries(link, thing, links):
                holds.add(link.other)
                moved = True
    return holds


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(topology=links, made=things)
def test_no_node_holds_an_object_the_rules_keep_from_it(
        world: list[Node], topology: list[Link], made: list[Thing]) -> None:
    nodes = world
    fresh_example(nodes, topology)
    expected: list[set[tuple[str, str]]] = [set(), set(), set()]
    for number, thing in enumerate(made):
        objects = objects_of(thing, number, nodes)
        status = nodes[thing.home].post(*objects)
        assert status["failure_count"] == 0, status["failures"]
        for index in reach(thing, topology):
            expected[index] |= {(o["id"], normalise_timestamp(o["modified"])) for o in objects}
    for _ in range(4):  # three nodes: a fixpoint within three rounds; one more to be sure
        before = [node.versions() for node in nodes]
        for node in nodes:
            assert all(result.ok for result in sync_all(node.hub, page=5)), node.name
        if [node.versions() for node in nodes] == before:
            break
    for index, node in enumerate(nodes):
        held = node.versions()
        forbidden = held - expected[index]
        assert not forbidden, f"{node.name} holds what the rules keep from it: {forbidden}"
        assert held == expected[index], f"{node.name} misses {expected[index] - held}"


def test_the_oracle_is_not_trivial(tmp_path: Path) -> None:
    """The reachability oracle itself: a chain, a RED object named for the far end only
    stops at the middle node's gate, and an allow list narrows."""
    chain = [Link(0, 1, "push", "clear,green,amber"), Link(1, 0, "pull", "clear"),
             Link(1, 2, "pull", "clear,green"), Link(2, 1, "pull", "clear,green,amber")]
    assert reach(Thing(0, Tlp.GREEN, frozenset(), 1), chain) == {0, 1, 2}
    assert reach(Thing(0, Tlp.AMBER, frozenset(), 1), chain) == {0, 1}
    assert reach(Thing(0, None, frozenset(), 1), chain) == {0, 1}
    assert reach(Thing(0, Tlp.RED, frozenset({2}), 1), chain) == {0}
    assert reach(Thing(0, Tlp.RED, frozenset({1, 2}), 1), chain) == {0, 1, 2}
    assert reach(Thing(2, Tlp.GREEN, frozenset(), 1), chain) == {2, 1}
