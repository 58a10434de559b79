#include "lumengate/gemini/policy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "lumengate/common/error.hpp"

namespace lumengate::gemini {
namespace {

// Bounds that keep every wait representable as a Clock::duration (nanoseconds in int64).
constexpr double max_seconds = 86400.0;
constexpr int max_attempts_allowed = 100;
constexpr double max_multiplier = 10.0;

std::string number(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

void require_range(const char* field, double value, double low, double high, bool low_open) {
    const bool ok =
        std::isfinite(value) && (low_open ? value > low : value >= low) && value <= high;
    if (!ok) {
        throw InvalidArgument(field, "must be a number in " + std::string(low_open ? "(" : "[") +
                                         number(low) + ", " + number(high) + "], got " +
                                         number(value));
    }
}

void require_int_range(const char* field, int value, int low, int high) {
    if (value < low || value > high) {
        throw InvalidArgument(field, "must be a whole number in [" + std::to_string(low) + ", " +
                                         std::to_string(high) + "], got " + std::to_string(value));
    }
}

bool never_retried(int status) {
    return status == 400 || status == 401 || status == 403 || status == 404;
}

Clock::duration to_duration(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Rounds up so that waiting the returned duration is always enough.
Clock::duration to_duration_ceil(double seconds) {
    return std::chrono::ceil<Clock::duration>(std::chrono::duration<double>(seconds));
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

}  // namespace

void RetryPolicy::validate() const {
    require_int_range("max_attempts", max_attempts, 1, max_attempts_allowed);
    require_range("initial_delay_s", initial_delay_s, 0.0, max_seconds, true);
    require_range("max_delay_s", max_delay_s, 0.0, max_seconds, true);
    if (max_delay_s < initial_delay_s) {
        throw InvalidArgument("max_delay_s", "must be >= initial_delay_s (" +
                                                 number(initial_delay_s) + "), got " +
                                                 number(max_delay_s));
    }
    require_range("multiplier", multiplier, 1.0, max_multiplier, false);
    require_range("budget_s", budget_s, 0.0, max_seconds, true);
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        const int status = statuses[i];
        const std::string field = "statuses[" + std::to_string(i) + "]";
        if (never_retried(status)) {
            throw InvalidArgument(field, std::to_string(status) +
                                             " is never retried (400, 401, 403 and 404 are the "
                                             "caller's to fix); allowed: 408, 429 and other "
                                             "4xx, or 5xx");
        }
        if (status < 400 || status > 599) {
            throw InvalidArgument(field,
                                  "must be an HTTP error status in [400, 599] other than "
                                  "400, 401, 403 and 404, got " +
                                      std::to_string(status));
        }
    }
}

double RetryPolicy::backoff_cap_s(int retry) const {
    if (retry < 0) {
        throw InvalidArgument("retry", "must be a whole number >= 0, got " + std::to_string(retry));
    }
    // initial * multiplier^retry grows past max_delay_s quickly; pow saturates to inf, never NaN.
    const double grown = initial_delay_s * std::pow(multiplier, static_cast<double>(retry));
    return std::min(max_delay_s, grown);
}

bool RetryPolicy::retryable(const AttemptOutcome& outcome) const {
    if (outcome.body_started) return false;
    if (outcome.connection_error || outcome.timed_out) return retry_connection_errors;
    if (never_retried(outcome.status)) return false;
    return std::find(statuses.begin(), statuses.end(), outcome.status) != statuses.end();
}

Retrier::Retrier(const RetryPolicy& policy, Clock::time_point start, std::uint64_t seed)
    : policy_(policy), start_(start), random_(seed) {
    policy_.validate();
}

double Retrier::uniform01() {
    // The top 53 bits of one mt19937_64 draw: the same doubles on every platform for a seed.
    return static_cast<double>(random_() >> 11) * 0x1.0p-53;
}

std::optional<Clock::duration> Retrier::next(const AttemptOutcome& outcome, Clock::time_point now) {
    if (!policy_.retryable(outcome)) return std::nullopt;
    if (attempts_ >= policy_.max_attempts) return std::nullopt;
    double wait = uniform01() * policy_.backoff_cap_s(attempts_ - 1);
    if (outcome.server_delay_s) {
        const double server = *outcome.server_delay_s;
        // A malformed or absurd server delay cannot be honoured inside any budget.
        if (!(server >= 0.0) || server > max_seconds) return std::nullopt;
        wait = std::max(wait, server);
    }
    const double elapsed = std::max(0.0, seconds_between(start_, now));
    if (elapsed + wait > policy_.budget_s) return std::nullopt;
    ++attempts_;
    return to_duration_ceil(wait);
}

int Retrier::attempts() const { return attempts_; }

void Limits::validate() const {
    require_int_range("max_concurrent", max_concurrent, 0, 1'000'000);
    require_range("rpm", rpm, 0.0, 1e9, false);
    require_range("tpm", tpm, 0.0, 1e12, false);
    require_int_range("breaker_failures", breaker_failures, 0, 1'000'000);
    require_range("breaker_reset_s", breaker_reset_s, 0.0, max_seconds, true);
}

Limiter::Limiter(const Limits& limits) : limits_(limits) {
    limits_.validate();
    requests_ = limits_.rpm;
    tokens_ = limits_.tpm;
}

void Limiter::refill(Clock::time_point now) {
    // Time never runs backwards for the buckets: an earlier `now` from another thread adds nothing.
    if (last_ && now <= *last_) return;
    if (last_) {
        const double elapsed = seconds_between(*last_, now);
        requests_ = std::min(limits_.rpm, requests_ + elapsed * limits_.rpm / 60.0);
        tokens_ = std::min(limits_.tpm, tokens_ + elapsed * limits_.tpm / 60.0);
    }
    last_ = now;
}

std::variant<Limiter::Ticket, Clock::duration> Limiter::try_acquire(double est_tokens,
                                                                    Clock::time_point now) {
    if (!std::isfinite(est_tokens) || est_tokens < 0.0) {
        throw InvalidArgument("est_tokens",
                              "must be a finite number >= 0, got " + number(est_tokens));
    }
    if (limits_.tpm > 0 && est_tokens > limits_.tpm) {
        throw InvalidArgument("est_tokens",
                              "the request needs an estimated " + number(est_tokens) +
                                  " tokens, more than the whole tokens-per-minute allowance "
                                  "(tpm = " +
                                  number(limits_.tpm) + "), so it could never be admitted");
    }
    const std::lock_guard lock(mutex_);
    if (limits_.max_concurrent > 0 && in_flight_ >= limits_.max_concurrent) {
        concurrency_waits_.fetch_add(1, std::memory_order_relaxed);
        return until_release;
    }
    refill(now);
    double wait = 0.0;
    if (limits_.rpm > 0 && requests_ < 1.0) {
        wait = std::max(wait, (1.0 - requests_) * 60.0 / limits_.rpm);
    }
    if (limits_.tpm > 0 && tokens_ < est_tokens) {
        wait = std::max(wait, (est_tokens - tokens_) * 60.0 / limits_.tpm);
    }
    // A request ready within a microsecond is admitted: a caller that waited the returned
    // duration must not be sent back for a rounding error. The debt stays in the buckets.
    constexpr double ready_within_s = 1e-6;
    if (wait > ready_within_s) {
        rate_waits_.fetch_add(1, std::memory_order_relaxed);
        return to_duration_ceil(wait);
    }
    if (limits_.rpm > 0) requests_ -= 1.0;
    if (limits_.tpm > 0) tokens_ -= est_tokens;
    ++in_flight_;
    const Ticket ticket{++next_id_, est_tokens};
    outstanding_.insert(ticket.id);
    admitted_.fetch_add(1, std::memory_order_relaxed);
    return ticket;
}

void Limiter::release(const Ticket& ticket, std::optional<double> actual_tokens,
                      Clock::time_point now) {
    if (actual_tokens && (!std::isfinite(*actual_tokens) || *actual_tokens < 0.0)) {
        throw InvalidArgument("actual_tokens", "must be a finite number >= 0 or absent, got " +
                                                   number(*actual_tokens));
    }
    const std::lock_guard lock(mutex_);
    if (outstanding_.erase(ticket.id) == 0) {
        throw InvalidArgument("ticket", "ticket " + std::to_string(ticket.id) +
                                            " is not outstanding (released already, or from "
                                            "another Limiter)");
    }
    --in_flight_;
    released_.fetch_add(1, std::memory_order_relaxed);
    if (actual_tokens && limits_.tpm > 0) {
        refill(now);
        tokens_ = std::min(limits_.tpm, tokens_ - (*actual_tokens - ticket.tokens));
        corrections_.fetch_add(1, std::memory_order_relaxed);
    }
}

int Limiter::in_flight() const {
    const std::lock_guard lock(mutex_);
    return in_flight_;
}

Counters Limiter::counters() const {
    return {
        {"admitted", admitted_.load(std::memory_order_relaxed)},
        {"rate_waits", rate_waits_.load(std::memory_order_relaxed)},
        {"concurrency_waits", concurrency_waits_.load(std::memory_order_relaxed)},
        {"released", released_.load(std::memory_order_relaxed)},
        {"token_corrections", corrections_.load(std::memory_order_relaxed)},
    };
}

CircuitBreaker::CircuitBreaker(int failures, Clock::duration reset)
    : failures_(failures), reset_(reset) {
    require_int_range("breaker_failures", failures, 0, 1'000'000);
    if (reset <= Clock::duration::zero() || reset > to_duration(max_seconds)) {
        throw InvalidArgument("breaker_reset_s",
                              "must be a duration in (0, " + number(max_seconds) +
                                  "] seconds, got " +
                                  number(std::chrono::duration<double>(reset).count()));
    }
}

void CircuitBreaker::open(Clock::time_point now) {
    state_ = State::open;
    opened_at_ = now;
    opens_.fetch_add(1, std::memory_order_relaxed);
}

bool CircuitBreaker::allow(Clock::time_point now, bool* is_probe) {
    if (is_probe) *is_probe = false;
    if (failures_ == 0) return true;
    const std::lock_guard lock(mutex_);
    const bool probe_due = (state_ == State::open && now - opened_at_ >= reset_) ||
                           (state_ == State::half_open && now - probe_at_ >= reset_);
    if (state_ == State::closed) return true;
    if (!probe_due) {
        rejections_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    state_ = State::half_open;
    probe_at_ = now;
    probes_.fetch_add(1, std::memory_order_relaxed);
    if (is_probe) *is_probe = true;
    return true;
}

void CircuitBreaker::on_success() {
    if (failures_ == 0) return;
    const std::lock_guard lock(mutex_);
    // A late success of a request admitted before the breaker opened does not close it.
    if (state_ == State::open) return;
    if (state_ == State::half_open) closes_.fetch_add(1, std::memory_order_relaxed);
    state_ = State::closed;
    consecutive_ = 0;
}

void CircuitBreaker::on_failure(Clock::time_point now) {
    if (failures_ == 0) return;
    const std::lock_guard lock(mutex_);
    if (state_ == State::open) return;
    if (state_ == State::half_open) {
        open(now);
        return;
    }
    if (++consecutive_ >= failures_) {
        consecutive_ = 0;
        open(now);
    }
}

CircuitBreaker::State CircuitBreaker::state(Clock::time_point now) const {
    if (failures_ == 0) return State::closed;
    const std::lock_guard lock(mutex_);
    // Open with the reset elapsed: the next allow() is the probe.
    if (state_ == State::open && now - opened_at_ >= reset_) return State::half_open;
    return state_;
}

Counters CircuitBreaker::counters() const {
    return {
        {"opens", opens_.load(std::memory_order_relaxed)},
        {"rejections", rejections_.load(std::memory_order_relaxed)},
        {"probes", probes_.load(std::memory_order_relaxed)},
        {"closes", closes_.load(std::memory_order_relaxed)},
    };
}

const char* to_string(CircuitBreaker::State state) noexcept {
    switch (state) {
        case CircuitBreaker::State::closed:
            return "closed";
        case CircuitBreaker::State::open:
            return "open";
        case CircuitBreaker::State::half_open:
            return "half_open";
    }
    return "closed";
}

}  // namespace lumengate::gemini
