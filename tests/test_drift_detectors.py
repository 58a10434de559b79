"""lumengate.drift's streaming detectors from the user's side: the same detection points and
estimates as River 0.26 on the same streams, batches equal to single updates, state that
survives a restart, concurrent use, and bad input."""

from __future__ import annotations

import copy
import doctest
import math
import pickle
import random
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from river import drift as _river_drift
from scipy import stats  # type: ignore[import-untyped]

import lumengate._drift_detectors
from lumengate import drift
from lumengate._core import drift as native
from lumengate.errors import InvalidArgument

Stream = npt.NDArray[np.float64]
river_drift: Any = _river_drift  # River ships no type hints
RTOL = 1e-12


def _stationary(rng: np.random.Generator) -> Stream:
    return rng.normal(0.0, 1.0, 6000)


def _abrupt(rng: np.random.Generator) -> Stream:
    return np.concatenate([rng.normal(0.0, 1.0, 3000), rng.normal(1.0, 1.0, 3000)])


def _gradual(rng: np.random.Generator) -> Stream:
    ramp = np.concatenate([np.zeros(2000), np.linspace(0.0, 2.0, 2000), np.full(2000, 2.0)])
    return ramp + rng.normal(0.0, 1.0, ramp.size)


def _variance(rng: np.random.Generator) -> Stream:
    return np.concatenate([rng.normal(0.0, 1.0, 3000), rng.normal(0.0, 4.0, 3000)])


def _ties(rng: np.random.Generator) -> Stream:
    # Repeated values and long constant runs: integer scores, then a block of one value.
    values = rng.integers(0, 3, 4000).astype(np.float64)
    runs = np.repeat(rng.integers(0, 5, 40).astype(np.float64), 50)
    return np.concatenate([values, runs, np.full(500, 2.0), rng.integers(2, 6, 1500)])


def _error_rate(rng: np.random.Generator) -> Stream:
    return np.concatenate(
        [(rng.random(3000) < 0.1).astype(np.float64), (rng.random(3000) < 0.3).astype(np.float64)]
    )


STREAMS: dict[str, Callable[[np.random.Generator], Stream]] = {
    "stationary": _stationary,
    "abrupt": _abrupt,
    "gradual": _gradual,
    "variance": _variance,
    "ties": _ties,
    "error_rate": _error_rate,
}
SEEDS = [0, 1, 2]


def _long_stream(seed: int, n: int = 100_000) -> Stream:
    rng = np.random.default_rng(seed)
    means = np.repeat(rng.normal(0.0, 1.0, 10), n // 10)
    return means + rng.normal(0.0, 1.0, n)


def river_indices(detector: Any, stream: Stream) -> list[int]:
    # River 0.26: update() returns None and the result is read from drift_detected.
    return [
        i for i, x in enumerate(stream.tolist()) if detector.update(x) or detector.drift_detected
    ]


def our_indices(detector: Any, stream: Stream) -> list[int]:
    return [i for i, x in enumerate(stream.tolist()) if detector.update(x)]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12)


# ---------------------------------------------------------------------------------------
# Configurations: (ours, River's) with the same parameters.

ADWIN_CONFIGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "clock1": {"clock": 1},
    "loose": {"delta": 0.1, "max_buckets": 3, "min_window_length": 10, "grace_period": 50},
}
PAGE_HINKLEY_CONFIGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "up": {"mode": "up"},
    "down": {"mode": "down"},
    "sensitive": {"min_instances": 10, "delta": 0.01, "threshold": 10.0, "alpha": 0.999},
}
KSWIN_CONFIGS: dict[str, dict[str, Any]] = {
    "seed1": {"seed": 1},
    "seed42": {"seed": 42},
    "small": {"alpha": 0.01, "window_size": 60, "stat_size": 20, "seed": 7},
    "big_seed": {"seed": 2**70 + 12345},
}


def check_adwin_estimates(ours: drift.ADWIN, river: river_drift.ADWIN) -> None:
    assert ours.width == river.width
    assert close(ours.total, river.total)
    assert close(ours.estimation, river.estimation)
    assert close(ours.variance, river.variance)


def check_page_hinkley_estimates(ours: drift.PageHinkley, river: river_drift.PageHinkley) -> None:
    assert ours.n_since_drift == river._x_mean.n
    assert close(ours.mean, river._x_mean.get())
    assert close(ours.increase, river._sum_increase - river._min_increase)
    assert close(ours.decrease, river._max_decrease - river._sum_decrease)


def check_kswin_estimates(ours: drift.KSWIN, river: river_drift.KSWIN) -> None:
    assert ours.n_since_drift == river.n
    assert ours.window.tolist() == list(river.window)
    if ours.p_value == 1.0 and river.p_value != 1.0:
        # scipy's exact sum rounded above 1 and it fell back to an asymptotic value near 1.
        assert river.p_value > 0.99
    else:
        assert close(ours.p_value, river.p_value)


def run_both(ours: Any, river: Any, stream: Stream, check: Callable[[Any, Any], None]) -> list[int]:
    """Feeds both one value at a time, comparing detections and (every 97 values) estimates;
    returns River's detection indices."""
    ours_hits: list[int] = []
    river_hits: list[int] = []
    for i, x in enumerate(stream.tolist()):
        if ours.update(x):
            ours_hits.append(i)
        river.update(x)
        if river.drift_detected:
            river_hits.append(i)
        if i % 97 == 0 or river.drift_detected:
            check(ours, river)
    check(ours, river)
    assert ours_hits == river_hits
    assert ours.n_detections == len(river_hits)
    return river_hits


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("stream", sorted(STREAMS), ids=str)
@pytest.mark.parametrize("config", sorted(ADWIN_CONFIGS), ids=str)
def test_adwin_equals_river(config: str, stream: str, seed: int) -> None:
    values = STREAMS[stream](np.random.default_rng(seed))
    params = ADWIN_CONFIGS[config]
    expected = run_both(
        drift.ADWIN(**params), river_drift.ADWIN(**params), values, check_adwin_estimates
    )
    assert drift.ADWIN(**params).update_many(values).tolist() == expected


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("stream", sorted(STREAMS), ids=str)
@pytest.mark.parametrize("config", sorted(PAGE_HINKLEY_CONFIGS), ids=str)
def test_page_hinkley_equals_river(config: str, stream: str, seed: int) -> None:
    values = STREAMS[stream](np.random.default_rng(seed))
    params = PAGE_HINKLEY_CONFIGS[config]
    expected = run_both(
        drift.PageHinkley(**params),
        river_drift.PageHinkley(**params),
        values,
        check_page_hinkley_estimates,
    )
    assert drift.PageHinkley(**params).update_many(values).tolist() == expected


@pytest.mark.parametrize("seed", SEEDS[:2], ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("stream", sorted(STREAMS), ids=str)
@pytest.mark.parametrize("config", sorted(KSWIN_CONFIGS), ids=str)
def test_kswin_equals_river(config: str, stream: str, seed: int) -> None:
    # Every third value: River's KSWIN runs scipy's KS test on each update, which is slow.
    values = STREAMS[stream](np.random.default_rng(seed))[::3]
    params = KSWIN_CONFIGS[config]
    expected = run_both(
        drift.KSWIN(**params), river_drift.KSWIN(**params), values, check_kswin_estimates
    )
    assert drift.KSWIN(**params).update_many(values).tolist() == expected


@pytest.mark.parametrize("seed", [3, 4], ids=lambda s: f"seed{s}")
@pytest.mark.parametrize(
    "make_ours, make_river",
    [
        (drift.ADWIN, river_drift.ADWIN),
        (drift.PageHinkley, river_drift.PageHinkley),
        (lambda: drift.ADWIN(clock=1), lambda: river_drift.ADWIN(clock=1)),
    ],
    ids=["adwin", "page_hinkley", "adwin_clock1"],
)
def test_long_stream_equals_river(
    make_ours: Callable[[], Any], make_river: Callable[[], Any], seed: int
) -> None:
    values = _long_stream(seed)
    river = make_river()
    expected = river_indices(river, values)
    ours = make_ours()
    assert ours.update_many(values).tolist() == expected
    assert len(expected) > 5
    if isinstance(ours, drift.ADWIN):
        check_adwin_estimates(ours, river)
    else:
        check_page_hinkley_estimates(ours, river)


@pytest.mark.slow
def test_kswin_long_stream_equals_river() -> None:
    # 30k values (not 100k): River runs scipy's KS test on each value, ~0.5 ms apiece.
    values = _long_stream(5, n=30_000)
    river = river_drift.KSWIN(seed=11)
    expected = river_indices(river, values)
    ours = drift.KSWIN(seed=11)
    assert ours.update_many(values).tolist() == expected
    assert len(expected) > 5
    check_kswin_estimates(ours, river)


def test_kswin_without_seed_still_detects_a_clear_shift() -> None:
    # Unseeded draws differ from River's run to run, so only the behaviour is compared.
    rng = np.random.default_rng(6)
    values = np.concatenate([rng.normal(0.0, 1.0, 600), rng.normal(5.0, 1.0, 400)])
    hits = drift.KSWIN(alpha=1e-6).update_many(values).tolist()
    assert hits and 600 <= hits[0] <= 640
    assert drift.KSWIN().seed is None


def test_kswin_initial_window_equals_river() -> None:
    rng = np.random.default_rng(5)
    start = rng.normal(0.0, 1.0, 150).tolist()
    values = np.concatenate([rng.normal(0.0, 1.0, 200), rng.normal(2.0, 1.0, 400)])
    river = river_drift.KSWIN(seed=3, window=start)
    ours = drift.KSWIN(seed=3, window=start)
    assert ours.window.tolist() == list(river.window)
    run_both(ours, river, values, check_kswin_estimates)


# ---------------------------------------------------------------------------------------
# The pieces of KSWIN against what River calls: CPython's random and scipy's KS test.


def _words(seed: int) -> list[int]:
    words = [seed & 0xFFFFFFFF]
    seed >>= 32
    while seed:
        words.append(seed & 0xFFFFFFFF)
        seed >>= 32
    return words


@pytest.mark.parametrize("seed", [0, 1, 42, 2**32, 2**64 + 3, 12345678901234567890], ids=str)
@pytest.mark.parametrize(
    "population, k", [(70, 30), (10, 10), (5, 1), (1000, 30), (400, 100), (5000, 100)], ids=str
)
def test_sampler_equals_cpython_random(seed: int, population: int, k: int) -> None:
    rng = random.Random(seed)
    expected = [x for _ in range(20) for x in rng.sample(range(population), k)]
    assert native._python_random_sample(_words(seed), population, k, 20) == expected


@pytest.mark.parametrize("n", [1, 2, 5, 7, 30, 100, 1000], ids=lambda n: f"n{n}")
@pytest.mark.parametrize("kind", ["continuous", "ties", "shifted"], ids=str)
def test_ks_test_equals_scipy(n: int, kind: str) -> None:
    rng = np.random.default_rng(n)
    for _ in range(25):
        if kind == "continuous":
            a, b = rng.normal(size=n), rng.normal(size=n)
        elif kind == "ties":
            a, b = rng.integers(0, 4, n).astype(float), rng.integers(0, 4, n).astype(float)
        else:
            a, b = rng.normal(size=n), rng.normal(0.8, 1.0, n)
        statistic, p_value = native._kswin_ks_test(a, b)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            expected = stats.ks_2samp(a, b, method="auto")
        assert statistic == pytest.approx(float(expected.statistic), rel=RTOL)
        if caught:  # scipy's exact sum rounded above 1; it used an approximation near 1
            assert p_value == 1.0 and expected.pvalue > 0.99
        else:
            assert p_value == pytest.approx(float(expected.pvalue), rel=RTOL, abs=1e-300)


# ---------------------------------------------------------------------------------------
# Batches, state and threads.

FACTORIES: dict[str, Callable[..., Any]] = {
    "adwin": lambda **kw: drift.ADWIN(clock=4, **kw),
    "page_hinkley": lambda **kw: drift.PageHinkley(threshold=5.0, min_instances=5, **kw),
    "kswin": lambda **kw: drift.KSWIN(window_size=40, stat_size=10, alpha=0.05, seed=9, **kw),
}

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("name", sorted(FACTORIES), ids=str)
@given(values=st.lists(finite, max_size=300), cut=st.integers(min_value=0, max_value=300))
def test_update_many_equals_repeated_update(name: str, values: list[float], cut: int) -> None:
    make = FACTORIES[name]
    array = np.asarray(values, dtype=np.float64)
    single = our_indices(make(), array)
    assert make().update_many(array).tolist() == single
    split = make()
    cut = min(cut, len(values))
    first = split.update_many(array[:cut]).tolist()
    second = [cut + i for i in split.update_many(array[cut:]).tolist()]
    assert first + second == single


@pytest.mark.parametrize("name", sorted(FACTORIES), ids=str)
@pytest.mark.parametrize("restore", ["from_bytes", "detector_from_bytes", "pickle", "deepcopy"])
def test_round_trip_mid_stream_gives_the_same_later_detections(name: str, restore: str) -> None:
    values = _abrupt(np.random.default_rng(11))
    values = np.concatenate([values, values[::-1] * 2.0])
    make = FACTORIES[name]
    uninterrupted = make().update_many(values).tolist()
    assert len(uninterrupted) >= 2
    for cut in (1, 1500, int(uninterrupted[0]) + 1, 7000):
        first = make()
        before = first.update_many(values[:cut]).tolist()
        saved = first.to_bytes()
        if restore == "from_bytes":
            second = type(first).from_bytes(saved)
        elif restore == "detector_from_bytes":
            second = drift.detector_from_bytes(saved)
        elif restore == "pickle":
            second = pickle.loads(pickle.dumps(first))
        else:
            second = copy.deepcopy(first)
        assert type(second) is type(first)
        assert second.to_bytes() == saved
        after = [cut + i for i in second.update_many(values[cut:]).tolist()]
        assert before + after == uninterrupted
        assert second.n_seen == values.size


def test_round_trip_keeps_estimates_and_parameters() -> None:
    detector = drift.ADWIN(delta=0.01, clock=8, non_finite="drop")
    detector.update_many([1.0, 2.0, float("nan"), 3.0])
    restored = drift.ADWIN.from_bytes(detector.to_bytes())
    assert (restored.delta, restored.clock, restored.non_finite) == (0.01, 8, "drop")
    assert (restored.width, restored.total, restored.variance, restored.n_dropped) == (
        3,
        6.0,
        2.0,
        1,
    )
    assert repr(restored) == repr(detector)


@pytest.mark.parametrize(
    "mangle, message",
    [
        (lambda b: b[:-3], "checksum"),
        (lambda b: b[:10], "truncated"),
        (lambda b: b"", "LGDD"),
        (lambda b: b"XXXX" + b[4:], "LGDD"),
        (lambda b: b[:4] + b"\x09\x00" + b[6:], "version 9"),
        (lambda b: b[:20] + bytes([b[20] ^ 0x40]) + b[21:], "checksum"),
        (lambda b: b + b"\x00", "checksum"),
    ],
    ids=["truncated", "header_only", "empty", "magic", "version", "flipped_bit", "trailing"],
)
@pytest.mark.parametrize("name", sorted(FACTORIES), ids=str)
def test_corrupt_state_is_a_clear_error(
    name: str, mangle: Callable[[bytes], bytes], message: str
) -> None:
    detector = FACTORIES[name]()
    detector.update_many(np.arange(100, dtype=float))
    cls = type(detector)
    with pytest.raises(InvalidArgument, match=message) as error:
        cls.from_bytes(mangle(detector.to_bytes()))
    assert error.value.field == "state"


def test_state_of_another_detector_is_refused() -> None:
    saved = drift.PageHinkley().to_bytes()
    with pytest.raises(InvalidArgument, match="holds a PageHinkley detector, not ADWIN"):
        drift.ADWIN.from_bytes(saved)
    with pytest.raises(InvalidArgument, match="LGDD"):
        drift.detector_from_bytes(b"not a detector")
    with pytest.raises(InvalidArgument, match="must be bytes"):
        drift.ADWIN.from_bytes("text")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(FACTORIES), ids=str)
def test_concurrent_updates_do_not_corrupt(name: str) -> None:
    detector = FACTORIES[name]()
    values = _abrupt(np.random.default_rng(2))
    threads_before = threading.active_count()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                detector.update_many(values)
                for x in values[:500].tolist():
                    detector.update(x)
                assert detector.n_seen > 0
                detector.to_bytes()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    assert detector.n_seen == 4 * 3 * (values.size + 500)
    assert threading.active_count() == threads_before
    type(detector).from_bytes(detector.to_bytes())  # the state is still consistent


# ---------------------------------------------------------------------------------------
# Bad input.


@pytest.mark.parametrize("name", sorted(FACTORIES), ids=str)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")], ids=str)
def test_non_finite_values_are_rejected_naming_the_index(name: str, bad: float) -> None:
    detector = FACTORIES[name]()
    values = np.array([0.5, 1.0, 2.0, bad, 3.0])
    with pytest.raises(InvalidArgument, match=r"xs\[3\]: is (nan|inf|-inf)") as error:
        detector.update_many(values)
    assert error.value.field == "xs[3]"
    assert detector.n_seen == 0  # nothing of the batch was taken
    with pytest.raises(InvalidArgument, match="non_finite='drop'") as error:
        detector.update(bad)
    assert error.value.field == "x"


@pytest.mark.parametrize(
    "make_ours, make_river",
    [
        (lambda: drift.ADWIN(non_finite="drop"), river_drift.ADWIN),
        (lambda: drift.PageHinkley(non_finite="drop"), river_drift.PageHinkley),
        (lambda: drift.KSWIN(seed=5, non_finite="drop"), lambda: river_drift.KSWIN(seed=5)),
    ],
    ids=["adwin", "page_hinkley", "kswin"],
)
def test_dropped_values_are_skipped_and_counted(
    make_ours: Callable[[], Any], make_river: Callable[[], Any]
) -> None:
    rng = np.random.default_rng(8)
    values = _abrupt(rng)[:3000:2].copy()
    bad = rng.choice(values.size, 40, replace=False)
    values[bad] = np.where(np.arange(40) % 2 == 0, np.nan, np.inf)
    keep = np.flatnonzero(np.isfinite(values))
    expected = [int(keep[i]) for i in river_indices(make_river(), values[keep])]
    ours = make_ours()
    assert ours.update_many(values).tolist() == expected
    assert ours.n_dropped == 40 and ours.n_seen == keep.size
    single = make_ours()
    assert our_indices(single, values) == expected
    assert single.n_dropped == 40


def test_batch_input_forms() -> None:
    detector = drift.PageHinkley()
    assert detector.update_many([]).dtype == np.int64
    assert detector.update_many([1, 2, 3]).tolist() == []
    assert detector.update_many(np.arange(3, dtype=np.float32)).size == 0
    with pytest.raises(InvalidArgument, match="one-dimensional") as error:
        detector.update_many(np.zeros((2, 2)))
    assert error.value.field == "xs"


@pytest.mark.parametrize(
    "make, field, message",
    [
        (lambda: drift.ADWIN(delta=0.0), "delta", r"\(0, 1\), got 0"),
        (lambda: drift.ADWIN(delta=1.5), "delta", r"\(0, 1\)"),
        (lambda: drift.ADWIN(clock=0), "clock", ">= 1.*got 0"),
        (lambda: drift.ADWIN(clock=2.5), "clock", "whole number, got 2.5"),  # type: ignore[arg-type]
        (lambda: drift.ADWIN(max_buckets=0), "max_buckets", ">= 1"),
        (lambda: drift.ADWIN(min_window_length=0), "min_window_length", ">= 1"),
        (lambda: drift.ADWIN(grace_period=-1), "grace_period", ">= 0"),
        (lambda: drift.ADWIN(non_finite="skip"), "non_finite", "'reject' or 'drop'"),  # type: ignore[arg-type]
        (lambda: drift.PageHinkley(mode="sideways"), "mode", "'both', 'up' or 'down'"),  # type: ignore[arg-type]
        (lambda: drift.PageHinkley(threshold=0.0), "threshold", "> 0"),
        (lambda: drift.PageHinkley(alpha=0.0), "alpha", r"\(0, 1\]"),
        (lambda: drift.PageHinkley(delta=float("nan")), "delta", "finite"),
        (lambda: drift.PageHinkley(min_instances=-1), "min_instances", ">= 0"),
        (lambda: drift.KSWIN(alpha=1.0), "alpha", r"\(0, 1\)"),
        (lambda: drift.KSWIN(window_size=1), "window_size", r"\[2, "),
        (lambda: drift.KSWIN(stat_size=100), "stat_size", "smaller than window_size"),
        (lambda: drift.KSWIN(stat_size=60), "stat_size", "at most window_size / 2"),
        (lambda: drift.KSWIN(stat_size=0), "stat_size", r"\[1, 10000\]"),
        (lambda: drift.KSWIN(seed=-3), "seed", ">= 0 or None"),
        (lambda: drift.KSWIN(seed="abc"), "seed", ">= 0 or None"),  # type: ignore[arg-type]
        (lambda: drift.KSWIN(window=[1.0, float("nan")]), "window[1]", "finite"),
        (lambda: drift.KSWIN(window=["a"]), "window", "numbers"),  # type: ignore[list-item]
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_bad_parameters_name_the_field(make: Callable[[], Any], field: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message) as error:
        make()
    assert error.value.field == field
    assert isinstance(error.value, ValueError)


def test_docstring_examples() -> None:
    result = doctest.testmod(lumengate._drift_detectors, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_public_names() -> None:
    for name in ("ADWIN", "PageHinkley", "KSWIN", "detector_from_bytes"):
        assert name in drift.__all__
    assert "n_detections=0" in repr(drift.PageHinkley())
