"""The hot-path JSON codec: one canonical text per value, strict parsing, refusals kept."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.jsontext import JSONDecodeError, canonical, load, parse

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_canonical_text_round_trips_and_is_stable(value: Any) -> None:
    text = canonical(value)
    assert load(text) == value
    assert canonical(load(text)) == text  # the text of a value is the text of its copy
    assert json.loads(text) == value  # and any JSON reader agrees


def test_keys_are_sorted_and_the_text_is_compact() -> None:
    assert canonical({"b": 1, "a": [1, "é"], "c": {"z": True, "y": 1.5}}) == (
        '{"a":[1,"é"],"b":1,"c":{"y":1.5,"z":true}}'
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, [1.0, {"x": math.nan}]])
def test_nan_and_infinity_are_refused_not_written_as_null(bad: Any) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical(bad)


def test_python_values_that_are_not_json_are_refused() -> None:
    @dataclasses.dataclass
    class Point:
        x: int

    for value in (Point(1), datetime(2026, 1, 1, tzinfo=UTC), {1, 2}, object()):
        with pytest.raises(TypeError):
            canonical({"value": value})


def test_what_only_the_standard_library_writes_still_reads_back() -> None:
    lone = {"name": "bad \ud800 surrogate"}
    assert load(canonical(lone)) == lone
    assert load(canonical({1: "an integer key"})) == {"1": "an integer key"}


def test_integers_beyond_64_bits_are_refused_rather_than_rounded() -> None:
    assert load(canonical({"n": 2**63 - 1})) == {"n": 2**63 - 1}
    with pytest.raises(ValueError, match="64 bits"):
        canonical({"n": 2**64})


@pytest.mark.parametrize(
    "text", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": "\\ud800"}', b"\xff{}", b"{", b""]
)
def test_parse_accepts_rfc_8259_only(text: bytes) -> None:
    with pytest.raises(JSONDecodeError):
        parse(text)
    with pytest.raises(ValueError):  # callers may catch the plain ValueError
        parse(text)
