"""Access control: one ``allowed(actor, action, resource)`` that explains its answer.

The rules are written down in docs/access.md; this module is their only implementation.
Deny by default: every branch that is not an explicit "yes" is a "no" with a reason.

For the hot read path, ``read_view(actor, collection, group)`` compiles the same rules for one
actor and one collection into a ``ReadView`` whose ``sees(tlp, producer, recipients)`` is a
set lookup; ``ReadView.decide`` and ``allowed(..., "read", ObjectAccess)`` share
``_object_rule``, and a test checks that both agree on every combination.

A peer node (docs/federation.md) reads as the organisation that stands for it, under the
same rules plus its ``PeerPolicy``: only the TLP levels the peer is allowed (AMBER+STRICT and
RED still go only to named recipients), and never what came from that peer or what its own
organisation produced, so nothing is sent back to the node it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from kizuna.hub.contract import (
    Action,
    Actor,
    Collection,
    Decision,
    ObjectAccess,
    SharingGroup,
    Tlp,
)


@dataclass(frozen=True)
class StatusAccess:
    """A status resource: only the organisation that posted the envelope may read it."""

    org: str


@dataclass(frozen=True)
class PeerPolicy:
    """What may leave this node for one peer node: the boundary of docs/federation.md.

    ``org`` is the organisation of this hub that stands for the peer (its key is the peer's
    key here); ``allow`` the levels among CLEAR, GREEN and AMBER it may receive.
    """

    name: str
    org: str
    allow: frozenset[Tlp] = frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER})


Resource = Collection | ObjectAccess | StatusAccess | None


def _yes(reason: str) -> Decision:
    return Decision(True, reason)


def _no(reason: str) -> Decision:
    return Decision(False, reason)


def allowed(  # noqa: PLR0911 - one return per rule reads best
    actor: Actor,
    action: Action,
    resource: Resource = None,
    *,
    group: SharingGroup | None = None,
    peer: PeerPolicy | None = None,
) -> Decision:
    """Whether ``actor`` may do ``action`` on ``resource``, and why (deny by default).

    ``group`` is the collection's sharing group when it has one (needed for TLP:AMBER);
    ``peer`` the policy of the peer node ``actor`` stands for, if it is one.
    """
    if action == "discover":
        return _yes("discovery is open to everyone")
    if action == "admin":
        if actor.admin:
            return _yes("the local operator administers the hub")
        return _no("only the local operator (the kizuna CLI) may administer the hub")
    if actor.org is None:
        return _no("anonymous clients may only use discovery; send an API key")
    if action == "read_status":
        if isinstance(resource, StatusAccess) and resource.org == actor.org:
            return _yes("the organisation that posted the envelope may read its status")
        return _no("a status is visible only to the organisation that posted the envelope")
    if isinstance(resource, Collection):
        return _collection_rule(actor.org, action, resource)
    if isinstance(resource, ObjectAccess):
        return _object_action(actor.org, action, resource, group, peer)
    return _no(f"no rule allows {action!r} on this resource")


def _collection_rule(org: str, action: Action, collection: Collection) -> Decision:
    if action == "read":
        if org in collection.readers:
            return _yes(f"{org} is a reader of the collection")
        return _no(f"{org} is not a reader of the collection")
    if action in ("write", "delete"):
        if org in collection.writers:
            return _yes(f"{org} is a writer of the collection")
        return _no(f"{org} is not a writer of the collection")
    return _no(f"no rule allows {action!r} on a collection")


def _object_action(
    org: str, action: Action, resource: ObjectAccess, group: SharingGroup | None,
    peer: PeerPolicy | None = None,
) -> Decision:
    if action == "read":
        decision = _object_rule(
            org, resource.collection, group, resource.tlp, resource.producer, resource.recipients
        )
        return decision if peer is None else _peer_rule(peer, resource, decision)
    if action == "delete":
        if org not in resource.collection.writers:
            return _no(f"{org} is not a writer of the collection")
        if org != resource.producer:
            return _no("only the organisation that produced an object may delete it")
        return _yes("the producer, a writer of the collection, may delete its object")
    return _no(f"no rule allows {action!r} on an object")


def _object_rule(  # noqa: PLR0911 - one return per rule reads best
    org: str,
    collection: Collection,
    group: SharingGroup | None,
    tlp: Tlp,
    producer: str,
    recipients: frozenset[str],
) -> Decision:
    """The TLP 2.0 rule for reading one object (docs/access.md, "Objects")."""
    if org not in collection.readers:
        return _no(f"{org} is not a reader of the collection")
    if tlp <= Tlp.GREEN:
        return _yes(f"{tlp_name(tlp)} goes to every reader of the collection")
    if org == producer:
        return _yes("the producer always sees its own objects")
    if tlp == Tlp.AMBER:
        if collection.sharing_group is None:
            return _yes("TLP:AMBER goes to the collection's readers (it has no sharing group)")
        if group is None or group.name != collection.sharing_group:
            return _no(f"the sharing group {collection.sharing_group!r} is unknown (fail closed)")
        if org in group.members:
            return _yes(f"{org} is in the sharing group {group.name!r} (TLP:AMBER)")
        return _no(f"TLP:AMBER is limited to the sharing group {group.name!r}")
    if org in recipients:
        return _yes(f"{org} is a recipient named by the producer ({tlp_name(tlp)})")
    return _no(f"{tlp_name(tlp)} is limited to the producer and the recipients it named")


def _peer_rule(peer: PeerPolicy, resource: ObjectAccess, decision: Decision) -> Decision:
    """The federation boundary on top of the reader rule (docs/federation.md)."""
    if resource.origin == peer.name:
        return _no(f"it came from the peer {peer.name}; nothing is sent back where it came from")
    if resource.producer == peer.org:
        return _no(f"{peer.org}, the peer's own organisation, produced it")
    if not decision or resource.tlp >= Tlp.AMBER_STRICT:
        return decision  # AMBER+STRICT and RED: only the recipients the producer named
    if resource.tlp not in peer.allow:
        return _no(f"{tlp_name(resource.tlp)} is not allowed to the peer {peer.name}")
    return decision


def tlp_name(tlp: Tlp) -> str:
    return "TLP:" + tlp.name.replace("_", "+")


@dataclass(frozen=True, slots=True)
class ReadView:
    """One actor's read rights on one collection, compiled for filtering many records.

    Store attributes are strings: ``tlp`` is the level's digit, ``recipients`` a
    comma-framed list (``",a,b,"``). ``peer`` is the peer node's name when the actor stands
    for one: then nothing produced by the actor or relayed from that peer (``origin``) is seen.
    """

    org: str
    levels: frozenset[str]  # TLP digits visible whoever produced the record
    own: frozenset[str]  # TLP digits visible only when the actor produced the record
    named: frozenset[str]  # TLP digits visible to the producer and its named recipients
    peer: str = ""

    def sees(self, tlp: str, producer: str, recipients: str, origin: str = "") -> bool:
        if self.peer and (origin == self.peer or producer == self.org):
            return False
        if tlp in self.levels:
            return True
        if producer == self.org:
            return tlp in self.own or tlp in self.named
        return tlp in self.named and f",{self.org}," in recipients


def read_view(actor: Actor, collection: Collection, group: SharingGroup | None,
              peer: PeerPolicy | None = None) -> ReadView | None:
    """The compiled rule for ``actor`` reading ``collection``; None when it may not read it.

    With ``peer`` (the actor stands for that peer node) the levels the peer is not allowed
    are dropped and the actor's "own" objects are not seen (they came from the peer)."""
    if actor.org is None or not allowed(actor, "read", collection):
        return None
    org = actor.org
    levels = {str(int(Tlp.CLEAR)), str(int(Tlp.GREEN))}
    own: set[str] = set()
    if _object_rule(org, collection, group, Tlp.AMBER, "", frozenset()):
        levels.add(str(int(Tlp.AMBER)))
    else:
        own.add(str(int(Tlp.AMBER)))
    named = {str(int(Tlp.AMBER_STRICT)), str(int(Tlp.RED))}
    if peer is None:
        return ReadView(org, frozenset(levels), frozenset(own), frozenset(named))
    allowed_levels = {str(int(level)) for level in peer.allow if level <= Tlp.AMBER}
    return ReadView(org, frozenset(levels & allowed_levels), frozenset(), frozenset(named),
                    peer.name)


def recipients_attr(recipients: frozenset[str] | set[str] | list[str] | tuple[str, ...]) -> str:
    """The store attribute for a set of recipient organisations."""
    return "," + ",".join(sorted(recipients)) + "," if recipients else ""
