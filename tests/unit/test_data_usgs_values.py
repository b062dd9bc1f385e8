"""The USGS value-code parser maps every code deliberately and names unknown ones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.data.importers.usgs_values import WORD_CODES, is_estimated, parse_value
from kizuna.errors import DataError


@pytest.mark.parametrize(
    ("raw", "value", "low", "high", "code"),
    [
        ("270,000", 270000.0, None, None, None),
        ("1.5", 1.5, None, None, None),
        ("68 ", 68.0, None, None, None),
        ("—", 0.0, None, None, "zero"),
        (">75,000,000", None, 75000000.0, None, ">"),
        ("<200,000", None, None, 200000.0, "<"),
        ("330 - 390", None, 330.0, 390.0, "range"),
        ("500–17,000", None, 500.0, 17000.0, "range"),
        ("10,000 - 15,000", None, 10000.0, 15000.0, "range"),
        ("Variable, depending on type of product", None, None, None, "Variable"),
    ],
)
def test_numeric_and_bounded_codes_parse_to_value_and_bounds(raw, value, low, high, code):
    parsed = parse_value(raw)
    assert (parsed.value, parsed.value_min, parsed.value_max, parsed.code) == (
        value,
        low,
        high,
        code,
    )


@pytest.mark.parametrize("code", sorted(WORD_CODES))
def test_word_codes_carry_no_number(code):
    parsed = parse_value(code)
    assert parsed.code == code
    assert parsed.value is None


def test_an_unknown_code_raises_a_data_error_naming_file_line_and_field():
    with pytest.raises(DataError) as info:
        parse_value("?1", file="MCS.csv", line=42)
    assert info.value.fields == {"file": "MCS.csv", "line": 42, "field": "Value", "value": "?1"}
    assert "MCS.csv, line 42" in str(info.value)
    assert "'Value'" in str(info.value)


@given(st.integers(min_value=0, max_value=10**12))
def test_any_comma_grouped_integer_round_trips(number):
    assert parse_value(f"{number:,}").value == float(number)


def test_estimated_is_read_from_the_notes_prefix():
    assert is_estimated("Estimated. -- Excludes U.S. production.")
    assert is_estimated("Estimated .-- Source: Intelligas")
    assert not is_estimated("Reported.")
    assert not is_estimated("")
