"""Run the ``kizuna`` command in process, as the console script does (tests only)."""

from __future__ import annotations

import pytest

from kizuna.cli.main import run


def kizuna(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``kizuna ARGS...``."""
    try:
        run(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
