"""Paging with access control: full pages despite hidden records, stateless tokens, budgets."""

from __future__ import annotations

import pytest

from hubtools import COLLECTION, ROOT, indicator, make_hub, partners, read_all
from kizuna.errors import InputError
from kizuna.hub import reads
from kizuna.hub.contract import ObjectFilter, Tlp
from kizuna.hub.paging import decode_next, encode_next, version_selector
from kizuna.store import open_store


def test_hidden_records_do_not_make_pages_short() -> None:
    hub = make_hub(open_store("memory://"))
    env = partners(hub)
    objects = [indicator(n, tlp=Tlp.RED if n % 4 else Tlp.GREEN) for n in range(40)]
    env.post(env.tokyo, *objects)
    first = hub.get_objects(env.london, ROOT, COLLECTION, ObjectFilter(limit=3))
    assert len(first.body["objects"]) == 3
    seen = read_all(hub, env.london, ObjectFilter(limit=3))
    assert [o["id"] for o in seen] == [o["id"] for o in objects[::4]]
    assert first.date_added_first is not None
    assert first.date_added_first <= (first.date_added_last or "")


def test_a_spent_scan_budget_returns_a_short_page_that_still_moves_forward(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reads, "SCAN_BUDGET", 100)
    monkeypatch.setattr(reads, "_MIN_CHUNK", 50)
    hub = make_hub(open_store("memory://"))
    env = partners(hub)
    env.post(env.tokyo, *(indicator(n, tlp=Tlp.RED) for n in range(300)), indicator(999))
    page = hub.get_objects(env.london, ROOT, COLLECTION, ObjectFilter(limit=5))
    assert page.body["more"] is True
    assert "objects" not in page.body
    assert [o["id"] for o in read_all(hub, env.london, ObjectFilter(limit=5))] == [
        indicator(999)["id"]
    ]


def test_tokens_encode_the_position_and_the_request() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)
    token = encode_next(moment, "abc")
    assert decode_next(token, "abc") == moment
    with pytest.raises(InputError):
        decode_next(token, "other")
    with pytest.raises(InputError):
        decode_next("%%%", "abc")


def test_limits_and_version_words() -> None:
    hub = make_hub(open_store("memory://"))
    env = partners(hub)
    env.post(env.tokyo, *(indicator(n) for n in range(3)))
    with pytest.raises(InputError):
        hub.get_objects(env.tokyo, ROOT, COLLECTION, ObjectFilter(limit=0))
    with pytest.raises(InputError):
        hub.get_objects(env.tokyo, ROOT, COLLECTION, ObjectFilter(versions=["newest"]))
    with pytest.raises(InputError):
        hub.get_objects(env.tokyo, ROOT, COLLECTION, ObjectFilter(added_after="yesterday"))
    assert version_selector(["last"]).store == "latest"
    assert version_selector(["first", "last"]).words == frozenset({"first", "last"})
