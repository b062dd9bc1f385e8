"""Concentration metrics: closed-form cases and Hypothesis properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.minerals.metrics import hhi, hhi_wgi, scale_wgi, top_n_share

raw_values = st.lists(
    st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=40,
).filter(lambda values: sum(values) > 0)


def normalised(values: list[float]) -> list[float]:
    total = sum(values)
    return [value / total for value in values]


@given(raw_values)
def test_hhi_of_normalised_shares_lies_between_0_and_10000(values: list[float]) -> None:
    assert 0.0 <= hhi(normalised(values)) <= 10_000.0 + 1e-6


@given(st.integers(min_value=1, max_value=500))
def test_hhi_of_n_equal_shares_is_10000_over_n(n: int) -> None:
    assert hhi([1.0 / n] * n) == pytest.approx(10_000.0 / n, rel=1e-9)


@given(raw_values, st.randoms(use_true_random=False))
def test_hhi_is_invariant_under_permutation(values: list[float], rng) -> None:  # type: ignore[no-untyped-def]
    shares = normalised(values)
    shuffled = shares[:]
    rng.shuffle(shuffled)
    assert hhi(shuffled) == pytest.approx(hhi(shares), rel=1e-9, abs=1e-9)


@given(raw_values)
def test_top_shares_are_ordered_and_bounded(values: list[float]) -> None:
    shares = normalised(values)
    assert 0.0 <= top_n_share(shares, 1) <= top_n_share(shares, 3) <= 1.0 + 1e-9
    assert top_n_share(shares, 1) == pytest.approx(max(shares))


def test_monopoly_has_the_maximum_hhi_and_hhi_wgi() -> None:
    assert hhi([1.0]) == 10_000.0
    assert hhi_wgi([1.0], [10.0]) == 100_000.0


def test_hhi_wgi_weights_each_squared_percent_share_by_its_country_score() -> None:
    # 60% at score 8 and 40% at score 2: 3600*8 + 1600*2
    assert hhi_wgi([0.6, 0.4], [8.0, 2.0]) == pytest.approx(32_000.0)


def test_hhi_wgi_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        hhi_wgi([0.5, 0.5], [1.0])


def test_wgi_scaling_maps_best_to_0_worst_to_10_and_clips() -> None:
    scaled = scale_wgi(np.array([2.5, 0.0, -2.5, 3.0, -3.0]))
    assert scaled.tolist() == [0.0, 5.0, 10.0, 0.0, 10.0]
