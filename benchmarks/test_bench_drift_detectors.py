"""Streaming detector speed (pytest-benchmark group "drift"), each checked against River.

``LUMENGATE_BENCH_N`` sets the stream length (default 20,000). Every benchmark asserts the
detection indices equal River 0.26's on the same stream.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from river import drift as river_drift

from lumengate import drift

N = int(os.environ.get("LUMENGATE_BENCH_N", "20000"))

pytestmark = pytest.mark.benchmark(group="drift")


@pytest.fixture(scope="module")
def values() -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(0)
    means = np.repeat(rng.normal(0.0, 2.0, 10), -(-N // 10))[:N]
    return means + rng.normal(0.0, 1.0, N)


def river_indices(detector: Any, values: list[float]) -> list[int]:
    hits: list[int] = []
    for i, x in enumerate(values):
        detector.update(x)
        if detector.drift_detected:
            hits.append(i)
    return hits


DETECTORS: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
    "adwin": (drift.ADWIN, river_drift.ADWIN),
    "page_hinkley": (drift.PageHinkley, river_drift.PageHinkley),
    "kswin": (lambda: drift.KSWIN(seed=1), lambda: river_drift.KSWIN(seed=1)),
}


@pytest.mark.parametrize("name", sorted(DETECTORS), ids=str)
def test_update_many(
    benchmark: BenchmarkFixture, values: npt.NDArray[np.float64], name: str
) -> None:
    make_ours, make_river = DETECTORS[name]
    checked = values if name != "kswin" else values[:3000]  # River's KSWIN is slow
    expected = river_indices(make_river(), checked.tolist())
    hits = benchmark(lambda: make_ours().update_many(values))
    assert hits[hits < checked.size].tolist() == expected


@pytest.mark.parametrize("name", ["adwin", "page_hinkley"], ids=str)
def test_update_from_python(
    benchmark: BenchmarkFixture, values: npt.NDArray[np.float64], name: str
) -> None:
    make_ours, make_river = DETECTORS[name]
    value_list = values.tolist()
    expected = river_indices(make_river(), value_list)

    def run() -> list[int]:
        detector = make_ours()
        return [i for i, x in enumerate(value_list) if detector.update(x)]

    assert benchmark(run) == expected


@pytest.mark.parametrize("name", ["adwin", "page_hinkley"], ids=str)
def test_river_update(
    benchmark: BenchmarkFixture, values: npt.NDArray[np.float64], name: str
) -> None:
    make_ours, make_river = DETECTORS[name]
    value_list = values.tolist()
    hits = benchmark(lambda: river_indices(make_river(), value_list))
    assert hits == make_ours().update_many(values).tolist()
