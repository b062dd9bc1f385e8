"""The asset register: every bad cell is one error naming file, row and column; nothing is
stored unless the whole file is good; a register is private to its organisation."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from inteltools import ADMIN, world
from kizuna.data.bundle import load_dataset
from kizuna.errors import InputError, NotFoundError
from kizuna.hub.contract import Actor, AuthError, ForbiddenError
from kizuna.intel.assets import load_assets, read_register, save_register
from kizuna.intel.assets.schema import COLUMNS, columns_markdown
from kizuna.intel.assets.store import decide, namespace

HEADER = ["asset_id", "name", "kind", "operator", "country", "sector", "mineral", "stage",
          "capacity_tonnes", "capacity_share", "part_of", "software_vendor",
          "software_product", "software_version"]
GOOD = [
    ["REF-1", "Kokkola-like refinery", "refinery", "Op Oy", "FIN", "mining", "cobalt", "",
     "", "60%", "", "", "", ""],
    ["REF-1-DCS", "Refinery DCS", "IT/OT system", "Op Oy", "Finland", "mining", "", "", "",
     "", "REF-1", "Siemens", "SIMATIC CP", "V2.2"],
    ["REF-1-DCS", "", "", "", "", "", "", "", "", "", "", "Fortinet", "FortiOS", "7.0.12"],
    ["PORT-1", "Ore port", "port", "Port Co", "AUS", "Transportation", "", "", "", "", "",
     "", "", ""],
]


@pytest.fixture(scope="module")
def dataset():
    return load_dataset()


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def changed(row: int, column: str, value: str) -> list[list[str]]:
    rows = [list(r) for r in GOOD]
    rows[row][HEADER.index(column)] = value
    return rows


def test_a_good_register_reads_with_codes_slugs_and_software(tmp_path, dataset) -> None:
    register = read_register(write(tmp_path / "r.csv", GOOD), dataset=dataset)
    refinery, dcs, port = register.assets
    assert (refinery.kind, refinery.stage, refinery.capacity_share) == ("refinery", "refining",
                                                                         0.6)
    assert (dcs.kind, dcs.country, dcs.part_of) == ("it-ot-system", "FIN", "REF-1")
    assert [(s.vendor, s.product, s.version) for s in dcs.software] == [
        ("Siemens", "SIMATIC CP", "V2.2"), ("Fortinet", "FortiOS", "7.0.12")]
    assert (port.sector, port.mineral) == ("transport", None)


@pytest.mark.parametrize(("row", "column", "value", "message"), [
    (0, "country", "Atlantis", "r.csv row 2, column 'country': unknown country 'Atlantis'"),
    (0, "kind", "factory", "r.csv row 2, column 'kind': unknown kind 'factory'"),
    (0, "capacity_share", "35", "r.csv row 2, column 'capacity_share': '35' is more than 1"),
    (0, "capacity_tonnes", "-5", "r.csv row 2, column 'capacity_tonnes': '-5' is not a number"),
    (0, "capacity_tonnes", "lots", "column 'capacity_tonnes': 'lots' is not a number"),
    (0, "mineral", "unobtainium", "r.csv row 2, column 'mineral': unknown mineral"),
    (0, "stage", "mining", "column 'stage': a refinery's stage is refining, not mining"),
    (0, "sector", "enrgy", "r.csv row 2, column 'sector': unknown sector 'enrgy'"),
    (0, "country", "World", "column 'country': 'World' is not one country"),
    (1, "part_of", "NOPE", "r.csv row 3, column 'part_of': no asset 'NOPE' in the file"),
    (2, "country", "JPN", "r.csv row 4, column 'country': asset REF-1-DCS already has country"),
    (2, "software_vendor", "", "r.csv row 4, column 'software_vendor': the product 'FortiOS'"),
    (3, "asset_id", "has space", "r.csv row 5, column 'asset_id': 'has space' is not an asset"),
    (3, "mineral", "cobalt", "r.csv row 5, column 'stage': a port with a mineral needs its "
     "stage"),
])
def test_each_bad_cell_is_one_error_naming_file_row_and_column(tmp_path, dataset, row, column,
                                                               value, message) -> None:
    path = write(tmp_path / "r.csv", changed(row, column, value))
    with pytest.raises(InputError) as caught:
        read_register(path, dataset=dataset)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.fields["row"] == row + 2


def test_a_missing_column_names_the_header_row_and_the_column(tmp_path, dataset) -> None:
    header = [name for name in HEADER if name != "country"]
    rows = [[cell for name, cell in zip(HEADER, r, strict=True) if name != "country"]
            for r in GOOD]
    with pytest.raises(InputError) as caught:
        read_register(write(tmp_path / "r.csv", rows, header), dataset=dataset)
    assert str(caught.value).startswith("r.csv row 1, column 'country': missing column")
    assert (caught.value.fields["row"], caught.value.fields["column"]) == (1, "country")


def test_an_excel_register_reads_like_the_csv(tmp_path, dataset) -> None:
    import pandas as pd

    path = tmp_path / "r.xlsx"
    pd.DataFrame(GOOD, columns=HEADER).to_excel(path, index=False, sheet_name="Assets")
    register = read_register(path, dataset=dataset)
    assert [a.asset_id for a in register.assets] == ["REF-1", "REF-1-DCS", "PORT-1"]
    bad = tmp_path / "bad.xlsx"
    pd.DataFrame(changed(0, "kind", "factory"), columns=HEADER).to_excel(bad, index=False)
    with pytest.raises(InputError, match=r"bad\.xlsx row 2, column 'kind'"):
        read_register(bad, dataset=dataset)


def test_a_register_is_private_to_its_organisation(tmp_path, dataset) -> None:
    env = world()
    register = read_register(write(tmp_path / "r.csv", GOOD), dataset=dataset)
    report = save_register(env.hub.store, env.tokyo, register)
    assert (report.org, report.created) == ("tokyo-cert", 3)
    assert [a.asset_id for a in load_assets(env.hub.store, env.tokyo)] == [
        "REF-1", "REF-1-DCS", "PORT-1"]
    with pytest.raises(NotFoundError):  # another partner: as if it did not exist
        load_assets(env.hub.store, env.london, owner="tokyo-cert")
    assert load_assets(env.hub.store, env.london) == []  # its own register is empty
    with pytest.raises(ForbiddenError, match="administrator"):
        load_assets(env.hub.store, ADMIN, owner="tokyo-cert")
    with pytest.raises(AuthError, match="anonymous"):
        load_assets(env.hub.store, Actor(None), owner="tokyo-cert")
    with pytest.raises(NotFoundError):
        save_register(env.hub.store, env.london, register, owner="tokyo-cert")
    assert env.hub.store.count(namespace("london-ncsc")) == 0


def test_the_access_decision_is_the_hubs_own(tmp_path) -> None:
    env = world()
    assert decide(env.tokyo, "tokyo-cert", "read").allowed
    denied = decide(env.london, "tokyo-cert", "read")
    assert not denied.allowed and "not a reader" in denied.reason
    assert not decide(ADMIN, "tokyo-cert", "write").allowed


def test_reimport_replaces_the_register_and_merge_keeps_the_others(tmp_path, dataset) -> None:
    env = world()
    save_register(env.hub.store, env.tokyo, read_register(write(tmp_path / "a.csv", GOOD),
                                                         dataset=dataset))
    again = save_register(env.hub.store, env.tokyo,
                          read_register(write(tmp_path / "a.csv", GOOD), dataset=dataset))
    assert (again.created, again.updated, again.unchanged, again.removed) == (0, 0, 3, 0)
    only_port = read_register(write(tmp_path / "b.csv", GOOD[3:]), dataset=dataset)
    merged = save_register(env.hub.store, env.tokyo, only_port, merge=True)
    assert (merged.assets, merged.removed) == (3, 0)
    replaced = save_register(env.hub.store, env.tokyo, only_port)
    assert (replaced.assets, replaced.removed) == (1, 2)
    assert [a.asset_id for a in load_assets(env.hub.store, env.tokyo)] == ["PORT-1"]


def test_the_docs_show_the_register_columns_as_the_schema_declares_them() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "intel.md").read_text("utf-8")
    assert columns_markdown() in doc, "docs/intel.md is out of date: paste columns_markdown()"
    assert len(COLUMNS) == 15
