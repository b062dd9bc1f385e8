"""The SQLite store checkpoints its write-ahead log on a background thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from kizuna.store import Record
from kizuna.store.sqlite import SQLiteStore


def _records(start: int, count: int) -> list[Record]:
    return [Record(f"k{i}", {"text": "x" * 2000, "n": i}, "v1", {"type": "t"})
            for i in range(start, start + count)]


def _threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "kizuna-sqlite-checkpoint"]


def test_commits_are_copied_into_the_database_file_without_a_foreground_checkpoint(
    tmp_path: Path,
) -> None:
    path = tmp_path / "k.db"
    store = SQLiteStore(f"sqlite:///{path}")
    try:
        before = path.stat().st_size
        with store.transaction() as tx:  # about 2 MB: below the writer's own 64 MiB backstop
            tx.put_many("ns", _records(0, 1000))
        deadline = time.monotonic() + 10
        while path.stat().st_size < before + 1_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size >= before + 1_000_000  # the thread checkpointed
        assert store.count("ns") == 1000
    finally:
        store.close()


def test_close_stops_the_thread_and_memory_stores_have_none(tmp_path: Path) -> None:
    running = len(_threads())
    store = SQLiteStore(f"sqlite:///{tmp_path / 'k.db'}")
    assert len(_threads()) == running + 1
    store.close()
    assert len(_threads()) == running
    memory = SQLiteStore("sqlite:///:memory:")
    try:
        assert len(_threads()) == running
    finally:
        memory.close()


def test_data_survives_reopening_after_background_checkpoints(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    store = SQLiteStore(url)
    for batch in range(5):
        with store.transaction() as tx:
            tx.put_many("ns", _records(batch * 200, 200))
    store.close()
    again = SQLiteStore(url)
    try:
        assert again.count("ns") == 1000
        assert again.get("ns", "k999") is not None
    finally:
        again.close()
