"""The federation boundary is the hub's one access rule with a peer policy on top."""

from __future__ import annotations

import itertools

import pytest

from kizuna.hub.access import PeerPolicy, allowed, read_view
from kizuna.hub.contract import Actor, Collection, ObjectAccess, SharingGroup, Tlp

ROOT = "pact"
PEER = PeerPolicy("london", "london-ncsc", frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER}))
ALLOWS = [frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER}), frozenset({Tlp.CLEAR, Tlp.GREEN}),
          frozenset({Tlp.CLEAR})]


def _decide(peer: PeerPolicy, tlp: Tlp, producer: str, recipients: frozenset[str],
            origin: str = "", readers: frozenset[str] = frozenset({"london-ncsc", "tokyo-cert"})
            ) -> bool:
    collection = Collection("c", ROOT, "t", readers=readers)
    access = ObjectAccess(collection, producer, tlp, recipients, origin)
    return allowed(Actor(peer.org, "kz_1"), "read", access, peer=peer).allowed


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("members", [frozenset(), frozenset({"london-ncsc"})])
@pytest.mark.parametrize("allow", ALLOWS, ids=lambda a: ",".join(sorted(t.name for t in a)))
def test_compiled_peer_view_agrees_with_allowed_on_every_combination(
    grouped: bool, members: frozenset[str], allow: frozenset[Tlp]
) -> None:
    peer = PeerPolicy("london", "london-ncsc", allow)
    collection = Collection("c", ROOT, "t", readers=frozenset({"london-ncsc", "tokyo-cert"}),
                            sharing_group="g" if grouped else None)
    group = SharingGroup("g", members)
    actor = Actor(peer.org, "kz_1")
    view = read_view(actor, collection, group, peer)
    assert view is not None and view.peer == "london"
    for tlp, producer, recipients, origin in itertools.product(
        list(Tlp), ("tokyo-cert", "london-ncsc", "paris-anssi"),
        [frozenset(), frozenset({"london-ncsc"}), frozenset({"paris-anssi"})],
        ("", "london", "paris"),
    ):
        access = ObjectAccess(collection, producer, tlp, recipients, origin)
        decision = allowed(actor, "read", access, group=group, peer=peer)
        attr = ("," + ",".join(sorted(recipients)) + ",") if recipients else ""
        compiled = view.sees(str(int(tlp)), producer, attr, origin)
        assert compiled == decision.allowed, (tlp, producer, recipients, origin, decision)


def test_clear_green_and_amber_go_to_a_named_partner_by_default() -> None:
    for tlp in (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER):
        assert _decide(PEER, tlp, "tokyo-cert", frozenset())


def test_a_peer_that_is_not_a_reader_of_the_collection_gets_nothing() -> None:
    assert not _decide(PEER, Tlp.CLEAR, "tokyo-cert", frozenset(),
                       readers=frozenset({"tokyo-cert"}))


@pytest.mark.parametrize("tlp", [Tlp.AMBER_STRICT, Tlp.RED])
def test_amber_strict_and_red_leave_only_for_a_named_recipient(tlp: Tlp) -> None:
    assert not _decide(PEER, tlp, "tokyo-cert", frozenset())
    assert not _decide(PEER, tlp, "tokyo-cert", frozenset({"paris-anssi"}))
    assert _decide(PEER, tlp, "tokyo-cert", frozenset({"london-ncsc"}))


def test_the_allow_list_narrows_what_leaves_but_never_widens_it() -> None:
    green_only = PeerPolicy("london", "london-ncsc", frozenset({Tlp.CLEAR, Tlp.GREEN}))
    assert not _decide(green_only, Tlp.AMBER, "tokyo-cert", frozenset())
    assert _decide(green_only, Tlp.GREEN, "tokyo-cert", frozenset())
    assert _decide(green_only, Tlp.RED, "tokyo-cert", frozenset({"london-ncsc"}))


def test_nothing_goes_back_to_the_node_it_came_from() -> None:
    collection = Collection("c", ROOT, "t", readers=frozenset({"london-ncsc"}))
    came_back = ObjectAccess(collection, "tokyo-cert", Tlp.CLEAR, frozenset(), "london")
    decision = allowed(Actor("london-ncsc", "k"), "read", came_back, peer=PEER)
    assert not decision
    assert decision.reason == ("it came from the peer london; nothing is sent back where it "
                               "came from")
    own = ObjectAccess(collection, "london-ncsc", Tlp.CLEAR, frozenset())
    assert not allowed(Actor("london-ncsc", "k"), "read", own, peer=PEER)
    assert allowed(Actor("london-ncsc", "k"), "read", own)  # as an ordinary reader it sees it


def test_an_ordinary_view_ignores_the_origin_attribute() -> None:
    collection = Collection("c", ROOT, "t", readers=frozenset({"london-ncsc"}))
    view = read_view(Actor("london-ncsc", "k"), collection, None)
    assert view is not None and view.peer == ""
    assert view.sees("0", "tokyo-cert", "", "london")
