"""Test support for the data layer: where the public source files are, or skip/fail.

Tests that rebuild the tables or check the importers against the real sources need the
``shared/data`` folder (see ``build.py``). It is found through ``KIZUNA_SHARED_DATA`` or, by
default, next to the checkout (``<repo>/../shared/data``). When it is missing the test is
skipped on a developer machine and **fails** in CI (``KIZUNA_CI`` set), so CI can never pass
without running them. ``pytest`` is imported only when a test calls this.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DATA_ENV = "KIZUNA_SHARED_DATA"
CI_ENV = "KIZUNA_CI"


def default_shared_data_dir() -> Path:
    """``KIZUNA_SHARED_DATA``, else ``shared/data`` beside the source checkout."""
    configured = os.environ.get(SHARED_DATA_ENV)
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parents[3]  # src/kizuna/data/testing.py -> repo
    return (checkout.parent / "shared" / "data").resolve()


def shared_data_dir() -> Path:
    """The source folder for a test; skips it, or fails it when ``KIZUNA_CI`` is set."""
    import pytest  # noqa: PLC0415 - only tests call this; the package does not need pytest

    folder = default_shared_data_dir()
    if folder.is_dir():
        return folder
    message = f"the source folder {folder} is missing (set {SHARED_DATA_ENV} to its path)"
    if os.environ.get(CI_ENV):
        pytest.fail(f"{CI_ENV} is set but {message}", pytrace=False)
    pytest.skip(message)
