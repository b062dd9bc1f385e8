"""``kizuna demo federation``, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from clitools import kizuna

KIZUNA = str(Path(sys.executable).parent / "kizuna")


def test_the_demo_shares_what_may_go_and_keeps_red_at_home(tmp_path: Path) -> None:
    workdir = tmp_path / "fed"
    done = subprocess.run([KIZUNA, "demo", "federation", "--json", "--interval", "0.5",
                           "--dir", str(workdir)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    story = json.loads(done.stdout)
    on_london = {item["label"]: item["on_london"] for item in story["posted"]}
    assert on_london == {"TLP:GREEN": True, "TLP:AMBER": True, "TLP:RED": False,
                         "TLP:RED for London": True}
    red = next(item["id"] for item in story["posted"] if item["label"] == "TLP:RED")
    assert story["stayed_home"] == [red]
    assert 0 < story["reply_seconds"] < 30
    assert story["status"]["tokyo"]["withheld"] == {"TLP:RED": 1}
    assert story["status"]["tokyo"]["out"] == 3 and story["status"]["london"]["in"] == 3
    assert {p.name for p in workdir.iterdir()} >= {"tokyo.db", "london.db", "keys"}
    assert story["nodes"]["tokyo"]["url"] != story["nodes"]["london"]["url"]


def test_the_demo_text_tells_the_story(tmp_path: Path) -> None:
    done = subprocess.run([KIZUNA, "demo", "federation", "--interval", "0.5"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Two nodes, each on its own store in ")
    assert "  TLP:RED             stayed in Tokyo" in lines
    assert "  TLP:RED for London  arrived" in lines
    assert lines[-1] == "Tokyo's status for its peer london: out 3, withheld by marking TLP:RED 1."
    workdir = Path(lines[0].split(" in ", 1)[1].split(":", 1)[0])
    assert not workdir.exists()  # the temporary stores are removed


def test_the_demo_refuses_a_directory_that_is_not_empty(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "something").write_text("x", encoding="utf-8")
    code, out, err = kizuna(capsys, "demo", "federation", "--dir", str(tmp_path))
    assert (code, out) == (1, "")
    assert err == (f"error: --dir {tmp_path} is not empty (give a new or empty directory; the "
                   "demo creates its stores there)\n")
