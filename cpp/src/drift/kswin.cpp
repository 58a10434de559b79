#include "lumengate/drift/kswin.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "lumengate/common/error.hpp"
#include "lumengate/drift/adwin.hpp"

namespace lumengate::drift {

namespace {

constexpr std::size_t mt_n = PythonRandom::state_words;
constexpr std::size_t mt_m = 397;
constexpr std::int64_t max_stat_size = 10000;  // scipy's 'auto' stays exact up to here
// River reports a drift only when the KS statistic also exceeds this.
constexpr double min_statistic = 0.1;

}  // namespace

PythonRandom::PythonRandom(std::span<const std::uint32_t> key) {
    const std::uint32_t zero = 0;
    if (key.empty()) key = std::span<const std::uint32_t>(&zero, 1);
    mt_[0] = 19650218U;
    for (std::size_t i = 1; i < mt_n; ++i) {
        mt_[i] = 1812433253U * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
    }
    std::size_t i = 1;
    std::size_t j = 0;
    for (std::size_t k = std::max(mt_n, key.size()); k > 0; --k) {
        mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + key[j] +
                 static_cast<std::uint32_t>(j);
        ++i;
        ++j;
        if (i >= mt_n) {
            mt_[0] = mt_[mt_n - 1];
            i = 1;
        }
        if (j >= key.size()) j = 0;
    }
    for (std::size_t k = mt_n - 1; k > 0; --k) {
        mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) -
                 static_cast<std::uint32_t>(i);
        ++i;
        if (i >= mt_n) {
            mt_[0] = mt_[mt_n - 1];
            i = 1;
        }
    }
    mt_[0] = 0x80000000U;
    index_ = mt_n;
}

std::uint32_t PythonRandom::next_u32() {
    constexpr std::uint32_t upper = 0x80000000U;
    constexpr std::uint32_t lower = 0x7fffffffU;
    constexpr std::uint32_t matrix_a = 0x9908b0dfU;
    if (index_ >= mt_n) {
        for (std::size_t k = 0; k < mt_n; ++k) {
            const std::uint32_t y = (mt_[k] & upper) | (mt_[(k + 1) % mt_n] & lower);
            mt_[k] = mt_[(k + mt_m) % mt_n] ^ (y >> 1) ^ ((y & 1U) ? matrix_a : 0U);
        }
        index_ = 0;
    }
    std::uint32_t y = mt_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    return y;
}

std::uint32_t PythonRandom::below(std::uint32_t n) {
    const int bits = std::bit_width(n);
    std::uint32_t r = next_u32() >> (32 - bits);
    while (r >= n) r = next_u32() >> (32 - bits);
    return r;
}

void PythonRandom::sample(std::uint32_t population, std::uint32_t k,
                          std::vector<std::uint32_t>& out) {
    out.resize(k);
    // CPython picks from a shrinking pool when the population is small next to the size of
    // a hash set for k items, and by rejection of repeats otherwise.
    std::uint64_t setsize = 21;
    if (k > 5) {
        const double exponent = std::ceil(std::log(static_cast<double>(k) * 3.0) / std::log(4.0));
        setsize += std::uint64_t{1} << (2 * static_cast<unsigned>(exponent));
    }
    if (population <= setsize) {
        pool_.resize(population);
        for (std::uint32_t i = 0; i < population; ++i) pool_[i] = i;
        for (std::uint32_t i = 0; i < k; ++i) {
            const std::uint32_t j = below(population - i);
            out[i] = pool_[j];
            pool_[j] = pool_[population - i - 1];
        }
        return;
    }
    pool_.assign(population, 0);  // marks of already selected values
    for (std::uint32_t i = 0; i < k; ++i) {
        std::uint32_t j = below(population);
        while (pool_[j] != 0) j = below(population);
        pool_[j] = 1;
        out[i] = j;
    }
}

void PythonRandom::restore(const std::array<std::uint32_t, state_words>& mt, std::size_t position) {
    mt_ = mt;
    index_ = position;
}

std::vector<std::uint32_t> python_random_samples(const std::vector<std::uint32_t>& seed_words,
                                                 std::int64_t population, std::int64_t k,
                                                 std::int64_t draws) {
    if (population < 1 || population > std::numeric_limits<std::int32_t>::max()) {
        throw InvalidArgument("population",
                              "must be in [1, 2**31 - 1], got " + std::to_string(population));
    }
    if (k < 0 || k > population) {
        throw InvalidArgument("k", "must be in [0, population], got " + std::to_string(k));
    }
    if (draws < 0) throw InvalidArgument("draws", "must be >= 0, got " + std::to_string(draws));
    PythonRandom rng(seed_words);
    std::vector<std::uint32_t> all;
    std::vector<std::uint32_t> one;
    all.reserve(static_cast<std::size_t>(draws * k));
    for (std::int64_t d = 0; d < draws; ++d) {
        rng.sample(static_cast<std::uint32_t>(population), static_cast<std::uint32_t>(k), one);
        all.insert(all.end(), one.begin(), one.end());
    }
    return all;
}

namespace {

// scipy's _compute_prob_outside_square: P(D_{n,n} >= h/n) by a Horner-like alternating sum.
double probability_outside_square(std::int64_t n, std::int64_t h) {
    double p = 0.0;
    for (std::int64_t k = n / h; k >= 0; --k) {
        double term = 1.0;
        for (std::int64_t j = 0; j < h; ++j) {
            term =
                static_cast<double>(n - k * h - j) * term / static_cast<double>(n + k * h + j + 1);
        }
        p = term * (1.0 - p);
    }
    return 2.0 * p;
}

// Both inputs sorted, same size.
std::pair<double, double> ks_sorted(std::span<const double> a, std::span<const double> b) {
    const std::size_t n = a.size();
    const auto count = static_cast<double>(n);
    double max_difference = -std::numeric_limits<double>::infinity();
    double min_difference = std::numeric_limits<double>::infinity();
    std::size_t i = 0;
    std::size_t j = 0;
    // The empirical CDFs are compared just after every distinct value of either sample.
    while (i < n || j < n) {
        const double v = (j >= n || (i < n && a[i] <= b[j])) ? a[i] : b[j];
        while (i < n && a[i] <= v) ++i;
        while (j < n && b[j] <= v) ++j;
        const double difference = static_cast<double>(i) / count - static_cast<double>(j) / count;
        max_difference = std::max(max_difference, difference);
        min_difference = std::min(min_difference, difference);
    }
    const double min_side = std::clamp(-min_difference, 0.0, 1.0);
    const double d = min_side > max_difference ? min_side : max_difference;
    const auto h = static_cast<std::int64_t>(std::nearbyint(d * count));
    const double statistic = static_cast<double>(h) * 1.0 / count;
    if (h == 0) return {statistic, 1.0};
    // Where scipy's exact sum rounds just above 1 (tiny statistics only) it falls back to an
    // asymptotic value close to 1; 1 is reported here, which never changes a detection.
    return {statistic,
            std::clamp(probability_outside_square(static_cast<std::int64_t>(n), h), 0.0, 1.0)};
}

}  // namespace

std::pair<double, double> ks_test_equal_sizes(std::span<const double> a,
                                              std::span<const double> b) {
    if (a.empty() || a.size() != b.size()) {
        throw InvalidArgument("b", "must have the same, non-zero size as a");
    }
    if (a.size() > static_cast<std::size_t>(max_stat_size)) {
        throw InvalidArgument("a", "holds more than 10000 values; the exact test stops there");
    }
    std::vector<double> sorted_a(a.begin(), a.end());
    std::vector<double> sorted_b(b.begin(), b.end());
    std::sort(sorted_a.begin(), sorted_a.end());
    std::sort(sorted_b.begin(), sorted_b.end());
    return ks_sorted(sorted_a, sorted_b);
}

void KswinOptions::validate() const {
    if (!(alpha > 0.0 && alpha < 1.0)) {
        throw InvalidArgument("alpha", "must be in (0, 1), got " + std::to_string(alpha));
    }
    if (window_size < 2 || window_size > std::numeric_limits<std::int32_t>::max()) {
        throw InvalidArgument("window_size", "must be a whole number in [2, 2**31 - 1], got " +
                                                 std::to_string(window_size));
    }
    if (stat_size < 1 || stat_size > max_stat_size) {
        throw InvalidArgument(
            "stat_size", "must be a whole number in [1, 10000], got " + std::to_string(stat_size));
    }
    if (stat_size >= window_size) {
        throw InvalidArgument("stat_size", "must be smaller than window_size (" +
                                               std::to_string(window_size) + "), got " +
                                               std::to_string(stat_size));
    }
    if (2 * stat_size > window_size) {
        throw InvalidArgument(
            "stat_size", "must be at most window_size / 2 (" + std::to_string(window_size / 2) +
                             ") so that stat_size older values can be sampled, got " +
                             std::to_string(stat_size));
    }
}

Kswin::Kswin(const KswinOptions& options, std::optional<std::vector<std::uint32_t>> seed_words,
             std::span<const double> initial, NonFinite non_finite)
    : options_(options),
      seed_(std::move(seed_words)),
      non_finite_(non_finite),
      rng_(std::span<const std::uint32_t>()) {
    options_.validate();
    if (!initial.empty()) clean_scores(initial, NonFinite::reject, "window");
    ring_.assign(static_cast<std::size_t>(options_.window_size), 0.0);
    reset();
    for (const double x : initial) push(x);
}

void Kswin::reset() {
    if (seed_) {
        rng_ = PythonRandom(*seed_);
    } else {
        std::random_device device;
        std::array<std::uint32_t, 8> key{};
        for (auto& word : key) word = device();
        rng_ = PythonRandom(key);
    }
    head_ = 0;
    size_ = 0;
    p_value_ = 0.0;
    statistic_ = 0.0;
    n_ = 0;
    drift_detected_ = false;
}

void Kswin::push(double x) {
    const std::size_t capacity = ring_.size();
    if (size_ < capacity) {
        ring_[(head_ + size_) % capacity] = x;
        ++size_;
    } else {
        ring_[head_] = x;
        head_ = (head_ + 1) % capacity;
    }
}

double Kswin::at(std::size_t i) const { return ring_[(head_ + i) % ring_.size()]; }

std::vector<double> Kswin::window() const {
    std::vector<double> values(size_);
    for (std::size_t i = 0; i < size_; ++i) values[i] = at(i);
    return values;
}

bool Kswin::update(double x) {
    if (!std::isfinite(x)) {
        if (non_finite_ == NonFinite::reject) {
            throw InvalidArgument("x", "is " + std::to_string(x) +
                                           "; values must be finite (or pass non_finite='drop')");
        }
        ++n_dropped_;
        return false;
    }
    return add(x);
}

std::vector<std::int64_t> Kswin::update_many(std::span<const double> xs) {
    return feed_values(xs, non_finite_, "xs", n_dropped_, [this](double x) { return add(x); });
}

bool Kswin::add(double x) {
    // River starts afresh (window, counters and generator) on the update after a detection.
    if (drift_detected_) reset();
    ++n_seen_;
    ++n_;
    push(x);
    const auto window_size = static_cast<std::size_t>(options_.window_size);
    const auto stat_size = static_cast<std::size_t>(options_.stat_size);
    if (size_ < window_size) {
        drift_detected_ = false;
        return false;
    }
    const std::size_t older = window_size - stat_size;
    rng_.sample(static_cast<std::uint32_t>(older), static_cast<std::uint32_t>(stat_size), picks_);
    sampled_.resize(stat_size);
    recent_.resize(stat_size);
    for (std::size_t i = 0; i < stat_size; ++i) {
        sampled_[i] = at(picks_[i]);
        recent_[i] = at(older + i);
    }
    std::sort(sampled_.begin(), sampled_.end());
    std::vector<double> recent_in_order = recent_;
    std::sort(recent_.begin(), recent_.end());
    const auto [statistic, p_value] = ks_sorted(sampled_, recent_);
    statistic_ = statistic;
    p_value_ = p_value;
    drift_detected_ = p_value <= options_.alpha && statistic > min_statistic;
    if (drift_detected_) {
        // River keeps only the recent values (until the next update resets the window).
        head_ = 0;
        size_ = 0;
        for (const double v : recent_in_order) push(v);
        ++n_detections_;
    }
    return drift_detected_;
}

std::string Kswin::to_bytes() const {
    detector_state::Writer w(detector_state::Kind::kswin);
    w.f64(options_.alpha);
    w.i64(options_.window_size);
    w.i64(options_.stat_size);
    w.u8(non_finite_ == NonFinite::drop ? 1 : 0);
    w.u8(seed_ ? 1 : 0);
    if (seed_) {
        w.u64(seed_->size());
        for (const std::uint32_t word : *seed_) w.u32(word);
    }
    for (const std::uint32_t word : rng_.state()) w.u32(word);
    w.u64(rng_.position());
    const std::vector<double> values = window();
    w.doubles(values);
    w.f64(p_value_);
    w.f64(statistic_);
    w.u64(n_);
    w.u8(drift_detected_ ? 1 : 0);
    w.u64(n_detections_);
    w.u64(n_seen_);
    w.u64(n_dropped_);
    return std::move(w).finish();
}

Kswin Kswin::from_bytes(std::string_view bytes) {
    using detector_state::Reader;
    Reader r(bytes, detector_state::Kind::kswin);
    KswinOptions options;
    options.alpha = r.f64();
    options.window_size = r.i64();
    options.stat_size = r.i64();
    const std::uint8_t policy = r.u8();
    if (policy > 1) Reader::corrupt("has an unknown non_finite policy");
    const std::uint8_t seeded = r.u8();
    if (seeded > 1) Reader::corrupt("has an invalid seed flag");
    std::optional<std::vector<std::uint32_t>> seed;
    if (seeded == 1) {
        const std::uint64_t n_words = r.u64();
        if (n_words > (bytes.size() / 4)) Reader::corrupt("has an impossible seed length");
        seed.emplace(static_cast<std::size_t>(n_words));
        for (auto& word : *seed) word = r.u32();
    }
    options.validate();
    Kswin detector(options, seed, {}, policy == 1 ? NonFinite::drop : NonFinite::reject);
    std::array<std::uint32_t, PythonRandom::state_words> mt{};
    for (auto& word : mt) word = r.u32();
    const std::uint64_t position = r.u64();
    if (position > PythonRandom::state_words) Reader::corrupt("has an invalid generator position");
    detector.rng_.restore(mt, static_cast<std::size_t>(position));
    const std::vector<double> values = r.doubles(static_cast<std::size_t>(options.window_size));
    for (const double v : values) detector.push(v);
    detector.p_value_ = r.f64();
    detector.statistic_ = r.f64();
    detector.n_ = r.u64();
    const std::uint8_t detected = r.u8();
    if (detected > 1) Reader::corrupt("has an invalid drift flag");
    detector.drift_detected_ = detected == 1;
    detector.n_detections_ = r.u64();
    detector.n_seen_ = r.u64();
    detector.n_dropped_ = r.u64();
    r.finish();
    return detector;
}

}  // namespace lumengate::drift
