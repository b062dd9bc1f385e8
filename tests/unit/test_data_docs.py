"""docs/data.md shows every table exactly as schema.py declares it, so the two cannot drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.data.schema import SUPPLY, TABLES, Table

DOC = Path(__file__).resolve().parents[2] / "docs" / "data.md"


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_the_doc_has_each_tables_generated_section(table: Table) -> None:
    assert table.markdown() in DOC.read_text(encoding="utf-8"), (
        f"docs/data.md is out of date for {table.name}; paste Table.markdown() for it"
    )


def test_the_supply_confidence_column_is_optional_and_documented() -> None:
    column = next(c for c in SUPPLY.columns if c.name == "confidence")
    assert not column.required
    assert "high | medium | low" in column.description
    assert "USGS" in column.description
