"""The in-memory store: real (not a mock), used by unit tests and ``memory://``.

One re-entrant lock guards everything; a transaction holds it until it ends and keeps an undo
log, so a failed transaction leaves the store as it found it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from kizuna.store.base import Store, Transaction
from kizuna.store.values import Existing, Now, Prepared, QuerySpec, StoredRecord, next_added, stored


@dataclass(slots=True)
class _Row:
    added: int
    doc: str
    attrs_json: str
    attrs: dict[str, str]


@dataclass(slots=True)
class _Namespace:
    rows: dict[str, dict[str, _Row]]
    # added -> (key, version); insertion order is ``added`` order because added only grows
    order: dict[int, tuple[str, str]]


class MemoryStore(Store):
    """A store that lives in this process and dies with it."""

    scheme = "memory"

    def __init__(self, url: str = "memory://", *, now: Now | None = None) -> None:
        super().__init__(url, now)
        self._lock = threading.RLock()
        self._spaces: dict[str, _Namespace] = {}
        self._kv: dict[str, dict[str, str]] = {}
        self.last_added = 0

    @contextmanager
    def _begin(self) -> Iterator[Transaction]:
        with self._lock:
            tx = _MemoryTransaction(self)
            try:
                yield tx
            except BaseException:
                tx.rollback()
                raise

    def _space(self, namespace: str) -> _Namespace:
        return self._spaces.setdefault(namespace, _Namespace({}, {}))

    def _query(self, namespace: str, spec: QuerySpec) -> list[StoredRecord]:
        with self._lock:
            space = self._spaces.get(namespace)
            if space is None:
                return []
            wanted = None if spec.limit is None else spec.limit + 1
            found: list[StoredRecord] = []
            for added, (key, version) in _candidates(space, spec):
                if spec.after is not None and added <= spec.after:
                    continue
                row = space.rows[key][version]
                if _matches(spec, key, version, row, space.rows[key]):
                    found.append(
                        stored(namespace, key, version, added, row.doc, row.attrs_json,
                               raw=spec.raw)
                    )
                    if wanted is not None and len(found) >= wanted:
                        break
            return found

    def _read_versions(self, namespace: str, key: str) -> list[str]:
        with self._lock:
            space = self._spaces.get(namespace)
            return sorted(space.rows.get(key, {})) if space else []

    def _kv_read(self, namespace: str, key: str) -> str | None:
        with self._lock:
            return self._kv.get(namespace, {}).get(key)

    def _kv_keys(self, namespace: str) -> list[str]:
        with self._lock:
            return sorted(self._kv.get(namespace, {}))

    def _namespaces(self) -> list[str]:
        with self._lock:
            return sorted(name for name, space in self._spaces.items() if space.order)

    def _count(self, namespace: str | None) -> int:
        with self._lock:
            if namespace is None:
                spaces = list(self._spaces.values())
            else:
                spaces = [self._spaces[namespace]] if namespace in self._spaces else []
            return sum(len(space.order) for space in spaces)

    def _close(self) -> None:
        with self._lock:
            self._spaces.clear()
            self._kv.clear()


def _candidates(space: _Namespace, spec: QuerySpec) -> Iterable[tuple[int, tuple[str, str]]]:
    """(added, (key, version)) in added order: all rows, or only those of the keys asked for."""
    if spec.keys is None:
        return space.order.items()
    rows = [
        (row.added, (key, version))
        for key in set(spec.keys)
        for version, row in space.rows.get(key, {}).items()
    ]
    return sorted(rows)


def _matches(
    spec: QuerySpec, key: str, version: str, row: _Row, all_versions: dict[str, _Row]
) -> bool:
    if spec.keys is not None and key not in spec.keys:
        return False
    if spec.mode == "latest" and version != max(all_versions):
        return False
    if spec.mode == "first" and version != min(all_versions):
        return False
    if spec.mode == "exact" and version not in spec.exact:
        return False
    return all(row.attrs.get(name) in values for name, values in spec.attrs)


class _MemoryTransaction(Transaction):
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._undo: list[Callable[[], None]] = []

    def rollback(self) -> None:
        for step in reversed(self._undo):
            step()
        self._undo.clear()

    def _existing(self, namespace: str, keys: list[str]) -> dict[tuple[str, str], Existing]:
        space = self._store._space(namespace)
        return {
            (key, version): Existing(row.added, row.doc, row.attrs_json)
            for key in keys
            for version, row in space.rows.get(key, {}).items()
        }

    def _allocate(self, count: int) -> int:
        store = self._store
        first = next_added(store.last_added, store._now)
        before = store.last_added
        store.last_added = first + count - 1
        self._undo.append(lambda: setattr(store, "last_added", before))
        return first

    def _write(
        self,
        namespace: str,
        inserts: list[tuple[Prepared, int]],
        updates: list[tuple[Prepared, int, int]],
        newest: Mapping[str, tuple[str | None, str]],
    ) -> None:
        writes = [*inserts, *((item, added) for item, added, _old in updates)]
        for item, added in sorted(writes, key=lambda write: write[1]):
            row = _Row(added, item.doc, item.attrs_json, dict(item.attrs))
            self._set(namespace, item.key, item.version, row)

    def _set(self, namespace: str, key: str, version: str, row: _Row | None) -> None:
        """Put (or with None remove) one row, logging how to undo it."""
        space = self._store._space(namespace)
        versions = space.rows.setdefault(key, {})
        old = versions.get(version)
        if old is not None:
            del space.order[old.added]
            del versions[version]
        if row is not None:
            versions[version] = row
            space.order[row.added] = (key, version)
        if not versions:
            del space.rows[key]
        self._undo.append(lambda: self._restore(space, key, version, old, row))

    @staticmethod
    def _restore(
        space: _Namespace, key: str, version: str, old: _Row | None, new: _Row | None
    ) -> None:
        versions = space.rows.setdefault(key, {})
        if new is not None:
            del space.order[new.added]
            del versions[version]
        if old is not None:
            versions[version] = old
            space.order[old.added] = (key, version)
            space.order = dict(sorted(space.order.items()))
        if not versions:
            del space.rows[key]

    def _versions(self, namespace: str, key: str) -> list[str]:
        return self._store._read_versions(namespace, key)

    def _delete(self, namespace: str, key: str, version: str | None) -> int:
        space = self._store._spaces.get(namespace)
        if space is None or key not in space.rows:
            return 0
        doomed = list(space.rows[key]) if version is None else [version]
        doomed = [name for name in doomed if name in space.rows.get(key, {})]
        for name in doomed:
            self._set(namespace, key, name, None)
        return len(doomed)

    def _kv_get(self, namespace: str, key: str) -> str | None:
        return self._store._kv.get(namespace, {}).get(key)

    def _kv_put(self, namespace: str, key: str, value: str) -> None:
        self._kv_set(namespace, key, value)

    def _kv_delete(self, namespace: str, key: str) -> bool:
        return self._kv_set(namespace, key, None) is not None

    def _kv_set(self, namespace: str, key: str, value: str | None) -> str | None:
        space = self._store._kv.setdefault(namespace, {})
        old = space.pop(key, None)
        if value is not None:
            space[key] = value

        def undo() -> None:
            space.pop(key, None)
            if old is not None:
                space[key] = old

        self._undo.append(undo)
        return old
