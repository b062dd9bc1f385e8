"""Fixtures shared by the integration tests of the intel and matcher commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clitools import kizuna


@pytest.fixture
def demo(tmp_path: Path, capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A fresh store with `kizuna intel demo` run: tokyo-cert's key is in KIZUNA_API_KEY."""
    monkeypatch.setenv("KIZUNA_STORE", f"sqlite:///{tmp_path / 'k.db'}")
    monkeypatch.delenv("KIZUNA_API_KEY", raising=False)
    code, out, err = kizuna(capsys, "intel", "demo", "--json")
    assert (code, err) == (0, "")
    loaded: dict[str, Any] = json.loads(out)
    monkeypatch.setenv("KIZUNA_API_KEY", loaded["keys"]["tokyo-cert"])
    return loaded
