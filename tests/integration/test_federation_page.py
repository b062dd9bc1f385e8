"""The /federation page: per peer the last sync, cursors, in and out, withheld by marking and
the last error, behind the hub key, showing only peers of collections the reader may read."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedtools import ADMIN, ROOT, Node, build_nodes, close_nodes, indicator, peer, serving_nodes
from kizuna.hub.contract import Tlp
from kizuna.hub.federation.peers import add_peer
from kizuna.hub.federation.sync import sync_all
from kizuna.settings import Settings
from kizuna.web.app import create_app
from kizuna.web.client import WebClient


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node, Path]]:
    """london pulled from tokyo (one RED object withheld) and failed to reach 'ghost'."""
    tmp = tmp_path_factory.mktemp("page")
    tokyo, london = build_nodes(tmp, ["tokyo", "london"])
    tokyo.post(indicator("w", 1, tlp=Tlp.GREEN), indicator("w", 2, tlp=Tlp.RED))
    with serving_nodes([tokyo, london]):
        peer(london, tokyo)
        peer(tokyo, london)
        london.hub.add_org(ADMIN, "ghost-cert", identity_id=f"identity--{uuid.uuid4()}")
        london.hub.add_org(ADMIN, "outsider")
        london.hub.change_access(ADMIN, ROOT, london.collection, add_writers=["ghost-cert"])
        add_peer(london.store, ADMIN, name="ghost", url="http://127.0.0.1:9/taxii2/pact/",
                 key_ref=f"file:{london.key_file(tokyo)}", org="ghost-cert",
                 maps=[f"{ROOT}/{london.collection}={uuid.uuid4()}"])
        sync_all(london.hub)
        sync_all(tokyo.hub)
    yield tokyo, london, tmp
    close_nodes([tokyo, london])


def page(node: Node, org: str | None) -> tuple[int, str, dict[str, str]]:
    headers = {}
    if org is not None:
        key = node.hub.create_key(ADMIN, org)[0]
        headers["Authorization"] = "Basic " + base64.b64encode(f"x:{key}".encode()).decode()
    app = create_app(Settings(store="memory://", peer_sync=False, node_name=node.name),
                     store=node.store, hub=node.hub)
    with WebClient(app) as client:
        response = client.get("/federation", headers=headers)
    return response.status_code, response.text, dict(response.headers)


def test_the_page_asks_for_the_hub_key(synced: tuple[Node, Node, Path]) -> None:
    _, london, _ = synced
    status, _, headers = page(london, None)
    assert status == 401
    assert headers["www-authenticate"].startswith("Basic")


def test_the_page_shows_each_peers_status(synced: tuple[Node, Node, Path]) -> None:
    tokyo, london, _ = synced
    status, html, _ = page(london, "london-cert")
    assert status == 200
    assert '<a href="/federation" aria-current="page">Federation</a>' in html
    row = html[html.index('id="peer-tokyo"'):html.index("</tr>", html.index('id="peer-tokyo"'))]
    assert '<td class="num">1</td>' in row  # one GREEN object in; the RED one stayed home
    assert "tokyo-cert" in row and tokyo.api_root in row
    ghost = html[html.index('id="peer-ghost"'):html.index("</tr>", html.index('id="peer-ghost"'))]
    assert "peer-failing" in ghost and "cannot reach the peer at http://127.0.0.1:9/" in ghost
    detail = html[html.index('id="detail-tokyo"'):]
    assert f"{ROOT}/{london.collection}" in detail
    # a pull cursor (tokyo's date added) and no push cursor: london only pulls
    assert re.search(r'<td class="nowrap">\d{4}-\d\d-\d\dT[\d:.]+Z</td><td class="nowrap">'
                     r'start</td>', detail)
    status, html, _ = page(tokyo, "tokyo-cert")
    assert status == 200
    withheld = html[html.index('<td class="withheld">'):].split("</td>")[0]
    assert "TLP:RED 1" in withheld  # tokyo's view: what it kept from london


def test_an_organisation_sees_only_peers_of_collections_it_reads(
        synced: tuple[Node, Node, Path]) -> None:
    _, london, _ = synced
    status, html, _ = page(london, "outsider")
    assert status == 200
    assert 'id="no-peers"' in html and 'id="peer-tokyo"' not in html
