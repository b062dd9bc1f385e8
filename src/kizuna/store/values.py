"""The store's values (records, results, pages) and the input checks every store shares.

Nothing here touches a database; ``base`` builds the interface on top of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kizuna.errors import InputError
from kizuna.jsontext import canonical, load

SCHEMA_VERSION = 2  # 2: kz_records.latest marks each key's newest version
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)
VERSION_WORDS = ("latest", "first", "all")
MAX_NAME = 1000  # characters in a namespace, key, version or attribute; PostgreSQL indexes cap it

PutStatus = Literal["created", "unchanged", "updated"]
Now = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Record:
    """One record to write: ``version`` is "" for unversioned records."""

    key: str
    doc: Any
    version: str = ""
    attrs: Mapping[str, str] = field(default_factory=dict)


class StoredRecord(NamedTuple):
    """One record as stored, with the ``added`` timestamp the store gave it.

    A named tuple, not a frozen dataclass: a paged read builds one per row, and a frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field) cost three times as much.
    """

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


def from_micros(micros: int, _epoch: datetime = EPOCH, _delta: type[timedelta] = timedelta
                ) -> datetime:
    """The aware UTC datetime of a microsecond count (one per record read: kept lean)."""
    return _epoch + _delta(0, 0, micros)


def check_name(value: object, what: str, *, empty_ok: bool = False) -> str:
    """A namespace, key, version or attribute: a string without NUL that UTF-8 can encode."""
    if type(value) is str and 0 < len(value) <= MAX_NAME and value.isascii() and (
        "\x00" not in value
    ):
        return value  # the common case, decided in one line (ingest checks millions)
    if not isinstance(value, str):
        raise InputError(f"the {what} must be a string, not {type(value).__name__}", field=what)
    if not value and not empty_ok:
        raise InputError(f"the {what} must not be empty", field=what)
    if len(value) > MAX_NAME:
        raise InputError(
            f"the {what} {value[:40]!r}... is longer than {MAX_NAME} characters", field=what
        )
    if "\x00" in value:
        raise InputError(f"the {what} {value!r} contains a NUL character", field=what)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"the {what} {value!r} is not valid Unicode", field=what) from None
    return value


def to_json(value: Any, what: str) -> str:
    """Canonical JSON text (sorted keys, no spaces; ``kizuna.jsontext``) or InputError."""
    try:
        return canonical(value)
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
    raw: bool = False  # docs as their stored JSON text, not parsed

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
    raw: bool = False,
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
        raw=raw,
    )


def make_page(records: list[StoredRecord], limit: int | None) -> Page:
    """Cut the ``limit + 1`` rows a backend fetched into a page."""
    if limit is None or len(records) <= limit:
        return Page(records, None, False)
    kept = records[:limit]
    return Page(kept, encode_cursor(to_micros(kept[-1].added)), True)


def stored(
    namespace: str, key: str, version: str, added: int, doc: str, attrs: str, *, raw: bool = False
) -> StoredRecord:
    """A StoredRecord from the stored texts (``raw``: keep the document as its JSON text)."""
    return StoredRecord(
        namespace, key, version, from_micros(added), doc if raw else load(doc),
        load(attrs),
    )


def next_added(last: int, now: Now) -> int:
    """The first new ``added`` value: after ``last`` (so never shared), and not before now."""
    return max(last + 1, to_micros(now()))


def utc_now() -> datetime:
    return datetime.now(UTC)
