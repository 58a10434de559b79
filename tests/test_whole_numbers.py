"""Whole-number arguments: every public call takes an ``int`` or a NumPy integer (what a
notebook's arithmetic hands back) for the same result, and refuses ``bool``, floats and
strings with an InvalidArgument that names the argument and its allowed range."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lumengate import drift, gemini, persona
from lumengate._native import whole
from lumengate.errors import InvalidArgument

DATA = Path(__file__).resolve().parent / "data" / "persona_queries"


@pytest.mark.parametrize(
    "value", [3, np.int8(3), np.int64(3), np.uint64(3), np.intc(3)], ids=lambda v: type(v).__name__
)
def test_ints_and_numpy_integers_become_a_plain_int(value: object) -> None:
    got = whole(value, "n", 1, 10)
    assert got == 3 and type(got) is int


def test_numbers_beyond_64_bits_are_kept_exactly() -> None:
    assert whole(2**128 - 1, "seed", 0, 2**128 - 1) == 2**128 - 1
    assert whole(np.uint64(2**64 - 1), "seed", 0, 2**64 - 1) == 2**64 - 1


@pytest.mark.parametrize(
    "value",
    [True, np.bool_(True), 3.0, np.float64(3.0), "3", None, [3], np.array([3])],
    ids=["bool", "np.bool_", "float", "np.float64", "str", "None", "list", "array"],
)
def test_anything_but_a_whole_number_is_refused_with_the_field_and_range(value: object) -> None:
    with pytest.raises(InvalidArgument) as caught:
        whole(value, "k", 1, 10)
    assert caught.value.field == "k"
    assert "must be a whole number in [1, 10]" in str(caught.value)


@pytest.mark.parametrize(
    ("low", "high", "value", "allowed"),
    [(1, None, 0, ">= 1"), (None, 5, 6, "<= 5"), (0, 5, -1, "in [0, 5]"), (None, None, 1.5, "")],
)
def test_the_message_states_the_allowed_range(
    low: int | None, high: int | None, value: object, allowed: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        whole(value, "n", low, high)
    assert (
        str(caught.value)
        == f"n: must be a whole number{' ' + allowed if allowed else ''}, got {value!r}"
    )


@pytest.fixture(scope="module")
def small() -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in (DATA / "train.jsonl").read_text().splitlines() if line]
    rows = rows[::5]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def test_router_fit_and_evaluate_take_numpy_integers(small: tuple[list[str], list[str]]) -> None:
    texts, labels = small
    plain = persona.Router().fit(texts, labels, seed=7, calibration_folds=3)
    numpy = persona.Router().fit(texts, labels, seed=np.uint64(7), calibration_folds=np.int64(3))
    assert numpy.to_bytes() == plain.to_bytes()
    a = plain.evaluate(texts, labels, resamples=50, seed=1)
    b = plain.evaluate(texts, labels, resamples=np.int32(50), seed=np.int64(1))
    assert a.accuracy_ci == b.accuracy_ci


def test_scorer_top_k_takes_numpy_integers() -> None:
    scorer = persona.HybridScorer.sample()
    user = scorer.top_k(None, "파이썬 에러 디버깅", None, k=3)
    assert list(scorer.top_k(None, "파이썬 에러 디버깅", None, k=np.int64(3)).indices) == list(
        user.indices
    )
    with pytest.raises(InvalidArgument, match=r"k: must be a whole number >= 1, got True"):
        scorer.top_k(None, "파이썬 에러 디버깅", None, k=True)


def test_gemini_policy_and_drift_detectors_take_numpy_integers() -> None:
    policy = gemini.RetryPolicy(max_attempts=np.int64(3))
    assert policy.max_attempts == 3 and type(policy.max_attempts) is int
    with pytest.raises(InvalidArgument, match=r"max_attempts: must be a whole number in"):
        gemini.RetryPolicy(max_attempts=2**40)
    assert (
        drift.ADWIN(grace_period=np.int64(5)).grace_period
        == drift.ADWIN(grace_period=5).grace_period
    )
    with pytest.raises(InvalidArgument, match=r"grace_period: must be a whole number, got 5.0"):
        drift.ADWIN(grace_period=5.0)


def test_thread_arguments_take_numpy_integers_and_say_none_is_allowed() -> None:
    router = persona.Router.default()
    queries = ["파이썬에서 KeyError가 나요", "이력서 첨삭 부탁해요"]
    by_numpy = router.route_many(queries, threads=np.int64(1))
    by_int = router.route_many(queries, threads=1)
    np.testing.assert_array_equal(by_numpy.persona, by_int.persona)
    with pytest.raises(InvalidArgument, match=r"threads: must be a whole number >= 1 or None"):
        router.route_many(queries, threads=np.float64(1.0))
