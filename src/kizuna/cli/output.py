"""Formatting for the CLI: JSON for machines, Rich tables for people. No analytics here."""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd


def plain(value: Any) -> Any:
    """Convert pandas/numpy values (NA, NaN, numpy scalars) to JSON-safe Python values."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None:
        return None
    pandas = sys.modules.get("pandas")  # a pandas value implies pandas is imported: every
    if pandas is not None and (value is pandas.NA or value is pandas.NaT):  # command starts
        return None  # without it (0.3 s)
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [plain(row) for row in frame.to_dict("records")]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(plain(data), indent=2, ensure_ascii=False) + "\n")


def console() -> Console:
    return Console(soft_wrap=False)


def fmt_number(value: Any, digits: int = 0) -> str:
    value = plain(value)
    if value is None:
        return "—"
    if isinstance(value, float) and digits == 0 and not value.is_integer():
        digits = 2 if abs(value) < 100 else 0
    return f"{value:,.{digits}f}" if isinstance(value, int | float) else str(value)


def fmt_share(value: Any) -> str:
    value = plain(value)
    return "—" if value is None else f"{100 * float(value):.1f}%"


_NUMERIC = re.compile(r"^[<>~]?[-+]?[\d,.]*\d[\d,.]*\s*%?(\s*e)?$|^—$|^$")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Table:
    """A Rich table: numeric columns right-aligned, text left; the first column never wraps."""
    body = [list(row) for row in rows]
    out = Table(title=title or None, title_justify="left", header_style="bold")
    for index, name in enumerate(columns):
        cells = [row[index] for row in body]
        numeric = bool(cells) and all(_NUMERIC.match(cell.strip()) for cell in cells)
        out.add_column(name, justify="right" if numeric else "left", no_wrap=index == 0)
    for row in body:
        out.add_row(*row)
    return out
