#pragma once
// KSWIN (Raab et al. 2020) as River runs it: a sliding window whose last `stat_size` values
// are compared by a two-sample Kolmogorov-Smirnov test with `stat_size` values drawn from the
// rest of the window. The draw reproduces CPython's random.Random(seed).sample, so a seeded
// detector detects where River's does.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lumengate/drift/scores.hpp"

namespace lumengate::drift {

// CPython's random.Random: MT19937 seeded by init_by_array with the 32-bit words of the seed
// (low word first), getrandbits and sample() over range(population).
class PythonRandom {
  public:
    explicit PythonRandom(std::span<const std::uint32_t> key);
    std::uint32_t next_u32();
    // random.Random._randbelow(n) for 1 <= n < 2**32.
    std::uint32_t below(std::uint32_t n);
    // random.Random.sample(range(population), k) into `out` (k <= population < 2**31).
    void sample(std::uint32_t population, std::uint32_t k, std::vector<std::uint32_t>& out);

    static constexpr std::size_t state_words = 624;
    [[nodiscard]] const std::array<std::uint32_t, state_words>& state() const noexcept {
        return mt_;
    }
    [[nodiscard]] std::size_t position() const noexcept { return index_; }
    void restore(const std::array<std::uint32_t, state_words>& mt, std::size_t position);

  private:
    std::array<std::uint32_t, state_words> mt_{};
    std::size_t index_ = state_words;
    std::vector<std::uint32_t> pool_;
};

// `draws` successive samples of `k` from range(population) by a generator seeded with
// `seed_words` (one flat vector, draws * k long).
std::vector<std::uint32_t> python_random_samples(const std::vector<std::uint32_t>& seed_words,
                                                 std::int64_t population, std::int64_t k,
                                                 std::int64_t draws);

// Two-sided two-sample KS test on samples of equal size n <= 10000: (statistic, p-value) as
// scipy.stats.ks_2samp(a, b, method="auto") computes them (exact distribution).
std::pair<double, double> ks_test_equal_sizes(std::span<const double> a, std::span<const double> b);

struct KswinOptions {
    double alpha = 0.005;
    std::int64_t window_size = 100;
    std::int64_t stat_size = 30;

    // Throws InvalidArgument naming the first field outside its allowed range.
    void validate() const;
};

class Kswin {
  public:
    // `seed_words` empty optional: a fresh OS-random seed at creation and after each detection
    // (River's seed=None). `initial` pre-fills the window (River's `window`).
    Kswin(const KswinOptions& options, std::optional<std::vector<std::uint32_t>> seed_words,
          std::span<const double> initial, NonFinite non_finite = NonFinite::reject);

    bool update(double x);
    std::vector<std::int64_t> update_many(std::span<const double> xs);

    [[nodiscard]] const KswinOptions& options() const noexcept { return options_; }
    [[nodiscard]] NonFinite non_finite() const noexcept { return non_finite_; }
    [[nodiscard]] const std::optional<std::vector<std::uint32_t>>& seed_words() const noexcept {
        return seed_;
    }
    [[nodiscard]] bool drift_detected() const noexcept { return drift_detected_; }
    [[nodiscard]] double p_value() const noexcept { return p_value_; }
    [[nodiscard]] double statistic() const noexcept { return statistic_; }
    [[nodiscard]] std::uint64_t n_since_drift() const noexcept { return n_; }
    [[nodiscard]] std::uint64_t n_detections() const noexcept { return n_detections_; }
    [[nodiscard]] std::uint64_t n_seen() const noexcept { return n_seen_; }
    [[nodiscard]] std::uint64_t n_dropped() const noexcept { return n_dropped_; }
    [[nodiscard]] std::vector<double> window() const;

    [[nodiscard]] std::string to_bytes() const;
    static Kswin from_bytes(std::string_view bytes);

  private:
    void reset();
    bool add(double x);
    void push(double x);
    [[nodiscard]] double at(std::size_t i) const;

    KswinOptions options_;
    std::optional<std::vector<std::uint32_t>> seed_;
    NonFinite non_finite_;
    PythonRandom rng_;
    std::vector<double> ring_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
    double p_value_ = 0.0;
    double statistic_ = 0.0;
    std::uint64_t n_ = 0;
    bool drift_detected_ = false;
    std::uint64_t n_detections_ = 0;
    std::uint64_t n_seen_ = 0;
    std::uint64_t n_dropped_ = 0;
    // Scratch space reused by every test (not part of the state).
    std::vector<std::uint32_t> picks_;
    std::vector<double> sampled_;
    std::vector<double> recent_;
};

}  // namespace lumengate::drift
