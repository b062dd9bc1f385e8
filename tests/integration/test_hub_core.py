"""The hub's core suite on the memory and SQLite stores, plus what only a file can show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hubtools import (
    COLLECTION,
    CORE_CHECKS,
    ROOT,
    core_id,
    indicator,
    make_hub,
    partners,
    read_all,
)
from kizuna.hub.contract import ObjectFilter
from kizuna.hub.service import Hub
from kizuna.store import open_store


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("check", CORE_CHECKS, ids=core_id)
def test_core_suite(check: Callable[[Hub], None], kind: str, make_store) -> None:
    check(make_hub(make_store(kind)))


def test_next_token_survives_a_new_hub_on_the_same_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with open_store(url) as store:
        hub = make_hub(store)
        env = partners(hub)
        env.post(env.tokyo, *(indicator(n) for n in range(10)))
        page = hub.get_objects(env.london, ROOT, COLLECTION, ObjectFilter(limit=4))
        first = [obj["id"] for obj in page.body["objects"]]
        token, key = page.body["next"], env.keys["london-ncsc"]
    with open_store(url) as store:
        hub = Hub(store)
        london = hub.authenticate(key)
        rest = read_all(hub, london, ObjectFilter(limit=4, next=None))
        resumed = hub.get_objects(london, ROOT, COLLECTION, ObjectFilter(limit=4, next=token))
        assert [obj["id"] for obj in resumed.body["objects"]] == [
            obj["id"] for obj in rest[4:8]
        ]
        assert first == [obj["id"] for obj in rest[:4]]
        assert hub.node.name == "test-node"  # the node identity is kept, not recreated
