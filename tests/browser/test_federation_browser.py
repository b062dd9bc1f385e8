"""The /federation page in chromium: signed in with the hub key, each peer's status, a failing
peer marked, the page's own stylesheet applied, nothing fetched from outside localhost."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fedtools import ADMIN, ROOT, build_nodes, close_nodes, indicator, peer, serving_nodes
from kizuna.hub.contract import Tlp
from kizuna.hub.federation.peers import add_peer
from kizuna.hub.federation.sync import sync_all


def test_the_federation_page_shows_each_peer_to_the_nodes_cert(browser: Any,
                                                                tmp_path: Path) -> None:
    tokyo, london = build_nodes(tmp_path, ["tokyo", "london"])
    tokyo.post(indicator("b", 1, tlp=Tlp.GREEN), indicator("b", 2, tlp=Tlp.RED))
    key = london.hub.create_key(ADMIN, london.org)[0]
    try:
        with serving_nodes([tokyo, london]):
            peer(london, tokyo)
            peer(tokyo, london)
            london.hub.add_org(ADMIN, "ghost-cert", identity_id=f"identity--{uuid.uuid4()}")
            london.hub.change_access(ADMIN, ROOT, london.collection, add_writers=["ghost-cert"])
            add_peer(london.store, ADMIN, name="ghost", url="http://127.0.0.1:9/taxii2/pact/",
                     key_ref=f"file:{london.key_file(tokyo)}", org="ghost-cert",
                     maps=[f"{ROOT}/{london.collection}={uuid.uuid4()}"])
            sync_all(london.hub)
            context = browser.new_context(http_credentials={"username": "ops", "password": key})
            page = context.new_page()
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{london.url}/federation")
            assert page.locator("h1").inner_text() == "Peers of the node london"
            row = page.locator("#peer-tokyo")
            assert row.locator("th").inner_text().startswith("tokyo")
            assert row.locator("td.num").first.inner_text() == "1"  # in: the GREEN one
            ghost = page.locator("#peer-ghost")
            assert "cannot reach the peer" in ghost.locator("td.error").inner_text()
            shadow = ghost.locator("th").evaluate("e => getComputedStyle(e).boxShadow")
            assert "179, 38, 30" in shadow  # federation.css marks the failing peer
            assert page.locator("#detail-ghost .peer-errors li").count() >= 1
            context.close()
    finally:
        close_nodes([tokyo, london])
    assert errors == []
    assert all(url.startswith(london.url) for url in requests), requests
