#pragma once
// Page-Hinkley change detection with River's defaults and semantics: a running mean, two
// cumulative deviation sums with a forgetting factor, and a detection once either sum moves
// more than `threshold` away from its extreme after `min_instances` values.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lumengate/drift/scores.hpp"

namespace lumengate::drift {

enum class PageHinkleyMode : std::uint8_t { both = 0, up = 1, down = 2 };

PageHinkleyMode parse_page_hinkley_mode(const std::string& mode);
const char* page_hinkley_mode_name(PageHinkleyMode mode);

struct PageHinkleyOptions {
    std::int64_t min_instances = 30;
    double delta = 0.005;
    double threshold = 50.0;
    double alpha = 1.0 - 0.0001;
    PageHinkleyMode mode = PageHinkleyMode::both;

    // Throws InvalidArgument naming the first field outside its allowed range.
    void validate() const;
};

class PageHinkley {
  public:
    explicit PageHinkley(const PageHinkleyOptions& options = {},
                         NonFinite non_finite = NonFinite::reject);

    // Adds one value; true when a change was detected on it. A non-finite value raises
    // InvalidArgument("x") under `reject` and is skipped (returning false) under `drop`.
    bool update(double x);
    std::vector<std::int64_t> update_many(std::span<const double> xs);

    [[nodiscard]] const PageHinkleyOptions& options() const noexcept { return options_; }
    [[nodiscard]] NonFinite non_finite() const noexcept { return non_finite_; }
    [[nodiscard]] bool drift_detected() const noexcept { return drift_detected_; }
    // Mean of the values since the last detection, and how many there were.
    [[nodiscard]] double mean() const noexcept { return mean_; }
    [[nodiscard]] std::uint64_t n_since_drift() const noexcept { return n_; }
    // The statistics compared with `threshold`: how far each cumulative sum has moved from
    // its extreme.
    [[nodiscard]] double increase() const noexcept { return sum_increase_ - min_increase_; }
    [[nodiscard]] double decrease() const noexcept { return max_decrease_ - sum_decrease_; }
    [[nodiscard]] std::uint64_t n_detections() const noexcept { return n_detections_; }
    [[nodiscard]] std::uint64_t n_seen() const noexcept { return n_seen_; }
    [[nodiscard]] std::uint64_t n_dropped() const noexcept { return n_dropped_; }

    [[nodiscard]] std::string to_bytes() const;
    static PageHinkley from_bytes(std::string_view bytes);

  private:
    void reset();
    bool add(double x);

    PageHinkleyOptions options_;
    NonFinite non_finite_;
    double mean_ = 0.0;
    std::uint64_t n_ = 0;
    double sum_increase_ = 0.0;
    double sum_decrease_ = 0.0;
    double min_increase_ = 0.0;
    double max_decrease_ = 0.0;
    bool drift_detected_ = false;
    std::uint64_t n_detections_ = 0;
    std::uint64_t n_seen_ = 0;
    std::uint64_t n_dropped_ = 0;
};

}  // namespace lumengate::drift
