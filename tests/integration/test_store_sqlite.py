"""SQLite specifics: a file that outlives the store, WAL, one writer and readers that never wait."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from kizuna.errors import InputError, StoreError
from kizuna.store import Record, open_store
from kizuna.store.sqlite import SQLiteStore


def test_reopening_a_sqlite_file_finds_the_data_and_keeps_added_increasing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'kizuna.db'}"
    with open_store(url) as store:
        [first] = store.put_many("ns", [Record("k", {"n": 1}, "1")])
        store.kv_put("groups", "g7", ["CAN"])
    with open_store(url) as store:
        assert store.get("ns", "k").doc == {"n": 1}
        assert store.kv_get("groups", "g7") == ["CAN"]
        [second] = store.put_many("ns", [Record("k", {"n": 2}, "2")])
    assert second.added > first.added


def test_a_sqlite_file_store_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "kizuna.db"
    with SQLiteStore(f"sqlite:///{path}") as store:
        assert store.journal_mode() == "wal"
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_a_missing_parent_directory_is_a_store_error_and_nothing_is_created(
    tmp_path: Path,
) -> None:
    path = tmp_path / "typo" / "dir" / "kizuna.db"
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite:///{path}")
    message = str(caught.value)
    assert "\n" not in message
    assert f"the directory {path.parent} " in message and "does not exist" in message
    assert "(create the directory or fix the --store path)" in message
    assert caught.value.fields["directory"] == str(path.parent)
    assert list(tmp_path.iterdir()) == []


def test_the_parent_directory_is_created_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "kizuna.db"
    with open_store(f"sqlite:///{path}", create_parent=True) as store:
        store.kv_put("settings", "x", 1)
    assert path.is_file()
    with open_store(f"sqlite:///{path}") as store:  # exists now: no flag needed
        assert store.kv_get("settings", "x") == 1


def test_a_relative_path_in_the_working_directory_needs_no_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///kizuna.db").close()
    assert (tmp_path / "kizuna.db").is_file()


def test_the_schema_version_is_recorded_in_the_meta_table(tmp_path: Path) -> None:
    path = tmp_path / "kizuna.db"
    open_store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT value FROM kz_meta WHERE name = 'schema_version'").fetchone()
    conn.close()
    assert row == ("2",)


_SCHEMA_1 = [
    "CREATE TABLE kz_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE kz_clock (id INTEGER PRIMARY KEY CHECK (id = 1), last_added BIGINT NOT NULL)",
    "CREATE TABLE kz_records (added INTEGER PRIMARY KEY, namespace TEXT NOT NULL, "
    "key TEXT NOT NULL, version TEXT NOT NULL, doc TEXT NOT NULL, attrs TEXT NOT NULL, "
    "UNIQUE (namespace, key, version))",
    "CREATE INDEX kz_records_added ON kz_records (namespace, added)",
    "CREATE TABLE kz_attrs (added BIGINT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, "
    "PRIMARY KEY (added, name)) WITHOUT ROWID",
    "CREATE INDEX kz_attrs_value ON kz_attrs (name, value, added)",
    "CREATE TABLE kz_kv (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
    "PRIMARY KEY (namespace, key))",
    "INSERT INTO kz_clock VALUES (1, 5)",
    "INSERT INTO kz_meta VALUES ('schema_version', '1')",
    "INSERT INTO kz_records VALUES (1, 'ns', 'a', 'v1', '{\"n\":1}', '{}')",
    "INSERT INTO kz_records VALUES (2, 'ns', 'a', 'v3', '{\"n\":3}', '{}')",
    "INSERT INTO kz_records VALUES (3, 'ns', 'a', 'v2', '{\"n\":2}', '{}')",
    "INSERT INTO kz_records VALUES (4, 'ns', 'b', '', '{\"n\":4}', '{}')",
]


def test_a_schema_1_store_gains_the_latest_flag_when_opened(tmp_path: Path) -> None:
    """Stores written before ``kz_records.latest`` existed read their newest versions the same."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        for statement in _SCHEMA_1:
            conn.execute(statement)
    conn.close()
    with open_store(f"sqlite:///{path}") as store:
        latest = {(r.key, r.version) for r in store.query("ns").records}
        assert latest == {("a", "v3"), ("b", "")}
        store.delete("ns", "a", "v3")
        assert [r.doc for r in store.query("ns", keys=["a"]).records] == [{"n": 2}]
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT value FROM kz_meta WHERE name = 'schema_version'").fetchone()
    conn.close()
    assert row == ("2",)


def test_a_store_written_by_a_newer_kizuna_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "kizuna.db"
    open_store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE kz_meta SET value = '99' WHERE name = 'schema_version'")
    conn.close()
    with pytest.raises(StoreError, match="schema version 99") as caught:
        open_store(f"sqlite:///{path}")
    assert "upgrade Kizuna" in str(caught.value)


def test_an_in_memory_sqlite_store_works_from_several_threads() -> None:
    with open_store("sqlite:///:memory:") as store:
        threads = [
            threading.Thread(
                target=lambda n=n: store.put_many("ns", [Record(f"k{n}-{i}", {}) for i in range(5)])
            )
            for n in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert store.count("ns") == 20


def test_a_sqlite_url_without_a_path_is_an_input_error() -> None:
    with pytest.raises(InputError, match="has no file path"):
        open_store("sqlite://")


def test_a_locked_database_is_a_store_error_that_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "kizuna.db"
    with SQLiteStore(f"sqlite:///{path}", busy_timeout=0.05) as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreError) as caught:
                store.put_many("ns", [Record("k", {})])
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert "locked" in str(caught.value)
        assert "busy_timeout" in str(caught.value)
        assert store.count() == 0


def test_readers_are_not_blocked_by_an_open_write_transaction(tmp_path: Path) -> None:
    with SQLiteStore(f"sqlite:///{tmp_path / 'kizuna.db'}") as store:
        store.put_many("ns", [Record("old", {})])
        counts: list[int] = []
        with store.transaction() as tx:
            tx.put_many("ns", [Record("new", {})])
            reader = threading.Thread(target=lambda: counts.append(store.count("ns")))
            reader.start()
            reader.join(timeout=5)
        assert counts == [1]
        assert store.count("ns") == 2


@pytest.mark.parametrize("create_parent", [False, True])
def test_an_unwritable_location_is_a_store_error_naming_the_path(
    tmp_path: Path, create_parent: bool
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite:///{blocker / 'kizuna.db'}", create_parent=create_parent)
    assert str(blocker) in str(caught.value)
    assert blocker.read_text(encoding="utf-8") == "not a directory"
