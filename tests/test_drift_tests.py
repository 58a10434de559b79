"""lumengate.drift two-sample tests equal scipy.stats on random and adversarial inputs.

Tolerances: statistics rtol 1e-10 (ours sum with compensation, scipy pairwise); p-values
rtol 1e-8. Where scipy's p-value is 1 - cdf near 1 (Cramér-von Mises asymptotic tail), both
sides carry an absolute error of a few 1e-16 from the cancellation, so an absolute 1e-13 is
allowed there too.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from lumengate import drift
from lumengate._native import core
from lumengate.errors import InvalidArgument

Array = npt.NDArray[np.float64]
STAT_RTOL = 1e-10
P_RTOL = 1e-8


def scipy_ks(a: Array, b: Array, method: str = "auto", alternative: str = "two-sided") -> Any:
    # scipy warns when its exact count fails and it falls back; the fallback is what we match.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return scipy_stats.ks_2samp(a, b, method=method, alternative=alternative)


def assert_ks_equal(
    a: Array, b: Array, method: str = "auto", alternative: str = "two-sided"
) -> drift.KsResult:
    ours = drift.ks_2samp(a, b, method=method, alternative=alternative)  # type: ignore[arg-type]
    reference = scipy_ks(a, b, method, alternative)
    assert ours.statistic == pytest.approx(reference.statistic, rel=STAT_RTOL, abs=0)
    assert ours.pvalue == pytest.approx(reference.pvalue, rel=P_RTOL, abs=1e-300)
    assert ours.statistic_location == reference.statistic_location
    assert ours.statistic_sign == reference.statistic_sign
    return ours


def pair(seed: int, n1: int, n2: int, shift: float = 0.05) -> tuple[Array, Array]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=n1), rng.normal(shift, 1, size=n2)


SIZES = [
    (1, 1),
    (1, 7),
    (2, 3),
    (5, 7),
    (30, 30),
    (100, 110),
    (1000, 1200),
    (999, 1000),
    (10_000, 10_000),
    (10_000, 9_999),
    (10_000, 3),
    (10_001, 10_001),
    (10_001, 9_000),
    (20_000, 50),
    (20_000, 1),
    (200_000, 150_000),
]


@pytest.mark.parametrize(("n1", "n2"), SIZES, ids=[f"{a}x{b}" for a, b in SIZES])
@pytest.mark.parametrize("shift", [0.0, 0.05, 0.5], ids=["same", "small-shift", "large-shift"])
def test_ks_equals_scipy_on_both_sides_of_the_exact_boundary(
    n1: int, n2: int, shift: float
) -> None:
    a, b = pair(n1 * 7 + n2, n1, n2, shift)
    ours = assert_ks_equal(a, b)
    assert ours.method == ("exact" if max(n1, n2) <= 10_000 else "asymp")


ONE_SIDED_SIZES = [(1, 1), (1, 5), (5, 7), (30, 30), (100, 110), (300, 200), (999, 1000)]
ONE_SIDED_SIZES += [(3000, 2000), (10_000, 9_999), (10_000, 3), (10_001, 9_000), (20_000, 50)]


@pytest.mark.parametrize(
    ("n1", "n2"), ONE_SIDED_SIZES, ids=[f"{a}x{b}" for a, b in ONE_SIDED_SIZES]
)
@pytest.mark.parametrize("alternative", ["less", "greater"])
def test_ks_one_sided_equals_scipy(n1: int, n2: int, alternative: str) -> None:
    # Includes sizes where scipy's exact path count overflows and it falls back to Hodges'
    # approximation (it warns; we report method="asymp").
    for shift in (0.0, 0.05, 0.3, -0.3):
        a, b = pair(n1 + 3 * n2, n1, n2, shift)
        assert_ks_equal(a, b, alternative=alternative)


@pytest.mark.parametrize("method", ["exact", "asymp"])
def test_ks_forced_method(method: str) -> None:
    for n1, n2 in [(40, 60), (500, 501), (3000, 3000)]:
        a, b = pair(n1, n1, n2, 0.1)
        assert_ks_equal(a, b, method)


def test_ks_ties_identical_and_degenerate() -> None:
    rng = np.random.default_rng(5)
    ties_a = rng.integers(0, 5, size=3000).astype(float)
    ties_b = rng.integers(0, 6, size=2000).astype(float)
    assert_ks_equal(ties_a, ties_b)
    same = rng.normal(size=500)
    r = assert_ks_equal(same, same.copy())
    assert r.statistic == 0.0 and r.pvalue == 1.0
    assert_ks_equal(np.zeros(10), np.zeros(12))
    assert_ks_equal(np.array([1.0]), np.array([2.0]))
    r = assert_ks_equal(np.arange(50.0), np.arange(100.0, 150.0))
    assert r.statistic == 1.0
    # Large ties across the boundary: asymptotic with heavy duplication.
    assert_ks_equal(
        rng.integers(0, 3, size=30_000).astype(float), rng.integers(0, 3, size=20_000) + 0.0
    )


@given(
    a=st.lists(st.integers(-20, 20), min_size=1, max_size=60),
    b=st.lists(st.integers(-20, 20), min_size=1, max_size=60),
)
def test_ks_and_wasserstein_equal_scipy_on_any_small_samples(a: list[int], b: list[int]) -> None:
    x = np.array(a, dtype=float) / 4
    y = np.array(b, dtype=float) / 4
    assert_ks_equal(x, y)
    expected = scipy_stats.wasserstein_distance(x, y)
    assert drift.wasserstein(x, y) == pytest.approx(expected, rel=STAT_RTOL, abs=1e-15)


@pytest.mark.parametrize(("n1", "n2"), [(1, 1), (3, 9), (1000, 1500), (100_000, 80_000)])
def test_wasserstein_equals_scipy(n1: int, n2: int) -> None:
    a, b = pair(n1 + n2, n1, n2, 0.3)
    assert drift.wasserstein(a, b) == pytest.approx(
        scipy_stats.wasserstein_distance(a, b), rel=STAT_RTOL
    )
    assert drift.wasserstein(a, a) == 0.0


def test_one_million_scores() -> None:
    a, b = pair(11, 1_000_000, 1_000_000, 0.003)
    assert_ks_equal(a, b)
    assert drift.wasserstein(a, b) == pytest.approx(
        scipy_stats.wasserstein_distance(a, b), rel=STAT_RTOL
    )


@pytest.mark.parametrize("n", [1, 5, 60, 140, 141, 1000, 5000, 100_000, 100_001, 500_000])
def test_kolmogorov_distribution_equals_scipy_kstwo(n: int) -> None:
    for d in [1e-4, 0.3 / n, 0.7 / n, 1.0 / n, 0.003, 0.01, 0.02, 0.05, 0.1, 0.3, 0.5, 0.7]:
        if d >= 1:
            continue
        expected = scipy_stats.kstwo.sf(d, n)
        assert core.drift.kolmogorov_sf(n, d) == pytest.approx(expected, rel=P_RTOL, abs=1e-300)


def assert_cvm_equal(a: Array, b: Array, method: str = "auto") -> drift.CramerVonMisesResult:
    ours = drift.cramervonmises(a, b, method=method)  # type: ignore[arg-type]
    reference = scipy_stats.cramervonmises_2samp(a, b, method=method)
    assert ours.statistic == pytest.approx(reference.statistic, rel=STAT_RTOL, abs=1e-15)
    assert ours.pvalue == pytest.approx(reference.pvalue, rel=P_RTOL, abs=1e-13)
    return ours


CVM_SIZES = [(2, 2), (3, 5), (10, 12), (20, 20), (20, 7), (21, 30), (5, 25), (1000, 1500)]


@pytest.mark.parametrize(("n1", "n2"), CVM_SIZES, ids=[f"{a}x{b}" for a, b in CVM_SIZES])
@pytest.mark.parametrize("rounded", [False, True], ids=["continuous", "ties"])
def test_cramervonmises_equals_scipy(n1: int, n2: int, rounded: bool) -> None:
    a, b = pair(n1 * 3 + n2, n1, n2, 0.4)
    if rounded:
        a, b = np.round(a), np.round(b)
    ours = assert_cvm_equal(a, b)
    assert ours.method == ("exact" if max(n1, n2) <= 20 else "asymptotic")


def test_cramervonmises_large_and_forced_methods() -> None:
    a, b = pair(3, 200_000, 150_000, 0.01)
    assert_cvm_equal(a, b)
    small_a, small_b = pair(4, 15, 9, 0.2)
    assert_cvm_equal(small_a, small_b, "asymptotic")
    mid_a, mid_b = pair(5, 25, 22, 0.2)
    assert_cvm_equal(mid_a, mid_b, "exact")


def scipy_anderson(samples: list[Array]) -> Any:
    # scipy warns when its p-value hits the table's cap or floor; we report that in a field.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return scipy_stats.anderson_ksamp(samples, variant="midrank")


AD_CASES = [(10, 12, 0.0), (10, 12, 0.9), (100, 120, 0.3), (50, 60, 0.45), (5000, 4000, 0.05)]


@pytest.mark.parametrize(("n1", "n2", "shift"), AD_CASES)
@pytest.mark.parametrize("rounded", [False, True], ids=["continuous", "ties"])
def test_anderson_ksamp_equals_scipy(n1: int, n2: int, shift: float, rounded: bool) -> None:
    a, b = pair(n1 + n2, n1, n2, shift)
    if rounded:
        a, b = np.round(a * 2), np.round(b * 2)
    ours = drift.anderson_ksamp([a, b])
    reference = scipy_anderson([a, b])
    assert ours.statistic == pytest.approx(reference.statistic, rel=STAT_RTOL)
    assert ours.pvalue == pytest.approx(reference.pvalue, rel=P_RTOL)
    assert ours.pvalue_capped == (reference.pvalue in (0.25, 0.001))


def test_anderson_ksamp_three_samples_and_interpolated_pvalue() -> None:
    rng = np.random.default_rng(8)
    found_interpolated = False
    for shift in np.linspace(0.0, 0.6, 13):
        samples = [rng.normal(size=80), rng.normal(shift, 1, size=90), rng.normal(size=70)]
        ours = drift.anderson_ksamp(samples)
        reference = scipy_anderson(samples)
        assert ours.statistic == pytest.approx(reference.statistic, rel=STAT_RTOL)
        assert ours.pvalue == pytest.approx(reference.pvalue, rel=P_RTOL)
        found_interpolated |= not ours.pvalue_capped
    assert found_interpolated


def test_non_finite_policy() -> None:
    a, b = pair(9, 200, 300, 0.2)
    dirty = a.copy()
    dirty[[3, 50]] = [np.nan, np.inf]
    with pytest.raises(InvalidArgument, match=r"reference\[3\]: is nan") as info:
        drift.ks_2samp(dirty, b)
    assert info.value.field == "reference[3]"
    r = drift.ks_2samp(dirty, b, non_finite="drop")
    clean = dirty[np.isfinite(dirty)]
    assert r.dropped == (2, 0)
    kept = drift.ks_2samp(clean, b)
    assert (r.statistic, r.pvalue, r.method) == (kept.statistic, kept.pvalue, kept.method)
    assert r.statistic == scipy_ks(clean, b).statistic
    assert drift.wasserstein(dirty, b, non_finite="drop") == drift.wasserstein(clean, b)
    assert drift.cramervonmises(b, dirty, non_finite="drop").dropped == (0, 2)
    assert drift.anderson_ksamp([b, dirty], non_finite="drop").dropped == (0, 2)
    with pytest.raises(InvalidArgument, match=r"current\[0\]"):
        drift.wasserstein(b, np.array([-np.inf, 1.0]))
    with pytest.raises(InvalidArgument, match="current: holds no finite score"):
        drift.ks_2samp(b, np.array([np.nan]), non_finite="drop")
    with pytest.raises(InvalidArgument, match="non_finite: must be 'reject' or 'drop'"):
        drift.ks_2samp(a, b, non_finite="ignore")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: drift.ks_2samp([], [1.0]), r"reference: is empty"),
        (lambda: drift.ks_2samp([1.0], []), r"current: is empty"),
        (lambda: drift.wasserstein([1.0], np.array([])), r"current: is empty"),
        (lambda: drift.ks_2samp([[1.0]], [1.0]), r"reference: must be one-dimensional"),
        (lambda: drift.ks_2samp([1.0], ["a"]), r"current: must be numbers"),
        (lambda: drift.ks_2samp([1.0], [2.0], method="fast"), r"method: must be 'auto'"),
        (lambda: drift.ks_2samp([1.0], [2.0], alternative="up"), r"alternative: must be"),
        (lambda: drift.cramervonmises([1.0], [2.0, 3.0]), r"reference: holds 1 score"),
        (lambda: drift.anderson_ksamp([[1.0, 2.0]]), r"samples: holds 1 sample"),
        (lambda: drift.anderson_ksamp([[1.0], []]), r"samples\[1\]: is empty"),
        (lambda: drift.anderson_ksamp([[1.0], [1.0]]), r"single distinct value"),
        (lambda: drift.ks_2samp([1.0], [2.0], threads=0), r"threads: must be"),
    ],
    ids=[
        "empty-reference",
        "empty-current",
        "wasserstein-empty",
        "2d",
        "strings",
        "method",
        "alternative",
        "cvm-too-small",
        "ad-one-sample",
        "ad-empty",
        "ad-one-value",
        "threads",
    ],
)
def test_bad_input_names_the_field(call: Any, pattern: str) -> None:
    with pytest.raises(InvalidArgument, match=pattern):
        call()


def test_pandas_and_lists_and_threads() -> None:
    import pandas as pd

    a, b = pair(12, 5000, 4000, 0.1)
    expected = drift.ks_2samp(a, b)
    assert drift.ks_2samp(pd.Series(a), b.tolist()) == expected
    assert drift.ks_2samp(a, b, threads=1) == expected
    assert drift.wasserstein(a.astype(np.float32), b) == pytest.approx(
        scipy_stats.wasserstein_distance(a.astype(np.float32), b), rel=STAT_RTOL
    )


def test_concurrent_calls_agree() -> None:
    from concurrent.futures import ThreadPoolExecutor

    a, b = pair(13, 300_000, 300_000, 0.01)
    expected = drift.ks_2samp(a, b)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: drift.ks_2samp(a, b), range(8)))
    assert all(r == expected for r in results)


def test_docstring_examples() -> None:
    import doctest

    import lumengate._drift_tests

    result = doctest.testmod(lumengate._drift_tests, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@given(
    a=st.lists(st.integers(-6, 6), min_size=2, max_size=25),
    b=st.lists(st.integers(-6, 6), min_size=2, max_size=25),
)
def test_cramervonmises_and_anderson_equal_scipy_on_any_small_samples(
    a: list[int], b: list[int]
) -> None:
    x = np.array(a, dtype=float) / 2
    y = np.array(b, dtype=float) / 2
    assert_cvm_equal(x, y)
    if len(np.unique(np.concatenate([x, y]))) < 2 or len(x) + len(y) < 5:
        return
    ours = drift.anderson_ksamp([x, y])
    reference = scipy_anderson([x, y])
    assert ours.statistic == pytest.approx(reference.statistic, rel=STAT_RTOL, abs=1e-12)
    assert ours.pvalue == pytest.approx(reference.pvalue, rel=P_RTOL)


@pytest.mark.parametrize(
    ("n1", "n2", "alternative"),
    [(50_000, 49_999, "two-sided"), (20_000, 20_000, "two-sided"), (15_000, 12_000, "greater")],
    ids=["lcm-too-large", "large-square", "one-sided-overflow"],
)
def test_ks_forced_exact_on_large_samples(n1: int, n2: int, alternative: str) -> None:
    # scipy switches to asymp (with a warning) when lcm(n1, n2) exceeds int32 or its path
    # count overflows; otherwise it counts exactly at any size.
    a, b = pair(n1 + n2, n1, n2, 0.01)
    assert_ks_equal(a, b, "exact", alternative)
