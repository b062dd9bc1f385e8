"""User BOMs (CSV, .xlsx): roll-up arithmetic, units, sourcing, one clear error per bad cell."""

from __future__ import annotations

import csv
import math
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kizuna.data.bundle import Dataset, load_dataset
from kizuna.errors import InputError
from kizuna.products import Product, load_product, read_bom
from kizuna.products.model import BOM_COLUMNS
from kizuna.products.units import LCE_PER_LI

Rows = Sequence[Sequence[object]]


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset()


def write_csv(path: Path, header: Sequence[str], rows: Rows) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return path


def write_xlsx(path: Path, sheets: dict[str, tuple[Sequence[str], Rows]]) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, (header, rows) in sheets.items():
            frame = pd.DataFrame([list(row) for row in rows], columns=list(header))
            frame.to_excel(writer, sheet_name=name, index=False)
    return path


MINERAL_HEADER = ["component", "mineral", "quantity", "unit"]
EV_HEADER = ["Product", "Component", "Parent", "Component Qty", "Mineral", "Quantity", "Unit",
             "mining_mix", "refining_country", "Volume"]
EV_ROWS: Rows = [
    ["EV", "drive unit", None, 2, None, None, None, None, None, 1000],
    ["EV", "magnet", "drive unit", 1, None, None, None, None, None, None],
    ["EV", "magnet", None, None, "Neodymium", 300, "g", "AUS:0.6;CHN:0.4", "China", None],
    ["EV", "pack", None, None, "cobalt", 5.7, "kg", None, None, None],
    ["EV", "pack", None, None, "lithium", 36, "kg LCE", None, None, None],
]


def check_ev(product_id: str, product: Product) -> None:
    assert (product.id, product.name, product.unit, product.volume) == (
        product_id, "EV", "one EV", 1000.0)
    assert product.demand_kg() == pytest.approx(
        {"neodymium": 0.6, "cobalt": 5.7, "lithium": 36 / LCE_PER_LI})
    magnet = product.lines[0]
    assert magnet.component == "drive unit > magnet"
    assert magnet.sourcing == {"mining": {"AUS": 0.6, "CHN": 0.4}, "refining": {"CHN": 1.0}}
    text = " ".join(product.assumptions)
    assert "LCE / 5.323" in text and "g / 1000" in text and "Annual volume 1000" in text


# --- reading files -----------------------------------------------------------------------------


def test_a_csv_bom_rolls_up_into_lines_per_component_and_mineral(
    tmp_path: Path, dataset: Dataset
) -> None:
    path = write_csv(tmp_path / "ev.csv", EV_HEADER, EV_ROWS)
    product = read_bom(path, dataset=dataset)
    check_ev("ev", product)
    assert product.lines[0].citation == "user BOM ev.csv row 4"
    assert product.sources == ("user BOM ev.csv",)


def test_an_xlsx_bom_reads_like_the_csv_and_cites_its_sheet(
    tmp_path: Path, dataset: Dataset
) -> None:
    path = write_xlsx(tmp_path / "ev.xlsx", {"EV": (EV_HEADER, EV_ROWS)})
    product = read_bom(path, dataset=dataset)
    check_ev("ev", product)
    assert product.lines[0].citation == "user BOM ev.xlsx sheet 'EV' row 4"


def test_a_two_sheet_workbook_needs_a_sheet_name(tmp_path: Path, dataset: Dataset) -> None:
    other = (MINERAL_HEADER, [["pack", "cobalt", 1, "kg"]])
    path = write_xlsx(tmp_path / "two.xlsx", {"EV": (EV_HEADER, EV_ROWS), "Notes": other})
    with pytest.raises(InputError) as caught:
        read_bom(path, dataset=dataset)
    assert "two.xlsx" in str(caught.value) and "'EV', 'Notes'" in str(caught.value)
    assert caught.value.hint == "pass --sheet NAME"
    check_ev("two", read_bom(path, sheet="EV", dataset=dataset))
    assert read_bom(path, sheet="Notes", dataset=dataset).demand_kg() == {"cobalt": 1.0}
    with pytest.raises(InputError, match="no sheet 'Pack' in the workbook \\(sheets: 'EV', "):
        read_bom(path, sheet="Pack", dataset=dataset)
    check_ev("two", load_product(str(path), sheet="EV", dataset=dataset))


def test_blank_rows_and_extra_columns_are_skipped_and_rows_keep_their_numbers(
    tmp_path: Path, dataset: Dataset
) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("component,mineral,quantity,unit,part number\n\n"
                    "pack,cobalt,1,kg,X-1\n,,,,\npack,nickel,2,kg,X-2\n", encoding="utf-8")
    product = read_bom(path, dataset=dataset)
    assert [line.citation for line in product.lines] == ["user BOM gaps.csv row 3",
                                                         "user BOM gaps.csv row 5"]
    assert "ignored: part_number" in " ".join(product.assumptions)


def test_mineral_names_and_aliases_resolve_to_slugs(tmp_path: Path, dataset: Dataset) -> None:
    rows = [["frame", "Aluminum", 1, "kg"], ["anode", "Natural graphite", 2, "kg"],
            ["anode", " COBALT ", 3, "KG"]]
    product = read_bom(write_csv(tmp_path / "a.csv", MINERAL_HEADER, rows), dataset=dataset)
    assert product.demand_kg() == {"aluminium": 1.0, "graphite": 2.0, "cobalt": 3.0}


# --- units -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mineral", "quantity", "unit", "expected_kg"), [
    ("cobalt", 250, "g", 0.25),
    ("cobalt", 0.002, "t", 2.0),
    ("cobalt", 1.5, "kg", 1.5),
    ("lithium", 5.323, "kg LCE", 1.0),
    ("lithium", 0.005323, "t LCE", 1.0),
    ("lithium", 10.646, "KG  lce", 2.0),
])
def test_units_convert_to_kg_of_the_element(
    tmp_path: Path, dataset: Dataset, mineral: str, quantity: float, unit: str,
    expected_kg: float
) -> None:
    path = write_csv(tmp_path / "u.csv", MINERAL_HEADER, [["pack", mineral, quantity, unit]])
    assert read_bom(path, dataset=dataset).demand_kg()[mineral] == pytest.approx(expected_kg)


# --- multi-level roll-up -----------------------------------------------------------------------


def test_multi_level_quantities_multiply_down_the_tree(tmp_path: Path, dataset: Dataset) -> None:
    header = ["component", "parent", "component_qty", "mineral", "quantity", "unit"]
    rows: Rows = [
        ["rotor", "motor", 1, None, None, None],
        ["motor", None, 2, None, None, None],
        ["magnet", "rotor", 8, None, None, None],
        ["magnet", None, None, "neodymium", 25, "g"],
        ["rotor", None, None, "dysprosium", 10, "g"],
        ["housing", None, 1, "aluminium", 4, "kg"],
        ["bearing", "motor", 2, "chromium", 0.1, "kg"],
    ]
    product = read_bom(write_csv(tmp_path / "m.csv", header, rows), dataset=dataset)
    by_component = {(line.component, line.mineral): line.kg for line in product.lines}
    assert by_component == pytest.approx({
        ("motor > rotor > magnet", "neodymium"): 2 * 1 * 8 * 0.025,
        ("motor > rotor", "dysprosium"): 2 * 1 * 0.010,
        ("housing", "aluminium"): 4.0,
        ("motor > bearing", "chromium"): 2 * 2 * 0.1,
    })
    assert "Multi-level roll-up" in " ".join(product.assumptions)


def test_rows_of_the_same_mineral_and_component_merge_with_kg_weighted_sourcing(
    tmp_path: Path, dataset: Dataset
) -> None:
    header = [*MINERAL_HEADER, "mining_country", "refining_mix", "refining_owner", "source"]
    rows = [["pack", "cobalt", 3, "kg", "COD", "CHN:100%", "CHN", "supplier A"],
            ["pack", "cobalt", 1000, "g", "Australia", "FIN=0.5;JPN=0.5", "CHN", "supplier B"]]
    product = read_bom(write_csv(tmp_path / "s.csv", header, rows), dataset=dataset)
    (line,) = product.lines
    assert line.kg == pytest.approx(4.0)
    assert line.sourcing["mining"] == pytest.approx({"COD": 0.75, "AUS": 0.25})
    assert line.sourcing["refining"] == pytest.approx({"CHN": 0.75, "FIN": 0.125, "JPN": 0.125})
    assert line.owners == {"refining": "CHN"}
    assert line.citation == "user BOM s.csv rows 2, 3; supplier A; supplier B"
    assert product.sources == ("user BOM s.csv", "supplier A", "supplier B")


# --- one clear error per bad input -------------------------------------------------------------


def bom_error(path: Path, dataset: Dataset, sheet: str | None = None) -> InputError:
    with pytest.raises(InputError) as caught:
        read_bom(path, sheet=sheet, dataset=dataset)
    return caught.value


@pytest.mark.parametrize(("row", "column", "expected", "hint"), [
    (["pack", "cobolt", 1, "kg"], "mineral", "unknown mineral 'cobolt'", "cobalt"),
    (["pack", "Co", 1, "kg"], "mineral", "unknown mineral 'Co'", "symbol of cobalt"),
    (["pack", "storage-batteries", 1, "kg"], "mineral", "is a product category", "list the"),
    (["pack", "cobalt", -2, "kg"], "quantity", "-2 is negative", "0 or more"),
    (["pack", "cobalt", "two", "kg"], "quantity", "'two' is not a number", "plain number"),
    (["pack", "cobalt", "inf", "kg"], "quantity", "is not a finite number", None),
    (["pack", "cobalt", 1, "lb"], "unit", "unknown unit 'lb'", "kg, g, t, kg LCE, t LCE"),
    (["pack", "cobalt", 1, "kg LCE"], "unit", "lithium carbonate equivalent", "kg, g or t"),
    (["pack", "cobalt", None, "kg"], "quantity", "missing quantity", None),
    (["pack", "cobalt", 1, None], "unit", "missing unit", None),
    ([None, "cobalt", 1, "kg"], "component", "missing component", None),
    (["pack", None, 1, "kg"], "mineral", "has a quantity but no mineral", None),
])
def test_a_bad_cell_names_file_row_and_column(
    tmp_path: Path, dataset: Dataset, row: list[object], column: str, expected: str,
    hint: str | None
) -> None:
    path = write_csv(tmp_path / "bad.csv", MINERAL_HEADER, [["pack", "nickel", 1, "kg"], row])
    error = bom_error(path, dataset)
    assert str(error).startswith(f"bad.csv row 3, column '{column}': ")
    assert expected in error.message
    assert (error.fields["row"], error.fields["column"]) == (3, column)
    assert error.fields["file"] == str(path)
    if hint is not None:
        assert error.hint is not None and hint in error.hint


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("mining_mix", "AUS:0.6;CHL:0.3", "shares sum to 0.9, not 1"),
    ("mining_mix", "AUS:0.6;XYZ:0.4", "unknown country 'XYZ'"),
    ("mining_mix", "AUS:0.6;AUS:0.4", "AUS appears twice"),
    ("mining_mix", "AUS 0.6", "cannot read 'AUS 0.6' as COUNTRY:SHARE"),
    ("mining_mix", "AUS:lots", "share 'lots' is not a number"),
    ("refining_country", "Narnia", "unknown country 'Narnia'"),
    ("refining_country", "World", "'WORLD' is not a country"),
    ("mining_owner", "QQQ", "unknown country 'QQQ'"),
])
def test_bad_sourcing_names_file_row_and_column(
    tmp_path: Path, dataset: Dataset, column: str, value: str, expected: str
) -> None:
    path = write_csv(tmp_path / "src.csv", [*MINERAL_HEADER, column],
                     [["pack", "cobalt", 1, "kg", value]])
    error = bom_error(path, dataset)
    assert str(error).startswith(f"src.csv row 2, column '{column}': ")
    assert expected in error.message


def test_country_and_mix_for_one_stage_is_an_error(tmp_path: Path, dataset: Dataset) -> None:
    path = write_csv(tmp_path / "both.csv", [*MINERAL_HEADER, "mining_country", "mining_mix"],
                     [["pack", "cobalt", 1, "kg", "COD", "COD:1"]])
    assert "both mining_country and mining_mix" in str(bom_error(path, dataset))


def test_sourcing_on_only_some_rows_of_a_line_is_an_error(
    tmp_path: Path, dataset: Dataset
) -> None:
    path = write_csv(tmp_path / "part.csv", [*MINERAL_HEADER, "mining_country"],
                     [["pack", "cobalt", 1, "kg", "COD"], ["pack", "cobalt", 1, "kg", None]])
    error = bom_error(path, dataset)
    assert str(error).startswith("part.csv row 3, column 'mining_country': ")
    assert "has mining sourcing in row 2 but not in this row" in error.message


def test_a_missing_required_column_lists_the_found_columns(
    tmp_path: Path, dataset: Dataset
) -> None:
    path = write_csv(tmp_path / "cols.csv", ["Component", "Mineral", "Qty"],
                     [["pack", "cobalt", 1]])
    error = bom_error(path, dataset)
    assert str(error).startswith("cols.csv row 1, column 'quantity': ")
    assert "missing required columns 'quantity', 'unit'" in error.message
    assert error.hint is not None and "found columns: Component, Mineral, Qty" in error.hint


def test_a_semicolon_separated_file_gets_a_hint(tmp_path: Path, dataset: Dataset) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("component;mineral;quantity;unit\npack;cobalt;1;kg\n", encoding="utf-8")
    error = bom_error(path, dataset)
    assert error.hint is not None and "semicolon-separated" in error.hint


def test_an_xlsx_error_names_the_sheet(tmp_path: Path, dataset: Dataset) -> None:
    rows = [["pack", "cobalt", 1, "kg"], ["pack", "nickel", -1, "kg"]]
    path = write_xlsx(tmp_path / "bad.xlsx", {"Pack": (MINERAL_HEADER, rows)})
    error = bom_error(path, dataset)
    assert str(error).startswith("bad.xlsx sheet 'Pack' row 3, column 'quantity': ")
    assert error.fields["sheet"] == "Pack"


@pytest.mark.parametrize(("rows", "row", "column", "expected"), [
    ([["magnet", "rotr", 1, None, None, None], ["magnet", None, None, "neodymium", 1, "kg"],
      ["rotor", None, 1, None, None, None]], 2, "parent", "unknown parent 'rotr'"),
    ([["a", "b", 1, None, None, None], ["b", "a", 1, None, None, None],
      ["a", None, None, "cobalt", 1, "kg"]], 2, "parent", "components form a cycle: a > b > a"),
    ([["a", "a", 1, None, None, None], ["a", None, None, "cobalt", 1, "kg"]], 2, "parent",
     "components form a cycle: a > a"),
    ([["a", None, 2, None, None, None], ["a", None, 3, "cobalt", 1, "kg"]], 3,
     "component_qty", "component 'a' already has component_qty 2 in row 2"),
    ([["a", "x", 1, None, None, None], ["x", None, 1, None, None, None],
      ["a", "y", None, "cobalt", 1, "kg"], ["y", None, 1, None, None, None]], 4, "parent",
     "component 'a' already has parent 'x' in row 2"),
    ([["a", None, "many", None, None, None], ["a", None, None, "cobalt", 1, "kg"]], 2,
     "component_qty", "'many' is not a number"),
    ([[None, "a", 2, None, None, None], ["a", None, None, "cobalt", 1, "kg"]], 2,
     "component", "missing component"),
])
def test_a_bad_component_tree_names_row_and_column(
    tmp_path: Path, dataset: Dataset, rows: Rows, row: int, column: str, expected: str
) -> None:
    header = ["component", "parent", "component_qty", "mineral", "quantity", "unit"]
    error = bom_error(write_csv(tmp_path / "tree.csv", header, rows), dataset)
    assert str(error).startswith(f"tree.csv row {row}, column '{column}': ")
    assert expected in error.message


def test_a_file_with_two_products_asks_to_split_it(tmp_path: Path, dataset: Dataset) -> None:
    rows = [["EV", "pack", "cobalt", 1, "kg"], ["", "pack", "nickel", 1, "kg"],
            ["Bus", "pack", "cobalt", 1, "kg"]]
    error = bom_error(write_csv(tmp_path / "p.csv", ["product", *MINERAL_HEADER], rows), dataset)
    assert str(error).startswith("p.csv row 4, column 'product': ")
    assert "more than one product ('EV', 'Bus')" in error.message
    assert error.hint is not None and "one product per file" in error.hint


def test_two_volumes_for_the_product_are_an_error(tmp_path: Path, dataset: Dataset) -> None:
    rows = [["pack", "cobalt", 1, "kg", 10], ["pack", "nickel", 1, "kg", 10],
            ["pack", "lithium", 1, "kg", 20]]
    error = bom_error(write_csv(tmp_path / "v.csv", [*MINERAL_HEADER, "volume"], rows), dataset)
    assert str(error).startswith("v.csv row 4, column 'volume': ")


@pytest.mark.parametrize(("content", "expected"), [
    ("", "e.csv: the file is empty"),
    ("\n ,  ,\n", "e.csv: the file is empty"),
    ("component,mineral,quantity,unit\n", "e.csv row 1: the header has no data rows"),
    ("component,mineral,quantity,unit\nmotor,,,\n",
     "e.csv: no row gives a mineral in column 'mineral'"),
])
def test_an_empty_file_is_an_error(
    tmp_path: Path, dataset: Dataset, content: str, expected: str
) -> None:
    path = tmp_path / "e.csv"
    path.write_text(content, encoding="utf-8")
    assert str(bom_error(path, dataset)).startswith(expected)


def test_other_file_types_and_missing_files_are_errors(tmp_path: Path, dataset: Dataset) -> None:
    legacy = tmp_path / "old.xls"
    legacy.write_bytes(b"\xd0\xcf")
    assert "old.xls: unsupported file type '.xls'" in str(bom_error(legacy, dataset))
    assert "gone.csv: file not found" in str(bom_error(tmp_path / "gone.csv", dataset))
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip file")
    assert "broken.xlsx: cannot read the file as .xlsx" in str(bom_error(broken, dataset))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("component,mineral,quantity,unit\nbo\xeete,cobalt,1,kg\n".encode("latin-1"))
    assert "latin.csv: the file is not UTF-8 text" in str(bom_error(latin, dataset))
    csv_path = write_csv(tmp_path / "ok.csv", MINERAL_HEADER, [["pack", "cobalt", 1, "kg"]])
    assert "--sheet applies to .xlsx files only" in str(bom_error(csv_path, dataset, "S"))


def test_load_product_reads_paths_and_rejects_what_is_neither(
    tmp_path: Path, dataset: Dataset
) -> None:
    path = write_csv(tmp_path / "ok.csv", MINERAL_HEADER, [["pack", "cobalt", 1, "kg"]])
    assert load_product(str(path), dataset=dataset).demand_kg() == {"cobalt": 1.0}
    with pytest.raises(InputError, match="parameters apply to templates"):
        load_product(str(path), {"scrap": 0.1}, dataset=dataset)
    with pytest.raises(InputError) as caught:
        load_product(str(tmp_path / "nothing.csv"), dataset=dataset)
    assert "is not a template id (known: nmc811, lfp, ndfeb-motor" in str(caught.value)
    assert "nor a file" in str(caught.value)


def test_the_docs_describe_every_bom_column() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "products.md").read_text("utf-8")
    for column in BOM_COLUMNS:
        assert f"`{column.name}`" in docs, column.name


# --- properties --------------------------------------------------------------------------------

MINERALS = ("cobalt", "nickel", "lithium", "neodymium")
TREE_HEADER = ["component", "parent", "component_qty", "mineral", "quantity", "unit"]


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[int | None], list[float], list[tuple[int, str, float]]]:
    """Parents (an earlier component or None), quantities and mineral rows of a random BOM."""
    size = draw(st.integers(min_value=1, max_value=6))
    parents = [draw(st.none() | st.integers(0, index - 1)) if index else None
               for index in range(size)]
    qty = st.floats(min_value=0, max_value=20, allow_nan=False, allow_infinity=False)
    quantities = [draw(qty) for _ in range(size)]
    items = draw(st.lists(st.tuples(st.integers(0, size - 1), st.sampled_from(MINERALS),
                                    qty), min_size=1, max_size=10))
    return parents, quantities, items


def tree_rows(parents: list[int | None], quantities: list[float],
              items: list[tuple[int, str, float]], scale: dict[int, float]) -> list[list[object]]:
    rows: list[list[object]] = [
        [f"c{index}", "" if parent is None else f"c{parent}", repr(qty), "", "", ""]
        for index, (parent, qty) in enumerate(zip(parents, quantities, strict=True))
    ]
    rows += [[f"c{component}", "", "", mineral, repr(quantity * scale.get(row, 1.0)), "kg"]
             for row, (component, mineral, quantity) in enumerate(items)]
    return rows


def brute_force(parents: list[int | None], quantities: list[float],
                items: list[tuple[int, str, float]]) -> dict[str, float]:
    def multiplier(index: int) -> float:
        parent = parents[index]
        return quantities[index] * (1.0 if parent is None else multiplier(parent))

    demand: dict[str, float] = {}
    for component, mineral, quantity in items:
        demand[mineral] = demand.get(mineral, 0.0) + quantity * multiplier(component)
    return demand


def demand_of(rows: list[list[object]], dataset: Dataset) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = write_csv(Path(folder) / "tree.csv", TREE_HEADER, rows)
        return read_bom(path, dataset=dataset).demand_kg()


@settings(max_examples=60, deadline=None)
@given(tree=trees(), order=st.randoms(use_true_random=False))
def test_demand_equals_a_brute_force_roll_up_in_any_row_order(
    dataset: Dataset, tree: tuple[list[int | None], list[float], list[tuple[int, str, float]]],
    order: random.Random,
) -> None:
    parents, quantities, items = tree
    rows = tree_rows(parents, quantities, items, {})
    order.shuffle(rows)
    expected = brute_force(parents, quantities, items)
    assert demand_of(rows, dataset) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(tree=trees(), data=st.data())
def test_scaling_one_quantity_scales_demand_linearly(
    dataset: Dataset, tree: tuple[list[int | None], list[float], list[tuple[int, str, float]]],
    data: st.DataObject,
) -> None:
    parents, quantities, items = tree
    row = data.draw(st.integers(0, len(items) - 1))
    factor = data.draw(st.floats(min_value=0, max_value=10))
    base = demand_of(tree_rows(parents, quantities, items, {}), dataset)
    scaled = demand_of(tree_rows(parents, quantities, items, {row: factor}), dataset)
    mineral = items[row][1]
    alone = brute_force(parents, quantities, [items[row]])[mineral]
    for name, value in base.items():
        change = (factor - 1) * alone if name == mineral else 0.0
        assert scaled[name] == pytest.approx(value + change, rel=1e-9, abs=1e-9)
    assert math.isfinite(sum(scaled.values()))
