"""``python -m kizuna`` is the ``kizuna`` command."""

from kizuna.cli.main import run

run()
