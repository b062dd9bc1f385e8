"""Turning library results into JSON values and display strings — the web edge only formats."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of ``value``: NaN/NA become None, NumPy scalars Python ones."""
    if isinstance(value, pd.DataFrame):
        return frame_records(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, set | frozenset):
        return sorted(jsonable(item) for item in value)
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [jsonable(item) for item in value]
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as JSON-safe dicts."""
    return [jsonable(row) for row in frame.to_dict(orient="records")]


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def fmt_number(value: Any, digits: int = 0) -> str:
    """``1234567.8`` → ``1,234,568``; missing → an en dash."""
    if _missing(value):
        return "–"
    number = float(value)
    if digits == 0 and abs(number) < 10 and number != int(number):
        digits = 2 if abs(number) < 1 else 1
    return f"{number:,.{digits}f}"


def fmt_share(value: Any, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.691`` → ``69.1%``."""
    if _missing(value):
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


def sort_key(value: Any) -> str:
    """The value a sortable table column sorts by (numbers stay numeric in the browser)."""
    if _missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, int | float | np.number):
        return repr(float(value))
    return str(value).lower()


FILTERS = {"number": fmt_number, "share": fmt_share, "sortkey": sort_key}
