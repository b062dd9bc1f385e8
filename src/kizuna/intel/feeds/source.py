"""Reading a feed: a local file (plain or gzipped JSON) or the publisher's URL.

URLs are fetched only when asked (``http://`` or ``https://``), with a size cap and one
InputError naming the URL when it fails; tests use local files. Every problem is one
``InputError`` naming the source, never a traceback.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kizuna.errors import InputError
from kizuna.jsontext import parse

MAX_BYTES = 512 * 1024 * 1024  # an enterprise ATT&CK bundle is ~50 MB; KEV ~1.3 MB
TIMEOUT_SECONDS = 120.0

#: The publishers' official addresses (``kizuna intel import KIND official``).
OFFICIAL_URLS: dict[str, str] = {
    "attack-enterprise": "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/"
                         "master/enterprise-attack/enterprise-attack.json",
    "attack-ics": "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/"
                  "master/ics-attack/ics-attack.json",
    "attack-mobile": "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/"
                     "master/mobile-attack/mobile-attack.json",
    "kev": "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
    "galaxy-threat-actor": "https://raw.githubusercontent.com/MISP/misp-galaxy/main/clusters/"
                           "threat-actor.json",
    "galaxy-intrusion-set": "https://raw.githubusercontent.com/MISP/misp-galaxy/main/clusters/"
                            "mitre-intrusion-set.json",
}


@dataclass(frozen=True)
class Loaded:
    """A parsed JSON document and where it came from."""

    data: Any
    source: str  # the path or URL as given
    size: int  # bytes read (before decompression)


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_bytes(source: str) -> bytes:
    """The bytes of a local file or a URL (fetched with httpx), or one InputError."""
    if is_url(source):
        return _fetch(source)
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{source}: no such file", hint="give a path to the feed file or its "
                         "https:// URL", file=source)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InputError(f"{source}: the file is larger than {MAX_BYTES // 2**20} MiB",
                             file=source)
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"{source}: cannot read the file ({error.strerror})",
                         file=source) from None


def _fetch(url: str) -> bytes:
    import httpx  # noqa: PLC0415 - only a URL needs the HTTP client

    try:
        with httpx.stream("GET", url, timeout=TIMEOUT_SECONDS, follow_redirects=True) as reply:
            if reply.status_code != 200:
                raise InputError(f"{url}: the server answered HTTP {reply.status_code}",
                                 hint="check the address, or download the file and give "
                                 "its path", url=url)
            chunks: list[bytes] = []
            total = 0
            for chunk in reply.iter_bytes():
                total += len(chunk)
                if total > MAX_BYTES:
                    raise InputError(f"{url}: larger than {MAX_BYTES // 2**20} MiB", url=url)
                chunks.append(chunk)
    except httpx.HTTPError as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise InputError(f"{url}: cannot fetch ({reason})",
                         hint="are you online? Otherwise download the file and give its path",
                         url=url) from None
    return b"".join(chunks)


def load_json(source: str) -> Loaded:
    """A JSON document from a path or URL; gzip is recognised by its magic bytes."""
    raw = read_bytes(source)
    data = raw
    if raw[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise InputError(f"{source}: a damaged gzip file ({error})", file=source) from None
    try:
        parsed = parse(data)
    except ValueError as error:
        first = str(error).splitlines()[0] if str(error) else "not JSON"
        raise InputError(f"{source}: not valid JSON ({first})", file=source) from None
    return Loaded(parsed, source, len(raw))
