"""The CLI starts without the heavy libraries: they load inside the commands that use them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "pyarrow", "plotly", "fastapi", "scipy", "sqlalchemy", "distributed",
         "numba")


def test_importing_the_cli_loads_no_heavy_library() -> None:
    code = ("import sys, kizuna.cli.main; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "", f"kizuna --help would import {loaded}; import it inside the command"
