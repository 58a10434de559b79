#include <chrono>
#include <cmath>
#include <limits>
#include <memory>

#include "lumengate/common/error.hpp"
#include "lumengate/gemini/policy.hpp"
#include "pybind.hpp"

namespace lumengate::bindings {
namespace {

using gemini::Clock;

// Python drives the clock in seconds; they count from the steady clock's epoch.
Clock::time_point time_point(const char* field, double seconds) {
    // About 292 years of nanoseconds fit in the clock's int64 representation.
    if (!std::isfinite(seconds) || std::abs(seconds) > 9.0e9) {
        throw InvalidArgument(field, "must be a finite number of seconds within ±9e9, got " +
                                         std::to_string(seconds));
    }
    return Clock::time_point(
        std::chrono::round<Clock::duration>(std::chrono::duration<double>(seconds)));
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

gemini::Limits limits(const py::handle& value) {
    gemini::Limits l;
    l.max_concurrent = value.attr("max_concurrent").cast<int>();
    l.rpm = value.attr("rpm").cast<double>();
    l.tpm = value.attr("tpm").cast<double>();
    l.breaker_failures = value.attr("breaker_failures").cast<int>();
    l.breaker_reset_s = value.attr("breaker_reset_s").cast<double>();
    return l;
}

}  // namespace

// Reads a policy from any object with the dataclass's attributes, so the Python value type
// stays the one place where users build it.
gemini::RetryPolicy retry_policy(const py::handle& policy) {
    gemini::RetryPolicy p;
    p.max_attempts = policy.attr("max_attempts").cast<int>();
    p.initial_delay_s = policy.attr("initial_delay_s").cast<double>();
    p.max_delay_s = policy.attr("max_delay_s").cast<double>();
    p.multiplier = policy.attr("multiplier").cast<double>();
    p.budget_s = policy.attr("budget_s").cast<double>();
    p.statuses = policy.attr("statuses").cast<std::vector<int>>();
    p.retry_connection_errors = policy.attr("retry_connection_errors").cast<bool>();
    return p;
}

void register_gemini_policy(py::module_& m) {
    m.def(
        "validate_retry_policy", [](const py::handle& policy) { retry_policy(policy).validate(); },
        "policy"_a, "Raise InvalidArgument naming the first field of `policy` out of range.");
    m.def(
        "retry_backoff_cap",
        [](const py::handle& policy, int retry) {
            return retry_policy(policy).backoff_cap_s(retry);
        },
        "policy"_a, "retry"_a,
        "Upper bound in seconds of the jittered wait before retry `retry` (0 = the first).");
    m.def(
        "validate_limits", [](const py::handle& value) { limits(value).validate(); }, "limits"_a,
        "Raise InvalidArgument naming the first field of `limits` out of range.");

    py::class_<gemini::Retrier>(m, "Retrier",
                                "The retry schedule of one request: exponential backoff with "
                                "full jitter, deterministic for a seed.")
        .def(py::init([](const py::handle& policy, double start, std::uint64_t seed) {
                 return gemini::Retrier(retry_policy(policy), time_point("start", start), seed);
             }),
             "policy"_a, "start"_a, "seed"_a)
        .def(
            "next",
            [](gemini::Retrier& self, double now, int status, bool connection_error, bool timed_out,
               std::optional<double> server_delay, bool body_started) -> std::optional<double> {
                const gemini::AttemptOutcome outcome{status, connection_error, timed_out,
                                                     server_delay, body_started};
                const auto wait = self.next(outcome, time_point("now", now));
                if (!wait) return std::nullopt;
                return seconds(*wait);
            },
            "now"_a, "status"_a = 0, "connection_error"_a = false, "timed_out"_a = false,
            "server_delay"_a = py::none(), "body_started"_a = false,
            "Seconds to wait before the next attempt after one that ended this way, or None to "
            "give up.")
        .def_property_readonly("attempts", &gemini::Retrier::attempts,
                               "Attempts made or scheduled so far, including the first.");

    py::class_<gemini::Limiter::Ticket>(m, "Ticket", "An admitted request's concurrency slot.")
        .def_readonly("id", &gemini::Limiter::Ticket::id)
        .def_readonly("tokens", &gemini::Limiter::Ticket::tokens)
        .def("__repr__", [](const gemini::Limiter::Ticket& t) {
            return "Ticket(id=" + std::to_string(t.id) + ", tokens=" + std::to_string(t.tokens) +
                   ")";
        });

    // The Limiter and CircuitBreaker lock internally; the GIL is released around every call so
    // that threads contend on those locks, as the native transport's callers do.
    py::class_<gemini::Limiter>(m, "Limiter",
                                "Concurrency limit and requests/tokens-per-minute token buckets.")
        .def(py::init([](const py::handle& value) {
                 return std::make_unique<gemini::Limiter>(limits(value));
             }),
             "limits"_a)
        .def(
            "try_acquire",
            [](gemini::Limiter& self, double est_tokens,
               double now) -> std::variant<gemini::Limiter::Ticket, double> {
                const auto when = time_point("now", now);
                std::variant<gemini::Limiter::Ticket, Clock::duration> result;
                {
                    // Safe: only C++ values are touched while the GIL is released.
                    py::gil_scoped_release release;
                    result = self.try_acquire(est_tokens, when);
                }
                if (auto* ticket = std::get_if<gemini::Limiter::Ticket>(&result)) return *ticket;
                const auto wait = std::get<Clock::duration>(result);
                if (wait == gemini::Limiter::until_release) {
                    return std::numeric_limits<double>::infinity();
                }
                return seconds(wait);
            },
            "est_tokens"_a, "now"_a,
            "A Ticket when admitted, else the seconds to wait (inf: until a release).")
        .def(
            "release",
            [](gemini::Limiter& self, const gemini::Limiter::Ticket& ticket, double now,
               std::optional<double> actual_tokens) {
                const gemini::Limiter::Ticket copy = ticket;
                const auto when = time_point("now", now);
                // Safe: the ticket was copied, no Python object is used below.
                py::gil_scoped_release release;
                self.release(copy, actual_tokens, when);
            },
            "ticket"_a, "now"_a, "actual_tokens"_a = py::none(),
            "Free the ticket's slot; correct the token bucket by actual - estimate when known.")
        .def_property_readonly(
            "in_flight",
            [](const gemini::Limiter& self) {
                py::gil_scoped_release release;
                return self.in_flight();
            },
            "Admitted requests not yet released.")
        .def("counters", &gemini::Limiter::counters, "A snapshot of the counters by name.");

    py::class_<gemini::CircuitBreaker>(m, "CircuitBreaker",
                                       "Opens after consecutive failures; a half-open probe "
                                       "closes or re-opens it.")
        .def(py::init([](int failures, double reset_s) {
                 if (!std::isfinite(reset_s) || reset_s <= 0.0 || reset_s > 86400.0) {
                     throw InvalidArgument(
                         "breaker_reset_s",
                         "must be a number in (0, 86400] seconds, got " + std::to_string(reset_s));
                 }
                 return std::make_unique<gemini::CircuitBreaker>(
                     failures,
                     std::chrono::round<Clock::duration>(std::chrono::duration<double>(reset_s)));
             }),
             "failures"_a, "reset_s"_a)
        .def(
            "allow",
            [](gemini::CircuitBreaker& self, double now) {
                const auto when = time_point("now", now);
                bool probe = false;
                bool allowed = false;
                {
                    // Safe: only C++ values are touched while the GIL is released.
                    py::gil_scoped_release release;
                    allowed = self.allow(when, &probe);
                }
                return py::make_tuple(allowed, probe);
            },
            "now"_a, "(allowed, is_probe): False means reject the request with CircuitOpen.")
        .def("on_success", &gemini::CircuitBreaker::on_success,
             py::call_guard<py::gil_scoped_release>(), "Record a successful request.")
        .def(
            "on_failure",
            [](gemini::CircuitBreaker& self, double now) {
                const auto when = time_point("now", now);
                py::gil_scoped_release release;
                self.on_failure(when);
            },
            "now"_a, "Record a failed request.")
        .def(
            "state",
            [](const gemini::CircuitBreaker& self, double now) {
                const auto when = time_point("now", now);
                gemini::CircuitBreaker::State state{};
                {
                    py::gil_scoped_release release;
                    state = self.state(when);
                }
                return std::string(gemini::to_string(state));
            },
            "now"_a, "'closed', 'open' or 'half_open' at time `now`.")
        .def("counters", &gemini::CircuitBreaker::counters, "A snapshot of the counters by name.");
}

}  // namespace lumengate::bindings
