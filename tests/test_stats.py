"""lumengate.stats: the SRM test equals scipy's chi-square goodness of fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from lumengate import stats
from lumengate.errors import InvalidArgument


def test_readme_srm() -> None:
    r = stats.srm_test(observed=[4300, 5700], weights=[0.5, 0.5])
    reference = scipy_stats.chisquare([4300, 5700], [5000, 5000])
    assert r.statistic == pytest.approx(reference.statistic, rel=1e-12)
    assert r.pvalue == pytest.approx(reference.pvalue, rel=1e-9)
    assert r.mismatch and r.dof == 1 and r.alpha == 0.001


@given(
    data=st.lists(st.tuples(st.integers(1, 10**6), st.floats(0.05, 1.0)), min_size=2, max_size=8)
)
def test_srm_equals_scipy_for_any_number_of_arms(data: list[tuple[int, float]]) -> None:
    counts = np.array([c for c, _ in data], dtype=float)
    raw = np.array([w for _, w in data])
    weights = raw / raw.sum()
    r = stats.srm_test(counts.astype(int).tolist(), weights.tolist())
    reference = scipy_stats.chisquare(counts, weights * counts.sum())
    assert r.statistic == pytest.approx(reference.statistic, rel=1e-9, abs=1e-12)
    assert r.pvalue == pytest.approx(reference.pvalue, rel=1e-6, abs=1e-300)
    assert r.mismatch == (r.pvalue < 0.001)


def test_balanced_split_is_not_a_mismatch() -> None:
    r = stats.srm_test([5010, 4990, 10023], [0.25, 0.25, 0.5])
    assert not r.mismatch and r.dof == 2


def test_chi2_sf_equals_scipy() -> None:
    for x, dof in ((0.5, 1), (3.84, 1), (10.0, 3), (250.0, 7), (1e-8, 2)):
        assert stats.chi2_sf(x, dof) == pytest.approx(scipy_stats.chi2.sf(x, dof), rel=1e-10)


def test_zero_user_arm_is_a_finding_not_a_crash() -> None:
    r = stats.srm_test([5000, 0, 5000], [1 / 3, 1 / 3, 1 / 3])
    assert r.mismatch and r.empty_arms == (1,)
    assert np.isfinite(r.statistic)
    # An arm planned at 0 % that got users is a certain mismatch.
    impossible = stats.srm_test([5000, 12], [1.0, 0.0])
    assert impossible.statistic == float("inf") and impossible.pvalue == 0.0 and impossible.mismatch
    # An arm planned at 0 % with no users simply does not count.
    ok = stats.srm_test([5000, 5000, 0], [0.5, 0.5, 0.0])
    assert ok.dof == 1 and not ok.mismatch and ok.empty_arms == ()


def test_dataframe_of_exposures() -> None:
    frame = pd.DataFrame(
        {"user": range(10_000), "variant": ["control"] * 4300 + ["treatment"] * 5700}
    )
    r = stats.srm_test(frame, weights={"control": 0.5, "treatment": 0.5})
    assert r.arms == ("control", "treatment") and r.observed == (4300, 5700) and r.mismatch
    by_series = stats.srm_test(frame["variant"], weights={"control": 0.5, "treatment": 0.5})
    assert by_series == r
    missing_arm = stats.srm_test(frame, weights={"control": 0.4, "treatment": 0.4, "holdout": 0.2})
    assert missing_arm.empty_arms == ("holdout",)
    mapping = stats.srm_test({"a": 4300, "b": 5700}, {"a": 0.5, "b": 0.5})
    assert mapping.statistic == r.statistic


@pytest.mark.parametrize(
    ("observed", "weights", "pattern"),
    [
        ([10], [1.0], r"observed: needs at least 2 arms"),
        ([10, 20], [0.5], r"weights: has 1 entries but observed has 2"),
        ([10, 20], [0.7, 0.7], r"weights: must sum to 1"),
        ([10, 20], [-0.5, 1.5], r"weights\[0\]: must be a finite share >= 0"),
        ([10, 20], [float("nan"), 0.5], r"weights\[0\]"),
        ([10, -1], [0.5, 0.5], r"observed\[1\]: must be a non-negative whole count"),
        ([10, 2.5], [0.5, 0.5], r"observed\[1\]"),
        ([0, 0], [0.5, 0.5], r"observed: holds no users"),
    ],
    ids=["one-arm", "length", "sum", "negative", "nan", "negative-count", "fractional", "empty"],
)
def test_bad_input(observed: list[float], weights: list[float], pattern: str) -> None:
    with pytest.raises(InvalidArgument, match=pattern):
        stats.srm_test(observed, weights)


def test_bad_alpha_and_frame_column() -> None:
    with pytest.raises(InvalidArgument, match=r"alpha: must be in \(0, 1\)"):
        stats.srm_test([1, 2], [0.5, 0.5], alpha=1.5)
    frame = pd.DataFrame({"arm": ["a", "b"]})
    with pytest.raises(InvalidArgument, match="column: DataFrame has no column 'variant'"):
        stats.srm_test(frame, weights={"a": 0.5, "b": 0.5})
    with pytest.raises(InvalidArgument, match="observed: holds arms \\['c'\\] that have no weight"):
        stats.srm_test(pd.Series(["a", "c"]), weights={"a": 0.5, "b": 0.5})
