"""The intel pages' read cache: full once, then only what was added, always as the actor."""

from __future__ import annotations

from typing import Any

import pytest

from hubtools import COLLECTION, ROOT, indicator, make_hub, partners
from kizuna.errors import NotFoundError
from kizuna.hub.contract import ObjectFilter, Tlp
from kizuna.intel.hubread import ObjectCache, Place, read_objects
from kizuna.store import open_store

PLACE = Place(ROOT, COLLECTION, "Shared")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world() -> Any:
    with open_store("memory://") as store:
        yield partners(make_hub(store))


def _counting(world: Any) -> list[ObjectFilter]:
    seen: list[ObjectFilter] = []
    real = world.hub.get_objects

    def spy(actor: Any, root: str, collection: str, query: ObjectFilter, **kw: Any) -> Any:
        seen.append(query)
        return real(actor, root, collection, query, **kw)

    world.hub.get_objects = spy
    return seen


def test_the_cache_reads_in_full_once_then_only_what_was_added(world: Any) -> None:
    world.post(world.tokyo, indicator(1, tlp=Tlp.GREEN), indicator(2, tlp=Tlp.GREEN))
    cache = ObjectCache(ttl=60, clock=Clock())
    queries = _counting(world)
    first = read_objects(world.hub, world.london, ["indicator"], [PLACE], cache=cache)
    assert sorted(o["id"] for o in first) == sorted([indicator(1)["id"], indicator(2)["id"]])
    assert queries[-1].added_after is None
    world.post(world.tokyo, indicator(3, tlp=Tlp.GREEN))
    second = read_objects(world.hub, world.london, ["indicator"], [PLACE], cache=cache)
    assert len(second) == 3
    assert queries[-1].added_after is not None  # only the delta was asked for


def test_a_newer_version_replaces_the_cached_one(world: Any) -> None:
    world.post(world.tokyo, indicator(1, tlp=Tlp.GREEN, modified="2026-01-01T00:00:00.000Z"))
    cache = ObjectCache(ttl=60, clock=Clock())
    read_objects(world.hub, world.london, ["indicator"], [PLACE], cache=cache)
    world.post(world.tokyo, indicator(1, tlp=Tlp.GREEN, modified="2026-02-01T00:00:00.000Z"))
    [latest] = read_objects(world.hub, world.london, ["indicator"], [PLACE], cache=cache)
    assert latest["modified"] == "2026-02-01T00:00:00.000Z"


def test_each_organisation_has_its_own_view_and_tlp_still_applies(world: Any) -> None:
    world.post(world.tokyo, indicator(1, tlp=Tlp.GREEN), indicator(2, tlp=Tlp.RED))
    cache = ObjectCache(ttl=60, clock=Clock())
    tokyo = read_objects(world.hub, world.tokyo, ["indicator"], [PLACE], cache=cache)
    london = read_objects(world.hub, world.london, ["indicator"], [PLACE], cache=cache)
    assert len(tokyo) == 2  # the producer sees its own RED object
    assert [o["id"] for o in london] == [indicator(1)["id"]]


def test_a_withdrawn_right_is_refused_at_once_even_with_a_warm_cache(world: Any) -> None:
    from hubtools import ADMIN

    world.post(world.tokyo, indicator(1, tlp=Tlp.GREEN))
    cache = ObjectCache(ttl=60, clock=Clock())
    read_objects(world.hub, world.london, ["indicator"], [PLACE], cache=cache)
    world.hub.change_access(ADMIN, ROOT, COLLECTION, remove_readers=["london-ncsc"],
                            remove_writers=["london-ncsc"])
    with pytest.raises(NotFoundError):
        read_objects(world.hub, world.london, ["indicator"], [PLACE], cache=cache)


def test_after_the_ttl_a_full_read_drops_deleted_objects(world: Any) -> None:
    world.post(world.tokyo, indicator(1, tlp=Tlp.GREEN), indicator(2, tlp=Tlp.GREEN))
    clock = Clock()
    cache = ObjectCache(ttl=60, clock=clock)
    read_objects(world.hub, world.london, ["indicator"], [PLACE], cache=cache)
    world.hub.delete_object(world.tokyo, ROOT, COLLECTION, indicator(2)["id"], ObjectFilter())
    stale = read_objects(world.hub, world.london, ["indicator"], [PLACE], cache=cache)
    assert len(stale) == 2  # within the ttl a deletion is not seen (documented)
    clock.now = 61.0
    fresh = read_objects(world.hub, world.london, ["indicator"], [PLACE], cache=cache)
    assert [o["id"] for o in fresh] == [indicator(1)["id"]]
