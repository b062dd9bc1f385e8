"""The importers' table: USGS import sources (USA) and HMRC values (GBR)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.data.bundle import load_dataset
from kizuna.data.importers.imports import import_hmrc, import_usgs_import_sources
from kizuna.data.reference import reference
from kizuna.data.testing import shared_data_dir
from kizuna.errors import DataError


@pytest.fixture(scope="module")
def source() -> Path:
    return shared_data_dir()


def test_usgs_import_sources_as_published(source: Path) -> None:
    frame = import_usgs_import_sources(source / "usgs_mcs2026", reference())
    cobalt = frame[(frame["mineral"] == "cobalt") & frame["headline"]].set_index("origin")
    assert cobalt.loc["NOR", "share"] == pytest.approx(0.26)
    assert set(cobalt["stage"]) == {"refining"}
    graphite = frame[(frame["mineral"] == "graphite") & frame["headline"]]
    assert set(graphite["stage"]) == {"mining"}  # natural graphite is mined
    sums = frame[frame["headline"]].groupby(["mineral", "stage"])["share"].sum()
    assert sums.between(0.97, 1.03).all()  # whole percents as printed
    assert (frame["basis"] == "quantity").all()
    assert frame.groupby(["mineral", "stage"])["headline"].any().all()


def test_hmrc_values_sum_to_one_per_family(source: Path) -> None:
    frame = import_hmrc(source / "imports")
    sums = frame.groupby(["mineral", "stage"])["share"].sum()
    assert sums.to_numpy() == pytest.approx(1.0)
    rare = frame[frame["mineral"] == "rare-earths"].set_index("origin")
    assert rare.loc["CHN", "share"] == pytest.approx(0.467, abs=0.001)
    assert (frame["basis"] == "value-gbp").all()
    assert "minor-metals" not in " ".join(frame["product"])


def test_an_unknown_hmrc_family_is_an_error(tmp_path: Path) -> None:
    src = shared_data_dir() / "imports" / "uk_critical_mineral_imports_by_origin.csv"
    text = src.read_text().replace("\nlithium,", "\nunobtanium,", 1)
    (tmp_path / src.name).write_text(text)
    with pytest.raises(DataError, match="line 2: unknown mineral family 'unobtanium'"):
        import_hmrc(tmp_path)


def test_the_shipped_table_loads() -> None:
    imports = load_dataset().imports
    assert set(imports["importer"]) == {"USA", "GBR"}
    assert imports["citation"].str.len().min() > 10
