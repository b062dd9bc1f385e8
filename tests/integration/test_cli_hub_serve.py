"""``kizuna serve`` and the hub: the demo on a first start, ``--no-demo``, ``--production``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kizuna.hub.contract import Actor
from kizuna.settings import Settings
from kizuna.web.app import create_app
from kizuna.web.client import WebClient
from kizuna.web.context import WebContext
from kizuna.web.taxii_demo import DemoKeyInProduction, prepare_hub

ADMIN = Actor(org=None, admin=True)
TAXII = "application/taxii+json;version=2.1"
URL = "http://127.0.0.1:8000/"
DEMO_KEY = re.compile(r"^  DEMO (\S+)\s+(\S+)$", re.MULTILINE)
SERVING = re.compile(r"Kizuna is serving at (http://\S+?)/?$", re.MULTILINE)


@pytest.fixture
def context(tmp_path: Path) -> Iterator[WebContext]:
    opened = WebContext(Settings(store=f"sqlite:///{tmp_path / 'k.db'}"))
    opened.open_store()
    try:
        yield opened
    finally:
        opened.close_store()


def test_an_empty_hub_gets_two_demo_partners_and_their_keys_once(context: WebContext) -> None:
    banner = prepare_hub(context, context.settings, URL)
    keys = dict(DEMO_KEY.findall(banner))
    assert set(keys) == {"tokyo-cert", "london-ncsc"}
    assert banner.count("DEMO") >= 3
    assert f"curl -H 'Accept: {TAXII}' -H 'Authorization: Bearer {keys['tokyo-cert']}'" in banner
    hub = context.hub()
    assert hub.authenticate(keys["london-ncsc"]).org == "london-ncsc"
    assert prepare_hub(context, context.settings, URL) == ""  # seeded once, never again


def test_a_first_start_also_loads_the_synthetic_threat_demo_for_the_intel_pages(
    context: WebContext,
) -> None:
    from kizuna.hub.contract import ObjectFilter
    from kizuna.intel.assets.store import load_assets

    banner = prepare_hub(context, context.settings, URL)
    assert "SYNTHETIC threat demo loaded as tokyo-cert" in banner
    keys = dict(DEMO_KEY.findall(banner))
    hub = context.hub()
    tokyo = hub.authenticate(keys["tokyo-cert"])
    [place] = hub.collections(tokyo, "pact")["collections"]
    objects = hub.get_objects(tokyo, "pact", place["id"], ObjectFilter()).body["objects"]
    assert any(o["type"] == "indicator" for o in objects)
    assert context.store is not None and load_assets(context.store, tokyo)


def test_the_curl_example_in_the_banner_answers_with_the_shared_collection(
    tmp_path: Path,
) -> None:
    app = create_app(Settings(store=f"sqlite:///{tmp_path / 'k.db'}"))
    with WebClient(app) as client:
        context: WebContext = app.state.kizuna
        banner = prepare_hub(context, context.settings, URL)
        key = DEMO_KEY.findall(banner)[0][1]
        path = re.search(r"http://127\.0\.0\.1:8000(/taxii2/\S+/collections/)", banner)
        assert path is not None
        response = client.get(path.group(1),
                              headers={"Accept": TAXII, "Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert len(response.json()["collections"]) == 1


def test_no_demo_leaves_an_empty_hub_empty(context: WebContext) -> None:
    settings = Settings(store=context.settings.store, demo=False)
    assert prepare_hub(context, settings, URL) == ""
    assert context.hub().orgs(ADMIN) == []


def test_production_refuses_active_demo_keys_until_they_are_revoked(context: WebContext) -> None:
    prepare_hub(context, context.settings, URL)
    production = Settings(store=context.settings.store, production=True)
    with pytest.raises(DemoKeyInProduction) as refused:
        prepare_hub(context, production, URL)
    assert refused.value.exit_code == 1
    assert "demo API keys are active" in str(refused.value)
    hub = context.hub()
    for key in hub.keys(ADMIN):
        hub.revoke_key(ADMIN, key.key_id)
    assert prepare_hub(context, production, URL) == ""


def test_production_on_an_empty_hub_seeds_nothing(context: WebContext) -> None:
    production = Settings(store=context.settings.store, production=True)
    assert prepare_hub(context, production, URL) == ""
    assert context.hub().orgs(ADMIN) == []


# --------------------------------------------------------------------------- the real command


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _command(store: Path, *flags: str) -> list[str]:
    return [sys.executable, "-m", "kizuna", "serve", "--port", str(_free_port()),
            "--store", f"sqlite:///{store}", *flags]


def _env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    env = {**os.environ, "KIZUNA_CONFIG": str(config)}
    for name in ("KIZUNA_STORE", "KIZUNA_DEMO", "KIZUNA_PRODUCTION", "KIZUNA_PORT"):
        env.pop(name, None)
    return env


def _serve_until_up(command: list[str], env: dict[str, str], log: Path) -> tuple[str, str]:
    """Start ``kizuna serve``; return (URL, everything it printed) once it serves; stop it."""
    with log.open("wb") as stdout:
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = log.read_text(encoding="utf-8", errors="replace")
            found = SERVING.search(text)
            if found:
                return found.group(1), text
            if process.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail(f"kizuna serve did not start: {log.read_text(encoding='utf-8')}")
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def test_kizuna_serve_prints_demo_keys_that_work_then_production_refuses_them(
    tmp_path: Path,
) -> None:
    env, store = _env(tmp_path), tmp_path / "k.db"
    command = _command(store)
    with (tmp_path / "first.log").open("wb") as stdout:
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        text = ""
        while not SERVING.search(text) and time.monotonic() < deadline:
            assert process.poll() is None, text
            time.sleep(0.05)
            text = (tmp_path / "first.log").read_text(encoding="utf-8")
        found = SERVING.search(text)
        assert found is not None, text
        keys = dict(DEMO_KEY.findall(text))
        assert set(keys) == {"tokyo-cert", "london-ncsc"}
        assert text.index("DEMO") < found.start()
        response = requests.get(f"{found.group(1)}/taxii2/", timeout=10,
                                headers={"Accept": TAXII,
                                         "Authorization": f"Bearer {keys['tokyo-cert']}"})
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)

    _, again = _serve_until_up(_command(store), env, tmp_path / "second.log")
    assert "DEMO" not in again  # the keys are shown once

    refused = subprocess.run(_command(store, "--production"), capture_output=True, text=True,
                             env=env, timeout=60, check=False)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert refused.stderr.startswith("error: refusing to start in production mode")
    assert refused.stderr.count("\n") == 1


def test_kizuna_serve_no_demo_prints_no_keys(tmp_path: Path) -> None:
    _, text = _serve_until_up(_command(tmp_path / "k.db", "--no-demo"), _env(tmp_path),
                              tmp_path / "serve.log")
    assert "DEMO" not in text
