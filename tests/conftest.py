"""Shared fixtures: a frozen clock and stores of every kind (memory, SQLite, PostgreSQL).

PostgreSQL tests use ``KIZUNA_TEST_PG`` and a schema of their own that is dropped afterwards;
when the server is unreachable they fail (never skip) and say how to start it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kizuna.settings import Settings, env_name
from kizuna.store import Store, open_store
from kizuna.store.values import mask_url

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
STORE_KINDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(autouse=True)
def isolated_settings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads the developer's own config file or writes to their default store."""
    home = tmp_path_factory.mktemp("kizuna-home")
    config = home / "config.toml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("KIZUNA_CONFIG", str(config))
    monkeypatch.setenv("KIZUNA_STORE", f"sqlite:///{home / 'kizuna.db'}")
    for row in Settings.describe():  # every setting, so a new one cannot leak in
        name = env_name(str(row["name"]))
        if name != "KIZUNA_STORE":
            monkeypatch.delenv(name, raising=False)


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def move(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The test server's URL, or a failure that says how to start the server."""
    url = os.environ.get("KIZUNA_TEST_PG", PG_DEFAULT)
    try:
        import psycopg
    except ImportError:
        pytest.fail("psycopg is not installed: pip install 'kizuna[postgres]'", pytrace=False)
    reason = ""
    try:
        with psycopg.connect(url, connect_timeout=3):
            pass
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if reason:
        pytest.fail(
            f"PostgreSQL is not reachable at {mask_url(url)} ({reason}); start it with: {PG_START}",
            pytrace=False,
        )
    return url


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    """A fresh schema name for one test; the schema is dropped afterwards."""
    import psycopg

    name = f"kz_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


StoreFactory = Callable[..., Store]


@pytest.fixture
def make_store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FrozenClock
) -> Iterator[StoreFactory]:
    """Open a store of a kind; the same kind opens the same place again (to test reopening)."""
    opened: list[Store] = []

    def make(kind: str, **options: object) -> Store:
        options.setdefault("now", clock)
        if kind == "memory":
            store = open_store("memory://", **options)
        elif kind == "sqlite":
            store = open_store(f"sqlite:///{tmp_path / 'kizuna.db'}", **options)
        elif kind == "postgres":
            schema = request.getfixturevalue("pg_schema")
            store = open_store(request.getfixturevalue("pg_url"), schema=schema, **options)
        else:
            raise ValueError(kind)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, make_store: StoreFactory) -> Store:
    """One store of each kind: the contract suite runs against all three."""
    return make_store(request.param)
