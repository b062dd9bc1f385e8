"""Building the tables from the real source files reproduces the shipped tables exactly, and
bad input fails loudly without touching the output folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from clitools import kizuna
from kizuna.data.build import MANIFEST, build_tables, default_tables_dir, write_tables
from kizuna.data.bundle import load_dataset
from kizuna.data.testing import shared_data_dir
from kizuna.errors import DataError


@pytest.fixture(scope="module")
def shared_data() -> Path:
    return shared_data_dir()


@pytest.fixture
def sources_copy(shared_data: Path, tmp_path: Path) -> Path:
    root = tmp_path / "src"
    for name in ("usgs_mcs2026", "wgi", "critical_mineral_lists", "refining_shares"):
        shutil.copytree(shared_data / name, root / name)
    return root


def test_a_rebuild_from_shared_data_equals_the_shipped_tables_byte_for_byte(shared_data, tmp_path):
    out = write_tables(build_tables(shared_data), tmp_path / "tables")
    shipped = default_tables_dir()
    names = sorted(p.name for p in shipped.iterdir() if p.name != "__pycache__")
    assert MANIFEST in names
    assert names == sorted(p.name for p in out.iterdir())
    for name in names:
        assert (out / name).read_bytes() == (shipped / name).read_bytes(), name


def test_the_refining_shares_keep_the_compilers_confidence_and_usgs_rows_have_none(shared_data):
    supply = build_tables(shared_data)["supply"]
    shares = supply[supply["measure"] == "share"]
    assert set(shares["confidence"]) == {"high", "medium", "low"}
    assert supply.loc[supply["measure"] != "share", "confidence"].isna().all()
    manganese = shares[shares["mineral"] == "manganese"]
    assert set(manganese["confidence"]) == {"low"}


def test_a_confidence_grade_outside_high_medium_low_names_the_line(sources_copy):
    path = sources_copy / "refining_shares" / "refining_shares.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[1] = lines[1].rsplit(",", 1)[0] + ",certain"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataError) as info:
        build_tables(sources_copy)
    assert info.value.fields["field"] == "confidence"
    assert "'certain'" in str(info.value)


def test_kizuna_data_build_refuses_a_folder_that_is_not_a_tables_folder(
    shared_data, tmp_path, capsys
):
    docs = tmp_path / "mydocs"
    docs.mkdir()
    (docs / "thesis.txt").write_text("years of work", encoding="utf-8")
    code, _, err = kizuna(capsys, "data", "build", "--from", str(shared_data), "--out", str(docs))
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert "not a Kizuna tables folder" in err and "thesis.txt" in err
    assert [p.name for p in docs.iterdir()] == ["thesis.txt"]
    assert (docs / "thesis.txt").read_text(encoding="utf-8") == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mydocs"]


def test_kizuna_data_build_replaces_a_tables_folder_it_wrote(shared_data, tmp_path, capsys):
    out = tmp_path / "tables"
    for _ in range(2):
        code, _, err = kizuna(
            capsys, "data", "build", "--from", str(shared_data), "--out", str(out), "--json"
        )
        assert code == 0, err
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["tables"][0]["table"] == "supply"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]


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
