"""Retries, rate limits and the circuit breaker of the Gemini client, driven by a fake clock."""

from __future__ import annotations

import dataclasses
import math
import random
import threading
from typing import Any

import pytest
import tenacity
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lumengate import gemini
from lumengate._native import core
from lumengate.errors import InvalidArgument

native: Any = core.gemini

# Waits are rounded up to whole nanoseconds so that waiting them is always enough.
NS = 1e-9


def schedule(policy: gemini.RetryPolicy, seed: int, status: int = 503) -> list[float]:
    """Every wait a request gets when each attempt fails with `status` and the client waits."""
    retrier = native.Retrier(policy, 0.0, seed)
    now, waits = 0.0, []
    while (wait := retrier.next(now, status=status)) is not None:
        waits.append(wait)
        now += wait
    return waits


def tenacity_cap(policy: gemini.RetryPolicy, retry: int) -> float:
    """The upper bound tenacity's wait_random_exponential draws from before retry `retry`."""
    wait = tenacity.wait_exponential(
        multiplier=policy.initial_delay_s, max=policy.max_delay_s, exp_base=policy.multiplier
    )
    state = tenacity.RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    state.attempt_number = retry + 1  # tenacity numbers the attempt that just failed from 1
    return float(wait(state))


POLICIES = [
    gemini.RetryPolicy(),
    gemini.RetryPolicy(max_attempts=12, initial_delay_s=0.25, max_delay_s=10, multiplier=3),
    gemini.RetryPolicy(max_attempts=6, initial_delay_s=2, max_delay_s=2, multiplier=1.5),
]
POLICY_IDS = ["defaults", "quarter-x3-cap10", "flat-2s"]


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_backoff_caps_equal_tenacity_wait_random_exponential(policy: gemini.RetryPolicy) -> None:
    for retry in range(policy.max_attempts):
        assert policy.backoff_cap(retry) == pytest.approx(tenacity_cap(policy, retry), rel=1e-12)


@pytest.mark.parametrize("retry", [0, 2, 4])
def test_waits_are_distributed_like_tenacity_wait_random_exponential(retry: int) -> None:
    policy = gemini.RetryPolicy(max_attempts=6, initial_delay_s=0.5, max_delay_s=5, budget_s=1000)
    ours = [schedule(policy, seed)[retry] for seed in range(1500)]
    reference = tenacity.wait_random_exponential(
        multiplier=policy.initial_delay_s, max=policy.max_delay_s, exp_base=policy.multiplier
    )
    saved = random.getstate()  # tenacity draws from the random module's global generator
    random.seed(11)
    theirs = []
    for _ in range(1500):
        state = tenacity.RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
        state.attempt_number = retry + 1
        theirs.append(float(reference(state)))
    random.setstate(saved)
    cap = policy.backoff_cap(retry)
    assert 0 <= min(ours) and max(ours) <= cap + NS
    assert 0 <= min(theirs) and max(theirs) <= cap
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3


@pytest.mark.parametrize("policy", POLICIES, ids=POLICY_IDS)
def test_each_wait_lies_within_its_cap_and_attempts_stop_at_max(
    policy: gemini.RetryPolicy,
) -> None:
    policy = dataclasses.replace(policy, budget_s=86400)
    for seed in range(200):
        waits = schedule(policy, seed)
        assert len(waits) == policy.max_attempts - 1
        for retry, wait in enumerate(waits):
            assert 0 <= wait <= policy.backoff_cap(retry) + NS


@pytest.mark.parametrize("retry", [0, 1, 3, 6])
def test_full_jitter_is_uniform_up_to_the_cap(retry: int) -> None:
    policy = gemini.RetryPolicy(max_attempts=8, initial_delay_s=0.1, max_delay_s=3, budget_s=1e4)
    cap = policy.backoff_cap(retry)
    fractions = [schedule(policy, seed)[retry] / cap for seed in range(3000)]
    assert stats.kstest(fractions, "uniform").pvalue > 1e-3
    # Full jitter, not "equal jitter": the lower half of the range is used as often as the upper.
    assert stats.kstest(fractions, stats.uniform(loc=0.5, scale=0.5).cdf).pvalue < 1e-6


@given(seed=st.integers(min_value=0, max_value=2**64 - 1))
def test_schedule_is_deterministic_for_a_seed(seed: int) -> None:
    policy = gemini.RetryPolicy(max_attempts=10, budget_s=86400)
    assert schedule(policy, seed) == schedule(policy, seed)
    assert schedule(policy, seed) != schedule(policy, seed ^ 1)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_listed_statuses_are_retried(status: int) -> None:
    retrier = native.Retrier(gemini.RetryPolicy(), 0.0, 1)
    assert retrier.next(0.0, status=status) is not None
    assert retrier.attempts == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 200, 501, 505])
def test_other_statuses_are_never_retried(status: int) -> None:
    retrier = native.Retrier(gemini.RetryPolicy(), 0.0, 1)
    assert retrier.next(0.0, status=status) is None
    assert retrier.attempts == 1


def test_the_listed_statuses_replace_the_defaults() -> None:
    policy = gemini.RetryPolicy(statuses=[501])
    assert policy.statuses == (501,)
    assert native.Retrier(policy, 0.0, 1).next(0.0, status=501) is not None
    assert native.Retrier(policy, 0.0, 1).next(0.0, status=503) is None


@pytest.mark.parametrize("fault", ["connection_error", "timed_out"])
def test_connection_errors_and_timeouts_are_retried_only_when_enabled(fault: str) -> None:
    assert native.Retrier(gemini.RetryPolicy(), 0.0, 1).next(0.0, **{fault: True}) is not None
    off = gemini.RetryPolicy(retry_connection_errors=False)
    assert native.Retrier(off, 0.0, 1).next(0.0, **{fault: True}) is None


@pytest.mark.parametrize(
    "fault", [{"status": 503}, {"connection_error": True}, {"timed_out": True}], ids=str
)
def test_a_stream_that_delivered_a_chunk_is_never_retried(fault: dict[str, Any]) -> None:
    retrier = native.Retrier(gemini.RetryPolicy(), 0.0, 1)
    assert retrier.next(0.0, body_started=True, **fault) is None
    assert retrier.next(0.0, body_started=False, **fault) is not None


@pytest.mark.parametrize("server_delay", [0.0, 0.5, 7.5, 90.0])
def test_a_server_delay_is_a_lower_bound_of_the_wait(server_delay: float) -> None:
    policy = gemini.RetryPolicy(initial_delay_s=1, max_delay_s=60, budget_s=120)
    for seed in range(50):
        wait = native.Retrier(policy, 0.0, seed).next(0.0, status=429, server_delay=server_delay)
        jitter = native.Retrier(policy, 0.0, seed).next(0.0, status=429)
        assert wait == pytest.approx(max(server_delay, jitter), abs=NS)


@pytest.mark.parametrize("server_delay", [math.nan, -1.0, math.inf])
def test_an_unusable_server_delay_gives_up(server_delay: float) -> None:
    retrier = native.Retrier(gemini.RetryPolicy(), 0.0, 1)
    assert retrier.next(0.0, status=429, server_delay=server_delay) is None


@given(
    start=st.integers(min_value=-1000, max_value=1000),
    elapsed=st.floats(min_value=0, max_value=20, allow_nan=False),
    server_delay=st.floats(min_value=0, max_value=20, allow_nan=False),
)
def test_a_wait_that_would_end_past_the_budget_gives_up(
    start: int, elapsed: float, server_delay: float
) -> None:
    # A tiny jitter cap makes the server delay the wait, so the budget rule is exact.
    policy = gemini.RetryPolicy(initial_delay_s=1e-12, max_delay_s=1e-12, budget_s=10)
    retrier = native.Retrier(policy, float(start), 3)
    wait = retrier.next(start + elapsed, status=429, server_delay=server_delay)
    ends = elapsed + server_delay
    if ends > 10 + 1e-6:
        assert wait is None
    elif ends < 10 - 1e-6:
        assert wait == pytest.approx(server_delay, abs=1e-6)


def test_budget_covers_attempts_and_waits() -> None:
    policy = gemini.RetryPolicy(max_attempts=100, initial_delay_s=1, max_delay_s=8, budget_s=30)
    for seed in range(100):
        waits = schedule(policy, seed)
        assert sum(waits) <= 30 + 1e-6
        assert len(waits) < 99  # the budget, not the attempts, stopped it


def test_attempts_count_the_first_and_each_scheduled_retry() -> None:
    retrier = native.Retrier(gemini.RetryPolicy(max_attempts=3), 0.0, 5)
    assert retrier.attempts == 1
    assert retrier.next(0.0, status=500) is not None
    assert retrier.attempts == 2
    assert retrier.next(1.0, status=500) is not None
    assert retrier.attempts == 3
    assert retrier.next(3.0, status=500) is None
    assert retrier.attempts == 3
    assert native.Retrier(gemini.RetryPolicy(max_attempts=1), 0.0, 5).next(0.0, status=500) is None


def admissions_within_bound(times: list[float], amounts: list[float], per_minute: float) -> bool:
    """In every window [times[i], times[j]] the admitted amount is <= per_minute * (1 + W/60)."""
    for i in range(len(times)):
        total = 0.0
        for j in range(i, len(times)):
            total += amounts[j]
            window = times[j] - times[i]
            if total > per_minute * (1 + window / 60) + 1e-6 * per_minute:
                return False
    return True


steps = st.lists(
    st.tuples(
        st.one_of(st.just(None), st.floats(min_value=0, max_value=40, allow_nan=False)),
        st.integers(min_value=0, max_value=400),
    ),
    min_size=1,
    max_size=120,
)


@settings(deadline=None)
@given(rpm=st.integers(1, 30), tpm=st.integers(400, 5000), plan=steps)
def test_token_buckets_never_admit_more_than_a_minute_burst_plus_the_rate(
    rpm: int, tpm: int, plan: list[tuple[float | None, int]]
) -> None:
    limiter = native.Limiter(gemini.Limits(rpm=rpm, tpm=tpm))
    now = 0.0
    deferred: tuple[float, int] | None = None  # (wait, est_tokens) of the last refusal
    times: list[float] = []
    tokens: list[float] = []
    for step, est in plan:
        # None: wait exactly what the limiter asked for and retry that request; it must pass.
        retrying = step is None and deferred is not None
        if retrying:
            assert deferred is not None
            wait, est = deferred
            now += wait
        else:
            now += step or 0.0
        result = limiter.try_acquire(est, now)
        if retrying:
            assert isinstance(result, native.Ticket), (now, est, result)
        if isinstance(result, native.Ticket):
            times.append(now)
            tokens.append(est)
            limiter.release(result, now)
            deferred = None
        else:
            assert 0 < result <= 60 * max(1 / rpm, est / tpm) + NS
            deferred = (result, est)
    assert admissions_within_bound(times, [1.0] * len(times), rpm)
    assert admissions_within_bound(times, tokens, tpm)
    assert limiter.in_flight == 0


def test_a_full_bucket_admits_one_minute_then_waits_for_the_rate() -> None:
    limiter = native.Limiter(gemini.Limits(rpm=6))
    tickets = [limiter.try_acquire(0, 0.0) for _ in range(6)]
    assert all(isinstance(t, native.Ticket) for t in tickets)
    assert limiter.try_acquire(0, 0.0) == pytest.approx(10.0)  # one request per 60/6 s
    assert limiter.try_acquire(0, 4.0) == pytest.approx(6.0)
    assert isinstance(limiter.try_acquire(0, 10.0), native.Ticket)
    assert limiter.counters()["rate_waits"] == 2


def test_usage_corrects_the_token_bucket() -> None:
    limiter = native.Limiter(gemini.Limits(tpm=1000))
    ticket = limiter.try_acquire(600, 0.0)
    assert isinstance(ticket, native.Ticket) and ticket.tokens == 600
    limiter.release(ticket, 0.0, actual_tokens=900)  # 300 more than estimated
    # 100 tokens left; 200 more are needed at 1000/60 per second.
    assert limiter.try_acquire(200, 0.0) == pytest.approx(100 * 60 / 1000)
    ticket = limiter.try_acquire(100, 0.0)
    assert isinstance(ticket, native.Ticket)
    limiter.release(ticket, 0.0, actual_tokens=0)  # an overestimate is refunded
    assert isinstance(limiter.try_acquire(100, 0.0), native.Ticket)
    assert limiter.counters()["token_corrections"] == 2


def test_release_without_usage_keeps_the_estimate() -> None:
    limiter = native.Limiter(gemini.Limits(tpm=1000))
    limiter.release(limiter.try_acquire(700, 0.0), 0.0)
    assert limiter.try_acquire(301, 0.0) == pytest.approx(60 / 1000)


def test_a_request_larger_than_the_whole_tpm_allowance_is_refused() -> None:
    limiter = native.Limiter(gemini.Limits(tpm=1000))
    with pytest.raises(InvalidArgument, match=r"tpm = 1000") as error:
        limiter.try_acquire(1001, 0.0)
    assert error.value.field == "est_tokens"
    assert isinstance(limiter.try_acquire(1000, 0.0), native.Ticket)


def test_concurrency_slots_wait_for_a_release() -> None:
    limiter = native.Limiter(gemini.Limits(max_concurrent=2))
    first, second = limiter.try_acquire(10, 0.0), limiter.try_acquire(10, 0.0)
    assert limiter.try_acquire(10, 0.0) == math.inf
    assert limiter.in_flight == 2
    limiter.release(first, 1.0)
    third = limiter.try_acquire(10, 1.0)
    assert isinstance(third, native.Ticket) and third.id not in (first.id, second.id)
    with pytest.raises(InvalidArgument, match="not outstanding") as error:
        limiter.release(first, 2.0)
    assert error.value.field == "ticket"
    assert limiter.counters() == {
        "admitted": 3,
        "concurrency_waits": 1,
        "rate_waits": 0,
        "released": 1,
        "token_corrections": 0,
    }


class BreakerModel:
    """The breaker as its documentation states it."""

    def __init__(self, failures: int, reset: float) -> None:
        self.failures, self.reset = failures, reset
        self.state, self.consecutive, self.opened, self.probe = "closed", 0, 0.0, 0.0

    def allow(self, now: float) -> tuple[bool, bool]:
        if self.failures == 0 or self.state == "closed":
            return True, False
        waited = now - (self.opened if self.state == "open" else self.probe)
        if waited < self.reset:
            return False, False
        self.state, self.probe = "half_open", now
        return True, True

    def success(self) -> None:
        if self.failures and self.state != "open":
            self.state, self.consecutive = "closed", 0

    def failure(self, now: float) -> None:
        if self.failures == 0 or self.state == "open":
            return
        self.consecutive += 1
        if self.state == "half_open" or self.consecutive >= self.failures:
            self.state, self.consecutive, self.opened = "open", 0, now

    def observed(self, now: float) -> str:
        if self.failures == 0:
            return "closed"
        if self.state == "open" and now - self.opened >= self.reset:
            return "half_open"
        return self.state


events = st.lists(
    st.tuples(st.sampled_from(["allow", "success", "failure"]), st.integers(0, 12)), max_size=80
)


@given(failures=st.integers(min_value=0, max_value=4), reset=st.integers(1, 20), plan=events)
def test_breaker_follows_its_state_machine(
    failures: int, reset: int, plan: list[tuple[str, int]]
) -> None:
    breaker = native.CircuitBreaker(failures, float(reset))
    model = BreakerModel(failures, reset)
    now = 0
    for event, step in plan:
        now += step
        if event == "allow":
            assert breaker.allow(float(now)) == model.allow(now)
        elif event == "success":
            breaker.on_success()
            model.success()
        else:
            breaker.on_failure(float(now))
            model.failure(now)
        assert breaker.state(float(now)) == model.observed(now)


def test_breaker_opens_probes_once_and_closes_on_success() -> None:
    breaker = native.CircuitBreaker(3, 30.0)
    for t in range(3):
        assert breaker.allow(float(t)) == (True, False)
        breaker.on_failure(float(t))
    assert breaker.state(2.0) == "open"
    assert breaker.allow(31.0) == (False, False)
    assert breaker.allow(32.0) == (True, True)
    assert breaker.allow(32.0) == (False, False)
    breaker.on_success()
    assert breaker.state(33.0) == "closed"
    assert breaker.counters() == {"opens": 1, "rejections": 2, "probes": 1, "closes": 1}


def test_limiter_holds_its_limits_under_threads() -> None:
    limiter = native.Limiter(gemini.Limits(max_concurrent=4, rpm=300))
    held, peak, admitted = [0], [0], [0]
    lock = threading.Lock()

    def work() -> None:
        for _ in range(1500):
            result = limiter.try_acquire(1, 0.0)
            if isinstance(result, native.Ticket):
                with lock:
                    held[0] += 1
                    admitted[0] += 1
                    peak[0] = max(peak[0], held[0])
                with lock:
                    held[0] -= 1
                limiter.release(result, 0.0)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] <= 4
    assert admitted[0] == 300  # exactly the full bucket, however the threads interleave
    assert limiter.in_flight == 0
    counters = limiter.counters()
    assert counters["admitted"] == counters["released"] == 300
    assert counters["admitted"] + counters["rate_waits"] + counters["concurrency_waits"] == 12000


def test_exactly_one_probe_gets_through_under_threads() -> None:
    breaker = native.CircuitBreaker(1, 5.0)
    breaker.on_failure(0.0)
    barrier = threading.Barrier(8)
    results: list[tuple[bool, bool]] = []
    lock = threading.Lock()

    def knock() -> None:
        barrier.wait()
        mine = [breaker.allow(6.0) for _ in range(500)]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=knock) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count((True, True)) == 1
    assert results.count((False, False)) == 3999
    assert breaker.counters()["probes"] == 1


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 2.5}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"max_attempts": 2**40}, "max_attempts"),
        ({"initial_delay_s": 0}, "initial_delay_s"),
        ({"initial_delay_s": "1"}, "initial_delay_s"),
        ({"max_delay_s": 0.5}, "max_delay_s"),
        ({"multiplier": 0.5}, "multiplier"),
        ({"budget_s": math.nan}, "budget_s"),
        ({"budget_s": math.inf}, "budget_s"),
        ({"statuses": (503, 404)}, "statuses[1]"),
        ({"statuses": (400,)}, "statuses[0]"),
        ({"statuses": (200,)}, "statuses[0]"),
        ({"statuses": "503"}, "statuses"),
        ({"retry_connection_errors": 1}, "retry_connection_errors"),
    ],
    ids=str,
)
def test_a_bad_retry_policy_names_the_field(arguments: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        gemini.RetryPolicy(**arguments)
    assert error.value.field == field
    assert isinstance(error.value, ValueError)
    assert str(error.value).startswith(f"{field}: ")


def test_never_retried_statuses_are_refused_with_the_reason() -> None:
    with pytest.raises(InvalidArgument, match=r"statuses\[0\]: 401 is never retried"):
        gemini.RetryPolicy(statuses=(401,))


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"max_concurrent": -1}, "max_concurrent"),
        ({"rpm": -1}, "rpm"),
        ({"tpm": math.inf}, "tpm"),
        ({"tpm": None}, "tpm"),
        ({"breaker_failures": -2}, "breaker_failures"),
        ({"breaker_reset_s": 0}, "breaker_reset_s"),
    ],
    ids=str,
)
def test_bad_limits_name_the_field(arguments: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        gemini.Limits(**arguments)
    assert error.value.field == field


def test_bad_calls_name_the_argument() -> None:
    with pytest.raises(InvalidArgument) as error:
        gemini.RetryPolicy().backoff_cap(-1)
    assert error.value.field == "retry"
    limiter = native.Limiter(gemini.Limits())
    with pytest.raises(InvalidArgument) as error:
        limiter.try_acquire(-5, 0.0)
    assert error.value.field == "est_tokens"
    with pytest.raises(InvalidArgument) as error:
        limiter.try_acquire(1, math.nan)
    assert error.value.field == "now"
    with pytest.raises(InvalidArgument) as error:
        native.CircuitBreaker(3, 0.0)
    assert error.value.field == "breaker_reset_s"


def test_policies_are_frozen_keyword_values_with_a_repr() -> None:
    policy = gemini.RetryPolicy(max_attempts=3)
    assert policy == gemini.RetryPolicy(max_attempts=3)
    assert repr(policy).startswith("RetryPolicy(max_attempts=3, initial_delay_s=1.0,")
    assert gemini.Limits(rpm=60).rpm == 60.0
    assert "rpm=60.0" in repr(gemini.Limits(rpm=60))
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_attempts = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        gemini.RetryPolicy(3)  # type: ignore[misc]
    assert {"RetryPolicy", "Limits"} <= set(gemini.__all__)
