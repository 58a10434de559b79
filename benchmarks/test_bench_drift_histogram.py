"""Binned drift statistics (pytest-benchmark group "drift"), each checked against numpy + scipy.

``LUMENGATE_BENCH_N`` sets the number of scores per sample (default 20,000).
"""

from __future__ import annotations

import os

import numpy as np
import numpy.typing as npt
import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from scipy.stats import entropy

from lumengate import drift

N = int(os.environ.get("LUMENGATE_BENCH_N", "20000"))
Floats = npt.NDArray[np.float64]

pytestmark = pytest.mark.benchmark(group="drift")


@pytest.fixture(scope="module")
def samples() -> tuple[Floats, Floats, Floats]:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=N)
    current = rng.normal(0.1, 1.1, size=N)
    return reference, current, drift.histogram_edges(reference)


def numpy_counts(x: Floats, edges: Floats) -> Floats:
    index = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)
    return np.bincount(index, minlength=edges.size - 1).astype(np.float64)


def numpy_scipy_kl(reference: Floats, current: Floats, edges: Floats) -> float:
    p = numpy_counts(reference, edges) + 0.5
    q = numpy_counts(current, edges) + 0.5
    return float(entropy(q, p))


def test_kl_divergence_ours(
    benchmark: BenchmarkFixture, samples: tuple[Floats, Floats, Floats]
) -> None:
    reference, current, edges = samples
    value = benchmark(drift.kl_divergence, reference, current, edges)
    assert value == pytest.approx(numpy_scipy_kl(reference, current, edges), rel=1e-12)


def test_kl_divergence_numpy_scipy(
    benchmark: BenchmarkFixture, samples: tuple[Floats, Floats, Floats]
) -> None:
    reference, current, edges = samples
    value = benchmark(numpy_scipy_kl, reference, current, edges)
    assert value == pytest.approx(drift.kl_divergence(reference, current, edges), rel=1e-12)


def test_histogram_state_from_scores(
    benchmark: BenchmarkFixture, samples: tuple[Floats, Floats, Floats]
) -> None:
    reference, _, edges = samples
    state = benchmark(drift.HistogramState.from_scores, reference, edges)
    np.testing.assert_array_equal(state.counts, numpy_counts(reference, edges))
    assert state.sum == pytest.approx(float(np.sum(reference)), rel=1e-9, abs=1e-9)


def test_monitor_add_many(
    benchmark: BenchmarkFixture, samples: tuple[Floats, Floats, Floats]
) -> None:
    reference, current, edges = samples
    window = min(1000, N)

    def run() -> drift.DriftMonitor:
        monitor = drift.DriftMonitor(reference, window=window, threshold=np.inf)
        monitor.add_many(current)
        return monitor

    monitor = benchmark(run)
    expected = numpy_scipy_kl(reference, current[-window:], edges)
    assert monitor.status().statistic == pytest.approx(expected, rel=1e-9)
