"""``kizuna serve``: run the web app under uvicorn.

The socket is bound, and the store opened and the dataset loaded, *before* uvicorn starts, so
that a port in use, a bad host or an unreachable store is one :class:`~kizuna.errors.KizunaError`
(the CLI prints it as one line and exits 1) instead of uvicorn's log and exit code 3. The URL is
printed only once uvicorn is serving on the bound socket.
"""

from __future__ import annotations

import dataclasses
import errno
import socket
from typing import Any

import uvicorn

from kizuna.errors import InputError
from kizuna.settings import Settings
from kizuna.web.app import create_app
from kizuna.web.context import WebContext
from kizuna.web.taxii_demo import prepare_hub

BACKLOG = 2048


def server_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening; a clear InputError if it cannot be."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise InputError(
            f"cannot resolve host {host!r}: {error.strerror}",
            hint="use --host with an address such as 127.0.0.1",
            host=host,
        ) from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        raise _bind_error(error, host, port) from None
    return sock


def _bind_error(error: OSError, host: str, port: int) -> InputError:
    where: dict[str, Any] = {"host": host, "port": port, "errno": error.errno}
    if error.errno == errno.EADDRINUSE:
        return InputError(
            f"port {port} on {host} is already in use",
            hint="use --port or stop the other server",
            **where,
        )
    if error.errno == errno.EACCES:
        return InputError(
            f"no permission to listen on port {port} on {host}",
            hint="use a --port above 1023",
            **where,
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return InputError(
            f"{host} is not an address of this machine",
            hint="use --host 127.0.0.1, or 0.0.0.0 for every interface",
            **where,
        )
    return InputError(f"cannot listen on {host} port {port}: {error.strerror}", **where)


class _Server(uvicorn.Server):
    """uvicorn's server, announcing the URL once it is serving."""

    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(f"Kizuna is serving at {self.url}", flush=True)


def serve(settings: Settings) -> None:
    """Bind, build the app, print where it is served, and run uvicorn until interrupted.

    Raises :class:`~kizuna.errors.InputError` when the address cannot be bound (e.g. the port
    is in use) and the store's own error when it cannot be opened, before anything is printed.
    Before serving, the hub is prepared (:func:`kizuna.web.taxii_demo.prepare_hub`): in
    production mode a demo key stops the start; otherwise an empty hub gets the demo partners
    and their keys are printed once.
    """
    sock = bind_socket(settings.host, settings.port)
    try:
        app = create_app(settings)
        context: WebContext = app.state.kizuna
        try:
            context.open_store()
            context.dataset()
            url = server_url(settings.host, sock.getsockname()[1])
            banner = prepare_hub(context, settings, url)
            if banner:
                print(banner, flush=True)
            config = uvicorn.Config(
                app,
                log_level="info" if settings.debug else "warning",
                access_log=settings.debug,
                lifespan="on",
            )
            _Server(config, url).run(sockets=[sock])
        finally:
            context.close_store()
    finally:
        sock.close()


def get_once(settings: Settings, path: str) -> tuple[int, str]:
    """Answer one GET request in process, without a server (``kizuna serve --get PATH``).

    Returns the status code and the body text; errors come back as their error body.
    """
    from kizuna.web.client import WebClient  # noqa: PLC0415 - needs httpx, only for --get

    one_shot = dataclasses.replace(settings, peer_sync=False)  # no background sync for one GET
    with WebClient(create_app(one_shot)) as client:
        response = client.get(path if path.startswith("/") else "/" + path)
    return response.status_code, response.text
