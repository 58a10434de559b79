#include "lumengate/drift/adwin.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "lumengate/common/error.hpp"

namespace lumengate::drift {

namespace detector_state {
namespace {

constexpr char magic[4] = {'L', 'G', 'D', 'D'};
constexpr std::size_t header_size = 4 + 2 + 1;
constexpr std::size_t checksum_size = 8;

std::uint64_t fnv1a64(std::string_view bytes) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

template <class T>
void put(std::string& out, T value) {
    static_assert(std::endian::native == std::endian::little, "the state format is little-endian");
    char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    out.append(raw, sizeof(T));
}

template <class T>
T get(std::string_view bytes, std::size_t pos) {
    T value;
    std::memcpy(&value, bytes.data() + pos, sizeof(T));
    return value;
}

const char* kind_name(std::uint8_t kind) {
    switch (kind) {
        case static_cast<std::uint8_t>(Kind::adwin):
            return "ADWIN";
        case static_cast<std::uint8_t>(Kind::page_hinkley):
            return "PageHinkley";
        case static_cast<std::uint8_t>(Kind::kswin):
            return "KSWIN";
        default:
            return nullptr;
    }
}

}  // namespace

Writer::Writer(Kind kind) {
    bytes_.append(magic, sizeof(magic));
    put(bytes_, format_version);
    put(bytes_, static_cast<std::uint8_t>(kind));
}

void Writer::u8(std::uint8_t v) { put(bytes_, v); }
void Writer::u32(std::uint32_t v) { put(bytes_, v); }
void Writer::u64(std::uint64_t v) { put(bytes_, v); }
void Writer::i64(std::int64_t v) { put(bytes_, v); }
void Writer::f64(double v) { put(bytes_, v); }

void Writer::doubles(std::span<const double> values) {
    u64(values.size());
    for (const double v : values) f64(v);
}

std::string Writer::finish() && {
    put(bytes_, fnv1a64(bytes_));
    return std::move(bytes_);
}

void Reader::corrupt(const std::string& why) {
    throw InvalidArgument("state", why + "; pass bytes made by to_bytes() of this detector");
}

Reader::Reader(std::string_view bytes, Kind expected) : bytes_(bytes) {
    if (bytes.size() < sizeof(magic) || std::memcmp(bytes.data(), magic, sizeof(magic)) != 0) {
        corrupt("is not a lumengate detector state (no 'LGDD' header)");
    }
    if (bytes.size() < header_size + checksum_size) {
        corrupt("is truncated (" + std::to_string(bytes.size()) + " bytes)");
    }
    const auto version = get<std::uint16_t>(bytes, 4);
    if (version != format_version) {
        corrupt("has format version " + std::to_string(version) + ", this lumengate reads " +
                std::to_string(format_version));
    }
    const auto stored = get<std::uint64_t>(bytes, bytes.size() - checksum_size);
    if (stored != fnv1a64(bytes.substr(0, bytes.size() - checksum_size))) {
        corrupt("is corrupt (checksum mismatch: truncated or altered)");
    }
    const auto kind = get<std::uint8_t>(bytes, 6);
    if (kind != static_cast<std::uint8_t>(expected)) {
        const char* found = kind_name(kind);
        corrupt(std::string("holds a ") + (found ? found : "unknown") + " detector, not " +
                kind_name(static_cast<std::uint8_t>(expected)));
    }
    bytes_ = bytes.substr(0, bytes.size() - checksum_size);
    pos_ = header_size;
}

namespace {
void need(std::string_view bytes, std::size_t pos, std::size_t n) {
    if (bytes.size() - pos < n) Reader::corrupt("ends early");
}
}  // namespace

std::uint8_t Reader::u8() {
    need(bytes_, pos_, 1);
    const auto v = get<std::uint8_t>(bytes_, pos_);
    pos_ += 1;
    return v;
}

std::uint32_t Reader::u32() {
    need(bytes_, pos_, 4);
    const auto v = get<std::uint32_t>(bytes_, pos_);
    pos_ += 4;
    return v;
}

std::uint64_t Reader::u64() {
    need(bytes_, pos_, 8);
    const auto v = get<std::uint64_t>(bytes_, pos_);
    pos_ += 8;
    return v;
}

std::int64_t Reader::i64() { return static_cast<std::int64_t>(u64()); }

double Reader::f64() {
    need(bytes_, pos_, 8);
    const auto v = get<double>(bytes_, pos_);
    pos_ += 8;
    return v;
}

std::vector<double> Reader::doubles(std::size_t max_count) {
    const std::uint64_t n = u64();
    if (n > max_count || n > (bytes_.size() - pos_) / 8) corrupt("has an impossible array length");
    std::vector<double> values(static_cast<std::size_t>(n));
    for (double& v : values) v = f64();
    return values;
}

void Reader::finish() const {
    if (pos_ != bytes_.size()) corrupt("has unexpected trailing bytes");
}

}  // namespace detector_state

namespace {

constexpr std::int64_t max_int32 = std::numeric_limits<std::int32_t>::max();

void require_range(const char* field, std::int64_t value, std::int64_t low, const char* what) {
    if (value < low || value > max_int32) {
        throw InvalidArgument(field, "must be " + std::string(what) + " (at most " +
                                         std::to_string(max_int32) + "), got " +
                                         std::to_string(value));
    }
}

}  // namespace

void AdwinOptions::validate() const {
    if (!(delta > 0.0 && delta < 1.0)) {
        throw InvalidArgument("delta", "must be in (0, 1), got " + std::to_string(delta));
    }
    require_range("clock", clock, 1, "a whole number >= 1");
    require_range("max_buckets", max_buckets, 1, "a whole number >= 1");
    require_range("min_window_length", min_window_length, 1, "a whole number >= 1");
    require_range("grace_period", grace_period, 0, "a whole number >= 0");
}

Adwin::Adwin(const AdwinOptions& options, NonFinite non_finite)
    : options_(options), non_finite_(non_finite) {
    options_.validate();
    reset_window();
}

Adwin::Level Adwin::empty_level() const {
    const auto slots = static_cast<std::size_t>(options_.max_buckets) + 1;
    return Level{std::vector<double>(slots, 0.0), std::vector<double>(slots, 0.0), 0};
}

void Adwin::reset_window() {
    levels_.assign(1, empty_level());
    total_ = 0.0;
    variance_ = 0.0;
    width_ = 0.0;
    tick_ = 0;
    clock_phase_ = 0;
    drift_detected_ = false;
}

bool Adwin::update(double x) {
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

std::vector<std::int64_t> Adwin::update_many(std::span<const double> xs) {
    return feed_values(xs, non_finite_, "xs", n_dropped_, [this](double x) { return add(x); });
}

bool Adwin::add(double x) {
    // River starts a new window on the update that follows a detection.
    if (drift_detected_) reset_window();
    ++n_seen_;
    insert(x);
    drift_detected_ = detect_change();
    if (drift_detected_) ++n_detections_;
    return drift_detected_;
}

void Adwin::insert(double value) {
    Level& first = levels_.front();
    first.totals[first.count] = value;
    first.variances[first.count] = 0.0;
    ++first.count;
    // Incremental sum of squared deviations, in the operation order River uses so that
    // every rounding step matches.
    width_ += 1.0;
    double increment = 0.0;
    if (width_ > 1.0) {
        const double deviation = value - total_ / (width_ - 1.0);
        increment = (width_ - 1.0) * deviation * deviation / width_;
    }
    variance_ += increment;
    total_ += value;
    compress();
}

void Adwin::compress() {
    const auto full = static_cast<std::size_t>(options_.max_buckets) + 1;
    for (std::size_t level = 0; levels_[level].count == full; ++level) {
        const double size = std::ldexp(1.0, static_cast<int>(level));
        Level& here = levels_[level];
        const double mean0 = here.totals[0] / size;
        const double mean1 = here.totals[1] / size;
        const double merged_total = here.totals[0] + here.totals[1];
        const double between = size * 0.5 * (mean0 - mean1) * (mean0 - mean1);
        const double merged_variance = here.variances[0] + here.variances[1] + between;
        // Drop the two oldest summaries of this level.
        for (std::size_t i = 2; i < here.count; ++i) {
            here.totals[i - 2] = here.totals[i];
            here.variances[i - 2] = here.variances[i];
        }
        here.count -= 2;
        here.totals[here.count] = here.totals[here.count + 1] = 0.0;
        here.variances[here.count] = here.variances[here.count + 1] = 0.0;
        if (level + 1 == levels_.size()) levels_.push_back(empty_level());
        Level& next = levels_[level + 1];
        next.totals[next.count] = merged_total;
        next.variances[next.count] = merged_variance;
        ++next.count;
        if (next.count <= static_cast<std::size_t>(options_.max_buckets)) break;
    }
}

bool Adwin::cut(double n0, double n1, double mean_difference, const CutTerms& terms) const {
    const auto min_length = static_cast<double>(options_.min_window_length);
    const double m_recip = 1.0 / (n0 - min_length + 1.0) + 1.0 / (n1 - min_length + 1.0);
    const double linear = 2.0 / 3.0 * terms.delta_prime * m_recip;
    const double difference = std::fabs(mean_difference);
    // The bound is sqrt(...) + linear >= linear, so a difference within `linear` never cuts;
    // the square root is skipped then (same decisions, same rounding).
    if (!(difference > linear)) return false;
    const double epsilon =
        std::sqrt(2.0 * m_recip * terms.mean_variance * terms.delta_prime) + linear;
    return difference > epsilon;
}

void Adwin::drop_oldest_bucket() {
    const std::size_t last = levels_.size() - 1;
    Level& oldest = levels_[last];
    const double n = std::ldexp(1.0, static_cast<int>(last));
    const double u = oldest.totals[0];
    const double v = oldest.variances[0];
    const double mean = u / n;
    width_ -= n;
    total_ -= u;
    const double window_mean = total_ / width_;
    variance_ -= v + n * width_ * (mean - window_mean) * (mean - window_mean) / (n + width_);
    for (std::size_t i = 1; i < oldest.count; ++i) {
        oldest.totals[i - 1] = oldest.totals[i];
        oldest.variances[i - 1] = oldest.variances[i];
    }
    --oldest.count;
    oldest.totals[oldest.count] = 0.0;
    oldest.variances[oldest.count] = 0.0;
    if (oldest.count == 0) levels_.pop_back();
}

bool Adwin::detect_change() {
    // tick_ % clock, kept incrementally: a 64-bit division per value costs more than the rest
    // of a quiet update.
    ++tick_;
    if (++clock_phase_ == options_.clock) clock_phase_ = 0;
    if (clock_phase_ != 0 || !(width_ > static_cast<double>(options_.grace_period))) {
        return false;
    }
    const auto min_length = static_cast<double>(options_.min_window_length);
    bool change = false;
    bool shrunk = true;
    // Every boundary between buckets, oldest first, splits the window into W0 (older) and
    // W1 (newer); each cut drops the oldest bucket and the scan starts again.
    while (shrunk) {
        shrunk = false;
        double n0 = 0.0;
        double n1 = width_;
        double u0 = 0.0;
        double u1 = total_;
        // Constant while the window is unchanged, so computed once per scan (same values).
        const CutTerms terms{std::log(2.0 * std::log(width_) / options_.delta), variance_ / width_};
        for (std::size_t level = levels_.size(); level-- > 0 && !shrunk;) {
            const auto size = static_cast<double>(std::uint64_t{1} << level);
            const Level& here = levels_[level];
            for (std::size_t k = 0; k < here.count; ++k) {
                n0 += size;
                n1 -= size;
                u0 += here.totals[k];
                u1 -= here.totals[k];
                if (level == 0 && k + 1 == here.count) break;
                const double mean_difference = u0 / n0 - u1 / n1;
                if (n1 >= min_length && n0 >= min_length && cut(n0, n1, mean_difference, terms)) {
                    change = true;
                    if (width_ > 0.0) {
                        drop_oldest_bucket();
                        shrunk = true;
                        break;
                    }
                }
            }
        }
    }
    return change;
}

std::string Adwin::to_bytes() const {
    detector_state::Writer w(detector_state::Kind::adwin);
    w.f64(options_.delta);
    w.i64(options_.clock);
    w.i64(options_.max_buckets);
    w.i64(options_.min_window_length);
    w.i64(options_.grace_period);
    w.u8(non_finite_ == NonFinite::drop ? 1 : 0);
    w.f64(total_);
    w.f64(variance_);
    w.f64(width_);
    w.i64(tick_);
    w.u8(drift_detected_ ? 1 : 0);
    w.u64(n_detections_);
    w.u64(n_seen_);
    w.u64(n_dropped_);
    w.u64(levels_.size());
    for (const Level& level : levels_) {
        w.doubles(std::span<const double>(level.totals).first(level.count));
        w.doubles(std::span<const double>(level.variances).first(level.count));
    }
    return std::move(w).finish();
}

Adwin Adwin::from_bytes(std::string_view bytes) {
    using detector_state::Reader;
    Reader r(bytes, detector_state::Kind::adwin);
    AdwinOptions options;
    options.delta = r.f64();
    options.clock = r.i64();
    options.max_buckets = r.i64();
    options.min_window_length = r.i64();
    options.grace_period = r.i64();
    const std::uint8_t policy = r.u8();
    if (policy > 1) Reader::corrupt("has an unknown non_finite policy");
    Adwin adwin(options, policy == 1 ? NonFinite::drop : NonFinite::reject);
    adwin.total_ = r.f64();
    adwin.variance_ = r.f64();
    adwin.width_ = r.f64();
    adwin.tick_ = r.i64();
    adwin.clock_phase_ = adwin.tick_ >= 0 ? adwin.tick_ % options.clock : 0;
    const std::uint8_t detected = r.u8();
    if (detected > 1) Reader::corrupt("has an invalid drift flag");
    adwin.drift_detected_ = detected == 1;
    adwin.n_detections_ = r.u64();
    adwin.n_seen_ = r.u64();
    adwin.n_dropped_ = r.u64();
    const std::uint64_t n_levels = r.u64();
    if (n_levels < 1 || n_levels > 63) Reader::corrupt("has an impossible number of levels");
    const auto slots = static_cast<std::size_t>(options.max_buckets) + 1;
    adwin.levels_.clear();
    double width = 0.0;
    for (std::uint64_t i = 0; i < n_levels; ++i) {
        Level level = adwin.empty_level();
        const std::vector<double> totals = r.doubles(slots - 1);
        const std::vector<double> variances = r.doubles(slots - 1);
        if (totals.size() != variances.size()) Reader::corrupt("has mismatched bucket arrays");
        std::copy(totals.begin(), totals.end(), level.totals.begin());
        std::copy(variances.begin(), variances.end(), level.variances.begin());
        level.count = totals.size();
        width += static_cast<double>(level.count) * std::ldexp(1.0, static_cast<int>(i));
        adwin.levels_.push_back(std::move(level));
    }
    r.finish();
    if (width != adwin.width_ || adwin.tick_ < 0) {
        Reader::corrupt("has a window width that does not match its buckets");
    }
    return adwin;
}

}  // namespace lumengate::drift
