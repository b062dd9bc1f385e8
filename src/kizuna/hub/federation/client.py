"""A small TAXII 2.1 client for one peer (httpx), whose failures are ``PeerProblem``s.

Every failure becomes one sentence saying what went wrong and what to check — unreachable,
the peer refused our key, no such collection, an answer that is not a TAXII envelope — so
the sync can record it on the peer's status and go on with the next peer. The key is sent
as ``Authorization: Bearer`` and never appears in a message.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx

from kizuna.hub.federation.peers import Peer, PeerProblem
from kizuna.hub.paging import MEDIA_TYPE_TAXII
from kizuna.jsontext import parse

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0


class TaxiiPeer:
    """The peer's API root, spoken to with the key it issued to this node."""

    def __init__(self, peer: Peer, key: str, *, transport: httpx.BaseTransport | None = None,
                 read_timeout: float = READ_TIMEOUT) -> None:
        self.peer = peer
        self._client = httpx.Client(
            base_url=peer.url,
            headers={"Accept": MEDIA_TYPE_TAXII, "Authorization": f"Bearer {key}"},
            timeout=httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT),
            transport=transport,
            follow_redirects=False,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._client.close()

    def api_root(self) -> dict[str, Any]:
        body, _ = self._call("GET", "", what="API root")
        return body

    def objects(self, collection: str, *, added_after: str | None, next_token: str | None,
                limit: int) -> tuple[dict[str, Any], httpx.Headers]:
        """One page of every version of the collection's objects after ``added_after``."""
        params: dict[str, str] = {"match[version]": "all", "limit": str(limit)}
        if added_after:
            params["added_after"] = added_after
        if next_token:
            params["next"] = next_token
        body, headers = self._call("GET", f"collections/{collection}/objects/", params=params,
                                   what=f"collection {collection}")
        objects = body.get("objects", [])
        if not isinstance(objects, list) or not isinstance(body.get("more", False), bool):
            raise PeerProblem(f"the peer's answer for the collection {collection} is not a "
                              "TAXII envelope (objects must be a list, more a boolean)",
                              kind="invalid")
        return body, headers

    def post(self, collection: str, body: bytes) -> dict[str, Any]:
        """POST an envelope; the peer's status resource."""
        status, _ = self._call(
            "POST", f"collections/{collection}/objects/", content=body,
            headers={"Content-Type": MEDIA_TYPE_TAXII}, what=f"collection {collection}")
        return status

    # ------------------------------------------------------------ one request

    def _call(self, method: str, path: str, *, what: str, **options: Any
              ) -> tuple[dict[str, Any], httpx.Headers]:
        url = self.peer.url + path
        try:
            response = self._client.request(method, path, **options)
        except httpx.TimeoutException:
            raise PeerProblem(f"the peer at {url} did not answer in time",
                              kind="unreachable") from None
        except httpx.TransportError as error:
            reason = str(error) or type(error).__name__
            raise PeerProblem(f"cannot reach the peer at {url}: {reason}",
                              kind="unreachable") from None
        if response.status_code >= 400:
            raise _problem(response, url, what)
        try:
            body = parse(response.content)
        except ValueError:
            raise PeerProblem(f"the peer's answer from {url} is not JSON",
                              kind="invalid") from None
        if not isinstance(body, dict):
            raise PeerProblem(f"the peer's answer from {url} is not a JSON object",
                              kind="invalid")
        return body, response.headers


def _problem(response: httpx.Response, url: str, what: str) -> PeerProblem:
    code = response.status_code
    detail = _description(response)
    if code == 401:
        return PeerProblem(f"the peer at {url} refused our key (401{detail}): check --key-ref "
                           "points at the key the peer issued to this node", kind="auth")
    if code == 403:
        return PeerProblem(f"the peer refused our key access to its {what} (403{detail})",
                           kind="forbidden")
    if code == 404:
        return PeerProblem(f"the peer has no {what} at {url}, or our key may not see it "
                           f"(404{detail}): check the peer's --url and --map", kind="not-found")
    if code == 400:
        return PeerProblem(f"the peer refused the request for its {what} (400{detail})",
                           kind="bad-request")
    if code == 413:
        return PeerProblem(f"the peer refused an envelope as too large (413{detail})",
                           kind="too-large")
    return PeerProblem(f"the peer answered {code} for its {what}{detail.replace(';', ':', 1)}",
                       kind="error")


def _description(response: httpx.Response) -> str:
    try:
        body = parse(response.content)
    except ValueError:
        return ""
    text = body.get("description") if isinstance(body, dict) else None
    return f"; {' '.join(str(text).split())[:200]}" if text else ""
