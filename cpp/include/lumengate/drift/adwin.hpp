#pragma once
// ADWIN (adaptive windowing, Bifet & Gavaldà 2007) with River's defaults and detection points:
// an exponential histogram of bucket summaries, a Hoeffding-style cut test every `clock`
// updates, and a fresh window on the update after a detection.
//
// This header also holds what the three streaming detectors (ADWIN, Page-Hinkley, KSWIN)
// share: the non-finite policy loop of update_many and the versioned byte format of their
// state.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lumengate/drift/scores.hpp"

namespace lumengate::drift {

// Little-endian byte format shared by the detectors: magic "LGDD", u16 version, u8 kind,
// the detector's fields, then an FNV-1a 64 checksum of everything before it.
namespace detector_state {

enum class Kind : std::uint8_t { adwin = 1, page_hinkley = 2, kswin = 3 };

inline constexpr std::uint16_t format_version = 1;

class Writer {
  public:
    explicit Writer(Kind kind);
    void u8(std::uint8_t v);
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void i64(std::int64_t v);
    void f64(double v);
    void doubles(std::span<const double> values);
    // Appends the checksum and returns the bytes.
    std::string finish() &&;

  private:
    std::string bytes_;
};

class Reader {
  public:
    // Checks magic, version, kind and checksum; throws InvalidArgument("state") otherwise.
    Reader(std::string_view bytes, Kind expected);
    std::uint8_t u8();
    std::uint32_t u32();
    std::uint64_t u64();
    std::int64_t i64();
    double f64();
    std::vector<double> doubles(std::size_t max_count);
    // Throws unless every byte before the checksum was read.
    void finish() const;
    [[noreturn]] static void corrupt(const std::string& why);

  private:
    std::string_view bytes_;
    std::size_t pos_ = 0;
};

}  // namespace detector_state

// Feeds `xs` to `update` one value at a time and returns the indices (into `xs`) where it
// reported a drift. Under `reject` a non-finite value anywhere raises before any update,
// naming `field[i]`; under `drop` such values are skipped and counted in `dropped`.
template <class UpdateOne>
std::vector<std::int64_t> feed_values(std::span<const double> xs, NonFinite policy,
                                      const std::string& field, std::uint64_t& dropped,
                                      UpdateOne&& update) {
    std::vector<std::int64_t> detected;
    if (xs.empty()) return detected;
    if (policy == NonFinite::reject) {
        clean_scores(xs, NonFinite::reject, field);
        for (std::size_t i = 0; i < xs.size(); ++i) {
            if (update(xs[i])) detected.push_back(static_cast<std::int64_t>(i));
        }
        return detected;
    }
    for (std::size_t i = 0; i < xs.size(); ++i) {
        if (!std::isfinite(xs[i])) {
            ++dropped;
            continue;
        }
        if (update(xs[i])) detected.push_back(static_cast<std::int64_t>(i));
    }
    return detected;
}

struct AdwinOptions {
    double delta = 0.002;
    std::int64_t clock = 32;
    std::int64_t max_buckets = 5;
    std::int64_t min_window_length = 5;
    std::int64_t grace_period = 10;

    // Throws InvalidArgument naming the first field outside its allowed range.
    void validate() const;
};

class Adwin {
  public:
    explicit Adwin(const AdwinOptions& options = {}, NonFinite non_finite = NonFinite::reject);

    // Adds one value; true when a change was detected on it. A non-finite value raises
    // InvalidArgument("x") under `reject` and is skipped (returning false) under `drop`.
    bool update(double x);
    std::vector<std::int64_t> update_many(std::span<const double> xs);

    [[nodiscard]] const AdwinOptions& options() const noexcept { return options_; }
    [[nodiscard]] NonFinite non_finite() const noexcept { return non_finite_; }
    [[nodiscard]] bool drift_detected() const noexcept { return drift_detected_; }
    [[nodiscard]] std::int64_t width() const noexcept { return static_cast<std::int64_t>(width_); }
    [[nodiscard]] double total() const noexcept { return total_; }
    // Sum of squared deviations from the window mean, as River reports it.
    [[nodiscard]] double variance() const noexcept { return variance_; }
    [[nodiscard]] double estimation() const noexcept { return width_ > 0 ? total_ / width_ : 0.0; }
    [[nodiscard]] std::uint64_t n_detections() const noexcept { return n_detections_; }
    [[nodiscard]] std::uint64_t n_seen() const noexcept { return n_seen_; }
    [[nodiscard]] std::uint64_t n_dropped() const noexcept { return n_dropped_; }

    [[nodiscard]] std::string to_bytes() const;
    static Adwin from_bytes(std::string_view bytes);

  private:
    // One level of the exponential histogram: up to max_buckets + 1 summaries of 2^level
    // values each, oldest first.
    struct Level {
        std::vector<double> totals;
        std::vector<double> variances;
        std::size_t count = 0;
    };

    void reset_window();
    bool add(double x);
    void insert(double value);
    void compress();
    bool detect_change();
    // The parts of the cut bound that depend only on the whole window.
    struct CutTerms {
        double delta_prime;
        double mean_variance;
    };
    [[nodiscard]] bool cut(double n0, double n1, double mean_difference,
                           const CutTerms& terms) const;
    void drop_oldest_bucket();
    [[nodiscard]] Level empty_level() const;

    AdwinOptions options_;
    NonFinite non_finite_;
    std::vector<Level> levels_;
    double total_ = 0.0;
    double variance_ = 0.0;
    double width_ = 0.0;
    std::int64_t tick_ = 0;
    std::int64_t clock_phase_ = 0;  // tick_ % clock
    bool drift_detected_ = false;
    std::uint64_t n_detections_ = 0;
    std::uint64_t n_seen_ = 0;
    std::uint64_t n_dropped_ = 0;
};

}  // namespace lumengate::drift
