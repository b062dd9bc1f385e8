"""The periodic sync inside ``kizuna serve``: one background thread, every ``interval`` s.

Each round syncs every peer in turn (``sync.sync_all``); a round that fails for one peer
has recorded why on that peer's status and goes on with the others, and a failure nobody
foresaw is recorded the same way rather than ending the thread. ``stop()`` lets the round
in progress finish its current request and returns; the store is closed only after.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from kizuna.hub.federation import state as peer_state
from kizuna.hub.federation.peers import list_peers
from kizuna.hub.federation.sync import PeerResult, sync_peer
from kizuna.hub.paging import stix_now
from kizuna.hub.service import Hub


class SyncLoop:
    """Sync with every peer every ``interval`` seconds until ``stop()``."""

    def __init__(self, hub: Hub, interval: float, *,
                 on_round: Callable[[list[PeerResult]], None] | None = None) -> None:
        self.hub = hub
        self.interval = interval
        self.on_round = on_round
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kizuna-peer-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_once(self) -> list[PeerResult]:
        results = []
        for peer in list_peers(self.hub.store):
            if self._stop.is_set():
                break
            try:
                results.append(sync_peer(self.hub, peer))
            except Exception as error:  # recorded on the peer; the loop goes on
                self._record(peer.name, f"unexpected {type(error).__name__}: {error}")
        self.rounds += 1
        return results

    def _record(self, name: str, reason: str) -> None:
        at = stix_now(self.hub.clock())

        def edit(state: peer_state.State) -> None:
            peer_state.add_error(state, at, reason, "internal")

        peer_state.change(self.hub.store, name, edit)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                results = self.run_once()
            except Exception:  # e.g. the store going away at shutdown
                results = []
            if self.on_round is not None:
                self.on_round(results)
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
