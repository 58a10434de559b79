"""Two-sample drift tests (pytest-benchmark group "drift"), each checked against scipy.

``LUMENGATE_BENCH_N`` sets the size of each sample (default 20,000).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from scipy import stats as scipy_stats

from lumengate import drift

N = int(os.environ.get("LUMENGATE_BENCH_N", "20000"))

pytestmark = pytest.mark.benchmark(group="drift")

Pair = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]


@pytest.fixture(scope="module")
def samples() -> Pair:
    rng = np.random.default_rng(42)
    return rng.normal(size=N), rng.normal(0.01, 1.0, size=N)


def quiet(call: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def test_ks_2samp(benchmark: BenchmarkFixture, samples: Pair) -> None:
    a, b = samples
    ours = benchmark(drift.ks_2samp, a, b)
    reference = quiet(lambda: scipy_stats.ks_2samp(a, b))
    assert ours.statistic == pytest.approx(reference.statistic, rel=1e-10)
    assert ours.pvalue == pytest.approx(reference.pvalue, rel=1e-8)


def test_wasserstein(benchmark: BenchmarkFixture, samples: Pair) -> None:
    a, b = samples
    ours = benchmark(drift.wasserstein, a, b)
    assert ours == pytest.approx(scipy_stats.wasserstein_distance(a, b), rel=1e-10)


def test_cramervonmises(benchmark: BenchmarkFixture, samples: Pair) -> None:
    a, b = samples
    ours = benchmark(drift.cramervonmises, a, b)
    reference = scipy_stats.cramervonmises_2samp(a, b)
    assert ours.statistic == pytest.approx(reference.statistic, rel=1e-10)
    assert ours.pvalue == pytest.approx(reference.pvalue, rel=1e-8, abs=1e-13)


def test_anderson_ksamp(benchmark: BenchmarkFixture, samples: Pair) -> None:
    a, b = samples
    ours = benchmark(drift.anderson_ksamp, [a, b])
    reference = quiet(lambda: scipy_stats.anderson_ksamp([a, b], variant="midrank"))
    assert ours.statistic == pytest.approx(reference.statistic, rel=1e-10)
    assert ours.pvalue == pytest.approx(reference.pvalue, rel=1e-8)


def test_sketch_update(benchmark: BenchmarkFixture, samples: Pair) -> None:
    a, _ = samples

    def build() -> drift.QuantileSketch:
        sketch = drift.QuantileSketch(epsilon=0.001)
        sketch.update(a)
        return sketch

    sketch = benchmark(build)
    assert sketch.n == N and sketch.rank_error_bound <= 0.001 * N
