"""Building the tables from the real source files reproduces the shipped tables exactly, and
bad input fails loudly without touching the output folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kizuna.data.build import build_tables, default_tables_dir, write_tables
from kizuna.data.bundle import load_dataset
from kizuna.errors import DataError

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="module")
def shared_data() -> Path:
    if not SHARED.is_dir():
        if os.environ.get("KIZUNA_CI"):
            pytest.fail(f"KIZUNA_CI is set but the source folder {SHARED} is missing")
        pytest.skip(f"source folder {SHARED} is not available")
    return SHARED


@pytest.fixture
def sources_copy(shared_data: Path, tmp_path: Path) -> Path:
    root = tmp_path / "src"
    for name in ("usgs_mcs2026", "wgi", "critical_mineral_lists", "refining_shares"):
        shutil.copytree(shared_data / name, root / name)
    return root


def test_a_rebuild_from_shared_data_equals_the_shipped_tables_byte_for_byte(shared_data, tmp_path):
    out = write_tables(build_tables(shared_data), tmp_path / "tables")
    shipped = default_tables_dir()
    names = sorted(p.name for p in shipped.glob("*.csv"))
    assert names == sorted(p.name for p in out.glob("*.csv"))
    for name in names:
        assert (out / name).read_bytes() == (shipped / name).read_bytes(), name


def test_a_written_folder_loads_with_schema_dtypes(shared_data, tmp_path):
    out = write_tables(build_tables(shared_data), tmp_path / "tables")
    dataset = load_dataset(out)
    assert str(dataset.supply["value"].dtype) == "Float64"
    assert str(dataset.supply["is_aggregate"].dtype) == "boolean"


def _rewrite_usgs(root: Path, edit) -> None:
    path = root / "usgs_mcs2026" / "MCS2026_Commodities_Data.csv"
    path.write_bytes(edit(path.read_text(encoding="cp1252")).encode("cp1252"))


def test_a_usgs_file_without_a_column_names_the_file_and_field(sources_copy, tmp_path):
    _rewrite_usgs(sources_copy, lambda text: text.replace("Statistics_detail", "Detail", 1))
    out = tmp_path / "out"
    with pytest.raises(DataError) as info:
        write_tables(build_tables(sources_copy), out)
    assert info.value.fields["field"] == "Statistics_detail"
    assert "MCS2026_Commodities_Data.csv" in str(info.value)
    assert not out.exists()


def test_an_unknown_value_code_names_the_line_and_leaves_the_output_untouched(
    sources_copy, tmp_path
):
    row = "Rare Earths,China,Production,Mine production,metric tons,2025,"
    _rewrite_usgs(sources_copy, lambda text: text.replace(row + '"270,000"', row + "ZZ", 1))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("old")
    with pytest.raises(DataError) as info:
        write_tables(build_tables(sources_copy), out)
    assert info.value.fields["field"] == "Value"
    assert info.value.fields["line"] > 1
    assert "unknown value code 'ZZ'" in str(info.value)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_a_revision_the_version_history_does_not_document_is_refused(sources_copy):
    history = sources_copy / "usgs_mcs2026" / "MCS2026_version_history.txt"
    history.write_text(history.read_text(encoding="utf-8").replace("11,000,000", "12,000,000"))
    with pytest.raises(DataError, match="does not document"):
        build_tables(sources_copy)


def test_a_missing_source_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        build_tables(tmp_path / "nowhere")
