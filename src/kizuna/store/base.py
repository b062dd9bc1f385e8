"""The store interface: a versioned document store with a small key-value side.

Records live in a ``namespace`` and are named by ``key`` and ``version``; the store gives each
write a unique ``added`` timestamp (microseconds, UTC, strictly increasing per store). This
module holds the interface and the write flow shared by every implementation; it imports no
database driver.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from kizuna.errors import InputError, NotFoundError, StoreError
from kizuna.jsontext import load
from kizuna.store.values import (
    VERSION_WORDS,
    Existing,
    Now,
    Page,
    Prepared,
    PutResult,
    PutStatus,
    QuerySpec,
    Record,
    StoredRecord,
    check_name,
    from_micros,
    make_page,
    make_spec,
    mask_url,
    prepare,
    to_json,
    utc_now,
)

# ---------------------------------------------------------------- the interface


class Transaction(ABC):
    """Writes that commit together when the ``with store.transaction()`` block ends."""

    finished = False  # set when the block ends; the object is then refused
    _looked_up: dict[str, tuple[frozenset[str], dict[tuple[str, str], Existing]]] | None = None

    def existing(self, namespace: str, keys: Iterable[str]) -> Mapping[tuple[str, str], Existing]:
        """The stored versions of ``keys``: (key, version) -> added, canonical text, attributes.

        Seen inside the transaction, so nothing changes them before it ends (a writer holds
        the store's write lock). The next ``put_many`` of those keys in this namespace uses
        this answer instead of looking the keys up again.
        """
        self._check_active()
        namespace = check_name(namespace, "namespace")
        wanted = sorted({check_name(key, "key") for key in keys})
        found = self._existing(namespace, wanted) if wanted else {}
        if self._looked_up is None:
            self._looked_up = {}
        self._looked_up[namespace] = (frozenset(wanted), found)
        return dict(found)

    def _check_active(self) -> None:
        if self.finished:
            raise StoreError(
                "this transaction has ended",
                hint="open a new one with store.transaction()",
            )

    def put_many(self, namespace: str, records: Iterable[Record]) -> list[PutResult]:
        """Write a batch: all or nothing; re-putting a stored key and version is "unchanged".

        A key and version repeated in one batch behaves as if put one after the other.
        """
        self._check_active()
        namespace = check_name(namespace, "namespace")
        batch = prepare(records)
        keys = {item.key for item in batch}
        known = self._looked_up.pop(namespace, None) if self._looked_up else None
        if known is not None and keys <= known[0]:
            existing = {name: old for name, old in known[1].items() if name[0] in keys}
        else:
            existing = self._existing(namespace, sorted(keys))
        statuses = _statuses(batch, existing)
        changes = sum(status != "unchanged" for status in statuses)
        added = self._allocate(changes) if changes else 0
        current = {name: old.added for name, old in existing.items()}
        writes: dict[tuple[str, str], tuple[Prepared, int]] = {}
        results: list[PutResult] = []
        for item, status in zip(batch, statuses, strict=True):
            name = (item.key, item.version)
            if status != "unchanged":
                current[name] = added
                writes[name] = (item, added)
                added += 1
            results.append(PutResult(item.key, item.version, status, from_micros(current[name])))
        inserts = [(item, new) for name, (item, new) in writes.items() if name not in existing]
        updates = [
            (item, new, existing[name].added)
            for name, (item, new) in writes.items()
            if name in existing
        ]
        self._write(namespace, inserts, updates, _newest(existing, writes))
        return results

    def delete(self, namespace: str, key: str, version: str | None = None) -> int:
        """Remove one version (exact, "latest" or "first") or, with None, every version."""
        self._check_active()
        namespace = check_name(namespace, "namespace")
        key = check_name(key, "key")
        if self._looked_up:
            self._looked_up.pop(namespace, None)  # what existing() saw is no longer so
        if version is None:
            return self._delete(namespace, key, None)
        version = check_name(version, "version", empty_ok=True)
        if version in ("latest", "first"):
            stored_versions = self._versions(namespace, key)
            if not stored_versions:
                return 0
            version = stored_versions[-1] if version == "latest" else stored_versions[0]
        elif version == "all":
            return self._delete(namespace, key, None)
        return self._delete(namespace, key, version)

    def kv_get(self, namespace: str, key: str, default: Any = None) -> Any:
        self._check_active()
        text = self._kv_get(check_name(namespace, "namespace"), check_name(key, "key"))
        return default if text is None else load(text)

    def kv_put(self, namespace: str, key: str, value: Any) -> None:
        self._check_active()
        namespace, key = check_name(namespace, "namespace"), check_name(key, "key")
        self._kv_put(namespace, key, to_json(value, f"value of {key!r}"))

    def kv_delete(self, namespace: str, key: str) -> bool:
        self._check_active()
        return self._kv_delete(check_name(namespace, "namespace"), check_name(key, "key"))

    @abstractmethod
    def _existing(self, namespace: str, keys: list[str]) -> dict[tuple[str, str], Existing]: ...

    @abstractmethod
    def _allocate(self, count: int) -> int:
        """Reserve ``count`` consecutive ``added`` values and return the first."""

    @abstractmethod
    def _write(
        self,
        namespace: str,
        inserts: list[tuple[Prepared, int]],
        updates: list[tuple[Prepared, int, int]],
        newest: Mapping[str, tuple[str | None, str]],
    ) -> None:
        """``newest``: for each key written, its newest version before and after the batch."""

    @abstractmethod
    def _versions(self, namespace: str, key: str) -> list[str]: ...

    @abstractmethod
    def _delete(self, namespace: str, key: str, version: str | None) -> int: ...

    @abstractmethod
    def _kv_get(self, namespace: str, key: str) -> str | None: ...

    @abstractmethod
    def _kv_put(self, namespace: str, key: str, value: str) -> None: ...

    @abstractmethod
    def _kv_delete(self, namespace: str, key: str) -> bool: ...


def _newest(
    existing: Mapping[tuple[str, str], Existing], writes: Mapping[tuple[str, str], object]
) -> dict[str, tuple[str | None, str]]:
    """For each key written: its newest version before the batch (None: new key) and after."""
    before: dict[str, str] = {}
    for key, version in existing:
        if key not in before or version > before[key]:
            before[key] = version
    newest: dict[str, tuple[str | None, str]] = {}
    for key, version in writes:
        known = newest.get(key)
        if known is None:
            old = before.get(key)
            newest[key] = (old, version if old is None or version > old else old)
        elif version > known[1]:
            newest[key] = (known[0], version)
    return newest


def _statuses(
    batch: list[Prepared], existing: Mapping[tuple[str, str], Existing]
) -> list[PutStatus]:
    """What each record of a batch will do, in order (a repeat sees the earlier one)."""
    view = {name: (old.doc, old.attrs_json) for name, old in existing.items()}
    statuses: list[PutStatus] = []
    for item in batch:
        name, new = (item.key, item.version), (item.doc, item.attrs_json)
        old = view.get(name)
        if old == new:
            statuses.append("unchanged")
            continue
        statuses.append("created" if old is None else "updated")
        view[name] = new
    return statuses


class Store(ABC):
    """The one storage interface; see docs/store.md. Thread-safe; use as a context manager."""

    scheme: str = ""

    def __init__(self, url: str, now: Now | None = None) -> None:
        self.url = mask_url(url)
        self._now: Now = now or utc_now
        self._closed = False
        self._local = threading.local()

    # -- writes, each in its own transaction

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Group writes to several namespaces so they commit together, or not at all."""
        self._check_open()
        if getattr(self._local, "in_transaction", False):
            raise StoreError(
                "a transaction is already open in this thread",
                hint="write through the transaction object instead of the store",
            )
        self._local.in_transaction = True
        try:
            with self._begin() as tx:
                try:
                    yield tx
                finally:
                    tx.finished = True
        finally:
            self._local.in_transaction = False

    def put_many(self, namespace: str, records: Iterable[Record]) -> list[PutResult]:
        with self.transaction() as tx:
            return tx.put_many(namespace, records)

    def delete(self, namespace: str, key: str, version: str | None = None) -> int:
        with self.transaction() as tx:
            return tx.delete(namespace, key, version)

    def kv_put(self, namespace: str, key: str, value: Any) -> None:
        with self.transaction() as tx:
            tx.kv_put(namespace, key, value)

    def kv_delete(self, namespace: str, key: str) -> bool:
        with self.transaction() as tx:
            return tx.kv_delete(namespace, key)

    # -- reads

    def get(self, namespace: str, key: str, version: str | None = None) -> StoredRecord:
        """One record: the latest version by default, or "first", or an exact version."""
        wanted = "latest" if version is None else check_name(version, "version", empty_ok=True)
        if wanted == "all":
            raise InputError(
                "get() returns one version; use query(versions='all')", field="version"
            )
        selector: str | list[str] = wanted if wanted in VERSION_WORDS else [wanted]
        page = self.query(namespace, keys=[key], versions=selector, limit=1)
        if not page.records:
            shown = "" if version is None else f" version {version!r}"
            raise NotFoundError(
                f"no record {key!r}{shown} in {namespace!r}",
                namespace=namespace,
                key=key,
                version=version,
            )
        return page.records[0]

    def query(
        self,
        namespace: str,
        *,
        keys: Iterable[str] | None = None,
        attrs: Mapping[str, Iterable[str]] | None = None,
        versions: str | Sequence[str] = "latest",
        added_after: datetime | None = None,
        limit: int | None = None,
        after_cursor: str | None = None,
        raw: bool = False,
    ) -> Page:
        """Records of a namespace in ``added`` order, filtered in one query.

        ``raw=True`` returns each document as its stored JSON text instead of parsing it, for
        callers that pass documents straight on (the TAXII objects endpoint splices them into
        its response) or decide on ``attrs`` alone.
        """
        namespace = check_name(namespace, "namespace")
        spec = make_spec(
            keys=keys,
            attrs=attrs,
            versions=versions,
            added_after=added_after,
            after_cursor=after_cursor,
            limit=limit,
            raw=raw,
        )
        self._check_open()
        if spec.empty:
            return Page([], None, False)
        return make_page(self._query(namespace, spec), spec.limit)

    def versions(self, namespace: str, key: str) -> list[str]:
        """Every stored version of a key, oldest (smallest string) first; [] if none."""
        self._check_open()
        return self._read_versions(check_name(namespace, "namespace"), check_name(key, "key"))

    def kv_get(self, namespace: str, key: str, default: Any = None) -> Any:
        self._check_open()
        text = self._kv_read(check_name(namespace, "namespace"), check_name(key, "key"))
        return default if text is None else load(text)

    def kv_keys(self, namespace: str) -> list[str]:
        self._check_open()
        return self._kv_keys(check_name(namespace, "namespace"))

    def namespaces(self) -> list[str]:
        """Namespaces that hold at least one record, sorted."""
        self._check_open()
        return self._namespaces()

    def count(self, namespace: str | None = None) -> int:
        """How many records (all versions) the store, or one namespace, holds."""
        self._check_open()
        return self._count(None if namespace is None else check_name(namespace, "namespace"))

    # -- life cycle

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.url} is closed", url=self.url)

    # -- what an implementation provides

    @abstractmethod
    def _begin(self) -> AbstractContextManager[Transaction]:
        """A context manager yielding a Transaction that commits on success."""

    @abstractmethod
    def _query(self, namespace: str, spec: QuerySpec) -> list[StoredRecord]:
        """Up to ``spec.limit + 1`` matching records in ``added`` order."""

    @abstractmethod
    def _read_versions(self, namespace: str, key: str) -> list[str]: ...

    @abstractmethod
    def _kv_read(self, namespace: str, key: str) -> str | None: ...

    @abstractmethod
    def _kv_keys(self, namespace: str) -> list[str]: ...

    @abstractmethod
    def _namespaces(self) -> list[str]: ...

    @abstractmethod
    def _count(self, namespace: str | None) -> int: ...

    @abstractmethod
    def _close(self) -> None: ...
