"""The store: one small interface over memory, SQLite and PostgreSQL (see docs/store.md).

``open_store(url)`` picks the implementation from the URL's scheme. Database drivers are
imported only when a store of that kind is opened. A SQLite file's directory must exist unless
``create_parent=True`` is passed (meant for the default store in the user's data directory).
"""

from __future__ import annotations

from typing import Any

from kizuna.errors import InputError
from kizuna.store.base import Store, Transaction
from kizuna.store.values import Page, PutResult, Record, StoredRecord, mask_url

__all__ = [
    "SCHEMES",
    "Page",
    "PutResult",
    "Record",
    "Store",
    "StoredRecord",
    "Transaction",
    "open_store",
]

SCHEMES = ("memory://", "sqlite:///path.db", "postgresql://user@host/db")


def open_store(url: str, *, create_parent: bool = False, **options: Any) -> Store:
    """Open the store a URL names; ``options`` go to the implementation (e.g. ``now=``).

    ``create_parent``: create a SQLite file's missing parent directory instead of raising
    ``StoreError``. Pass it only for a location Kizuna chose (the default store in the user's
    data directory), never for a path the user typed. Other schemes have no directory and
    ignore it.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        from kizuna.store.memory import MemoryStore  # noqa: PLC0415 - drivers load lazily

        return MemoryStore(url, **options)
    if scheme == "sqlite":
        from kizuna.store.sqlite import SQLiteStore  # noqa: PLC0415 - drivers load lazily

        return SQLiteStore(url, create_parent=create_parent, **options)
    if scheme in ("postgresql", "postgres"):
        from kizuna.store.postgres import PostgresStore  # noqa: PLC0415 - drivers load lazily

        return PostgresStore(url, **options)
    raise InputError(
        f"the store URL {mask_url(url)!r} has no scheme Kizuna knows",
        hint="use one of " + ", ".join(SCHEMES),
        url=mask_url(url),
        schemes=list(SCHEMES),
    )
