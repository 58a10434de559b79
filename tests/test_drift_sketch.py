"""lumengate.drift.QuantileSketch: rank error within epsilon*n, merge = concatenation within
the bound, byte round trips, and KS/Wasserstein from sketches within their bounds."""

from __future__ import annotations

import pickle
import struct

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from lumengate import drift
from lumengate.errors import InvalidArgument, ParseError

Array = npt.NDArray[np.float64]


def exact_rank(sorted_values: Array, x: float) -> int:
    return int(np.searchsorted(sorted_values, x, side="right"))


def assert_ranks_within(sketch: drift.QuantileSketch, values: Array, probes: Array) -> None:
    ordered = np.sort(values)
    n = len(values)
    bound = sketch.epsilon * n
    assert sketch.rank_error_bound <= bound
    for x in probes:
        estimate = sketch.cdf(float(x)) * n
        assert abs(estimate - exact_rank(ordered, float(x))) <= sketch.rank_error_bound + 1e-9
    for q in (0.0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999, 1.0):
        value = sketch.quantile(q)
        # The returned score's true rank range must meet q*n within the bound.
        low = int(np.searchsorted(ordered, value, side="left"))
        high = exact_rank(ordered, value)
        target = q * n
        assert low - bound <= target <= high + bound


def test_small_stream_is_exact() -> None:
    sketch = drift.QuantileSketch(epsilon=0.01)
    values = np.arange(100.0)
    sketch.update(values)
    assert sketch.n == 100 and sketch.rank_error_bound == 0.0 and sketch.retained == 100
    assert sketch.quantile(0.5) == 49.0 and sketch.cdf(9.0) == 0.1
    assert sketch.min == 0.0 and sketch.max == 99.0


@pytest.mark.parametrize("epsilon", [0.05, 0.01, 0.001])
def test_rank_error_within_epsilon(epsilon: float) -> None:
    rng = np.random.default_rng(1)
    values = rng.lognormal(size=300_000)
    sketch = drift.QuantileSketch(epsilon=epsilon)
    for chunk in np.array_split(values, 7):
        sketch.update(chunk)
    assert sketch.n == len(values) and sketch.retained < len(values)
    assert_ranks_within(sketch, values, np.quantile(values, np.linspace(0, 1, 101)))
    assert np.array_equal(sketch.cdf(np.array([0.5, 1.0])), [sketch.cdf(0.5), sketch.cdf(1.0)])


@given(
    parts=st.lists(
        st.lists(st.integers(-1000, 1000), min_size=0, max_size=3000), min_size=1, max_size=5
    ),
    epsilon=st.sampled_from([0.05, 0.02, 0.01]),
)
def test_merge_of_sketches_answers_like_the_union(parts: list[list[int]], epsilon: float) -> None:
    sketches = []
    for part in parts:
        s = drift.QuantileSketch(epsilon=epsilon)
        s.update(np.array(part, dtype=float))
        sketches.append(s)
    merged = drift.QuantileSketch(epsilon=epsilon)
    for s in sketches:
        merged.merge(s)
    union = np.array([v for part in parts for v in part], dtype=float)
    assert merged.n == len(union)
    if len(union) == 0:
        return
    assert_ranks_within(merged, union, np.linspace(-1000, 1000, 41))
    whole = drift.QuantileSketch(epsilon=epsilon)
    whole.update(union)
    for x in np.linspace(-1000, 1000, 21):
        gap = abs(merged.cdf(float(x)) - whole.cdf(float(x)))
        assert gap <= 2 * epsilon


def test_deterministic_and_round_trips() -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(size=200_000)
    a, b = drift.QuantileSketch(0.01), drift.QuantileSketch(0.01)
    a.update(values)
    b.update(values)
    data = a.to_bytes()
    assert data == b.to_bytes() and data[:4] == b"LGQS"
    assert struct.unpack_from("<I", data, 4)[0] == 1
    restored = drift.QuantileSketch.from_bytes(data)
    assert restored.to_bytes() == data
    assert restored.quantile(0.3) == a.quantile(0.3) and restored.n == a.n
    assert pickle.loads(pickle.dumps(a)).to_bytes() == data
    empty = drift.QuantileSketch()
    assert drift.QuantileSketch.from_bytes(empty.to_bytes()).n == 0


def test_corrupt_bytes_are_rejected() -> None:
    sketch = drift.QuantileSketch(0.05)
    sketch.update(np.arange(5000.0))
    data = sketch.to_bytes()
    with pytest.raises(ParseError, match="not a lumengate QuantileSketch"):
        drift.QuantileSketch.from_bytes(b"XXXX" + data[4:])
    with pytest.raises(ParseError, match="format version 7"):
        drift.QuantileSketch.from_bytes(data[:4] + struct.pack("<I", 7) + data[8:])
    with pytest.raises(ParseError, match="truncated"):
        drift.QuantileSketch.from_bytes(data[:20])
    with pytest.raises(ParseError, match=r"truncated|corrupt"):
        drift.QuantileSketch.from_bytes(data[:-3])
    with pytest.raises(ParseError, match="unexpected bytes"):
        drift.QuantileSketch.from_bytes(data + b"\0")
    count_offset = 4 + 4 + 8 + 4
    bad_count = data[:count_offset] + struct.pack("<Q", 1) + data[count_offset + 8 :]
    with pytest.raises(ParseError, match="do not add up"):
        drift.QuantileSketch.from_bytes(bad_count)
    with pytest.raises(InvalidArgument, match="data: must be bytes"):
        drift.QuantileSketch.from_bytes("LGQS")  # type: ignore[arg-type]


def test_bad_use() -> None:
    with pytest.raises(InvalidArgument, match="epsilon: must be in"):
        drift.QuantileSketch(epsilon=0.0)
    sketch = drift.QuantileSketch()
    with pytest.raises(InvalidArgument, match="sketch: is empty"):
        sketch.quantile(0.5)
    sketch.update([1.0, 2.0])
    with pytest.raises(InvalidArgument, match=r"q: must be in \[0, 1\]"):
        sketch.quantile(1.5)
    with pytest.raises(InvalidArgument, match=r"scores\[1\]: is nan"):
        sketch.update([1.0, float("nan")])
    sketch.update([1.0, float("nan")], non_finite="drop")
    assert sketch.dropped == 1 and sketch.n == 3
    with pytest.raises(InvalidArgument, match="only sketches with the same epsilon merge"):
        sketch.merge(drift.QuantileSketch(epsilon=0.01))
    with pytest.raises(InvalidArgument, match="current: is an empty sketch"):
        drift.ks_from_sketches(sketch, drift.QuantileSketch())
    with pytest.raises(InvalidArgument, match="reference: must be a QuantileSketch"):
        drift.ks_from_sketches([1.0], sketch)  # type: ignore[arg-type]


def sketch_of(values: Array, epsilon: float, parts: int = 4) -> drift.QuantileSketch:
    """Sketch each partition separately and merge, as replicas would."""
    total = drift.QuantileSketch(epsilon)
    for chunk in np.array_split(values, parts):
        part = drift.QuantileSketch(epsilon)
        part.update(chunk)
        total.merge(part)
    return total


def check_distances(n: int, epsilon: float) -> None:
    rng = np.random.default_rng(n)
    a = rng.normal(size=n)
    b = rng.normal(0.02, 1.05, size=n)
    sa, sb = sketch_of(a, epsilon), sketch_of(b, epsilon)
    exact_ks = drift.ks_2samp(a, b).statistic
    ks = drift.ks_from_sketches(sa, sb)
    assert ks.error_bound <= 2 * epsilon
    assert abs(ks.statistic - exact_ks) <= ks.error_bound + 1e-12
    # drift.wasserstein equals scipy's (test_drift_tests.py) and is much faster at 10 M.
    exact_w = drift.wasserstein(a, b) if n > 1_000_000 else scipy_stats.wasserstein_distance(a, b)
    w = drift.wasserstein_from_sketches(sa, sb)
    assert abs(w.statistic - exact_w) <= w.error_bound + 1e-12


def test_distances_from_sketches_within_bounds() -> None:
    check_distances(400_000, 0.001)
    check_distances(400_000, 0.01)


@pytest.mark.slow
def test_ks_from_sketches_on_ten_million_scores() -> None:
    check_distances(10_000_000, 0.001)


def test_one_sketch_shared_between_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    sketch = drift.QuantileSketch(epsilon=0.01)
    other = drift.QuantileSketch(epsilon=0.01)
    other.update(np.arange(1000.0))
    chunks = np.array_split(np.random.default_rng(3).normal(size=400_000), 16)

    def work(index: int) -> float:
        sketch.update(chunks[index])
        if index % 4 == 0:
            sketch.merge(other)
        drift.ks_from_sketches(sketch, other)
        return sketch.quantile(0.5)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(16)))
    assert sketch.n == 400_000 + 4 * 1000
    assert sketch.rank_error_bound <= 0.01 * sketch.n
