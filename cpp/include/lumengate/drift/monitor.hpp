#pragma once
// A streaming drift monitor: the last `window` scores in a ring buffer, binned against the
// frozen edges of a baseline histogram, and one divergence of their counts against the
// baseline after every score. A drift event is a rising edge into drift (statistic >=
// threshold once at least `min_samples` scores are in the window) outside the cooldown.
// Thread-safe: every public call holds the monitor's mutex.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lumengate/drift/divergence.hpp"
#include "lumengate/drift/histogram.hpp"
#include "lumengate/drift/scores.hpp"

namespace lumengate::drift {

struct MonitorConfig {
    std::vector<double> edges;
    std::vector<std::uint64_t> baseline_counts;
    Statistic statistic = Statistic::kl;
    double threshold = 0.5;
    std::size_t window = 1000;
    std::size_t min_samples = 1000;
    double smoothing = 0.5;
    std::int64_t cooldown_us = 0;
    NonFinite non_finite = NonFinite::reject;
};

struct MonitorCheck {
    bool drift = false;
    double statistic = 0.0;
    std::size_t samples = 0;
    bool event = false;
};

struct MonitorEvent {
    std::int64_t time_us;
    double statistic;
    std::uint64_t score_index;  // position of the score (0-based since reset) that raised it
};

struct MonitorSnapshot {
    bool drift = false;
    double statistic = 0.0;  // NaN before the first score
    std::size_t samples = 0;
    std::uint64_t total = 0;
    std::uint64_t dropped = 0;
    double peak = 0.0;  // largest statistic with at least min_samples scores; -inf if none
    std::vector<std::uint64_t> counts;
    std::vector<MonitorEvent> events;
};

class DriftMonitorCore {
  public:
    explicit DriftMonitorCore(MonitorConfig config);
    DriftMonitorCore(const DriftMonitorCore&) = delete;
    DriftMonitorCore& operator=(const DriftMonitorCore&) = delete;

    MonitorCheck add(double score, std::int64_t time_us);
    // Exactly the checks of add() on each score in turn; returns the events raised.
    // `times` holds one time per score, or a single time for all of them.
    std::vector<MonitorEvent> add_many(std::span<const double> scores,
                                       std::span<const std::int64_t> times);
    [[nodiscard]] MonitorSnapshot snapshot() const;
    void reset();
    [[nodiscard]] const MonitorConfig& config() const { return config_; }
    [[nodiscard]] std::vector<double> baseline_probabilities() const { return p_; }

    // The state and `extra` (opaque caller data) in a versioned little-endian format.
    [[nodiscard]] std::string to_bytes(std::string_view extra) const;
    // Throws InvalidArgument("data") for corrupt, truncated or unknown-version bytes.
    static std::unique_ptr<DriftMonitorCore> from_bytes(std::string_view bytes, std::string& extra);

  private:
    MonitorCheck add_bin_locked(std::uint32_t bin, std::int64_t time_us);
    [[nodiscard]] double current_statistic() const;
    void clear_locked();

    MonitorConfig config_;
    BinFinder find_;
    std::vector<double> p_, log_p_, sqrt_p_;
    // ln(c + smoothing), sqrt(c + smoothing) for c <= window, ln of the smoothed total.
    std::vector<double> log_table_, sqrt_table_, log_total_;
    std::vector<double> entropy_table_;  // (c + smoothing) ln(c + smoothing)
    double sum_log_p_ = 0;
    std::vector<std::uint32_t> ring_;
    std::vector<std::uint64_t> counts_;
    std::size_t head_ = 0;
    std::size_t filled_ = 0;
    std::uint64_t total_ = 0;
    std::uint64_t dropped_ = 0;
    bool in_drift_ = false;
    double last_statistic_;
    double peak_;
    std::optional<std::int64_t> last_event_us_;
    std::vector<MonitorEvent> events_;
    mutable std::mutex mutex_;
};

}  // namespace lumengate::drift
