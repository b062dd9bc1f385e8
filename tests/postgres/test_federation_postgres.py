"""Federation with a node on PostgreSQL: its peer state, cursors and relayed ingest live in
the PostgreSQL store (a SQLite node on the other side), under concurrent writes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from fedtools import build_nodes, close_nodes, indicator, peer, serving_nodes, version_of
from kizuna.hub.contract import Tlp
from kizuna.hub.federation import state as peer_state
from kizuna.store import open_store

pytestmark = pytest.mark.postgres


def test_a_postgresql_node_and_a_sqlite_node_converge(tmp_path: Path, pg_url: str,
                                                       pg_schema: str) -> None:
    store = open_store(pg_url, schema=pg_schema)
    tokyo, london = build_nodes(tmp_path, ["tokyo", "london"], stores={"tokyo": store})
    levels = [Tlp.GREEN, Tlp.AMBER, Tlp.RED, None]
    made = {node.name: [indicator(node.name, n, tlp=levels[n % 4]) for n in range(80)]
            for node in (tokyo, london)}
    try:
        with serving_nodes([tokyo, london], peer_sync=True, interval=0.2):
            peer(tokyo, london)
            peer(london, tokyo)
            writers = [threading.Thread(target=lambda n=node: [
                n.post(*made[n.name][i:i + 5]) for i in range(0, 80, 5)])
                for node in (tokyo, london)]
            for thread in writers:
                thread.start()
            for thread in writers:
                thread.join()
            red = {version_of(o) for objs in made.values() for o in objs
                   if o.get("object_marking_refs") == [indicator("x", 0, tlp=Tlp.RED)[
                       "object_marking_refs"][0]]}
            everything = {version_of(o) for objs in made.values() for o in objs}

            def want(name: str) -> set[tuple[str, str]]:
                return (everything - red) | {version_of(o) for o in made[name]}

            deadline = time.monotonic() + 60
            while (tokyo.versions(), london.versions()) != (want("tokyo"), want("london")):
                assert time.monotonic() < deadline, "the nodes did not converge within 60 s"
                time.sleep(0.1)
        status = peer_state.load(store, "london")
        assert status["in"] == 60 and status["out"] == 60  # 60 of 80 each way are shareable
        assert status["withheld"] == {"TLP:RED": 20}
        assert status["maps"][f"pact/{tokyo.collection}"]["pull_after"] is not None
    finally:
        close_nodes([tokyo, london])
