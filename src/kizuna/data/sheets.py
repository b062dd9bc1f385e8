"""A user's table, CSV or one sheet of an .xlsx, as numbered rows of text cells.

The BOM reader (``kizuna.products.bom``) and the asset register
(``kizuna.intel.assets.register``) share this: where the file is, how its cells become text,
which row is the header, and errors that name the file, sheet, row and column. Each keeps
its own column rules.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from kizuna.errors import InputError

Rows = list[tuple[int, list[str]]]
"""(row number counting from 1, the row's cells as stripped text)."""


@dataclass(frozen=True)
class SheetOrigin:
    """The file (and sheet) being read; builds errors that name file, sheet, row and column."""

    path: Path
    sheet: str | None = None

    @property
    def label(self) -> str:
        return self.path.name + (f" sheet {self.sheet!r}" if self.sheet else "")

    def error(self, row: int | None, column: str | None, message: str, *,
              hint: str | None = None, value: object = None) -> InputError:
        place = self.label + (f" row {row}" if row is not None else "")
        place += f", column {column!r}" if column is not None else ""
        return InputError(f"{place}: {message}", hint=hint, file=str(self.path),
                          sheet=self.sheet, row=row, column=column,
                          value=None if value is None else str(value))


def read_csv(origin: SheetOrigin) -> Rows:
    """The rows of a UTF-8 CSV file (a byte-order mark, as Excel writes, is allowed)."""
    try:
        text = origin.path.read_text(encoding="utf-8-sig")
        records = list(csv.reader(io.StringIO(text)))
    except UnicodeDecodeError:
        raise origin.error(None, None, "the file is not UTF-8 text",
                           hint="save it as CSV UTF-8") from None
    except (OSError, csv.Error) as error:
        raise origin.error(None, None, f"cannot read the file ({error})") from None
    return [(number, [cell.strip() for cell in record])
            for number, record in enumerate(records, start=1)]


def cell_text(value: object) -> str:
    """An Excel cell as text: empty for blanks, ``3`` (not ``3.0``) for a whole number."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_xlsx(origin: SheetOrigin, sheet: str | None, what: str) -> tuple[str, int, Rows]:
    """The sheet read (``sheet``, or the only one), how many the workbook has, and its rows;
    ``what`` names the table in the question asked of a workbook with several sheets."""
    import pandas as pd  # noqa: PLC0415 - only Excel files need pandas and openpyxl

    try:
        book = pd.ExcelFile(origin.path, engine="openpyxl")
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise origin.error(None, None, f"cannot read the file as .xlsx ({error})",
                           hint="save it again from Excel as .xlsx, or as .csv") from None
    with book:
        names = [str(name) for name in book.sheet_names]
        listed = ", ".join(repr(name) for name in names)
        if sheet is None and len(names) > 1:
            raise origin.error(None, None, f"the workbook has {len(names)} sheets ({listed}); "
                               f"which one holds the {what}?", hint="pass --sheet NAME")
        if sheet is not None and sheet not in names:
            raise origin.error(None, None, f"no sheet {sheet!r} in the workbook (sheets: "
                               f"{listed})", hint="pass --sheet with one of those names",
                               value=sheet)
        name = sheet if sheet is not None else names[0]
        frame = pd.read_excel(book, sheet_name=name, header=None, dtype=object)
    rows = [(index + 1, [cell_text(value) for value in record])
            for index, record in enumerate(frame.itertuples(index=False, name=None))]
    return name, len(names), rows


def header(origin: SheetOrigin, rows: Rows, required: tuple[str, ...]
           ) -> tuple[int, list[str], dict[int, str]]:
    """The first non-empty row as the header: its number, its cells, and its columns
    (position -> name folded to lower case with ``_`` for spaces and hyphens). An empty file
    or a repeated column is an error; which columns are missing is the caller's to say."""
    filled = [(number, cells) for number, cells in rows if any(cells)]
    if not filled:
        raise origin.error(None, None, "the file is empty",
                           hint="start with a header row: " + ", ".join(required))
    number, cells = filled[0]
    columns: dict[int, str] = {}
    for position, cell in enumerate(cells):
        name = "_".join(cell.casefold().replace("-", " ").split())
        if not name:
            continue
        if name in columns.values():
            raise origin.error(number, name, "the column appears twice in the header")
        columns[position] = name
    return number, cells, columns
