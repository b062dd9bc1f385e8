"""Browser-test harness: a real uvicorn server on 127.0.0.1 and Debian's chromium.

Fixtures for every page's tests:

* ``kizuna_serve`` (session) — base URL of the real ``kizuna serve`` command run as a
  subprocess (``python -m kizuna serve --port PORT --store sqlite:///TMP/k.db`` with an empty
  config file), as a user starts it; terminated at teardown.
* ``live_server`` (session) — base URL of ``create_app(...)`` served by uvicorn in a thread,
  on a free port, with a temporary SQLite store (quicker to start; for the other tests).
* ``browser`` (session) — chromium launched through Playwright's sync API.
* ``page`` — a fresh page that records every request and console error; at teardown it fails
  the test if the page asked for anything outside localhost or logged a console error.
  Tests may also assert on ``page_log`` directly.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kizuna.settings import Settings
from kizuna.web.app import create_app
from servetools import serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
INSTALL_HINT = "install Debian's chromium: apt-get install -y chromium"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser is a browser test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


SERVING = re.compile(r"Kizuna is serving at (http://\S+?)/?$", re.MULTILINE)
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_kizuna_serve(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Run ``kizuna serve`` on a free port; return the process and the URL it printed."""
    config = workdir / "config.toml"
    config.write_text("", encoding="utf-8")
    env = {**os.environ, "KIZUNA_CONFIG": str(config)}
    for name in ("KIZUNA_HOST", "KIZUNA_PORT", "KIZUNA_STORE", "KIZUNA_DEBUG"):
        env.pop(name, None)
    command = [sys.executable, "-m", "kizuna", "serve", "--port", str(_free_port()),
               "--store", f"sqlite:///{workdir / 'k.db'}"]
    out, err = workdir / "serve.out", workdir / "serve.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        found = SERVING.search(out.read_text(encoding="utf-8", errors="replace"))
        if found:
            return process, found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    _stop(process)
    pytest.fail(
        f"`{' '.join(command)}` did not print its URL (exit {process.returncode}): "
        f"{err.read_text(encoding='utf-8', errors='replace').strip()}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen[bytes]) -> bool:
    """Terminate ``process``; False if it had to be killed."""
    if process.poll() is not None:
        return True
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        return False
    return True


@pytest.fixture(scope="session")
def kizuna_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real ``kizuna serve`` command, as the README starts it, on a free port."""
    process, url = _start_kizuna_serve(tmp_path_factory.mktemp("serve"))
    try:
        yield url
    finally:
        stopped = _stop(process)
    # uvicorn shuts down, then re-raises SIGTERM to itself: -SIGTERM is a clean stop.
    assert stopped and process.returncode in (0, -signal.SIGTERM), (
        f"kizuna serve did not stop cleanly on SIGTERM (exit {process.returncode})"
    )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("web") / "kizuna.db"
    settings = Settings(store=f"sqlite:///{store}", host="127.0.0.1", port=0)
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.fail(f"{CHROMIUM} not found: {INSTALL_HINT}", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -e '.[dev]'", pytrace=False)
    executable = str(CHROMIUM) if CHROMIUM.exists() else str(shutil.which("chromium"))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageLog:
    """What one page did: every request URL, and its console errors and page errors."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    allowed_errors: list[str] = field(default_factory=list)

    def allow_console_error(self, text: str) -> None:
        """Expect console errors containing ``text`` (e.g. the 404 of an error-page test)."""
        self.allowed_errors.append(text)

    def unexpected_console_errors(self) -> list[str]:
        return [
            error
            for error in self.console_errors
            if not any(allowed in error for allowed in self.allowed_errors)
        ]

    def external_requests(self) -> list[str]:
        return [url for url in self.requests if not _is_local(url)]


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    return parts.hostname in LOCAL_HOSTS


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Any, page_log: PageLog) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    new_page = context.new_page()
    new_page.on("request", lambda request: page_log.requests.append(request.url))
    new_page.on(
        "console",
        lambda message: page_log.console_errors.append(message.text)
        if message.type == "error"
        else None,
    )
    new_page.on("pageerror", lambda error: page_log.console_errors.append(str(error)))

    def block_external(route: Any) -> None:
        if _is_local(route.request.url):
            route.continue_()
        else:
            route.abort()

    new_page.route("**/*", block_external)
    try:
        yield new_page
    finally:
        context.close()
    external = page_log.external_requests()
    assert not external, f"the page requested URLs outside localhost: {external}"
    unexpected = page_log.unexpected_console_errors()
    assert not unexpected, f"console errors: {unexpected}"
