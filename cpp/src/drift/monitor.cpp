#include "lumengate/drift/monitor.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "lumengate/common/error.hpp"

namespace lumengate::drift {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr std::string_view monitor_magic = "LGDM";
constexpr std::uint8_t monitor_version = 1;
constexpr std::size_t max_window = 10'000'000;

void check_config(const MonitorConfig& c) {
    validate_edges(c.edges);
    if (c.baseline_counts.size() + 1 != c.edges.size()) {
        throw InvalidArgument("baseline", "has " + std::to_string(c.baseline_counts.size()) +
                                              " bins for " + std::to_string(c.edges.size()) +
                                              " edges");
    }
    std::uint64_t total = 0;
    for (const auto count : c.baseline_counts) total += count;
    if (total == 0) throw InvalidArgument("baseline", "is empty; pass at least one score");
    if (c.window < 1 || c.window > max_window) {
        throw InvalidArgument("window", "must be between 1 and " + std::to_string(max_window) +
                                            ", got " + std::to_string(c.window));
    }
    if (c.min_samples < 1 || c.min_samples > c.window) {
        throw InvalidArgument("min_samples", "must be between 1 and window (" +
                                                 std::to_string(c.window) + "), got " +
                                                 std::to_string(c.min_samples));
    }
    if (!std::isfinite(c.smoothing) || c.smoothing < 0) {
        throw InvalidArgument("smoothing", "must be a finite number >= 0 (or None)");
    }
    if (std::isnan(c.threshold) || c.threshold < 0) {
        throw InvalidArgument("threshold", "must be a number >= 0");
    }
    if (c.cooldown_us < 0) throw InvalidArgument("cooldown", "must not be negative");
}

}  // namespace

DriftMonitorCore::DriftMonitorCore(MonitorConfig config)
    : config_((check_config(config), std::move(config))),
      find_(config_.edges),
      last_statistic_(std::numeric_limits<double>::quiet_NaN()),
      peak_(-inf) {
    std::vector<double> baseline(config_.baseline_counts.begin(), config_.baseline_counts.end());
    p_ = probabilities(baseline, config_.smoothing, "baseline");
    const double a = config_.smoothing;
    for (const double p : p_) {
        log_p_.push_back(std::log(p));
        sqrt_p_.push_back(std::sqrt(p));
        sum_log_p_ += std::log(p);
    }
    const std::size_t w = config_.window;
    const auto bins = static_cast<double>(p_.size());
    log_table_.resize(w + 1);
    sqrt_table_.resize(w + 1);
    log_total_.resize(w + 1);
    entropy_table_.resize(w + 1);
    for (std::size_t c = 0; c <= w; ++c) {
        const double x = static_cast<double>(c);
        log_table_[c] = std::log(x + a);
        sqrt_table_[c] = std::sqrt(x + a);
        log_total_[c] = std::log(x + bins * a);
        entropy_table_[c] = (x + a) * log_table_[c];
    }
    ring_.assign(w, 0);
    counts_.assign(p_.size(), 0);
}

// O(bins) per score from table look-ups (no logarithm except for JS), recomputed from the
// integer counts each time, so there is no drift from incremental floating-point updates.
inline double DriftMonitorCore::current_statistic() const {
    const std::size_t n = filled_;
    if (n == 0) return std::numeric_limits<double>::quiet_NaN();
    const double a = config_.smoothing;
    const double total = static_cast<double>(n) + static_cast<double>(p_.size()) * a;
    const double inv_total = 1.0 / total;
    const double log_total = log_total_[n];
    double sum = 0;
    switch (config_.statistic) {
        case Statistic::kl:
            if (a > 0) {
                // KL = (1/N) sum_i [(c_i + a) ln(c_i + a) - (c_i + a) ln p_i] - ln N.
                // Two accumulators halve the dependent chain of additions.
                double odd = 0;
                std::size_t i = 0;
                for (; i + 1 < p_.size(); i += 2) {
                    const std::uint64_t c0 = counts_[i], c1 = counts_[i + 1];
                    sum += entropy_table_[c0] - static_cast<double>(c0) * log_p_[i];
                    odd += entropy_table_[c1] - static_cast<double>(c1) * log_p_[i + 1];
                }
                if (i < p_.size()) {
                    sum += entropy_table_[counts_[i]] - static_cast<double>(counts_[i]) * log_p_[i];
                }
                return (sum + odd - a * sum_log_p_) * inv_total - log_total;
            }
            for (std::size_t i = 0; i < p_.size(); ++i) {
                const std::uint64_t c = counts_[i];
                if (c == 0) continue;
                if (p_[i] == 0) return inf;
                const double q = static_cast<double>(c) * inv_total;
                sum += q * (log_table_[c] - log_total - log_p_[i]);
            }
            return sum;
        case Statistic::psi:
            for (std::size_t i = 0; i < p_.size(); ++i) {
                const std::uint64_t c = counts_[i];
                const double q = (static_cast<double>(c) + a) * inv_total;
                if (q == 0 && p_[i] == 0) continue;
                if (q == 0 || p_[i] == 0) return inf;
                sum += (q - p_[i]) * (log_table_[c] - log_total - log_p_[i]);
            }
            return sum;
        case Statistic::hellinger: {
            const double inv_sqrt_total = 1.0 / std::sqrt(total);
            for (std::size_t i = 0; i < p_.size(); ++i) {
                const double d = sqrt_p_[i] - sqrt_table_[counts_[i]] * inv_sqrt_total;
                sum += d * d;
            }
            return std::sqrt(sum) / std::sqrt(2.0);
        }
        case Statistic::js: {
            // scipy's form, rel_entr(p, m) + rel_entr(q, m), without allocating.
            for (std::size_t i = 0; i < p_.size(); ++i) {
                const double p = p_[i];
                const double q = (static_cast<double>(counts_[i]) + a) * inv_total;
                const double m = (p + q) / 2.0;
                if (p > 0) sum += p * std::log(p / m);
                if (q > 0) sum += q * std::log(q / m);
            }
            return std::sqrt(std::max(sum, 0.0) / 2.0);
        }
    }
    return sum;
}

// `inline` lets the compiler inline these into add_many despite -fPIC interposition rules.
inline MonitorCheck DriftMonitorCore::add_bin_locked(std::uint32_t bin, std::int64_t time_us) {
    if (filled_ == config_.window) {
        --counts_[ring_[head_]];
    } else {
        ++filled_;
    }
    ring_[head_] = bin;
    ++counts_[bin];
    head_ = head_ + 1 == config_.window ? 0 : head_ + 1;
    const std::uint64_t index = total_++;

    MonitorCheck check;
    check.statistic = current_statistic();
    check.samples = filled_;
    check.drift = filled_ >= config_.min_samples && check.statistic >= config_.threshold;
    if (check.drift && !in_drift_) {
        const bool cooled = !last_event_us_ || time_us - *last_event_us_ >= config_.cooldown_us;
        if (cooled) {
            check.event = true;
            last_event_us_ = time_us;
            events_.push_back({time_us, check.statistic, index});
        }
    }
    if (filled_ >= config_.min_samples && check.statistic > peak_) peak_ = check.statistic;
    in_drift_ = check.drift;
    last_statistic_ = check.statistic;
    return check;
}

MonitorCheck DriftMonitorCore::add(double score, std::int64_t time_us) {
    const std::scoped_lock guard(mutex_);
    if (!std::isfinite(score)) {
        if (config_.non_finite == NonFinite::reject) {
            throw InvalidArgument("score", "is " + std::to_string(score) +
                                               "; scores must be finite (or pass "
                                               "non_finite='drop')");
        }
        ++dropped_;
        MonitorCheck unchanged;
        unchanged.drift = in_drift_;
        unchanged.statistic = last_statistic_;
        unchanged.samples = filled_;
        return unchanged;
    }
    return add_bin_locked(static_cast<std::uint32_t>(find_(score)), time_us);
}

std::vector<MonitorEvent> DriftMonitorCore::add_many(std::span<const double> scores,
                                                     std::span<const std::int64_t> times) {
    if (times.size() != 1 && times.size() != scores.size()) {
        throw InvalidArgument("timestamps", "has " + std::to_string(times.size()) + " values for " +
                                                std::to_string(scores.size()) + " scores");
    }
    // Rejected batches leave the monitor untouched: the whole batch is checked first.
    if (config_.non_finite == NonFinite::reject) {
        for (std::size_t i = 0; i < scores.size(); ++i) {
            if (!std::isfinite(scores[i])) {
                throw InvalidArgument("scores[" + std::to_string(i) + "]",
                                      "is " + std::to_string(scores[i]) +
                                          "; scores must be finite (or pass non_finite='drop')");
            }
        }
    }
    const std::scoped_lock guard(mutex_);
    const std::size_t before = events_.size();
    // Bins of a block are found first: those searches are independent of each other, so
    // they overlap instead of waiting on the previous score's statistic.
    constexpr std::size_t block = 256;
    std::array<std::uint32_t, block> bins{};
    for (std::size_t start = 0; start < scores.size(); start += block) {
        const std::size_t end = std::min(scores.size(), start + block);
        for (std::size_t i = start; i < end; ++i) {
            const double x = scores[i];
            bins[i - start] = std::isfinite(x) ? static_cast<std::uint32_t>(find_(x)) : 0;
        }
        for (std::size_t i = start; i < end; ++i) {
            if (!std::isfinite(scores[i])) {
                ++dropped_;
                continue;
            }
            add_bin_locked(bins[i - start], times.size() == 1 ? times[0] : times[i]);
        }
    }
    return {events_.begin() + static_cast<std::ptrdiff_t>(before), events_.end()};
}

MonitorSnapshot DriftMonitorCore::snapshot() const {
    const std::scoped_lock guard(mutex_);
    MonitorSnapshot s;
    s.drift = in_drift_;
    s.statistic = last_statistic_;
    s.samples = filled_;
    s.total = total_;
    s.dropped = dropped_;
    s.peak = peak_;
    s.counts = counts_;
    s.events = events_;
    return s;
}

void DriftMonitorCore::clear_locked() {
    std::fill(counts_.begin(), counts_.end(), 0);
    head_ = filled_ = 0;
    total_ = dropped_ = 0;
    in_drift_ = false;
    last_statistic_ = std::numeric_limits<double>::quiet_NaN();
    peak_ = -inf;
    last_event_us_.reset();
    events_.clear();
}

void DriftMonitorCore::reset() {
    const std::scoped_lock guard(mutex_);
    clear_locked();
}

std::string DriftMonitorCore::to_bytes(std::string_view extra) const {
    const std::scoped_lock guard(mutex_);
    ByteWriter w;
    w.raw(monitor_magic);
    w.u8(monitor_version);
    w.u8(static_cast<std::uint8_t>(config_.statistic));
    w.u8(static_cast<std::uint8_t>(config_.non_finite));
    w.f64(config_.threshold);
    w.u64(config_.window);
    w.u64(config_.min_samples);
    w.f64(config_.smoothing);
    w.i64(config_.cooldown_us);
    w.u32(static_cast<std::uint32_t>(config_.edges.size()));
    for (const double e : config_.edges) w.f64(e);
    for (const auto c : config_.baseline_counts) w.u64(c);
    w.u64(head_);
    w.u64(filled_);
    // Only the filled part of the ring; before it wraps that is [0, filled).
    for (std::size_t i = 0; i < filled_; ++i) w.u32(ring_[i]);
    w.u64(total_);
    w.u64(dropped_);
    w.u8(in_drift_ ? 1 : 0);
    w.f64(last_statistic_);
    w.f64(peak_);
    w.u8(last_event_us_ ? 1 : 0);
    w.i64(last_event_us_.value_or(0));
    w.u64(events_.size());
    for (const auto& e : events_) {
        w.i64(e.time_us);
        w.f64(e.statistic);
        w.u64(e.score_index);
    }
    w.u32(static_cast<std::uint32_t>(extra.size()));
    w.raw(extra);
    return w.finish_with_checksum();
}

std::unique_ptr<DriftMonitorCore> DriftMonitorCore::from_bytes(std::string_view bytes,
                                                               std::string& extra) {
    ByteReader r(bytes, monitor_magic, monitor_version, "DriftMonitor");
    MonitorConfig c;
    const std::uint8_t statistic = r.u8();
    if (statistic > 3) r.fail("name an unknown statistic");
    c.statistic = static_cast<Statistic>(statistic);
    const std::uint8_t policy = r.u8();
    if (policy > 1) r.fail("name an unknown non-finite policy");
    c.non_finite = static_cast<NonFinite>(policy);
    c.threshold = r.f64();
    c.window = r.u64();
    c.min_samples = r.u64();
    c.smoothing = r.f64();
    c.cooldown_us = r.i64();
    const std::uint32_t count = r.u32();
    if (count < 2 || count > bytes.size() / 8) r.fail("hold an impossible edge count");
    c.edges.resize(count);
    for (auto& e : c.edges) e = r.f64();
    c.baseline_counts.resize(count - 1);
    for (auto& b : c.baseline_counts) b = r.u64();
    if (c.window > max_window) r.fail("hold an impossible window");
    auto monitor = std::make_unique<DriftMonitorCore>(std::move(c));
    DriftMonitorCore& m = *monitor;
    m.head_ = r.u64();
    m.filled_ = r.u64();
    if (m.filled_ > m.config_.window || m.head_ >= m.config_.window) {
        r.fail("hold an impossible ring position");
    }
    for (std::size_t i = 0; i < m.filled_; ++i) {
        const std::uint32_t bin = r.u32();
        if (bin >= m.counts_.size()) r.fail("hold a bin index out of range");
        m.ring_[i] = bin;
        ++m.counts_[bin];
    }
    m.total_ = r.u64();
    m.dropped_ = r.u64();
    m.in_drift_ = r.u8() != 0;
    m.last_statistic_ = r.f64();
    m.peak_ = r.f64();
    const bool has_event = r.u8() != 0;
    const std::int64_t last = r.i64();
    if (has_event) m.last_event_us_ = last;
    const std::uint64_t events = r.u64();
    if (events > bytes.size() / 24) r.fail("hold an impossible event count");
    for (std::uint64_t i = 0; i < events; ++i) {
        MonitorEvent e{};
        e.time_us = r.i64();
        e.statistic = r.f64();
        e.score_index = r.u64();
        m.events_.push_back(e);
    }
    const std::uint32_t length = r.u32();
    extra.clear();
    for (std::uint32_t i = 0; i < length; ++i) extra.push_back(static_cast<char>(r.u8()));
    if (!r.done()) r.fail("have trailing data");
    return monitor;
}

}  // namespace lumengate::drift
