"""The on-disk format of Kizuna's tables: CSV, UTF-8, LF line ends, deterministic text.

Floats are written in their shortest round-trip form (integers without '.0'), booleans as
``true``/``false`` and missing values as empty fields, so a rebuild from the same sources is
byte-identical. Reading applies the schema's dtypes.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from typing import IO, Any

import pandas as pd

from kizuna.data.schema import Table
from kizuna.errors import DataError


def _cell(value: Any, dtype: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if dtype == "boolean":
        return "true" if value else "false"
    if dtype == "Float64":
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    if dtype == "Int64":
        return str(int(value))
    return str(value)


def to_csv_text(table: Table, frame: pd.DataFrame) -> str:
    """The table as deterministic CSV text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in table.columns])
    columns: list[Iterable[Any]] = [frame[c.name].tolist() for c in table.columns]
    dtypes = [c.dtype for c in table.columns]
    for row in zip(*columns, strict=True):
        writer.writerow([_cell(v, t) for v, t in zip(row, dtypes, strict=True)])
    return buffer.getvalue()


_BOOLEANS = {"true": True, "false": False}


def read_table(table: Table, handle: IO[str], name: str) -> pd.DataFrame:
    """Read one table written by ``to_csv_text``, with the schema's dtypes."""
    raw = pd.read_csv(handle, dtype=str, keep_default_na=False)
    missing = [c.name for c in table.columns if c.name not in raw.columns]
    if missing:
        raise DataError(f"{name}: missing column(s) {missing}", file=name, field=missing[0])
    out = pd.DataFrame(index=raw.index)
    for column in table.columns:
        text = raw[column.name].mask(raw[column.name] == "")
        if column.dtype == "boolean":
            out[column.name] = text.map(_BOOLEANS.get, na_action="ignore").astype("boolean")
        elif column.dtype in ("Int64", "Float64"):
            out[column.name] = pd.to_numeric(text).astype(column.dtype)  # type: ignore[call-overload]
        else:
            out[column.name] = text.astype("string")
    return out
