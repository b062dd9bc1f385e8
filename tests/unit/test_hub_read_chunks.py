"""The read path fetches about what a page needs, not a fixed chunk it then throws away."""

from __future__ import annotations

from typing import Any

from hubtools import COLLECTION, ROOT, indicator, make_hub, partners
from kizuna.hub.contract import ObjectFilter, Tlp
from kizuna.store import open_store


def test_a_reader_who_sees_most_objects_reads_little_more_than_a_page() -> None:
    store = open_store("memory://")
    hub = make_hub(store)
    env = partners(hub)
    objects = [indicator(n, tlp=Tlp.RED if n % 5 == 0 else Tlp.GREEN) for n in range(1, 501)]
    env.post(env.tokyo, *objects)  # london sees 80%
    fetched: list[int] = []
    query = store.query

    def counting(*args: Any, **kwargs: Any) -> Any:
        page = query(*args, **kwargs)
        fetched.append(len(page.records))
        return page

    store.query = counting  # type: ignore[method-assign]
    seen, token = 0, None
    while True:
        page = hub.get_objects(env.london, ROOT, COLLECTION, ObjectFilter(limit=100, next=token))
        seen += len(page.body.get("objects", []))
        if not page.body.get("more"):
            break
        token = page.body["next"]
    assert seen == 400
    assert sum(fetched) <= 1.3 * 500  # every record once, plus a little overshoot per page
