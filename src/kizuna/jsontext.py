"""JSON text on the hot paths: one canonical form for stored documents, one strict parser.

The hub spends much of an ingest serialising documents (the store keeps each as canonical
JSON, and compares texts to tell a re-post from a conflict) and parsing bodies. ``orjson``
does both five to six times faster than the standard library, so it is used where it gives
the same answer; where it would not, the standard library decides:

* ``canonical`` — sorted keys, no spaces. ``orjson`` writes ``null`` for NaN and infinity
  where the store must refuse them, and encodes some Python types (dataclasses, datetimes)
  that are not JSON values, so output with a ``null`` in it, and anything ``orjson`` refuses
  (non-string keys, lone surrogates), is written by ``json.dumps`` with ``allow_nan=False``
  instead. Integers beyond 64 bits are refused: most JSON readers, ``orjson`` among them,
  would turn them into floats (STIX integers are at most 54 bits). The choice depends only
  on the value, so the same document always gives the same text. STIX forbids ``null``
  property values, so STIX documents take the fast path.
* ``parse`` — RFC 8259 only: ``NaN``/``Infinity`` literals and lone surrogates are errors
  (the standard library accepts both).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME

JSONDecodeError = orjson.JSONDecodeError  # a subclass of ValueError (and of json's)


def canonical(value: Any) -> str:
    """Compact JSON with sorted keys; ``TypeError``/``ValueError`` for what JSON cannot hold."""
    try:
        data = orjson.dumps(value, option=_SORTED)
    except TypeError as error:
        if "64-bit" in str(error):
            raise ValueError("an integer is beyond 64 bits (readers lose its digits)") from None
        return _standard(value)
    if b"null" in data:
        return _standard(value)
    return data.decode("utf-8")


def _standard(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def parse(data: bytes | str) -> Any:
    """A JSON text as Python values; ``JSONDecodeError`` (a ``ValueError``) if it is not JSON.

    Integers beyond 64 bits come back as floats (as in most JSON readers)."""
    return orjson.loads(data)


def load(text: str | bytes) -> Any:
    """A JSON text ``canonical`` wrote: parsed by ``orjson``, or by ``json`` for the rare text
    only the standard library writes (an escaped lone surrogate)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
