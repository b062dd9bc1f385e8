"""The store interface: a versioned document store with a small key-value side.

Records live in a ``namespace`` and are named by ``key`` and ``version``; the store gives each
write a unique ``added`` timestamp (microseconds, UTC, strictly increasing per store). This
module holds the value types, the input checks and the flow shared by every implementation;
it imports no database driver.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kizuna.errors import InputError, NotFoundError, StoreError

SCHEMA_VERSION = 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)
VERSION_WORDS = ("latest", "first", "all")

PutStatus = Literal["created", "unchanged", "updated"]
Now = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Record:
    """One record to write: ``version`` is "" for unversioned records."""

    key: str
    doc: Any
    version: str = ""
    attrs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One record as stored, with the ``added`` timestamp the store gave it."""

    namespace: str
    key: str
    version: str
    added: datetime
    doc: Any
    attrs: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class PutResult:
    """What ``put_many`` did with one record: created, unchanged (already stored) or updated."""

    key: str
    version: str
    status: PutStatus
    added: datetime


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a query, ordered by ``added``; pass ``next_cursor`` to get the next one."""

    records: list[StoredRecord]
    next_cursor: str | None
    more: bool


# ---------------------------------------------------------------- conversions and checks


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    if moment.tzinfo is None:
        raise InputError(
            f"the timestamp {moment.isoformat()} has no time zone",
            hint="pass an aware datetime, e.g. datetime(..., tzinfo=UTC)",
            field="added_after",
        )
    return (moment - EPOCH) // ONE_MICROSECOND


def from_micros(micros: int) -> datetime:
    """The aware UTC datetime of a microsecond count."""
    return EPOCH + timedelta(microseconds=micros)


def check_name(value: object, what: str, *, empty_ok: bool = False) -> str:
    """A namespace, key, version or attribute: a string without NUL that UTF-8 can encode."""
    if not isinstance(value, str):
        raise InputError(f"the {what} must be a string, not {type(value).__name__}", field=what)
    if not value and not empty_ok:
        raise InputError(f"the {what} must not be empty", field=what)
    if "\x00" in value:
        raise InputError(f"the {what} {value!r} contains a NUL character", field=what)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"the {what} {value!r} is not valid Unicode", field=what) from None
    return value


def to_json(value: Any, what: str) -> str:
    """Canonical JSON text (sorted keys, no spaces, ASCII) or InputError."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"the {what} cannot be stored as JSON: {exc}", field=what) from None


def encode_cursor(added: int) -> str:
    return f"a{added}"


def decode_cursor(cursor: str) -> int:
    if not (isinstance(cursor, str) and cursor[:1] == "a" and cursor[1:].isdigit()):
        raise InputError(f"the cursor {cursor!r} is not one this store gave out", field="cursor")
    return int(cursor[1:])


def mask_url(url: str) -> str:
    """The URL with any password (in the netloc or a ``password=`` parameter) replaced by ***."""
    try:
        parts = urlsplit(url)
        if parts.password is None and "password" not in parts.query.lower():
            return url
        netloc = parts.netloc
        if parts.password is not None:
            user = parts.username or ""
            host = netloc.rpartition("@")[2]
            netloc = f"{user}:***@{host}"
        query = parts.query
        if "password" in query.lower():
            pairs = parse_qsl(query, keep_blank_values=True)
            masked = [(k, "***" if k.lower() == "password" else v) for k, v in pairs]
            query = urlencode(masked, safe="*")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return url.split("://", 1)[0] + "://***"


# ---------------------------------------------------------------- prepared writes and queries


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked record, its document and attributes already as canonical JSON."""

    key: str
    version: str
    doc: str
    attrs_json: str
    attrs: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Existing:
    added: int
    doc: str
    attrs_json: str


def prepare(records: Iterable[Record]) -> list[Prepared]:
    """Check every record of a batch before anything is written (all or nothing)."""
    prepared: list[Prepared] = []
    for index, record in enumerate(records):
        if not isinstance(record, Record):
            raise InputError(f"item {index} of the batch is not a Record", field="records")
        key = check_name(record.key, "key")
        version = check_name(record.version, "version", empty_ok=True)
        if version in VERSION_WORDS:
            raise InputError(f"the version {version!r} is a reserved word", field="version")
        attrs = tuple(
            sorted(
                (check_name(name, "attribute name"), check_name(value, "attribute", empty_ok=True))
                for name, value in dict(record.attrs).items()
            )
        )
        doc = to_json(record.doc, f"document of {key!r}")
        prepared.append(Prepared(key, version, doc, to_json(dict(attrs), "attributes"), attrs))
    return prepared


@dataclass(frozen=True, slots=True)
class QuerySpec:
    """A checked query: ``mode`` is latest, first, all or exact (then ``exact`` lists versions)."""

    keys: tuple[str, ...] | None
    attrs: tuple[tuple[str, tuple[str, ...]], ...]
    mode: str
    exact: tuple[str, ...]
    after: int | None
    limit: int | None

    @property
    def empty(self) -> bool:
        """True when the filters cannot match anything (an empty list of keys or values)."""
        no_exact = self.mode == "exact" and not self.exact
        return self.keys == () or no_exact or any(not values for _, values in self.attrs)


def _str_list(values: Iterable[str], what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise InputError(f"the {what} filter must be a list of strings, not one string", field=what)
    return tuple(check_name(value, what, empty_ok=True) for value in values)


def make_spec(
    *,
    keys: Iterable[str] | None,
    attrs: Mapping[str, Iterable[str]] | None,
    versions: str | Sequence[str],
    added_after: datetime | None,
    after_cursor: str | None,
    limit: int | None,
) -> QuerySpec:
    exact: tuple[str, ...] = ()
    if isinstance(versions, str):
        if versions not in VERSION_WORDS:
            raise InputError(
                f"versions={versions!r} is not latest, first or all",
                hint="pass a list of strings to ask for exact versions",
                field="versions",
            )
        mode = versions
    else:
        mode, exact = "exact", _str_list(versions, "versions")
    bounds = [to_micros(added_after)] if added_after is not None else []
    if after_cursor is not None:
        bounds.append(decode_cursor(after_cursor))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InputError(f"the limit must be a positive integer, not {limit!r}", field="limit")
    return QuerySpec(
        keys=None if keys is None else _str_list(keys, "keys"),
        attrs=tuple(
            (check_name(name, "attribute name"), _str_list(values, name))
            for name, values in sorted((attrs or {}).items())
        ),
        mode=mode,
        exact=exact,
        after=max(bounds) if bounds else None,
        limit=limit,
    )


def make_page(records: list[StoredRecord], limit: int | None) -> Page:
    """Cut the ``limit + 1`` rows a backend fetched into a page."""
    if limit is None or len(records) <= limit:
        return Page(records, None, False)
    kept = records[:limit]
    return Page(kept, encode_cursor(to_micros(kept[-1].added)), True)


def stored(
    namespace: str, key: str, version: str, added: int, doc: str, attrs: str
) -> StoredRecord:
    """A StoredRecord from the stored texts."""
    return StoredRecord(
        namespace, key, version, from_micros(added), json.loads(doc), json.loads(attrs)
    )


def next_added(last: int, now: Now) -> int:
    """The first new ``added`` value: after ``last`` (so never shared), and not before now."""
    return max(last + 1, to_micros(now()))


def utc_now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- the interface


class Transaction(ABC):
    """Writes that commit together when the ``with store.transaction()`` block ends."""

    def put_many(self, namespace: str, records: Iterable[Record]) -> list[PutResult]:
        """Write a batch: all or nothing; re-putting a stored key and version is "unchanged".

        A key and version repeated in one batch behaves as if put one after the other.
        """
        namespace = check_name(namespace, "namespace")
        batch = prepare(records)
        existing = self._existing(namespace, sorted({item.key for item in batch}))
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
        self._write(namespace, inserts, updates)
        return results

    def delete(self, namespace: str, key: str, version: str | None = None) -> int:
        """Remove one version (exact, "latest" or "first") or, with None, every version."""
        namespace = check_name(namespace, "namespace")
        key = check_name(key, "key")
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
        text = self._kv_get(check_name(namespace, "namespace"), check_name(key, "key"))
        return default if text is None else json.loads(text)

    def kv_put(self, namespace: str, key: str, value: Any) -> None:
        namespace, key = check_name(namespace, "namespace"), check_name(key, "key")
        self._kv_put(namespace, key, to_json(value, f"value of {key!r}"))

    def kv_delete(self, namespace: str, key: str) -> bool:
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
    ) -> None: ...

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
                yield tx
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
    ) -> Page:
        """Records of a namespace in ``added`` order, filtered in one query."""
        namespace = check_name(namespace, "namespace")
        spec = make_spec(
            keys=keys,
            attrs=attrs,
            versions=versions,
            added_after=added_after,
            after_cursor=after_cursor,
            limit=limit,
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
        return default if text is None else json.loads(text)

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
    def _begin(self) -> Any:
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
