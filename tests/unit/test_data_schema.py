"""Schema conformance: required columns are enforced, optional ones may be absent."""

from __future__ import annotations

import pandas as pd
import pytest

from kizuna.data.schema import SOURCES
from kizuna.errors import DataError


def test_an_absent_optional_column_is_added_empty() -> None:
    frame = pd.DataFrame([{"source": "s", "title": "t", "publisher": "p"}])
    out = SOURCES.conform(frame)
    assert list(out.columns) == [c.name for c in SOURCES.columns]
    assert out[["version", "url", "licence"]].isna().all().all()
    assert str(out["url"].dtype) == "string"


def test_an_absent_required_column_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"missing columns \['publisher'\]"):
        SOURCES.conform(pd.DataFrame([{"source": "s", "title": "t"}]))
