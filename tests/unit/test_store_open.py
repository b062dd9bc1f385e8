"""Opening stores by URL, masking secrets and keeping drivers out of the core."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from kizuna.errors import InputError, MissingExtraError
from kizuna.store import Record, open_store
from kizuna.store.memory import MemoryStore
from kizuna.store.values import decode_cursor, encode_cursor, from_micros, mask_url, to_micros


def test_a_memory_url_opens_the_in_memory_store() -> None:
    with open_store("memory://") as store:
        assert isinstance(store, MemoryStore)
        assert repr(store) == "<MemoryStore memory://>"


def test_create_parent_is_accepted_and_ignored_by_stores_without_a_directory() -> None:
    with open_store("memory://", create_parent=True) as store:
        assert isinstance(store, MemoryStore)
    with open_store("sqlite:///:memory:", create_parent=True) as store:
        store.kv_put("ns", "k", 1)
        assert store.kv_get("ns", "k") == 1


def test_an_unknown_scheme_is_an_input_error_naming_the_url_and_the_supported_schemes() -> None:
    with pytest.raises(InputError) as caught:
        open_store("mysql://root@db/kizuna")
    text = str(caught.value)
    assert "mysql://root@db/kizuna" in text
    for scheme in ("memory://", "sqlite:///", "postgresql://"):
        assert scheme in text
    assert caught.value.fields["url"] == "mysql://root@db/kizuna"


def test_a_url_without_a_scheme_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no scheme Kizuna knows"):
        open_store("kizuna.db")


def test_an_unknown_scheme_error_never_shows_the_password() -> None:
    with pytest.raises(InputError) as caught:
        open_store("mysql://root:hunter2@db/kizuna")
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(caught.value.to_dict())
    assert "root:***@db" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://kz:s3cret@db:5432/kizuna", "postgresql://kz:***@db:5432/kizuna"),
        (
            "postgresql://db/kizuna?password=s3cret&sslmode=require",
            "postgresql://db/kizuna?password=***&sslmode=require",
        ),
        ("postgresql://kz@db/kizuna", "postgresql://kz@db/kizuna"),
        ("sqlite:////var/lib/kizuna/kizuna.db", "sqlite:////var/lib/kizuna/kizuna.db"),
    ],
)
def test_mask_url_hides_passwords_and_leaves_everything_else(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_postgres_without_psycopg_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingExtraError) as caught:
        open_store("postgresql://kz:s3cret@127.0.0.1:1/kizuna")
    assert caught.value.fields == {"module": "psycopg", "extra": "postgres"}
    assert "pip install 'kizuna[postgres]'" in str(caught.value)


def test_importing_the_store_package_loads_no_database_driver() -> None:
    code = (
        "import sys, kizuna.store, kizuna.store.memory\n"
        "print(sorted(m for m in ('sqlite3', 'psycopg', 'psycopg_pool') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_timestamps_convert_to_microseconds_and_back() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert from_micros(to_micros(moment)) == moment
    assert decode_cursor(encode_cursor(to_micros(moment))) == to_micros(moment)


def test_a_naive_added_after_is_an_input_error() -> None:
    with MemoryStore() as store, pytest.raises(InputError, match="no time zone"):
        store.query("ns", added_after=datetime(2026, 1, 1))


def test_the_memory_store_returns_copies_so_callers_cannot_change_what_is_stored() -> None:
    with MemoryStore() as store:
        store.put_many("ns", [Record("k", {"list": [1]})])
        store.get("ns", "k").doc["list"].append(2)
        assert store.get("ns", "k").doc == {"list": [1]}


def test_records_that_are_not_records_are_refused() -> None:
    with MemoryStore() as store, pytest.raises(InputError, match="item 0"):
        store.put_many("ns", [{"key": "k"}])  # type: ignore[list-item]
