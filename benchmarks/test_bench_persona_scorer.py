"""Top-10 item scoring over dense float32 embeddings (pytest-benchmark group "persona-scorer").

``LUMENGATE_BENCH_N`` sets the number of items (default 20,000); vectors are 64-dim float32.
The peer is numpy: ``X @ q`` scaled to cosines, ``np.argpartition`` and a sort of the k; every
benchmark asserts that both give the same ids and (to float32 rounding) the same scores.
"""

from __future__ import annotations

import os

import numpy as np
import numpy.typing as npt
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from lumengate import persona

N = int(os.environ.get("LUMENGATE_BENCH_N", "20000"))
DIM = 64
K = 10

pytestmark = pytest.mark.benchmark(group="persona-scorer")


class Catalog:
    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.vectors = rng.standard_normal((N, DIM), dtype=np.float32)
        self.inverse_norms = (1.0 / np.linalg.norm(self.vectors, axis=1)).astype(np.float32)
        self.query = rng.normal(size=DIM).astype(np.float32)
        self.scorer = persona.HybridScorer.from_embeddings(np.arange(N), self.vectors)

    def numpy_top_k(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        scores = (self.vectors @ self.query) * self.inverse_norms / np.linalg.norm(self.query)
        part = np.argpartition(-scores, K - 1)[:K]
        order = part[np.lexsort((part, -scores[part]))]
        return order, np.clip(scores[order], 0, 1)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog()


def test_top_k_dense_ours(benchmark: BenchmarkFixture, catalog: Catalog) -> None:
    top = benchmark(catalog.scorer.top_k, None, catalog.query, None, k=K)
    ids, scores = catalog.numpy_top_k()
    np.testing.assert_array_equal(top.item_ids, ids)
    np.testing.assert_allclose(top.scores, scores, rtol=1e-5)


def test_top_k_dense_numpy(benchmark: BenchmarkFixture, catalog: Catalog) -> None:
    ids, scores = benchmark(catalog.numpy_top_k)
    top = catalog.scorer.top_k(None, catalog.query, None, k=K)
    np.testing.assert_array_equal(ids, top.item_ids)
    np.testing.assert_allclose(scores, top.scores, rtol=1e-5)


def test_top_k_text_sample(benchmark: BenchmarkFixture) -> None:
    scorer = persona.HybridScorer.sample()
    probs = {"elro": 0.8, "lua": 0.2}
    top = benchmark(scorer.top_k, "user01", "파이썬 KeyError 디버깅", probs, k=K)
    assert len(top) == K and not top.cold_start
    everything = scorer.top_k("user01", "파이썬 KeyError 디버깅", probs, k=scorer.item_ids.size)
    full = np.asarray(everything.scores, dtype=np.float64)
    order = np.lexsort((everything.indices, -full))
    np.testing.assert_array_equal(everything.indices[order][:K], top.indices)
