"""PostgreSQL specifics: schemas, errors that hide passwords, several stores on one database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from kizuna.errors import InputError, StoreError
from kizuna.store import Record, open_store
from kizuna.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def connection(pg_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        yield conn


def test_a_schema_in_the_url_keeps_the_tables_out_of_public(
    pg_url: str, pg_schema: str, connection: psycopg.Connection[tuple[object, ...]]
) -> None:
    separator = "&" if "?" in pg_url else "?"
    with open_store(f"{pg_url}{separator}schema={pg_schema}") as store:
        assert isinstance(store, PostgresStore)
        assert store.schema == pg_schema
        store.put_many("ns", [Record("k", {"n": 1})])
    rows = connection.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "ORDER BY table_name",
        [pg_schema],
    ).fetchall()
    assert [row[0] for row in rows] == ["kz_attrs", "kz_clock", "kz_kv", "kz_meta", "kz_records"]


def test_opening_the_same_schema_twice_keeps_the_data_and_the_schema_version(
    pg_url: str, pg_schema: str
) -> None:
    with PostgresStore(pg_url, schema=pg_schema) as store:
        store.put_many("ns", [Record("k", {"n": 1}, "1")])
    with PostgresStore(pg_url, schema=pg_schema) as store:
        assert store.get("ns", "k").doc == {"n": 1}


def test_two_stores_on_one_database_never_share_an_added_value(pg_url: str, pg_schema: str) -> None:
    stores = [PostgresStore(pg_url, schema=pg_schema) for _ in range(2)]
    try:

        def writer(index: int) -> None:
            for i in range(15):
                stores[index].put_many(
                    "ns", [Record(f"s{index}-{i}", {}), Record(f"t{index}-{i}", {})]
                )

        threads = [threading.Thread(target=writer, args=(n,)) for n in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        added = [r.added for r in stores[0].query("ns").records]
        assert len(added) == len(set(added)) == 60
    finally:
        for store in stores:
            store.close()


def test_an_unreachable_server_is_a_store_error_that_never_shows_the_password() -> None:
    url = "postgresql://kizuna:hunter2@127.0.0.1:1/kizuna"
    with pytest.raises(StoreError) as caught:
        PostgresStore(url, connect_timeout=1)
    text = str(caught.value)
    assert "hunter2" not in text
    assert "hunter2" not in repr(caught.value.to_dict())
    assert caught.value.__cause__ is None
    assert text.startswith("the PostgreSQL store at postgresql://kizuna:***@127.0.0.1:1/kizuna")
    assert "\n" not in text


def test_a_schema_name_that_is_not_a_plain_sql_name_is_an_input_error(pg_url: str) -> None:
    with pytest.raises(InputError, match="plain lower-case SQL name"):
        PostgresStore(pg_url, schema='x"; DROP TABLE kz_records; --')


def test_version_order_is_by_code_point_even_where_the_database_collation_differs(
    pg_url: str, pg_schema: str
) -> None:
    with PostgresStore(pg_url, schema=pg_schema) as store:
        store.put_many("ns", [Record("k", {}, v) for v in ("b", "B", "a", "A", "_")])
        assert store.versions("ns", "k") == ["A", "B", "_", "a", "b"]
        assert store.get("ns", "k").version == "b"


def test_the_store_refreshes_planner_statistics_as_a_collection_grows(
    pg_url: str, pg_schema: str, connection: psycopg.Connection[tuple[object, ...]]
) -> None:
    def analyzed() -> object:
        row = connection.execute(
            "SELECT last_analyze FROM pg_stat_user_tables WHERE schemaname = %s "
            "AND relname = 'kz_records'", [pg_schema]).fetchone()
        return None if row is None else row[0]

    with PostgresStore(pg_url, schema=pg_schema) as store:
        with store.transaction() as tx:
            tx.put_many("ns", [Record(f"k{i}", {"i": i}) for i in range(100)])
        assert analyzed() is None  # small writes leave it to autovacuum
        with store.transaction() as tx:
            tx.put_many("ns", [Record(f"k{i}", {"i": i}) for i in range(100, 5100)])
        deadline = time.monotonic() + 10  # the server publishes statistics within a second
        while analyzed() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert analyzed() is not None  # 5,000 rows since: ANALYZE ran after the commit


def test_a_schema_1_store_gains_the_latest_flag_when_opened(
    pg_url: str, pg_schema: str, connection: psycopg.Connection[tuple[object, ...]]
) -> None:
    """A store written before ``kz_records.latest`` existed reads its newest versions the same."""
    with PostgresStore(pg_url, schema=pg_schema) as store:
        store.put_many("ns", [Record("a", {"n": 1}, "v1"), Record("a", {"n": 3}, "v3"),
                              Record("a", {"n": 2}, "v2"), Record("b", {"n": 4})])
    connection.execute(f'ALTER TABLE "{pg_schema}".kz_records DROP COLUMN latest')
    connection.execute(
        f"UPDATE \"{pg_schema}\".kz_meta SET value = '1' WHERE name = 'schema_version'")
    with PostgresStore(pg_url, schema=pg_schema) as store:
        assert {(r.key, r.version) for r in store.query("ns").records} == {("a", "v3"), ("b", "")}
        store.delete("ns", "a", "v3")
        assert [r.doc for r in store.query("ns", keys=["a"]).records] == [{"n": 2}]
    row = connection.execute(
        f"SELECT value FROM \"{pg_schema}\".kz_meta WHERE name = 'schema_version'").fetchone()
    assert row == ("2",)
