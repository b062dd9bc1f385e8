"""``kizuna demo``: demonstrations that start their own servers.

``kizuna demo federation`` runs a Tokyo and a London node on two local ports with their own
SQLite stores, peers them, and shows intelligence posted on one arriving on the other while
a TLP:RED object stays home (see docs/federation.md).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kizuna.cli.output import console, print_json
from kizuna.errors import InputError

if TYPE_CHECKING:
    from kizuna.web.federation_demo import DemoNode

app = typer.Typer(help="Demonstrations that start their own local servers.",
                  no_args_is_help=True)


@app.command("federation")
def federation(
    directory: Annotated[Path | None, typer.Option(
        "--dir", help="Keep the two stores and the key files here (default: a temporary "
        "directory, removed at the end)")] = None,
    interval: Annotated[float, typer.Option(min=0.1, max=60.0, help="Seconds between the "
                                            "nodes' background syncs")] = 1.0,
    tokyo_port: Annotated[int, typer.Option(min=0, max=65535, help="Tokyo's port (0: any "
                                            "free one)")] = 0,
    london_port: Annotated[int, typer.Option(min=0, max=65535, help="London's port (0: any "
                                             "free one)")] = 0,
    serve: Annotated[bool, typer.Option("--serve", help="Keep both nodes running after the "
                                        "story (Ctrl-C stops them)")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text")] = False,
) -> None:
    """Two peered nodes: what Tokyo shares reaches London; TLP:RED stays in Tokyo."""
    from kizuna.web.federation_demo import build, peer_both, running, tell

    if directory is not None and directory.exists() and any(directory.iterdir()):
        raise InputError(f"--dir {directory} is not empty",
                         hint="give a new or empty directory; the demo creates its stores there",
                         field="--dir")
    workdir = Path(tempfile.mkdtemp(prefix="kizuna-federation-")) if directory is None \
        else directory
    workdir.mkdir(parents=True, exist_ok=True)
    out = console()

    def say(text: str) -> None:
        if not as_json:
            out.print(text, markup=False, highlight=False, soft_wrap=True)

    nodes = build(workdir)
    try:
        with running(nodes, interval, (tokyo_port, london_port)):
            peer_both(nodes, workdir)
            say(f"Two nodes, each on its own store in {workdir}: tokyo at {nodes[0].url}, "
                f"london at {nodes[1].url}; each pulls from the other every {interval:g} s.")
            story = tell(nodes, say=say)
            if as_json:
                print_json({"workdir": str(workdir), "nodes": story.nodes,
                            "posted": story.posted, "stayed_home": story.stayed_home,
                            "reply_seconds": story.reply_seconds, "status": story.status})
            if serve:
                _serve_until_interrupted(nodes, say)
    finally:
        for node in nodes:
            node.store.close()
        if directory is None:
            shutil.rmtree(workdir, ignore_errors=True)


def _serve_until_interrupted(nodes: list[DemoNode], say: Callable[[str], None]) -> None:
    import time

    for node in nodes:
        say(f"{node.name}: {node.url}/federation and {node.url}/intel (any user name, password "
            f"{node.own_key})")
    say("Serving until Ctrl-C.")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        say("stopped")
