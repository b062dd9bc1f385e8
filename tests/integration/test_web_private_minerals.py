"""Mineral data is public by default; with minerals_public = false it needs a hub key."""

from __future__ import annotations

import base64

from kizuna.hub.contract import Actor
from kizuna.hub.service import Hub
from kizuna.settings import Settings
from kizuna.store import open_store
from kizuna.web.app import create_app
from kizuna.web.client import WebClient

ADMIN = Actor(org=None, admin=True)


def test_minerals_are_public_by_default() -> None:
    with WebClient(create_app(Settings(store="memory://", demo=False))) as web:
        assert web.get("/api/minerals/cobalt").status_code == 200
        assert web.get("/").status_code == 200


def test_private_minerals_need_a_valid_key_on_api_and_pages() -> None:
    store = open_store("memory://")
    hub = Hub(store)
    hub.add_org(ADMIN, "tokyo-cert")
    key, info = hub.create_key(ADMIN, "tokyo-cert")
    settings = Settings(store="memory://", demo=False, minerals_public=False)
    with WebClient(create_app(settings, store=store, hub=hub)) as web:
        anonymous = web.get("/api/minerals/cobalt")
        assert anonymous.status_code == 401
        assert "Basic" in anonymous.headers["www-authenticate"]
        assert "private" in anonymous.json()["message"]
        assert web.get("/", headers={"Accept": "text/html"}).status_code == 401
        wrong = web.get("/api/minerals/cobalt", headers={"Authorization": "Bearer kz_bad_x"})
        assert wrong.status_code == 401
        bearer = web.get("/api/minerals/cobalt", headers={"Authorization": f"Bearer {key}"})
        assert bearer.status_code == 200 and bearer.json()["mineral"] == "cobalt"
        basic = base64.b64encode(f"me:{key}".encode()).decode()
        page = web.get("/minerals/cobalt", headers={"Authorization": f"Basic {basic}"})
        assert page.status_code == 200 and "Cobalt" in page.text
        hub.revoke_key(ADMIN, info.key_id)
        revoked = web.get("/api/concentration", headers={"Authorization": f"Bearer {key}"})
        assert revoked.status_code == 401
        assert web.get("/healthz").status_code == 200  # health stays open for monitors
    store.close()
