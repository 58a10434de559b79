#pragma once
// When the Gemini client retries, how fast it may send, and when it stops sending: pure logic
// driven by an injected clock, so every decision is reproducible in tests.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_set>
#include <variant>
#include <vector>

namespace lumengate::gemini {

using Clock = std::chrono::steady_clock;

// Snapshot of a component's counters, by name.
using Counters = std::map<std::string, std::uint64_t>;

struct AttemptOutcome;

// Exponential backoff with full jitter: the wait before retry k (k = 0 after the first attempt)
// is uniform in [0, min(max_delay_s, initial_delay_s * multiplier^k)).
struct RetryPolicy {
    int max_attempts = 5;          // total attempts including the first; 1 = no retries
    double initial_delay_s = 1.0;  // cap of the first backoff
    double max_delay_s = 60.0;
    double multiplier = 2.0;
    double budget_s = 120.0;  // elapsed budget over all attempts and waits
    std::vector<int> statuses{408, 429, 500, 502, 503, 504};
    bool retry_connection_errors = true;

    // Throws lumengate::InvalidArgument naming the field and its allowed range.
    void validate() const;
    // Upper bound of the jittered wait before retry `retry` (0 = the first retry).
    [[nodiscard]] double backoff_cap_s(int retry) const;
    // Whether an attempt that ended this way may be retried at all (ignoring the budgets).
    [[nodiscard]] bool retryable(const AttemptOutcome& outcome) const;
};

// How one attempt ended. A connection error or timeout has status 0 unless headers arrived.
struct AttemptOutcome {
    int status = 0;
    bool connection_error = false;
    bool timed_out = false;
    std::optional<double> server_delay_s;  // 429 RetryInfo.retryDelay or Retry-After
    bool body_started = false;             // a stream delivered a chunk: never retried
};

// The retry schedule of one request, used on one thread.
class Retrier {
  public:
    Retrier(const RetryPolicy& policy, Clock::time_point start, std::uint64_t seed);
    // The wait before the next attempt, or nullopt to give up: the outcome is not retryable,
    // the attempts are used up, or the wait would end past the elapsed budget. A server delay
    // is a lower bound of the wait, even above max_delay_s.
    std::optional<Clock::duration> next(const AttemptOutcome& outcome, Clock::time_point now);
    // Attempts made or scheduled so far, including the first.
    [[nodiscard]] int attempts() const;

  private:
    double uniform01();

    RetryPolicy policy_;
    Clock::time_point start_;
    std::mt19937_64 random_;
    int attempts_ = 1;
};

// 0 means unlimited for the three limits, and no circuit breaker for breaker_failures.
struct Limits {
    int max_concurrent = 0;
    double rpm = 0;
    double tpm = 0;
    int breaker_failures = 5;
    double breaker_reset_s = 30;
    void validate() const;
};

// A concurrency limit and two token buckets (requests and tokens per minute). Each bucket holds
// one minute's allowance and starts full, so in any window of W seconds at most
// rpm * (1 + W / 60) requests are admitted (and likewise for tokens). Thread-safe.
class Limiter {
  public:
    // The wait returned when every concurrency slot is taken: try again after a release.
    static constexpr Clock::duration until_release = Clock::duration::max();

    explicit Limiter(const Limits& limits);
    struct Ticket {
        std::uint64_t id;
        double tokens;
    };
    // A ticket when admitted, else the wait until the buckets would admit the request (or
    // until_release). Throws InvalidArgument when est_tokens exceeds the whole tpm allowance.
    std::variant<Ticket, Clock::duration> try_acquire(double est_tokens, Clock::time_point now);
    // Frees the ticket's concurrency slot and, when the actual token count is known (from
    // usageMetadata), corrects the token bucket by actual - estimate.
    void release(const Ticket& ticket, std::optional<double> actual_tokens, Clock::time_point now);

    [[nodiscard]] int in_flight() const;
    [[nodiscard]] Counters counters() const;
    [[nodiscard]] const Limits& limits() const noexcept { return limits_; }

  private:
    void refill(Clock::time_point now);

    Limits limits_;
    mutable std::mutex mutex_;
    int in_flight_ = 0;
    double requests_ = 0;  // requests the bucket holds now
    double tokens_ = 0;    // tokens the bucket holds now; negative after an underestimate
    std::optional<Clock::time_point> last_;
    std::uint64_t next_id_ = 0;
    std::unordered_set<std::uint64_t> outstanding_;
    std::atomic<std::uint64_t> admitted_{0};
    std::atomic<std::uint64_t> rate_waits_{0};
    std::atomic<std::uint64_t> concurrency_waits_{0};
    std::atomic<std::uint64_t> released_{0};
    std::atomic<std::uint64_t> corrections_{0};
};

// Opens after `failures` consecutive failures; `reset` later it lets one half-open probe
// through, whose success closes it and whose failure re-opens it. A probe that reports nothing
// for another `reset` is presumed lost and the next request becomes the probe. failures = 0
// disables the breaker. Thread-safe.
class CircuitBreaker {
  public:
    enum class State { closed, open, half_open };
    CircuitBreaker(int failures, Clock::duration reset);
    // false: reject the request with CircuitOpen. *is_probe (when not null) says whether the
    // admitted request is the half-open probe.
    bool allow(Clock::time_point now, bool* is_probe);
    void on_success();
    void on_failure(Clock::time_point now);
    [[nodiscard]] State state(Clock::time_point now) const;
    [[nodiscard]] Counters counters() const;

  private:
    void open(Clock::time_point now);

    int failures_;
    Clock::duration reset_;
    mutable std::mutex mutex_;
    State state_ = State::closed;
    int consecutive_ = 0;
    Clock::time_point opened_at_{};
    Clock::time_point probe_at_{};
    std::atomic<std::uint64_t> opens_{0};
    std::atomic<std::uint64_t> rejections_{0};
    std::atomic<std::uint64_t> probes_{0};
    std::atomic<std::uint64_t> closes_{0};
};

[[nodiscard]] const char* to_string(CircuitBreaker::State state) noexcept;

}  // namespace lumengate::gemini
