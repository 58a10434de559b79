#pragma once
// A mergeable quantile sketch with a deterministic worst-case rank-error bound.
//
// Algorithm: the deterministic multi-level compactor of Manku, Rajagopalan & Lindsay (1998) in
// its mergeable form (Agarwal et al., "Mergeable Summaries", 2012; the deterministic core of
// KLL). Level h holds items of weight 2^h; a level reaching `capacity` items is sorted and every
// other item (offset alternating per level, so repeated compactions do not bias one way) moves
// up with twice the weight. One compaction at level h moves any rank by at most 2^h; the sketch
// adds these up in `rank_error_bound()`. Each compaction at level h consumes at least
// capacity * 2^h of weight, so the bound is at most levels * n / capacity; with
// capacity = ceil(kLevelBudget / epsilon) it is <= epsilon * n while the sketch has at most
// kLevelBudget levels, i.e. for n up to capacity * 2^(kLevelBudget - 1) (2.7e11 at 0.001).
// Merging adds the two bounds and compacts the same way, so the guarantee survives any tree of
// merges. No randomness: the same inputs in the same order give the same bytes.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lumengate::drift {

class QuantileSketch {
  public:
    static constexpr std::uint32_t kLevelBudget = 24;
    static constexpr std::uint32_t kFormatVersion = 1;

    explicit QuantileSketch(double epsilon = 0.001);

    // Adds finite scores (callers clean NaN/inf first).
    void update(std::span<const double> scores);
    // Folds `other` in; both must have the same epsilon.
    void merge(const QuantileSketch& other);

    [[nodiscard]] double epsilon() const noexcept { return epsilon_; }
    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
    [[nodiscard]] double min() const;
    [[nodiscard]] double max() const;
    // Worst-case absolute rank error of rank()/cdf()/quantile() answers so far (<= epsilon*n).
    [[nodiscard]] double rank_error_bound() const noexcept { return error_bound_; }
    [[nodiscard]] std::size_t retained() const noexcept;

    // Estimated number of scores <= x.
    [[nodiscard]] double rank(double x) const;
    [[nodiscard]] double cdf(double x) const;
    // Smallest retained score whose estimated rank reaches q * n (q in [0, 1]).
    [[nodiscard]] double quantile(double q) const;

    // Retained items (ascending) with their weights: the sketch's step CDF.
    struct Weighted {
        std::vector<double> values;
        std::vector<double> cumulative;  // cumulative weight up to and including values[i]
    };
    [[nodiscard]] Weighted sorted_view() const;

    // Little-endian: "LGQS", u32 version, f64 epsilon, u32 capacity, u64 count, f64 min, f64 max,
    // f64 error bound, u32 levels, then per level: u8 offset, u32 size, size x f64.
    [[nodiscard]] std::string to_bytes() const;
    static QuantileSketch from_bytes(std::string_view bytes);

  private:
    void compact_from(std::size_t level);
    void require_nonempty(const char* what) const;

    double epsilon_;
    std::uint32_t capacity_;
    std::uint64_t count_ = 0;
    double min_ = 0.0;
    double max_ = 0.0;
    double error_bound_ = 0.0;
    std::vector<std::vector<double>> levels_;
    std::vector<std::uint8_t> offsets_;
};

struct SketchKsResult {
    double statistic = 0.0;
    double error_bound = 0.0;  // |statistic - exact KS| <= error_bound
};

// KS distance between the two sketched distributions; within the sum of the sketches'
// relative rank errors (<= 2 epsilon) of the exact two-sample statistic.
SketchKsResult ks_from_sketches(const QuantileSketch& reference, const QuantileSketch& current);

// Wasserstein-1 distance between the sketched distributions; within
// (error_a/n_a + error_b/n_b) * (max - min) of the exact distance.
SketchKsResult wasserstein_from_sketches(const QuantileSketch& reference,
                                         const QuantileSketch& current);

}  // namespace lumengate::drift
