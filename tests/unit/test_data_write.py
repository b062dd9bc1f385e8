"""Writing tables: atomic, with a deterministic manifest, and never into a folder that holds
anything but Kizuna tables (a mistyped --out must not delete a user's files)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

import kizuna.data.build as build
from kizuna.data.build import MANIFEST, check_output_dir, write_tables
from kizuna.data.bundle import load_dataset
from kizuna.data.schema import TABLES
from kizuna.errors import InputError


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    ds = load_dataset()
    return {table.name: getattr(ds, table.name) for table in TABLES}


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_folder_with_a_foreign_file_is_refused_and_left_untouched(tables, tmp_path):
    docs = tmp_path / "mydocs"
    docs.mkdir()
    (docs / "thesis.txt").write_text("years of work", encoding="utf-8")
    (docs / "supply.csv").write_text("my own supply.csv", encoding="utf-8")
    before = _snapshot(docs)
    with pytest.raises(InputError) as info:
        write_tables(tables, docs)
    message = str(info.value)
    assert "refusing to write tables to" in message and str(docs) in message
    assert "thesis.txt" in message and "choose a new or empty folder" in message
    assert "\n" not in message
    assert info.value.fields["foreign"] == ["thesis.txt"]
    assert _snapshot(docs) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mydocs"]  # no staging left behind


def test_a_folder_with_a_subfolder_is_refused(tables, tmp_path):
    out = tmp_path / "out"
    (out / "notes").mkdir(parents=True)
    with pytest.raises(InputError, match="notes"):
        write_tables(tables, out)
    assert (out / "notes").is_dir()


def test_a_file_as_the_target_is_refused(tables, tmp_path):
    target = tmp_path / "tables"
    target.write_text("a file", encoding="utf-8")
    with pytest.raises(InputError, match="is not a folder"):
        write_tables(tables, target)
    assert target.read_text(encoding="utf-8") == "a file"


def test_an_empty_folder_is_filled(tables, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_tables(tables, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [MANIFEST, *(t.filename for t in TABLES)]
    )
    assert load_dataset(out).supply.shape == tables["supply"].shape


def test_an_existing_tables_folder_is_replaced_with_identical_bytes(tables, tmp_path):
    out = write_tables(tables, tmp_path / "out")
    first = _snapshot(out)
    (out / "supply.csv").write_text("stale", encoding="utf-8")
    write_tables(tables, out)
    assert _snapshot(out) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_of_table_csvs_without_a_manifest_counts_as_a_tables_folder(tmp_path):
    out = tmp_path / "old"
    out.mkdir()
    (out / "supply.csv").write_text("old", encoding="utf-8")
    check_output_dir(out)  # does not raise


def test_the_manifest_lists_every_table_with_rows_and_sha256(tables, tmp_path):
    out = write_tables(tables, tmp_path / "out")
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == 1
    assert [e["table"] for e in manifest["tables"]] == [t.name for t in TABLES]
    for entry in manifest["tables"]:
        data = (out / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["rows"] == len(tables[entry["table"]])


def test_a_file_that_appears_after_the_check_is_still_never_deleted(tables, tmp_path, monkeypatch):
    out = write_tables(tables, tmp_path / "out")
    (out / "late.txt").write_text("arrived during the build", encoding="utf-8")
    monkeypatch.setattr(build, "check_output_dir", lambda target: None)
    with pytest.raises(InputError, match=r"late\.txt"):
        write_tables(tables, out)
    assert (out / "late.txt").read_text(encoding="utf-8") == "arrived during the build"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_shipped_tables_folder_has_a_manifest_that_matches_it():
    folder = build.default_tables_dir()
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    for entry in manifest["tables"]:
        data = (folder / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), entry["file"]
