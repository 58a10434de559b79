"""The streaming drift monitor: statistics equal to the batch functions, events, cooldown,
retrain policy, add_many == add, threads, restarts and the false-alarm rate."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import entropy

from lumengate import drift
from lumengate.errors import InvalidArgument

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def _baseline(n: int = 20_000, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=n)


@pytest.mark.parametrize("statistic", ["kl", "psi", "js", "hellinger"])
def test_statistic_equals_batch_divergence(statistic: str) -> None:
    base = _baseline()
    window = 50
    mon = drift.DriftMonitor(base, window=window, statistic=statistic, clock=FakeClock())  # type: ignore[arg-type]
    edges = drift.histogram_edges(base)
    stream = np.random.default_rng(1).normal(0.5, 1.5, size=140)
    for i, x in enumerate(stream):
        check = mon.add(float(x))
        seen = stream[max(0, i + 1 - window) : i + 1]
        expected = drift.divergence(base, seen, statistic, bins=edges)  # type: ignore[arg-type]
        # The monitor sums table look-ups (ln(c + α) − ln N − ln p) rather than ln(q / p):
        # the same terms rounded differently, so 1e-9 relative (values are O(0.01..1)).
        assert check.statistic == pytest.approx(expected, rel=1e-9, abs=1e-14)
        assert check.samples == len(seen)
    assert mon.counts.sum() == window


def test_kl_against_scipy_with_same_smoothing() -> None:
    base = _baseline()
    edges = drift.histogram_edges(base)
    mon = drift.DriftMonitor(base, window=100, clock=FakeClock())
    scores = np.random.default_rng(2).normal(1.0, size=100)
    mon.add_many(scores)
    ref = np.histogram(base, edges)[0] + 0.5
    cur = np.histogram(scores, edges)[0] + 0.5
    assert mon.status().statistic == pytest.approx(
        entropy(cur / cur.sum(), ref / ref.sum()), rel=1e-9
    )


def test_no_drift_before_min_samples_then_rising_edge_event() -> None:
    clock = FakeClock()
    mon = drift.DriftMonitor(_baseline(), window=100, threshold=0.5, clock=clock)
    checks = [mon.add(10.0) for _ in range(100)]
    assert all(not c.drift for c in checks[:99])
    assert checks[0].statistic > 0  # reported, not flagged
    assert checks[99].drift and checks[99].event
    assert checks[99].severity == "severe"
    assert len(mon.events) == 1 and mon.events[0].score_index == 99
    assert not mon.add(10.0).event  # still in drift: no new event


def test_min_samples_option() -> None:
    mon = drift.DriftMonitor(_baseline(), window=100, min_samples=10, clock=FakeClock())
    checks = [mon.add(10.0) for _ in range(10)]
    assert not checks[8].drift and checks[9].drift


def test_threshold_equal_counts_as_drift() -> None:
    base = _baseline()
    probe = drift.DriftMonitor(base, window=20, clock=FakeClock())
    probe.add_many(np.full(20, 0.0))
    value = probe.status().statistic
    mon = drift.DriftMonitor(base, window=20, threshold=value, clock=FakeClock())
    mon.add_many(np.full(20, 0.0))
    assert mon.status().drift and len(mon.events) == 1


def _flip(mon: drift.DriftMonitor, clock: FakeClock) -> int:
    """Drive the window into drift and back out; returns the events raised."""
    before = len(mon.events)
    mon.add_many(np.full(100, 10.0))
    mon.add_many(np.random.default_rng(3).normal(size=100))
    assert not mon.status().drift
    return len(mon.events) - before


def test_cooldown_suppresses_new_events() -> None:
    clock = FakeClock()
    mon = drift.DriftMonitor(_baseline(), window=100, cooldown=timedelta(hours=1), clock=clock)
    assert _flip(mon, clock) == 1
    clock.advance(minutes=59)
    assert _flip(mon, clock) == 0  # rising edge inside the cooldown
    clock.advance(minutes=1)
    assert _flip(mon, clock) == 1  # exactly the cooldown later: allowed


def test_timestamps_override_the_clock() -> None:
    clock = FakeClock()
    mon = drift.DriftMonitor(_baseline(), window=10, clock=clock)
    stamp = T0 + timedelta(days=3)
    check = None
    for _ in range(10):
        check = mon.add(9.0, timestamp=stamp)
    assert check is not None and check.event
    assert mon.events[0].time == stamp
    with pytest.raises(InvalidArgument, match="naive") as caught:
        mon.add(1.0, timestamp=datetime(2026, 1, 1))
    assert caught.value.field == "timestamp"


def test_retrain_after_five_events_in_seven_days_in_milliseconds() -> None:
    clock = FakeClock()
    # Bands high enough that the statistic alone never triggers the max_statistic rule.
    mon = drift.DriftMonitor(
        _baseline(), window=100, clock=clock, retrain=drift.RetrainPolicy(max_statistic=1e9)
    )
    for _ in range(4):
        _flip(mon, clock)
        clock.advance(days=1, hours=1)
    status = mon.status()
    assert status.events_in_window == 4 and not status.retrain_recommended
    _flip(mon, clock)
    status = mon.status()
    assert status.retrain_recommended
    assert "5 drift events within 7 days" in status.retrain_reasons[0]
    summary = mon.summary(days=7)
    assert summary.events == 5 and summary.retrain_recommended
    clock.advance(days=7)
    later = mon.status()
    assert later.events_in_window == 0 and not later.retrain_recommended
    assert mon.summary(days=7).events == 0


def test_retrain_when_statistic_exceeds_max() -> None:
    clock = FakeClock()
    mon = drift.DriftMonitor(_baseline(), window=100, clock=clock)
    mon.add_many(np.full(100, 10.0))
    status = mon.status()
    assert status.retrain_recommended and status.severity == "severe"
    assert any("kl reached" in reason for reason in status.retrain_reasons)
    mon.reset()
    status = mon.status()
    assert not status.retrain_recommended and status.samples == 0 and mon.events == ()
    assert np.isnan(status.statistic)


def test_severity_bands() -> None:
    bands = drift.SeverityBands()
    assert [bands.classify(x) for x in (0.0, 0.29, 0.3, 0.49, 0.5, 1.0, 1.01)] == [
        "normal",
        "normal",
        "mild",
        "mild",
        "significant",
        "significant",
        "severe",
    ]
    mon = drift.DriftMonitor(_baseline(), threshold=0.2, clock=FakeClock())
    assert mon.bands == drift.SeverityBands(0.12, 0.2, 0.4)
    with pytest.raises(InvalidArgument, match="mild <= significant"):
        drift.SeverityBands(0.5, 0.3, 1.0)


scores_strategy = st.lists(
    st.one_of(st.floats(-4, 4), st.sampled_from([8.0, -8.0, 0.0])), min_size=1, max_size=120
)


@given(
    scores_strategy, st.lists(st.integers(0, 7200), min_size=120, max_size=120), st.integers(1, 30)
)
def test_add_many_equals_repeated_add(scores: list[float], gaps: list[int], window: int) -> None:
    base = _baseline(2000)
    stamps = [T0 + timedelta(seconds=sum(gaps[: i + 1])) for i in range(len(scores))]
    one = drift.DriftMonitor(base, window=window, cooldown=timedelta(minutes=30), clock=FakeClock())
    many = drift.DriftMonitor(
        base, window=window, cooldown=timedelta(minutes=30), clock=FakeClock()
    )
    single_events = []
    for x, t in zip(scores, stamps, strict=True):
        if one.add(x, timestamp=t).event:
            single_events.append(one.events[-1])
    half = len(scores) // 2
    batch_events = many.add_many(scores[:half], timestamps=stamps[:half])
    batch_events += (
        many.add_many(
            np.array(scores[half:]),
            timestamps=np.array(
                [t.replace(tzinfo=None) for t in stamps[half:]], dtype="datetime64[us]"
            ),
        )
        if half < len(scores)
        else []
    )
    assert batch_events == single_events
    assert many.events == one.events
    assert many.status() == one.status()
    assert many.to_bytes() == one.to_bytes()


def test_concurrent_adds_match_serial() -> None:
    base = _baseline()
    scores = np.random.default_rng(5).normal(0.2, size=40_000)
    serial = drift.DriftMonitor(base, window=50_000, clock=FakeClock())
    for x in scores:
        serial.add(float(x))
    shared = drift.DriftMonitor(base, window=50_000, clock=FakeClock())
    parts = np.array_split(scores, 4)
    threads_before = threading.active_count()
    threads = [
        threading.Thread(target=lambda p=p: [shared.add(float(x)) for x in p]) for p in parts
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(shared.counts, serial.counts)
    assert shared.status().total == serial.status().total == scores.size
    assert shared.status().statistic == pytest.approx(serial.status().statistic, rel=1e-12)
    assert threading.active_count() == threads_before  # every worker finished


def test_concurrent_add_many() -> None:
    shared = drift.DriftMonitor(_baseline(), window=1000, clock=FakeClock())
    chunks = np.array_split(np.random.default_rng(6).normal(size=200_000), 8)
    threads = [threading.Thread(target=shared.add_many, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert shared.status().total == 200_000 and shared.counts.sum() == 1000


def test_restart_continues_where_it_stopped() -> None:
    clock = FakeClock()
    base = _baseline()
    stream = np.concatenate([np.random.default_rng(7).normal(size=700), np.full(300, 6.0)])
    stream2 = np.concatenate([np.random.default_rng(8).normal(size=900), np.full(400, 6.0)])
    steady = drift.DriftMonitor(
        base, window=500, clock=clock, retrain=drift.RetrainPolicy(events=2)
    )
    steady.add_many(stream)
    data = steady.to_bytes()
    assert data[:4] == b"LGDM" and data[4] == 1
    restarted = drift.DriftMonitor.from_bytes(data, clock=clock)
    assert restarted.status() == steady.status()
    clock.advance(hours=2)
    assert steady.add_many(stream2) == restarted.add_many(stream2)
    assert restarted.events == steady.events and len(steady.events) == 2
    assert restarted.status() == steady.status()
    assert restarted.to_bytes() == steady.to_bytes()
    assert restarted.status().retrain_recommended


@pytest.mark.parametrize(
    ("mutate", "text"),
    [
        (lambda b: b[:-1], "checksum"),
        (lambda b: b[:3], "truncated"),
        (lambda b: b"LGHS" + b[4:], "magic header"),
        (lambda b: b[:4] + bytes([2]) + b[5:], "version 2"),
        (lambda b: b[:40] + bytes([b[40] ^ 0xFF]) + b[41:], "checksum"),
    ],
    ids=["cut", "short", "magic", "version", "flipped"],
)
def test_corrupt_monitor_bytes(mutate: object, text: str) -> None:
    mon = drift.DriftMonitor(_baseline(), window=10, clock=FakeClock())
    mon.add_many([0.1, 0.2])
    with pytest.raises(InvalidArgument, match=text) as caught:
        drift.DriftMonitor.from_bytes(mutate(mon.to_bytes()))  # type: ignore[operator]
    assert caught.value.field == "data"


def test_baseline_sources(tmp_path: Path) -> None:
    base = _baseline()
    path = tmp_path / "baseline.npy"
    np.save(path, base)
    stream = np.random.default_rng(9).normal(0.3, size=300)
    reference = drift.DriftMonitor(base, window=300, clock=FakeClock())
    from_file = drift.DriftMonitor(path, window=300, clock=FakeClock())
    state = drift.HistogramState.from_scores(base, drift.histogram_edges(base))
    from_state = drift.DriftMonitor(state, window=300, clock=FakeClock())
    from_saved = drift.DriftMonitor(state.to_bytes(), window=300, clock=FakeClock())
    for mon in (reference, from_file, from_state, from_saved):
        mon.add_many(stream)
    assert reference.status() == from_file.status() == from_state.status() == from_saved.status()
    np.testing.assert_array_equal(from_state.edges, state.edges)


@pytest.mark.parametrize(
    ("baseline", "field", "text"),
    [
        (None, "baseline", "is None"),
        (np.array([]), "baseline", "is empty"),
        ("/nonexistent/baseline.npy", "baseline", "does not exist"),
        (np.array([1.0, 1.0, 1.0]), "reference", "one distinct value"),
        (np.array([1.0, np.nan]), "reference[1]", "must be finite"),
    ],
    ids=["none", "empty", "missing-file", "one-value", "nan"],
)
def test_bad_baseline(baseline: object, field: str, text: str) -> None:
    with pytest.raises(InvalidArgument, match=text) as caught:
        drift.DriftMonitor(baseline)
    assert caught.value.field == field


def test_empty_state_baseline_and_bad_settings() -> None:
    edges = np.array([-np.inf, 0.0, np.inf])
    with pytest.raises(InvalidArgument, match="empty HistogramState"):
        drift.DriftMonitor(drift.HistogramState.empty(edges))
    base = _baseline(1000)
    for kwargs, field in [
        ({"window": 0}, "window"),
        ({"min_samples": 2000}, "min_samples"),
        ({"statistic": "tv"}, "statistic"),
        ({"cooldown": timedelta(seconds=-1)}, "cooldown"),
        ({"threshold": -1.0}, "threshold"),
    ]:
        with pytest.raises(InvalidArgument) as caught:
            drift.DriftMonitor(base, **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field


def test_non_finite_scores() -> None:
    mon = drift.DriftMonitor(_baseline(), window=10, clock=FakeClock())
    with pytest.raises(InvalidArgument, match="score: is nan") as caught:
        mon.add(float("nan"))
    assert caught.value.field == "score"
    mon.add_many([0.1])
    with pytest.raises(InvalidArgument, match=r"scores\[1\]: is inf"):
        mon.add_many([0.2, float("inf"), 0.3])
    assert mon.status().total == 1  # a rejected batch changes nothing
    dropping = drift.DriftMonitor(_baseline(), window=10, clock=FakeClock(), non_finite="drop")
    dropping.add_many([0.2, float("inf"), 0.3])
    dropping.add(float("nan"))
    assert dropping.status().total == 2 and dropping.status().dropped == 2


def test_false_alarm_rate_of_the_original_settings() -> None:
    baseline = np.random.default_rng(0).normal(size=100_000)
    rate = drift.false_alarm_rate(
        baseline, window=1000, statistic="kl", threshold=0.5, bins=10, trials=1000, seed=0
    )
    assert rate < 0.05
    assert drift.false_alarm_rate(baseline, threshold=0.0, trials=20) == 1.0
    # A tiny threshold with a tiny window flags most A/A windows; the seed makes it repeatable.
    noisy = drift.false_alarm_rate(baseline, window=20, threshold=0.1, trials=300, seed=1)
    assert 0 < noisy < 1
    assert noisy == drift.false_alarm_rate(
        baseline, window=20, threshold=0.1, trials=300, rng=np.random.default_rng(1)
    )


def test_false_alarm_rate_bad_input() -> None:
    with pytest.raises(InvalidArgument, match="trials"):
        drift.false_alarm_rate(_baseline(), trials=0)
    with pytest.raises(InvalidArgument, match="is empty"):
        drift.false_alarm_rate(np.array([]))


@pytest.mark.parametrize(
    "timestamps",
    [
        [datetime(2026, 1, 1, tzinfo=timezone.utc)],
        np.array(["2026-01-01T00:00"], dtype="datetime64[s]"),
    ],
    ids=["datetimes", "datetime64"],
)
def test_timestamps_must_match_scores(timestamps: object) -> None:
    mon = drift.DriftMonitor(_baseline(1000), window=100, clock=FakeClock())
    with pytest.raises(InvalidArgument, match="1 values for 3 scores") as caught:
        mon.add_many([0.1, 0.2, 0.3], timestamps=timestamps)  # type: ignore[arg-type]
    assert caught.value.field == "timestamps"
    assert mon.status().total == 0
