"""Assignment throughput (pytest-benchmark group "assign"), each checked against its peer.

``LUMENGATE_BENCH_N`` sets the number of ids (default 20,000). References are the
implementations users trust: hashlib for the MD5 rules, GrowthBook's SDK for hash v2 and
mmh3 for Unleash's normalized hash.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

import mmh3
import numpy as np
import numpy.typing as npt
import pytest
from growthbook.core import gbhash
from pytest_benchmark.fixture import BenchmarkFixture

from lumengate import assign
from lumengate._native import resolve_threads

N = int(os.environ.get("LUMENGATE_BENCH_N", "20000"))
CHECKED_IDS = 200
MD5_SEED = "42"

pytestmark = pytest.mark.benchmark(group="assign")


def md5_prefix_bucket(key: str) -> int:
    return int(hashlib.md5(key.encode()).hexdigest()[:8], 16) % 100


def md5_mod100_reference(ids: Sequence[str]) -> list[int]:
    return [md5_prefix_bucket(f"{u}_{MD5_SEED}") for u in ids]


@pytest.fixture(scope="module")
def ids() -> npt.NDArray[np.str_]:
    return np.array([f"user_{i}" for i in range(N)])


@pytest.fixture(scope="module")
def checked(ids: npt.NDArray[np.str_]) -> list[str]:
    return [str(u) for u in ids[:CHECKED_IDS]]


@pytest.mark.parametrize("threads", [1, None], ids=["1-thread", "all-threads"])
def test_bucket_many_md5_mod100(
    benchmark: BenchmarkFixture,
    ids: npt.NDArray[np.str_],
    checked: list[str],
    threads: int | None,
) -> None:
    benchmark.extra_info["threads"] = resolve_threads(threads)
    scheme = assign.Md5Mod100(seed=MD5_SEED)
    buckets = benchmark(assign.bucket_many, ids, scheme, threads=threads)
    assert buckets[:CHECKED_IDS].tolist() == md5_mod100_reference(checked)


def test_bucket_many_growthbook_v2(
    benchmark: BenchmarkFixture, ids: npt.NDArray[np.str_], checked: list[str]
) -> None:
    benchmark.extra_info["threads"] = resolve_threads(None)
    buckets = benchmark(assign.bucket_many, ids, assign.GrowthBookV2(seed="exp"))
    assert buckets[:CHECKED_IDS].tolist() == [gbhash("exp", u, 2) for u in checked]


def test_bucket_many_unleash(
    benchmark: BenchmarkFixture, ids: npt.NDArray[np.str_], checked: list[str]
) -> None:
    benchmark.extra_info["threads"] = resolve_threads(None)
    buckets = benchmark(assign.bucket_many, ids, assign.Unleash(group_id="gr1"))
    expected = [mmh3.hash(f"gr1:{u}", 0, signed=False) % 100 + 1 for u in checked]
    assert buckets[:CHECKED_IDS].tolist() == expected


def test_experiment_assign_many(
    benchmark: BenchmarkFixture, ids: npt.NDArray[np.str_], checked: list[str]
) -> None:
    benchmark.extra_info["threads"] = resolve_threads(None)
    experiment = assign.Experiment(
        key="bench",
        variants=("control", "treatment"),
        weights=(0.5, 0.5),
        scheme=assign.Md5Mod100(seed=MD5_SEED),
    )
    result = benchmark(experiment.assign_many, ids)
    buckets = md5_mod100_reference(checked)
    assert result.bucket[:CHECKED_IDS].tolist() == buckets
    assert result.variant[:CHECKED_IDS].tolist() == [
        "control" if b < 50 else "treatment" for b in buckets
    ]


def test_rollout_in_canary_many(
    benchmark: BenchmarkFixture, ids: npt.NDArray[np.str_], checked: list[str]
) -> None:
    benchmark.extra_info["threads"] = resolve_threads(None)
    rollout = assign.Rollout()
    stage = 2
    admitted = benchmark(rollout.in_canary_many, ids, stage)
    percent = rollout.percent(stage)
    assert admitted[:CHECKED_IDS].tolist() == [md5_prefix_bucket(u) < percent for u in checked]
