"""The store contract: memory, SQLite and PostgreSQL must behave the same (see docs/store.md)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from kizuna.errors import InputError, NotFoundError, StoreError
from kizuna.store import Record, Store

if TYPE_CHECKING:
    from conftest import FrozenClock

NS = "collection-1"


def indicator(key: str, version: str, **extra: Any) -> Record:
    doc = {"id": key, "type": "indicator", "modified": version, **extra}
    return Record(key, doc, version, {"type": "indicator", "spec_version": "2.1"})


def keys_versions(store: Store, **query: Any) -> list[tuple[str, str]]:
    return [(r.key, r.version) for r in store.query(NS, **query).records]


def test_a_put_record_can_be_read_back_with_its_document_and_attributes(store: Store) -> None:
    [result] = store.put_many(NS, [indicator("indicator--a", "2024-01-01T00:00:00.000Z")])
    got = store.get(NS, "indicator--a")
    assert result.status == "created"
    assert got.doc["type"] == "indicator"
    assert got.attrs == {"type": "indicator", "spec_version": "2.1"}
    assert got.added == result.added
    assert got.added.tzinfo is not None


def test_re_putting_the_same_record_is_unchanged_and_keeps_its_added(
    store: Store, clock: FrozenClock
) -> None:
    [first] = store.put_many(NS, [indicator("indicator--a", "v1")])
    clock.move(seconds=5)
    [again] = store.put_many(NS, [indicator("indicator--a", "v1")])
    assert again.status == "unchanged"
    assert again.added == first.added == store.get(NS, "indicator--a").added
    assert store.count(NS) == 1


def test_re_putting_a_changed_document_updates_it_with_a_later_added(store: Store) -> None:
    [first] = store.put_many(NS, [Record("groups", {"g7": ["JPN"]})])
    [second] = store.put_many(NS, [Record("groups", {"g7": ["JPN", "USA"]})])
    assert second.status == "updated"
    assert second.added > first.added
    assert store.get(NS, "groups").doc == {"g7": ["JPN", "USA"]}
    assert store.count(NS) == 1


def test_a_key_repeated_in_one_batch_behaves_as_if_put_one_after_the_other(store: Store) -> None:
    results = store.put_many(
        NS,
        [
            Record("a", {"n": 1}, "1", {"type": "x"}),
            Record("b", {"n": 1}, "1"),
            Record("a", {"n": 2}, "1", {"type": "y"}),
            Record("a", {"n": 2}, "1", {"type": "y"}),
        ],
    )
    assert [r.status for r in results] == ["created", "created", "updated", "unchanged"]
    assert results[3].added == results[2].added > results[1].added
    assert [r.key for r in store.query(NS).records] == ["b", "a"]
    assert store.query(NS, attrs={"type": ["x"]}).records == []
    assert store.get(NS, "a").doc == {"n": 2}


def test_versions_are_listed_oldest_first_whatever_the_order_they_were_put_in(
    store: Store,
) -> None:
    store.put_many(NS, [indicator("indicator--a", v) for v in ("2024-03", "2024-01", "2024-02")])
    assert store.versions(NS, "indicator--a") == ["2024-01", "2024-02", "2024-03"]
    assert store.versions(NS, "indicator--missing") == []


def test_get_returns_the_latest_version_by_default_and_first_or_exact_on_request(
    store: Store,
) -> None:
    store.put_many(NS, [indicator("indicator--a", v) for v in ("2024-02", "2024-01", "2024-03")])
    assert store.get(NS, "indicator--a").version == "2024-03"
    assert store.get(NS, "indicator--a", "latest").version == "2024-03"
    assert store.get(NS, "indicator--a", "first").version == "2024-01"
    assert store.get(NS, "indicator--a", "2024-02").version == "2024-02"


def test_getting_a_missing_record_raises_not_found_naming_it(store: Store) -> None:
    store.put_many(NS, [indicator("indicator--a", "v1")])
    with pytest.raises(NotFoundError) as caught:
        store.get(NS, "indicator--a", "v9")
    assert caught.value.fields == {"namespace": NS, "key": "indicator--a", "version": "v9"}
    assert "indicator--a" in str(caught.value)


def test_query_selects_latest_first_all_or_exact_versions(store: Store) -> None:
    store.put_many(NS, [indicator("a", "1"), indicator("a", "2"), indicator("b", "1")])
    store.put_many(NS, [indicator("a", "3")])
    assert keys_versions(store) == [("b", "1"), ("a", "3")]
    assert keys_versions(store, versions="first") == [("a", "1"), ("b", "1")]
    assert keys_versions(store, versions="all") == [("a", "1"), ("a", "2"), ("b", "1"), ("a", "3")]
    assert keys_versions(store, versions=["2", "1"]) == [("a", "1"), ("a", "2"), ("b", "1")]


def test_added_strictly_increases_within_a_batch_and_across_batches_under_a_frozen_clock(
    store: Store,
) -> None:
    results = store.put_many(NS, [indicator(f"k{i}", "v") for i in range(5)])
    results += store.put_many(NS, [indicator(f"k{i}", "w") for i in range(5)])
    added = [result.added for result in results]
    assert added == sorted(added)
    assert len(set(added)) == len(added)
    assert added[1] - added[0] == timedelta(microseconds=1)


def test_added_never_goes_backwards_when_the_clock_does(store: Store, clock: FrozenClock) -> None:
    [before] = store.put_many(NS, [indicator("a", "1")])
    clock.move(hours=-1)
    [after] = store.put_many(NS, [indicator("a", "2")])
    assert after.added > before.added


def test_added_follows_the_clock_when_it_moves_forward(store: Store, clock: FrozenClock) -> None:
    clock.move(days=3)
    [result] = store.put_many(NS, [indicator("a", "1")])
    assert result.added == clock()


def test_pagination_by_cursor_visits_every_record_exactly_once(store: Store) -> None:
    for batch in range(4):
        store.put_many(NS, [indicator(f"k{batch}-{i}", f"v{j}") for i in range(3) for j in (1, 2)])
    seen: list[tuple[str, str]] = []
    cursor = None
    pages = 0
    while True:
        page = store.query(NS, versions="all", limit=5, after_cursor=cursor)
        seen += [(r.key, r.version) for r in page.records]
        pages += 1
        if not page.more:
            assert page.next_cursor is None
            break
        cursor = page.next_cursor
    assert pages == 5
    assert sorted(seen) == sorted(set(seen))
    assert len(seen) == store.count(NS) == 24


def test_a_page_that_holds_everything_says_there_is_no_more(store: Store) -> None:
    store.put_many(NS, [indicator("a", "1"), indicator("b", "1")])
    page = store.query(NS, limit=2)
    assert (len(page.records), page.more, page.next_cursor) == (2, False, None)


def test_query_filters_by_keys_and_attributes_together(store: Store) -> None:
    store.put_many(
        NS,
        [
            indicator("indicator--a", "1"),
            Record(
                "malware--m", {"type": "malware"}, "1", {"type": "malware", "spec_version": "2.1"}
            ),
            Record("tool--t", {"type": "tool"}, "1", {"type": "tool", "spec_version": "2.0"}),
        ],
    )
    by_type = store.query(NS, attrs={"type": ["malware", "tool"]})
    assert [r.key for r in by_type.records] == ["malware--m", "tool--t"]
    both = store.query(NS, attrs={"type": ["malware", "tool"], "spec_version": ["2.1"]})
    assert [r.key for r in both.records] == ["malware--m"]
    by_key = store.query(NS, keys=["tool--t", "indicator--a"], attrs={"spec_version": ["2.1"]})
    assert [r.key for r in by_key.records] == ["indicator--a"]


def test_latest_is_chosen_among_all_versions_before_attribute_filters_apply(store: Store) -> None:
    store.put_many(NS, [Record("x", {}, "1", {"spec_version": "2.0"})])
    store.put_many(NS, [Record("x", {}, "2", {"spec_version": "2.1"})])
    assert store.query(NS, attrs={"spec_version": ["2.0"]}).records == []
    old = store.query(NS, attrs={"spec_version": ["2.0"]}, versions="all").records
    assert [r.version for r in old] == ["1"]


def test_added_after_returns_only_records_added_later(store: Store, clock: FrozenClock) -> None:
    [early] = store.put_many(NS, [indicator("a", "1")])
    clock.move(minutes=1)
    store.put_many(NS, [indicator("b", "1"), indicator("c", "1")])
    later = store.query(NS, added_after=early.added)
    assert [r.key for r in later.records] == ["b", "c"]
    assert store.query(NS, added_after=clock()).records[0].key == "c"


def test_filters_that_cannot_match_return_an_empty_page(store: Store) -> None:
    store.put_many(NS, [indicator("a", "1")])
    assert store.query(NS, keys=[]).records == []
    assert store.query(NS, attrs={"type": []}).records == []
    assert store.query(NS, versions=[]).records == []
    assert store.query("no-such-namespace").records == []


def test_deleting_one_version_leaves_the_others(store: Store) -> None:
    store.put_many(NS, [indicator("a", v) for v in ("1", "2", "3")])
    assert store.delete(NS, "a", "2") == 1
    assert store.versions(NS, "a") == ["1", "3"]
    assert store.delete(NS, "a", "2") == 0
    assert store.delete(NS, "a", "latest") == 1
    assert store.versions(NS, "a") == ["1"]
    assert store.query(NS, attrs={"type": ["indicator"]}).records[0].version == "1"


def test_deleting_without_a_version_removes_every_version_and_its_attributes(
    store: Store,
) -> None:
    store.put_many(NS, [indicator("a", v) for v in ("1", "2")] + [indicator("b", "1")])
    assert store.delete(NS, "a") == 2
    assert store.versions(NS, "a") == []
    assert [
        r.key for r in store.query(NS, attrs={"type": ["indicator"]}, versions="all").records
    ] == ["b"]
    assert store.delete(NS, "a") == 0


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (Record("k2", {"when": object()}), "document of 'k2'"),
        (Record("k2", {"x": float("nan")}), "document of 'k2'"),
        (Record("k2", {"n": 2**64}), "document of 'k2'"),
        (Record("", {}), "key"),
        (Record("k2", {}, "latest"), "version"),
        (Record("k\x002", {}), "key"),
        (Record("k2", {}, "1", {"type": 3}), "attribute"),  # type: ignore[dict-item]
    ],
    ids=["unserialisable", "nan", "int-beyond-64-bits", "empty-key", "reserved-version",
         "nul-in-key", "int-attribute"],
)
def test_a_batch_with_an_invalid_record_raises_input_error_and_stores_nothing(
    store: Store, bad: Record, field: str
) -> None:
    with pytest.raises(InputError) as caught:
        store.put_many(NS, [indicator("k1", "1"), bad, indicator("k3", "1")])
    assert caught.value.fields["field"] == field
    assert store.count() == 0


def test_a_transaction_that_fails_writes_nothing_in_any_namespace(store: Store) -> None:
    store.kv_put("cursors", "peer-1", "a1")
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.put_many("objects", [indicator("a", "1")])
        tx.put_many("status", [Record("status-1", {"status": "complete"})])
        tx.kv_put("cursors", "peer-1", "a2")
        tx.delete("objects", "a")
        raise RuntimeError("boom")
    assert (store.count(), store.namespaces()) == (0, [])
    assert store.kv_get("cursors", "peer-1") == "a1"


def test_a_transaction_commits_writes_to_several_namespaces_together(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_many("objects", [indicator("a", "1")])
        tx.put_many("status", [Record("status-1", {"status": "complete"})])
        tx.kv_put("cursors", "peer-1", {"next": "a9"})
        assert tx.kv_get("cursors", "peer-1") == {"next": "a9"}
    assert store.namespaces() == ["objects", "status"]
    assert store.kv_get("cursors", "peer-1") == {"next": "a9"}


def test_opening_a_transaction_inside_another_in_the_same_thread_is_refused(store: Store) -> None:
    with store.transaction(), pytest.raises(StoreError, match="already open"):
        store.put_many(NS, [indicator("a", "1")])


def test_kv_values_can_be_put_read_listed_and_deleted(store: Store) -> None:
    store.kv_put("groups", "quad", ["AUS", "IND", "JPN", "USA"])
    store.kv_put("groups", "g7", ["CAN"])
    store.kv_put("groups", "g7", ["CAN", "FRA"])
    store.kv_put("settings", "theme", None)
    assert store.kv_get("groups", "g7") == ["CAN", "FRA"]
    assert store.kv_keys("groups") == ["g7", "quad"]
    assert store.kv_get("settings", "theme", "dark") is None
    assert store.kv_get("groups", "msp", "none") == "none"
    assert store.kv_delete("groups", "g7") is True
    assert store.kv_delete("groups", "g7") is False
    assert store.kv_keys("groups") == ["quad"]
    assert store.namespaces() == []


def test_namespaces_and_counts_cover_every_version(store: Store) -> None:
    store.put_many("b", [indicator("a", "1"), indicator("a", "2")])
    store.put_many("a", [indicator("a", "1")])
    assert store.namespaces() == ["a", "b"]
    assert (store.count(), store.count("b"), store.count("none")) == (3, 2, 0)


def test_versions_and_keys_compare_by_code_point_and_round_trip_unicode(store: Store) -> None:
    versions = ["Z", "a", "é", "日本", "2016-04-06T20:03:48.000Z", ""]
    store.put_many(NS, [Record("絆", {"name": "絆 ✓"}, v) for v in versions])
    assert store.versions(NS, "絆") == sorted(versions)
    assert store.get(NS, "絆", "first").version == ""
    assert store.get(NS, "絆").doc == {"name": "絆 ✓"}


def test_concurrent_writers_from_threads_lose_no_writes(store: Store) -> None:
    def writer(thread: int) -> None:
        for i in range(10):
            store.put_many(NS, [indicator(f"t{thread}-{i}", "1")])
            with store.transaction() as tx:
                tx.kv_put("counters", "writes", tx.kv_get("counters", "writes", 0) + 1)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records = store.query(NS, versions="all").records
    assert len(records) == 60
    assert len({r.added for r in records}) == 60
    assert store.kv_get("counters", "writes") == 60


def test_bad_cursors_limits_and_version_words_are_input_errors(store: Store) -> None:
    with pytest.raises(InputError, match="cursor"):
        store.query(NS, after_cursor="not-a-cursor")
    with pytest.raises(InputError, match="limit"):
        store.query(NS, limit=0)
    with pytest.raises(InputError, match="versions='last'"):
        store.query(NS, versions="last")
    with pytest.raises(InputError, match="list of strings"):
        store.query(NS, keys="indicator--a")


def test_a_closed_store_refuses_work_with_a_store_error(store: Store) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.query(NS)
    with pytest.raises(StoreError, match="closed"):
        store.put_many(NS, [indicator("a", "1")])
    store.close()


def test_a_transaction_object_is_refused_after_its_block_ends(store: Store) -> None:
    with store.transaction() as tx:
        tx.kv_put("settings", "a", 1)
    with pytest.raises(StoreError, match="has ended"):
        tx.kv_put("settings", "b", 2)
    assert store.kv_keys("settings") == ["a"]


def test_a_key_longer_than_the_limit_is_an_input_error_on_every_store(store: Store) -> None:
    with pytest.raises(InputError, match="longer than 1000"):
        store.put_many(NS, [Record("k" * 1001, {})])
    store.put_many(NS, [Record("k" * 1000, {})])
    assert store.count(NS) == 1


def test_raw_queries_return_each_document_as_its_stored_json_text(store: Store) -> None:
    import json

    doc = {"type": "indicator", "name": "ünïcode", "n": 1.5, "tags": ["a", "b"]}
    store.put_many("raw", [Record("k1", doc, version="v1", attrs={"type": "indicator"})])
    parsed = store.query("raw").records[0]
    raw = store.query("raw", raw=True).records[0]
    assert isinstance(raw.doc, str) and json.loads(raw.doc) == parsed.doc == doc
    assert raw.attrs == parsed.attrs and raw.added == parsed.added


def test_existing_in_a_transaction_shows_stored_versions_and_put_many_agrees(store: Store) -> None:
    store.put_many(NS, [indicator("indicator--a", "v1"), indicator("indicator--a", "v2"),
                        indicator("indicator--b", "v1")])
    with store.transaction() as tx:
        seen = tx.existing(NS, ["indicator--a", "indicator--c"])
        assert sorted(seen) == [("indicator--a", "v1"), ("indicator--a", "v2")]
        assert '"modified":"v2"' in seen[("indicator--a", "v2")].doc  # the stored text
        # put_many reuses that lookup for keys it covered, and looks up the others itself
        batch = [indicator("indicator--a", "v2"), indicator("indicator--a", "v3"),
                 indicator("indicator--b", "v1"), indicator("indicator--c", "v1")]
        results = tx.put_many(NS, batch)
    assert [r.status for r in results] == ["unchanged", "created", "unchanged", "created"]
    assert keys_versions(store) == [("indicator--b", "v1"), ("indicator--a", "v3"),
                                    ("indicator--c", "v1")]
    assert store.count(NS) == 5


def test_a_delete_after_existing_in_the_same_transaction_is_not_hidden_from_put_many(
    store: Store,
) -> None:
    store.put_many(NS, [indicator("indicator--a", "v1")])
    with store.transaction() as tx:
        assert list(tx.existing(NS, ["indicator--a"])) == [("indicator--a", "v1")]
        assert tx.delete(NS, "indicator--a", "v1") == 1
        [result] = tx.put_many(NS, [indicator("indicator--a", "v1")])
    assert result.status == "created"  # not "unchanged": the lookup before the delete is stale
    assert store.get(NS, "indicator--a").version == "v1"


def test_the_newest_version_stays_current_through_out_of_order_puts_and_deletes(
    store: Store,
) -> None:
    store.put_many(NS, [indicator("indicator--a", "v2")])
    store.put_many(NS, [indicator("indicator--a", "v1")])  # an older version arrives late
    assert store.get(NS, "indicator--a").version == "v2"
    assert keys_versions(store) == [("indicator--a", "v2")]
    store.put_many(NS, [indicator("indicator--a", "v3"), indicator("indicator--a", "v0")])
    assert keys_versions(store) == [("indicator--a", "v3")]
    store.delete(NS, "indicator--a", "v3")
    assert keys_versions(store) == [("indicator--a", "v2")]
    store.delete(NS, "indicator--a", "v0")
    assert keys_versions(store) == [("indicator--a", "v2")]
    assert keys_versions(store, versions="first") == [("indicator--a", "v1")]
