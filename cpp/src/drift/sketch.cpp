#include "lumengate/drift/sketch.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "lumengate/common/error.hpp"

namespace lumengate::drift {
namespace {

constexpr char kMagic[4] = {'L', 'G', 'Q', 'S'};

std::uint32_t capacity_for(double epsilon) {
    const double raw = std::ceil(static_cast<double>(QuantileSketch::kLevelBudget) / epsilon);
    auto capacity = static_cast<std::uint32_t>(raw);
    capacity += capacity % 2;  // even, so a full level compacts without a leftover
    return std::max<std::uint32_t>(capacity, 8);
}

void check_epsilon(double epsilon) {
    if (!(epsilon >= 1e-5 && epsilon <= 0.5)) {
        throw InvalidArgument("epsilon", "must be in [1e-05, 0.5], got " + std::to_string(epsilon));
    }
}

class Writer {
  public:
    template <typename T>
    void put(T value) {
        unsigned char bytes[sizeof(T)];
        std::memcpy(bytes, &value, sizeof(T));
        if constexpr (std::endian::native == std::endian::big)
            std::reverse(bytes, bytes + sizeof(T));
        out.append(reinterpret_cast<const char*>(bytes), sizeof(T));
    }
    std::string out;
};

class Reader {
  public:
    explicit Reader(std::string_view bytes) : bytes_(bytes) {}
    template <typename T>
    T get(const char* what) {
        if (bytes_.size() - position_ < sizeof(T)) {
            throw ParseError("data", std::string("is truncated: it ends inside the ") + what +
                                         " at byte " + std::to_string(position_) + " of " +
                                         std::to_string(bytes_.size()));
        }
        unsigned char raw[sizeof(T)];
        std::memcpy(raw, bytes_.data() + position_, sizeof(T));
        if constexpr (std::endian::native == std::endian::big) std::reverse(raw, raw + sizeof(T));
        position_ += sizeof(T);
        T value;
        std::memcpy(&value, raw, sizeof(T));
        return value;
    }
    [[nodiscard]] std::size_t remaining() const { return bytes_.size() - position_; }
    [[nodiscard]] std::size_t position() const { return position_; }

  private:
    std::string_view bytes_;
    std::size_t position_ = 0;
};

}  // namespace

QuantileSketch::QuantileSketch(double epsilon) : epsilon_(epsilon), capacity_(0) {
    check_epsilon(epsilon);
    capacity_ = capacity_for(epsilon);
}

std::size_t QuantileSketch::retained() const noexcept {
    std::size_t total = 0;
    for (const auto& level : levels_) total += level.size();
    return total;
}

void QuantileSketch::require_nonempty(const char* what) const {
    if (count_ == 0) {
        throw InvalidArgument("sketch",
                              std::string("is empty; update it with scores before asking ") + what);
    }
}

double QuantileSketch::min() const {
    require_nonempty("its min");
    return min_;
}

double QuantileSketch::max() const {
    require_nonempty("its max");
    return max_;
}

void QuantileSketch::compact_from(std::size_t level) {
    for (std::size_t h = level; h < levels_.size(); ++h) {
        if (levels_[h].size() < capacity_) continue;
        // Grow first: adding a level may move the others.
        if (h + 1 == levels_.size()) {
            levels_.emplace_back();
            offsets_.push_back(0);
        }
        std::vector<double>& items = levels_[h];
        std::vector<double>& up = levels_[h + 1];
        std::sort(items.begin(), items.end());
        // An odd item out (the largest) stays at this level, so weight is conserved exactly.
        const std::size_t paired = items.size() - items.size() % 2;
        const std::size_t offset = offsets_[h];
        for (std::size_t i = offset; i < paired; i += 2) up.push_back(items[i]);
        offsets_[h] ^= 1;
        items.erase(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(paired));
        error_bound_ += std::ldexp(1.0, static_cast<int>(h));
    }
}

void QuantileSketch::update(std::span<const double> scores) {
    if (levels_.empty()) {
        levels_.emplace_back();
        offsets_.push_back(0);
    }
    for (std::size_t start = 0; start < scores.size();) {
        std::vector<double>& base = levels_[0];
        const std::size_t room = capacity_ - std::min<std::size_t>(base.size(), capacity_);
        const std::size_t take = std::min(room == 0 ? capacity_ : room, scores.size() - start);
        for (std::size_t i = start; i < start + take; ++i) {
            const double x = scores[i];
            if (count_ == 0) {
                min_ = max_ = x;
            } else {
                min_ = std::min(min_, x);
                max_ = std::max(max_, x);
            }
            ++count_;
            base.push_back(x);
        }
        start += take;
        compact_from(0);
    }
}

void QuantileSketch::merge(const QuantileSketch& other) {
    if (other.capacity_ != capacity_ || other.epsilon_ != epsilon_) {
        throw InvalidArgument("other", "has epsilon " + std::to_string(other.epsilon_) +
                                           " but this sketch has " + std::to_string(epsilon_) +
                                           "; only sketches with the same epsilon merge");
    }
    if (other.count_ == 0) return;
    if (this == &other) {
        const QuantileSketch copy = other;
        merge(copy);
        return;
    }
    if (count_ == 0) {
        min_ = other.min_;
        max_ = other.max_;
    } else {
        min_ = std::min(min_, other.min_);
        max_ = std::max(max_, other.max_);
    }
    count_ += other.count_;
    error_bound_ += other.error_bound_;
    while (levels_.size() < other.levels_.size()) {
        levels_.emplace_back();
        offsets_.push_back(0);
    }
    for (std::size_t h = 0; h < other.levels_.size(); ++h) {
        levels_[h].insert(levels_[h].end(), other.levels_[h].begin(), other.levels_[h].end());
    }
    compact_from(0);
}

QuantileSketch::Weighted QuantileSketch::sorted_view() const {
    std::vector<std::pair<double, double>> items;
    items.reserve(retained());
    for (std::size_t h = 0; h < levels_.size(); ++h) {
        const double weight = std::ldexp(1.0, static_cast<int>(h));
        for (const double x : levels_[h]) items.emplace_back(x, weight);
    }
    std::sort(items.begin(), items.end());
    Weighted view;
    view.values.reserve(items.size());
    view.cumulative.reserve(items.size());
    double running = 0.0;
    for (const auto& [x, w] : items) {
        running += w;
        view.values.push_back(x);
        view.cumulative.push_back(running);
    }
    return view;
}

double QuantileSketch::rank(double x) const {
    if (std::isnan(x)) throw InvalidArgument("x", "is NaN; ask for the rank of a number");
    double total = 0.0;
    for (std::size_t h = 0; h < levels_.size(); ++h) {
        std::size_t below = 0;
        for (const double v : levels_[h]) below += v <= x ? 1 : 0;
        total += std::ldexp(static_cast<double>(below), static_cast<int>(h));
    }
    return total;
}

double QuantileSketch::cdf(double x) const {
    require_nonempty("for a CDF");
    return rank(x) / static_cast<double>(count_);
}

double QuantileSketch::quantile(double q) const {
    if (!(q >= 0.0 && q <= 1.0)) {
        throw InvalidArgument("q", "must be in [0, 1], got " + std::to_string(q));
    }
    require_nonempty("for a quantile");
    if (q == 0.0) return min_;
    if (q == 1.0) return max_;
    const Weighted view = sorted_view();
    const double target = q * static_cast<double>(count_);
    const auto it = std::lower_bound(view.cumulative.begin(), view.cumulative.end(), target);
    if (it == view.cumulative.end()) return max_;
    return view.values[static_cast<std::size_t>(it - view.cumulative.begin())];
}

std::string QuantileSketch::to_bytes() const {
    Writer w;
    w.out.append(kMagic, 4);
    w.put<std::uint32_t>(kFormatVersion);
    w.put<double>(epsilon_);
    w.put<std::uint32_t>(capacity_);
    w.put<std::uint64_t>(count_);
    w.put<double>(min_);
    w.put<double>(max_);
    w.put<double>(error_bound_);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(levels_.size()));
    for (std::size_t h = 0; h < levels_.size(); ++h) {
        w.put<std::uint8_t>(offsets_[h]);
        w.put<std::uint32_t>(static_cast<std::uint32_t>(levels_[h].size()));
        for (const double x : levels_[h]) w.put<double>(x);
    }
    return w.out;
}

QuantileSketch QuantileSketch::from_bytes(std::string_view bytes) {
    if (bytes.size() < 4 || std::memcmp(bytes.data(), kMagic, 4) != 0) {
        throw ParseError("data",
                         "is not a lumengate QuantileSketch (the first 4 bytes are not 'LGQS')");
    }
    Reader r(bytes.substr(4));
    const auto version = r.get<std::uint32_t>("version");
    if (version != kFormatVersion) {
        throw ParseError("data", "has format version " + std::to_string(version) +
                                     "; this lumengate reads version " +
                                     std::to_string(kFormatVersion));
    }
    const auto epsilon = r.get<double>("epsilon");
    if (!(epsilon >= 1e-5 && epsilon <= 0.5)) {
        throw ParseError(
            "data", "is corrupt: epsilon " + std::to_string(epsilon) + " is outside [1e-05, 0.5]");
    }
    QuantileSketch sketch(epsilon);
    const auto capacity = r.get<std::uint32_t>("capacity");
    if (capacity != sketch.capacity_) {
        throw ParseError("data", "is corrupt: capacity " + std::to_string(capacity) +
                                     " does not match epsilon (expected " +
                                     std::to_string(sketch.capacity_) + ")");
    }
    sketch.count_ = r.get<std::uint64_t>("count");
    sketch.min_ = r.get<double>("min");
    sketch.max_ = r.get<double>("max");
    sketch.error_bound_ = r.get<double>("error bound");
    const auto levels = r.get<std::uint32_t>("level count");
    if (levels > 64) {
        throw ParseError("data", "is corrupt: " + std::to_string(levels) + " levels (at most 64)");
    }
    double weight = 0.0;
    for (std::uint32_t h = 0; h < levels; ++h) {
        const auto offset = r.get<std::uint8_t>("level offset");
        const auto size = r.get<std::uint32_t>("level size");
        if (offset > 1 || size > r.remaining() / 8) {
            throw ParseError("data", "is corrupt or truncated at level " + std::to_string(h) +
                                         " (byte " + std::to_string(r.position() + 4) + ")");
        }
        std::vector<double> items(size);
        for (auto& x : items) {
            x = r.get<double>("level items");
            if (!std::isfinite(x)) {
                throw ParseError(
                    "data", "is corrupt: level " + std::to_string(h) + " holds a non-finite score");
            }
        }
        weight += std::ldexp(static_cast<double>(size), static_cast<int>(h));
        sketch.levels_.push_back(std::move(items));
        sketch.offsets_.push_back(offset);
    }
    if (r.remaining() != 0) {
        throw ParseError(
            "data", "has " + std::to_string(r.remaining()) + " unexpected bytes after the sketch");
    }
    if (weight != static_cast<double>(sketch.count_) ||
        (sketch.count_ > 0 && !(sketch.min_ <= sketch.max_)) || !(sketch.error_bound_ >= 0)) {
        throw ParseError("data", "is corrupt: its levels do not add up to its count");
    }
    return sketch;
}

namespace {

void require_filled(const QuantileSketch& sketch, const char* field) {
    if (sketch.count() == 0) {
        throw InvalidArgument(field, "is an empty sketch; update it with scores first");
    }
}

// Walks the union of both sketches' retained values, calling step(value, cdf_a, cdf_b, next)
// after each distinct value (next is the following distinct value, or the value itself last).
template <typename Step>
void walk(const QuantileSketch& a, const QuantileSketch& b, Step step) {
    const auto va = a.sorted_view();
    const auto vb = b.sorted_view();
    const auto na = static_cast<double>(a.count());
    const auto nb = static_cast<double>(b.count());
    std::size_t i = 0, j = 0;
    const std::size_t sa = va.values.size(), sb = vb.values.size();
    while (i < sa || j < sb) {
        const double value =
            (j == sb || (i < sa && va.values[i] <= vb.values[j])) ? va.values[i] : vb.values[j];
        while (i < sa && va.values[i] <= value) ++i;
        while (j < sb && vb.values[j] <= value) ++j;
        const double fa = i == 0 ? 0.0 : va.cumulative[i - 1] / na;
        const double fb = j == 0 ? 0.0 : vb.cumulative[j - 1] / nb;
        const bool last = i == sa && j == sb;
        const double next =
            last ? value
                 : ((j == sb || (i < sa && va.values[i] <= vb.values[j])) ? va.values[i]
                                                                          : vb.values[j]);
        step(value, fa, fb, next);
    }
}

}  // namespace

SketchKsResult ks_from_sketches(const QuantileSketch& reference, const QuantileSketch& current) {
    require_filled(reference, "reference");
    require_filled(current, "current");
    double largest = 0.0;
    walk(reference, current, [&](double, double fa, double fb, double) {
        largest = std::max(largest, std::abs(fa - fb));
    });
    SketchKsResult result;
    result.statistic = largest;
    result.error_bound = reference.rank_error_bound() / static_cast<double>(reference.count()) +
                         current.rank_error_bound() / static_cast<double>(current.count());
    return result;
}

SketchKsResult wasserstein_from_sketches(const QuantileSketch& reference,
                                         const QuantileSketch& current) {
    require_filled(reference, "reference");
    require_filled(current, "current");
    double total = 0.0;
    walk(reference, current, [&](double value, double fa, double fb, double next) {
        total += std::abs(fa - fb) * (next - value);
    });
    SketchKsResult result;
    result.statistic = total;
    const double span =
        std::max(reference.max(), current.max()) - std::min(reference.min(), current.min());
    result.error_bound = (reference.rank_error_bound() / static_cast<double>(reference.count()) +
                          current.rank_error_bound() / static_cast<double>(current.count())) *
                         span;
    return result;
}

}  // namespace lumengate::drift
