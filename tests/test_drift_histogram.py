"""Histograms, divergences, chi-square, the report and mergeable state, checked against scipy
and numpy. Tolerance: rtol 1e-12 unless a comment says why it is looser."""

from __future__ import annotations

import doctest
import itertools
import pickle
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, entropy

import lumengate._drift_histogram
from lumengate import drift
from lumengate.errors import InvalidArgument

RTOL = 1e-12
Floats = npt.NDArray[np.float64]


def _smooth(counts: Floats, alpha: float = 0.5) -> Floats:
    p: Floats = np.asarray(counts, dtype=np.float64) + alpha
    return p / float(p.sum())


def ref_kl(p: Floats, q: Floats) -> float:
    return float(entropy(q, p))


def ref_js(p: Floats, q: Floats) -> float:
    return float(jensenshannon(p, q))


def ref_psi(p: Floats, q: Floats) -> float:
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum((q - p) * np.log(q / p)))


def ref_hellinger(p: Floats, q: Floats) -> float:
    p, q = p / p.sum(), q / q.sum()
    return float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)) / np.sqrt(2))


REFERENCES = {"kl": ref_kl, "js": ref_js, "psi": ref_psi, "hellinger": ref_hellinger}
FUNCTIONS = {
    "kl": drift.kl,
    "js": drift.js_distance,
    "psi": drift.psi,
    "hellinger": drift.hellinger,
}


def counts_of(scores: Floats, edges: Floats) -> Floats:
    """numpy's binning with our outer-bin rule (scores outside finite edges are clipped)."""
    index = np.clip(np.searchsorted(edges, scores, side="right") - 1, 0, edges.size - 2)
    return np.bincount(index, minlength=edges.size - 1).astype(np.float64)


def test_module_docstring_examples() -> None:
    result = doctest.testmod(lumengate._drift_histogram, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# Probability vectors ------------------------------------------------------------------


VECTORS = [
    ([0.5, 0.5], [0.9, 0.1]),
    ([0.1, 0.2, 0.7], [0.3, 0.3, 0.4]),
    ([1, 2, 3, 4], [4, 3, 2, 1]),  # counts are normalised
    ([0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]),  # identical
    ([1e-300, 1.0], [1.0, 1e-300]),  # extreme but positive
]


@pytest.mark.parametrize("statistic", sorted(FUNCTIONS))
@pytest.mark.parametrize("pair", VECTORS, ids=[f"v{i}" for i in range(len(VECTORS))])
def test_vector_statistics_equal_scipy(statistic: str, pair: tuple[list[float], ...]) -> None:
    p, q = (np.asarray(v, dtype=np.float64) for v in pair)
    assert FUNCTIONS[statistic](p, q) == pytest.approx(REFERENCES[statistic](p, q), rel=RTOL)


@pytest.mark.parametrize("statistic", sorted(FUNCTIONS))
def test_vector_statistics_random(statistic: str) -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        k = int(rng.integers(1, 40))
        p, q = rng.random(k), rng.random(k)
        expected = REFERENCES[statistic](p, q)
        assert FUNCTIONS[statistic](p, q) == pytest.approx(expected, rel=RTOL, abs=1e-15)


def test_zero_bins_follow_scipy() -> None:
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.0, 0.5])
    assert drift.kl(p, q) == entropy(q, p) == np.inf
    assert drift.kl(q, q) == 0.0
    assert drift.js_distance(p, q) == pytest.approx(jensenshannon(p, q), rel=RTOL)
    assert drift.psi(p, q) == np.inf
    assert drift.hellinger(p, q) == pytest.approx(ref_hellinger(p, q), rel=RTOL)
    assert np.isfinite(drift.psi(p, q, smoothing=0.5))


def test_vector_smoothing_matches_smoothed_scipy() -> None:
    p, q = np.array([10.0, 0.0, 5.0]), np.array([0.0, 3.0, 12.0])
    assert drift.kl(p, q, smoothing=0.5) == pytest.approx(entropy(_smooth(q), _smooth(p)), rel=RTOL)


@pytest.mark.parametrize(
    ("reference", "current", "field", "text"),
    [
        ([0.5, 0.5], [1.0, 0.0, 0.0], "current", "same bins"),
        ([0.5, -0.1], [0.5, 0.5], "reference[1]", "must be finite and >= 0"),
        ([0.5, np.nan], [0.5, 0.5], "reference[1]", "must be finite"),
        ([0.5, 0.5], [np.inf, 0.5], "current[0]", "must be finite"),
        ([0.0, 0.0], [0.5, 0.5], "reference", "all zeros"),
        ([], [], "reference", "is empty"),
    ],
    ids=["length", "negative", "nan", "inf", "all-zero", "empty"],
)
def test_vector_bad_input(
    reference: list[float], current: list[float], field: str, text: str
) -> None:
    with pytest.raises(InvalidArgument, match=text) as caught:
        drift.kl(reference, current)
    assert caught.value.field == field


def test_bad_smoothing_and_statistic() -> None:
    with pytest.raises(InvalidArgument, match="smoothing"):
        drift.kl([1, 1], [1, 1], smoothing=-1)
    with pytest.raises(InvalidArgument, match="statistic"):
        drift.divergence([1.0, 2.0], [1.0, 2.0], "tv")  # type: ignore[arg-type]


# Edges ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 10, 101, 1000, 12345])
@pytest.mark.parametrize("bins", [1, 2, 10, 64])
def test_quantile_edges_equal_numpy(n: int, bins: int) -> None:
    x = np.random.default_rng(n).normal(size=n)
    edges = drift.histogram_edges(x, bins)
    expected = np.unique(np.quantile(x, np.arange(1, bins) / bins))
    assert edges[0] == -np.inf and edges[-1] == np.inf
    np.testing.assert_allclose(edges[1:-1], expected, rtol=RTOL)


def test_quantile_edges_merge_duplicates() -> None:
    x = np.array([0.0] * 50 + [1.0] * 30 + [2.0] * 20)
    edges = drift.histogram_edges(x, 10)
    np.testing.assert_array_equal(
        edges, [-np.inf, *np.unique(np.quantile(x, np.arange(1, 10) / 10)), np.inf]
    )
    assert np.all(np.diff(edges) > 0)


@pytest.mark.parametrize("method", ["uniform", "sturges", "doane"])
@pytest.mark.parametrize("case", ["normal", "skewed", "ties", "one-value", "two-values"])
def test_rule_edges_equal_numpy(method: str, case: str) -> None:
    rng = np.random.default_rng(3)
    x = {
        "normal": rng.normal(size=5000),
        "skewed": rng.exponential(size=777),
        "ties": rng.integers(0, 5, size=400).astype(float),
        "one-value": np.full(10, 2.5),
        "two-values": np.array([1.0, 3.0]),
    }[case]
    bins: int | str = 10 if method == "uniform" else method
    expected = np.histogram_bin_edges(x, bins=bins)
    np.testing.assert_allclose(drift.histogram_edges(x, 10, method), expected, rtol=RTOL)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reference", "kwargs", "field", "text"),
    [
        ([3.0, 3.0, 3.0], {}, "reference", "one distinct value"),
        ([], {}, "reference", "is empty"),
        ([1.0, np.nan], {}, "reference[1]", "must be finite"),
        ([1.0, 2.0], {"bins": 0}, "bins", "at least 1"),
        ([1.0, 2.0], {"method": "fd"}, "method", "'quantile', 'uniform'"),
    ],
    ids=["one-value", "empty", "nan", "zero-bins", "method"],
)
def test_edges_bad_input(
    reference: list[float], kwargs: dict[str, object], field: str, text: str
) -> None:
    with pytest.raises(InvalidArgument, match=text) as caught:
        drift.histogram_edges(reference, **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_edges_drop_non_finite() -> None:
    x = np.array([1.0, np.nan, 2.0, np.inf, 3.0, 4.0])
    np.testing.assert_array_equal(
        drift.histogram_edges(x, 2, non_finite="drop"), drift.histogram_edges(x[np.isfinite(x)], 2)
    )


# Divergences of scores -------------------------------------------------------------------


def _scipy_divergence(ref: Floats, cur: Floats, edges: Floats, statistic: str) -> float:
    return REFERENCES[statistic](_smooth(counts_of(ref, edges)), _smooth(counts_of(cur, edges)))


SAMPLES: dict[str, Callable[[np.random.Generator], tuple[Floats, Floats]]] = {
    "shifted": lambda rng: (rng.normal(size=20_000), rng.normal(0.4, 1.2, size=7_000)),
    "identical": lambda rng: (np.arange(1000.0), np.arange(1000.0)),
    "ties": lambda rng: (
        rng.integers(0, 4, 3000).astype(float),
        rng.integers(0, 6, 500).astype(float),
    ),
    "n1-current": lambda rng: (rng.normal(size=500), np.array([0.3])),
    "outside-range": lambda rng: (rng.uniform(size=500), rng.uniform(-2, 3, size=500)),
    "large": lambda rng: (rng.normal(size=1_000_003), rng.standard_t(3, size=500_001)),
}


@pytest.mark.parametrize("statistic", ["kl", "psi", "js", "hellinger"])
@pytest.mark.parametrize("case", sorted(SAMPLES))
@pytest.mark.parametrize("method", ["quantile", "uniform", "sturges", "doane"])
def test_divergence_equals_binned_scipy(statistic: str, case: str, method: str) -> None:
    ref, cur = SAMPLES[case](np.random.default_rng(11))
    edges = drift.histogram_edges(ref, 10, method)  # type: ignore[arg-type]
    value = drift.divergence(ref, cur, statistic, method=method)  # type: ignore[arg-type]
    expected = _scipy_divergence(ref, cur, edges, statistic)
    # Sums over >= 10 bins in a different order: 1e-12 relative, plus an absolute floor
    # for statistics that are 0 up to rounding (identical samples).
    assert value == pytest.approx(expected, rel=RTOL, abs=1e-15)


def test_kl_divergence_and_given_edges() -> None:
    rng = np.random.default_rng(5)
    ref, cur = rng.normal(size=4000), rng.normal(0.2, size=3000)
    edges = np.array([-np.inf, -1.0, 0.0, 0.5, 1.0, np.inf])
    expected = entropy(_smooth(counts_of(cur, edges)), _smooth(counts_of(ref, edges)))
    assert drift.kl_divergence(ref, cur, bins=edges) == pytest.approx(expected, rel=RTOL)
    assert drift.kl_divergence(ref, cur) == pytest.approx(
        _scipy_divergence(ref, cur, drift.histogram_edges(ref), "kl"), rel=RTOL
    )
    unsmoothed = drift.kl_divergence(ref, cur, bins=edges, smoothing=None)
    assert unsmoothed == pytest.approx(
        entropy(counts_of(cur, edges), counts_of(ref, edges)), rel=RTOL
    )


def test_binning_matches_numpy_histogram_in_range() -> None:
    rng = np.random.default_rng(9)
    x = rng.normal(size=300_001)
    edges = np.linspace(-6, 6, 33)
    counts, dropped = lumengate._drift_histogram._native.bin_counts(x, edges, "reject", "scores", 0)
    np.testing.assert_array_equal(counts, np.histogram(x, edges)[0])
    assert dropped == 0


def test_psi_never_infinite_with_smoothing() -> None:
    ref = np.arange(100.0)
    cur = np.full(50, 1000.0)  # every current score in the last bin
    assert np.isfinite(drift.divergence(ref, cur, "psi"))
    assert drift.divergence(ref, cur, "psi", smoothing=None) == np.inf


def test_non_finite_scores() -> None:
    ref = np.arange(100.0)
    cur = np.array([1.0, 2.0, np.nan, 50.0])
    with pytest.raises(
        InvalidArgument, match=r"current\[2\]: is nan; scores must be finite"
    ) as caught:
        drift.divergence(ref, cur)
    assert caught.value.field == "current[2]"
    dropped = drift.divergence(ref, cur, non_finite="drop")
    assert dropped == drift.divergence(ref, cur[np.isfinite(cur)])
    with pytest.raises(InvalidArgument, match="non_finite"):
        drift.divergence(ref, cur, non_finite="ignore")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("edges", "field", "text"),
    [
        ([0.0, 1.0, 1.0, 2.0], "edges[2]", "strictly increasing"),
        ([0.0, 2.0, 1.0], "edges[2]", "strictly increasing"),
        ([1.0], "edges", "at least two edges"),
        ([0.0, np.nan, 1.0], "edges[1]", "NaN"),
    ],
    ids=["duplicate", "decreasing", "one-edge", "nan"],
)
def test_bad_edges(edges: list[float], field: str, text: str) -> None:
    with pytest.raises(InvalidArgument, match=text) as caught:
        drift.divergence([0.5, 1.5], [0.5, 1.5], bins=np.array(edges))
    assert caught.value.field == field


def test_empty_current() -> None:
    with pytest.raises(InvalidArgument, match="current: is empty"):
        drift.divergence([1.0, 2.0, 3.0], [])


# Categories ------------------------------------------------------------------------------


def test_categorical_divergence() -> None:
    ref = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    cur = ["a"] * 20 + ["b"] * 30 + ["c"] * 50
    expected = entropy(_smooth(np.array([20, 30, 50])), _smooth(np.array([50, 30, 20])))
    assert drift.divergence(ref, cur, "kl") == pytest.approx(expected, rel=RTOL)
    assert drift.divergence(pd.Series(ref, dtype="category"), pd.Series(cur)) == pytest.approx(
        expected, rel=RTOL
    )
    assert drift.divergence(
        {"a": 50, "b": 30, "c": 20}, {"c": 50, "a": 20, "b": 30}, categorical=True
    ) == pytest.approx(expected, rel=RTOL)


def test_mismatched_categories() -> None:
    with pytest.raises(InvalidArgument, match=r"categories not in the reference: 'z'") as caught:
        drift.divergence(["a", "b"], ["a", "z"])
    assert caught.value.field == "current"
    value = drift.divergence(["a", "b"], ["a", "z"], allow_new_categories=True)
    expected = entropy(_smooth(np.array([1, 0, 1])), _smooth(np.array([1, 1, 0])))
    assert value == pytest.approx(expected, rel=RTOL)


def test_negative_category_counts() -> None:
    with pytest.raises(InvalidArgument, match="counts must be >= 0") as caught:
        drift.category_counts({"a": 1, "b": -2}, {"a": 1})
    assert caught.value.field == "reference['b']"


# Chi-square --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        ([50, 50], [30, 70]),
        ([10, 20, 30, 40], [40, 30, 20, 10]),
        ([1, 0, 5], [0, 2, 5]),
        ([1000, 1], [999, 2]),
        ([7], [3]),
    ],
    ids=["2x2", "2x4", "zeros", "skewed", "one-category"],
)
def test_chi2_equals_scipy(ref: list[int], cur: list[int]) -> None:
    result = drift.chi2_test(ref, cur)
    expected = chi2_contingency(np.array([ref, cur]), correction=False)
    assert result.statistic == pytest.approx(expected.statistic, rel=RTOL, abs=1e-15)
    # p-values from Boost.Math vs scipy's cephes agree to ~1e-12 away from underflow.
    assert result.pvalue == pytest.approx(expected.pvalue, rel=1e-10)
    assert result.dof == expected.dof


def test_chi2_random_tables() -> None:
    rng = np.random.default_rng(2)
    for _ in range(30):
        k = int(rng.integers(2, 12))
        ref, cur = rng.integers(1, 500, k), rng.integers(1, 500, k)
        result = drift.chi2_test(ref, cur)
        expected = chi2_contingency(np.array([ref, cur]), correction=False)
        assert result.statistic == pytest.approx(expected.statistic, rel=RTOL)
        assert result.pvalue == pytest.approx(expected.pvalue, rel=1e-10, abs=1e-300)


def test_chi2_mappings_and_errors() -> None:
    result = drift.chi2_test({"a": 50, "b": 50}, {"b": 70, "a": 30})
    assert result == drift.chi2_test([50, 50], [30, 70])
    with pytest.raises(InvalidArgument, match="both 0") as caught:
        drift.chi2_test([1, 0, 2], [1, 0, 3])
    assert caught.value.field == "reference[1]"
    with pytest.raises(InvalidArgument, match="must be finite and >= 0"):
        drift.chi2_test([1, -1], [1, 1])


# Benjamini-Hochberg and the report ---------------------------------------------------------


def brute_force_bh(p: list[float]) -> list[float]:
    m = len(p)
    ranked = sorted(range(m), key=lambda i: (p[i], i))
    rank = {index: r + 1 for r, index in enumerate(ranked)}
    return [
        min(1.0, min(p[j] * m / rank[j] for j in range(m) if rank[j] >= rank[i])) for i in range(m)
    ]


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_bh_equals_brute_force(p: list[float]) -> None:
    np.testing.assert_allclose(drift.benjamini_hochberg(p), brute_force_bh(p), rtol=RTOL)


def test_bh_bad_input() -> None:
    with pytest.raises(InvalidArgument, match=r"pvalues\[1\]"):
        drift.benjamini_hochberg([0.1, 1.5])


def test_report() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    ref = pd.DataFrame(
        {
            "same": rng.normal(size=n),
            "shifted": rng.normal(size=n),
            "color": rng.choice(["red", "green", "blue"], n),
            "flag": rng.random(n) < 0.5,
            "only_ref": rng.normal(size=n),
        }
    )
    cur = pd.DataFrame(
        {
            "same": rng.normal(size=n),
            "shifted": rng.normal(0.5, size=n),
            "color": rng.choice(["red", "green", "blue", "pink"], n, p=[0.1, 0.3, 0.3, 0.3]),
            "flag": rng.random(n) < 0.5,
        }
    )
    table = drift.report(ref, cur)
    assert list(table["column"]) == ["color", "flag", "same", "shifted"]
    assert set(table.columns) >= {
        "column",
        "kind",
        "test",
        "statistic",
        "pvalue",
        "pvalue_adjusted",
        "psi",
        "drift",
    }
    rows = table.set_index("column")
    assert bool(rows.loc["shifted", "drift"]) and bool(rows.loc["color", "drift"])
    assert not bool(rows.loc["same", "drift"])
    np.testing.assert_allclose(
        table["pvalue_adjusted"], brute_force_bh(list(table["pvalue"])), rtol=RTOL
    )
    color = drift.category_counts(
        ref["color"].to_numpy(), cur["color"].to_numpy(), allow_new_categories=True
    )
    expected = chi2_contingency(np.array([color.reference, color.current]), correction=False)
    assert rows.loc["color", "statistic"] == pytest.approx(expected.statistic, rel=RTOL)
    numeric = rows.loc["shifted"]
    if numeric["test"] == "ks":
        from scipy.stats import ks_2samp

        assert numeric["pvalue"] == pytest.approx(
            ks_2samp(ref["shifted"], cur["shifted"]).pvalue, rel=1e-9
        )
    else:
        edges = drift.histogram_edges(ref["shifted"].to_numpy())
        expected = chi2_contingency(
            np.array(
                [
                    counts_of(ref["shifted"].to_numpy(), edges),
                    counts_of(cur["shifted"].to_numpy(), edges),
                ]
            ),
            correction=False,
        )
        assert numeric["test"].startswith("chi2 (binned")
        assert numeric["statistic"] == pytest.approx(expected.statistic, rel=RTOL)
    ref["constant"], cur["constant"] = 1.0, 1.0
    assert not bool(drift.report(ref, cur).set_index("column").loc["constant", "drift"])
    raw = drift.report(ref, cur, correction="none")
    np.testing.assert_array_equal(raw["pvalue_adjusted"], raw["pvalue"])
    with pytest.raises(InvalidArgument, match="correction"):
        drift.report(ref, cur, correction="holm")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="shares no column"):
        drift.report(ref[["only_ref"]], cur)


# Mergeable state ---------------------------------------------------------------------------

EDGES = np.array([-np.inf, -1.0, 0.0, 0.5, 2.0, np.inf])
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


def _state(values: list[float]) -> drift.HistogramState:
    return drift.HistogramState.from_scores(np.array(values, dtype=np.float64), EDGES)


def _state_or_empty(values: list[float]) -> drift.HistogramState:
    return _state(values) if values else drift.HistogramState.empty(EDGES)


@given(st.lists(finite, max_size=40), st.lists(finite, max_size=40))
def test_merge_equals_concatenation(a: list[float], b: list[float]) -> None:
    merged = _state_or_empty(a).merge(_state_or_empty(b))
    together = _state_or_empty(a + b)
    assert merged == together
    assert merged.to_bytes() == together.to_bytes()  # exact, bit for bit
    np.testing.assert_array_equal(merged.counts, together.counts)
    assert merged.n == len(a) + len(b)
    if a or b:
        assert merged.min == min(a + b) and merged.max == max(a + b)
        assert merged.sum == together.sum and merged.sum_of_squares == together.sum_of_squares


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60))
def test_state_moments_are_exact(values: list[float]) -> None:
    import math
    from fractions import Fraction

    state = _state(values)
    exact_sum = sum(Fraction(v) for v in values)
    exact_squares = sum(Fraction(v) ** 2 for v in values)
    assert state.sum == pytest.approx(float(exact_sum), rel=1e-15, abs=1e-300)
    assert state.sum_of_squares == pytest.approx(float(exact_squares), rel=1e-15, abs=1e-300)
    assert math.isclose(state.mean, float(exact_sum) / len(values), rel_tol=1e-12, abs_tol=1e-12)


def test_large_state_is_independent_of_threads() -> None:
    x = np.random.default_rng(0).normal(size=500_001) * 1e3
    one = drift.HistogramState.from_scores(x, EDGES, threads=1)
    two = drift.HistogramState.from_scores(x, EDGES, threads=2)
    assert one == two and one.to_bytes() == two.to_bytes()
    np.testing.assert_array_equal(one.counts, counts_of(x, EDGES))
    assert one.sum == pytest.approx(float(np.sum(x)), rel=1e-9)
    halves = drift.HistogramState.from_scores(x[:123_457], EDGES).merge(
        drift.HistogramState.from_scores(x[123_457:], EDGES)
    )
    assert halves == one


def test_state_bytes_round_trip_and_pickle() -> None:
    state = _state([0.1, -3.0, 7.5, 0.0, -0.0, 5e-324, 1e308])
    data = state.to_bytes()
    assert data[:4] == b"LGHS" and data[4] == 1
    assert drift.HistogramState.from_bytes(data) == state
    assert pickle.loads(pickle.dumps(state)) == state


@pytest.mark.parametrize(
    ("mutate", "text"),
    [
        (lambda b: b[:-3], "checksum"),
        (lambda b: b[:6], "truncated"),
        (lambda b: b"XXXX" + b[4:], "magic header"),
        (lambda b: b[:4] + bytes([9]) + b[5:], "version 9"),
        (lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:], "checksum"),
        (lambda b: b"", "truncated"),
    ],
    ids=["cut-tail", "cut-head", "magic", "version", "flipped-bit", "empty"],
)
def test_corrupt_state_bytes(mutate: object, text: str) -> None:
    data = _state([1.0, 2.0]).to_bytes()
    with pytest.raises(InvalidArgument, match=text) as caught:
        drift.HistogramState.from_bytes(mutate(data))  # type: ignore[operator]
    assert caught.value.field == "data"


def test_merge_needs_same_edges() -> None:
    other = drift.HistogramState.from_scores([1.0], np.array([-np.inf, 0.0, np.inf]))
    with pytest.raises(
        InvalidArgument, match="only states built on the same edges merge"
    ) as caught:
        _state([1.0]).merge(other)
    assert caught.value.field == "other.edges"
    with pytest.raises(InvalidArgument, match="differ"):
        drift.divergence_from_states(_state([1.0]), other)


@pytest.mark.parametrize("statistic", ["kl", "psi", "js", "hellinger"])
def test_divergence_from_states(statistic: str) -> None:
    rng = np.random.default_rng(8)
    ref, cur = rng.normal(size=5000), rng.normal(0.3, size=4000)
    edges = drift.histogram_edges(ref)
    states = [drift.HistogramState.from_scores(part, edges) for part in np.array_split(cur, 7)]
    current = states[0]
    for s in states[1:]:
        current = current.merge(s)
    value = drift.divergence_from_states(
        drift.HistogramState.from_scores(ref, edges),
        current,
        statistic,  # type: ignore[arg-type]
    )
    assert value == pytest.approx(drift.divergence(ref, cur, statistic), rel=RTOL)  # type: ignore[arg-type]


def test_state_rejects_bad_scores() -> None:
    with pytest.raises(InvalidArgument, match=r"scores\[1\]"):
        _state([1.0, np.inf])
    with pytest.raises(InvalidArgument, match="scores: is empty"):
        _state([])
    dropped = drift.HistogramState.from_scores(np.array([1.0, np.nan]), EDGES, non_finite="drop")
    assert dropped == _state([1.0])


def test_all_pairs_of_statistics_are_symmetric_where_expected() -> None:
    p, q = np.array([0.2, 0.3, 0.5]), np.array([0.4, 0.4, 0.2])
    for a, b in itertools.permutations([p, q]):
        assert drift.js_distance(a, b) == pytest.approx(drift.js_distance(b, a), rel=RTOL)
        assert drift.psi(a, b) == pytest.approx(drift.psi(b, a), rel=RTOL)


def test_state_byte_layout_is_little_endian() -> None:
    import struct

    state = _state([0.25, 3.0, 3.0])
    data = state.to_bytes()
    (count,) = struct.unpack_from("<I", data, 5)
    assert count == EDGES.size
    edges = struct.unpack_from(f"<{count}d", data, 9)
    np.testing.assert_array_equal(edges, EDGES)
    counts = struct.unpack_from(f"<{count - 1}Q", data, 9 + 8 * count)
    assert list(counts) == [0, 0, 1, 0, 2]
    (n,) = struct.unpack_from("<Q", data, 9 + 8 * count + 8 * (count - 1))
    assert n == 3
