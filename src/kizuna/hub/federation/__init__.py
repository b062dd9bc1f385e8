"""Federation: hubs that sync with each other over TAXII 2.1 (docs/federation.md).

* ``peers`` — the peer registry (``hub:peers``, ``hub:peer-orgs``): add, list, remove, and
  the ``PeerPolicy`` the hub applies to a peer's organisation;
* ``state`` — per-peer observability and cursors (``hub:peer-state``);
* ``relay`` — the hub side: what a peer may receive (``serve``) and how relayed objects are
  accepted (``relay_in``);
* ``client`` and ``sync`` — the sync engine (pull with ``added_after`` and ``next``, push);
* ``schedule`` — the periodic sync that ``kizuna serve`` runs.
"""
