"""Persona routing (pytest-benchmark group "persona"), each checked for correctness."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from lumengate import persona

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "persona_queries"

pytestmark = pytest.mark.benchmark(group="persona")


@pytest.fixture(scope="module")
def router() -> persona.Router:
    return persona.Router.default()


@pytest.fixture(scope="module")
def queries() -> list[str]:
    lines = (DATA / "test.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line]


def test_route_one(benchmark: BenchmarkFixture, router: persona.Router) -> None:
    r = benchmark(router.route, "파이썬에서 KeyError가 나요")
    assert r.persona == "elro"
    assert r.confidence == max(r.scores.values())


def test_route_one_with_evidence(benchmark: BenchmarkFixture, router: persona.Router) -> None:
    def explained() -> persona.RouteResult:
        r = router.route("파이썬에서 KeyError가 나요")
        r.evidence  # noqa: B018 - reading it builds it
        return r

    r = benchmark(explained)
    assert "keyerror" in r.evidence.keywords["elro"]
    assert r == router.route("파이썬에서 KeyError가 나요")


def test_route_many(
    benchmark: BenchmarkFixture, router: persona.Router, queries: list[str]
) -> None:
    batch = benchmark(router.route_many, queries)
    expected = np.array([router.route(q).scores[router.personas[0]] for q in queries])
    np.testing.assert_array_equal(batch.probabilities[:, 0], expected)


def test_sklearn_peer_predict(benchmark: BenchmarkFixture, queries: list[str]) -> None:
    sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")
    linear_model = pytest.importorskip("sklearn.linear_model")
    pipeline = pytest.importorskip("sklearn.pipeline")
    lines = (DATA / "train.jsonl").read_text("utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line]
    peer = pipeline.make_pipeline(
        sklearn_text.HashingVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), alternate_sign=False, norm=None
        ),
        sklearn_text.TfidfTransformer(sublinear_tf=True),
        linear_model.LogisticRegression(C=10.0, max_iter=5000),
    ).fit([r["text"] for r in rows], [r["label"] for r in rows])
    probs = benchmark(peer.predict_proba, queries)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
