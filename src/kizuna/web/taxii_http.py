"""TAXII 2.1 over HTTP: media types, credentials, query filters and the error message.

The pieces the TAXII routes (:mod:`kizuna.web.taxii`) share, kept free of routing so that
each rule is one small function with its own test:

* content negotiation — ``Accept`` (406) and ``Content-Type`` (415);
* credentials — ``Authorization: Bearer KEY`` or HTTP Basic with the key as the password;
* filters — ``match[id|type|version|spec_version]``, ``added_after``, ``limit``, ``next``
  become one :class:`~kizuna.hub.contract.ObjectFilter` (bad values are 400);
* errors — every :class:`~kizuna.errors.KizunaError` becomes a TAXII error message.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any

import orjson
from starlette.datastructures import QueryParams
from starlette.responses import JSONResponse

from kizuna.errors import InputError, KizunaError
from kizuna.hub.contract import AuthError, NotAcceptable, ObjectFilter, UnsupportedMediaType

TAXII_TYPE = "application/taxii+json"
TAXII_VERSION = "2.1"
TAXII_MEDIA = f"{TAXII_TYPE};version={TAXII_VERSION}"
CHALLENGE = 'Bearer realm="kizuna-taxii", Basic realm="kizuna-taxii", charset="UTF-8"'

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
_VERSION_WORDS = frozenset({"first", "last", "all"})
_SPEC_VERSION = re.compile(r"^\d\.\d$")
_STIX_ID = re.compile(r"^[a-z0-9][a-z0-9-]*--[0-9a-fA-F-]{36}$")
_STIX_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{1,249}$")


class Unprocessable(KizunaError):
    """Well-formed JSON that is not a TAXII envelope."""

    status = 422
    code = "unprocessable"


class MethodNotAllowed(KizunaError):
    status = 405
    code = "method-not-allowed"


class TaxiiResponse(JSONResponse):
    """JSON with the TAXII 2.1 media type, written by orjson (a status resource of an
    envelope of 500 lists 500 successes: the standard library took about 1 ms for it)."""

    media_type = TAXII_MEDIA

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits
            return super().render(content)


# --------------------------------------------------------------------------- negotiation


def _media_ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    """``Accept``/``Content-Type`` values as (type, parameters), lower-cased."""
    ranges = []
    for item in header.split(","):
        parts = [part.strip() for part in item.split(";")]
        if not parts[0]:
            continue
        params: dict[str, str] = {}
        for param in parts[1:]:
            name, _, value = param.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        ranges.append((parts[0].lower(), params))
    return ranges


def _quality(params: Mapping[str, str]) -> float:
    try:
        return float(params.get("q", "1"))
    except ValueError:
        return 0.0


def check_accept(header: str | None) -> None:
    """406 unless ``Accept`` allows TAXII 2.1 JSON.

    Accepted: ``application/taxii+json;version=2.1``, ``application/taxii+json`` (no version
    means the latest the server supports, which is 2.1), and the wildcards ``*/*`` and
    ``application/*`` (RFC 9110). A missing ``Accept`` is refused: TAXII clients must say
    which version they speak.
    """
    if not header:
        raise NotAcceptable(
            "the request has no Accept header",
            hint=f"send Accept: {TAXII_MEDIA}",
            accept=None,
        )
    for media, params in _media_ranges(header):
        if _quality(params) <= 0:
            continue
        if media in {"*/*", "application/*"}:
            return
        if media == TAXII_TYPE and params.get("version", TAXII_VERSION) == TAXII_VERSION:
            return
    raise NotAcceptable(
        f"this server answers only in {TAXII_MEDIA}, which Accept: {header} does not allow",
        hint=f"send Accept: {TAXII_MEDIA}",
        accept=header,
    )


def check_content_type(header: str | None) -> None:
    """415 unless the body is ``application/taxii+json`` for TAXII 2.1."""
    ranges = _media_ranges(header or "")
    if len(ranges) == 1:
        media, params = ranges[0]
        charset = params.get("charset", "utf-8").lower()
        if (media == TAXII_TYPE and params.get("version", TAXII_VERSION) == TAXII_VERSION
                and charset in {"utf-8", "utf8"}):
            return
    shown = header or "(none)"
    raise UnsupportedMediaType(
        f"the body must be {TAXII_MEDIA}, not {shown}",
        hint=f"send Content-Type: {TAXII_MEDIA}",
        content_type=header,
    )


# --------------------------------------------------------------------------- credentials


def credentials(header: str | None) -> str | None:
    """The API key from ``Authorization`` (Bearer, or Basic with the key as password).

    ``None`` when there is no header (anonymous); a malformed header is an ``AuthError``.
    """
    if header is None or not header.strip():
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        _, colon, password = decoded.partition(":")
        if colon and password:
            return password
    raise AuthError(
        "the Authorization header is not 'Bearer KEY' or HTTP Basic with the key as password",
        hint="send Authorization: Bearer KEY",
        scheme=scheme.lower(),
    )


# --------------------------------------------------------------------------- filters


def _values(params: QueryParams, name: str) -> list[str]:
    """Every comma-separated value of a parameter given once or repeated."""
    found = [value.strip() for raw in params.getlist(name) for value in raw.split(",")]
    if any(not value for value in found):
        raise InputError(f"filter {name} has an empty value", parameter=name)
    return found


def _timestamp(value: str, name: str) -> str:
    if _TIMESTAMP.match(value):
        try:
            datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")  # a date check only
        except ValueError:
            pass
        else:
            return value
    raise InputError(
        f"filter {name} has {value!r}, which is not a timestamp",
        hint="use a UTC timestamp such as 2026-01-01T00:00:00.000Z",
        parameter=name,
        value=value,
    )


def _checked(values: list[str], name: str, pattern: re.Pattern[str], what: str) -> list[str]:
    for value in values:
        if not pattern.match(value):
            raise InputError(f"filter {name} has {value!r}, which is not {what}",
                             parameter=name, value=value)
    return values


def object_filter(params: QueryParams, *, default_versions: tuple[str, ...] = ("last",)
                  ) -> ObjectFilter:
    """The TAXII query parameters as an ``ObjectFilter``; a bad value is a 400."""
    versions = _values(params, "match[version]")
    for value in versions:
        if value not in _VERSION_WORDS:
            _timestamp(value, "match[version]")
    added_after = params.get("added_after")
    limit = params.get("limit")
    next_token = params.get("next")
    if next_token is not None and not next_token.strip():
        raise InputError("the next token is empty", hint="pass the envelope's 'next' value",
                         parameter="next")
    return ObjectFilter(
        ids=tuple(_checked(_values(params, "match[id]"), "match[id]", _STIX_ID, "a STIX id")),
        types=tuple(_checked(_values(params, "match[type]"), "match[type]", _STIX_TYPE,
                             "a STIX type")),
        versions=tuple(versions) or default_versions,
        spec_versions=tuple(_checked(_values(params, "match[spec_version]"),
                                     "match[spec_version]", _SPEC_VERSION,
                                     "a spec version such as 2.1")),
        added_after=None if added_after is None else _timestamp(added_after, "added_after"),
        limit=None if limit is None else _limit(limit),
        next=next_token,
    )


def _limit(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise InputError(f"limit must be a positive whole number, got {value!r}",
                         parameter="limit", value=value)
    return number


# --------------------------------------------------------------------------- errors


def error_message(error: KizunaError, status: int | None = None) -> dict[str, Any]:
    """The TAXII 2.1 error message for ``error``: title, description, codes, details."""
    status = error.status if status is None else status
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    details = {key: value for key, value in error.to_dict().items()
               if key not in {"error", "message"} and value is not None}
    body: dict[str, Any] = {
        "title": title,
        "description": str(error),
        "error_code": error.code,
        "http_status": str(status),
    }
    if details:
        body["details"] = details
    return body


def error_response(error: KizunaError, status: int | None = None,
                   headers: Mapping[str, str] | None = None) -> TaxiiResponse:
    status = error.status if status is None else status
    extra = dict(headers or {})
    if status == 401:
        extra.setdefault("WWW-Authenticate", CHALLENGE)
    return TaxiiResponse(error_message(error, status), status_code=status, headers=extra)
