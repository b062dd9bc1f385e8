"""TAXII filters and stateless pagination.

A ``next`` token is ``base64url("<added µs>.<fingerprint>")``: the ``added`` of the last
record the server *examined* (not the last one returned, since access control may skip
records) and a short hash of the request it belongs to (root, collection, object, filters
other than ``limit`` and ``next``). It holds no server state, so it survives restarts and
works behind a load balancer; a token that does not decode, or belongs to another request,
is a 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from kizuna.errors import InputError
from kizuna.hub.contract import ObjectFilter
from kizuna.intel.stix.objects import normalise_timestamp
from kizuna.store.values import from_micros, to_micros

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
MEDIA_TYPE_STIX = "application/stix+json;version=2.1"
MEDIA_TYPE_TAXII = "application/taxii+json;version=2.1"


def format_added(moment: datetime) -> str:
    """A ``date_added`` as TAXII shows it: microseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stix_now(moment: datetime) -> str:
    """A STIX timestamp with millisecond precision (for objects the hub creates)."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[:-3] + "Z"


def parse_timestamp(value: str, what: str) -> datetime:
    """A TAXII timestamp from a query parameter, as an aware datetime (400 if malformed)."""
    try:
        text = normalise_timestamp(value)
    except ValueError as exc:
        raise InputError(f"{what} {value!r} {exc}", field=what) from None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def page_limit(limit: int | None, maximum: int = MAX_LIMIT, default: int = DEFAULT_LIMIT) -> int:
    """The page size: the default when absent, at most the server's maximum."""
    if limit is None:
        return default
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InputError(f"limit must be a positive integer, not {limit!r}", field="limit")
    return min(limit, maximum)


@dataclass(frozen=True)
class VersionSelector:
    """``match[version]`` as the store understands it, plus what to filter afterwards.

    ``store`` is "latest", "first", "all" or a list of exact versions; ``words`` is set only
    for combinations (e.g. ``first,last`` or ``last`` with timestamps), which are read as
    "all" and filtered per object.
    """

    store: str | tuple[str, ...]
    words: frozenset[str] = frozenset()
    exact: frozenset[str] = frozenset()


def version_selector(versions: Sequence[str]) -> VersionSelector:
    values = [value for value in versions if value] or ["last"]
    if "all" in values:
        return VersionSelector("all")
    words = frozenset(value for value in values if value in ("first", "last"))
    exact: list[str] = []
    for value in values:
        if value in ("first", "last"):
            continue
        try:
            exact.append(normalise_timestamp(value))
        except ValueError as exc:
            raise InputError(
                f"match[version] {value!r} is not first, last, all or a timestamp: {exc}",
                field="match[version]",
            ) from None
    if not words:
        return VersionSelector(tuple(dict.fromkeys(exact)))
    if not exact and len(words) == 1:
        return VersionSelector("latest" if "last" in words else "first")
    return VersionSelector("all", words, frozenset(exact))


def fingerprint(
    kind: str, root: str, collection_id: str, object_id: str | None, query: ObjectFilter
) -> str:
    """A short hash of everything that defines a paged request except limit and next."""
    parts = [
        kind,
        root,
        collection_id,
        object_id or "",
        "|".join(sorted(query.ids)),
        "|".join(sorted(query.types)),
        "|".join(sorted(query.versions)),
        "|".join(sorted(query.spec_versions)),
        query.added_after or "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def encode_next(last_examined: datetime, print_: str) -> str:
    raw = f"{to_micros(last_examined)}.{print_}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_next(token: str, print_: str) -> datetime:
    """The ``added`` a token resumes after; 400 when it is not a token for this request."""
    bad = InputError(
        f"the next token {token[:40]!r} is not valid for this request",
        hint="start again without next, or repeat the query exactly as before",
        field="next",
    )
    if not isinstance(token, str) or len(token) > 200:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    micros, _, found = raw.partition(".")
    if not micros.isdigit() or found != print_:
        raise bad
    return from_micros(int(micros))
