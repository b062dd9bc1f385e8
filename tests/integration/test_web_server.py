"""``kizuna serve`` start-up failures: one line and exit 1, never uvicorn's log and exit 3."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kizuna.errors import InputError
from kizuna.settings import Settings
from kizuna.web.server import bind_socket, serve, server_url


@pytest.fixture
def occupied_port() -> Iterator[int]:
    """A port another server is listening on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        yield int(other.getsockname()[1])


def test_binding_a_port_in_use_is_an_input_error_naming_port_and_host(occupied_port: int) -> None:
    with pytest.raises(InputError) as caught:
        bind_socket("127.0.0.1", occupied_port)
    assert caught.value.message == f"port {occupied_port} on 127.0.0.1 is already in use"
    assert caught.value.hint == "use --port or stop the other server"
    assert caught.value.fields["port"] == occupied_port


def test_serve_on_a_port_in_use_raises_before_printing_the_url(
    occupied_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(store="memory://", host="127.0.0.1", port=occupied_port)
    with pytest.raises(InputError, match="already in use"):
        serve(settings)
    assert "serving at" not in capsys.readouterr().out


def test_binding_an_unknown_host_names_the_host() -> None:
    with pytest.raises(InputError, match=r"cannot resolve host 'no-such-host\.invalid'"):
        bind_socket("no-such-host.invalid", 8000)


def test_a_free_port_is_bound_and_listening() -> None:
    sock = bind_socket("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    finally:
        sock.close()


def test_server_url_brackets_ipv6_hosts() -> None:
    assert server_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert server_url("::1", 8000) == "http://[::1]:8000/"


def test_kizuna_serve_on_a_port_in_use_prints_one_line_and_exits_1(
    occupied_port: int, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    env = {**os.environ, "KIZUNA_CONFIG": str(config)}
    command = [sys.executable, "-m", "kizuna", "serve", "--port", str(occupied_port),
               "--store", f"sqlite:///{tmp_path / 'k.db'}"]
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: port {occupied_port} on 127.0.0.1 is already in use "
        "(use --port or stop the other server)\n"
    )
