#include "lumengate/drift/histogram.hpp"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <sstream>

#include "lumengate/common/error.hpp"
#include "lumengate/common/threads.hpp"

namespace lumengate::drift {
namespace {

std::string number(double x) {
    std::ostringstream out;
    out.precision(17);
    out << x;
    return out.str();
}

// numpy's linear quantile of sorted data at virtual index q * (n - 1), with its lerp.
double lerp(double a, double b, double t) {
    const double diff = b - a;
    return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

std::vector<double> linspace(double first, double last, std::size_t bins) {
    std::vector<double> edges(bins + 1);
    const double step = (last - first) / static_cast<double>(bins);
    for (std::size_t i = 0; i < bins; ++i) edges[i] = static_cast<double>(i) * step + first;
    edges[bins] = last;
    return edges;
}

std::vector<double> quantile_edges(std::span<const double> reference, std::size_t bins) {
    std::vector<double> data(reference.begin(), reference.end());
    const auto [lo, hi] = std::minmax_element(data.begin(), data.end());
    if (*lo == *hi) {
        throw InvalidArgument("reference", "has one distinct value (" + number(*lo) +
                                               "); quantile bins need at least two; pass "
                                               "method='uniform' or explicit edges");
    }
    const std::size_t n = data.size();
    std::vector<double> edges{-std::numeric_limits<double>::infinity()};
    auto sorted_from = data.begin();
    for (std::size_t i = 1; i < bins; ++i) {
        const double q = static_cast<double>(i) / static_cast<double>(bins);
        const double virtual_index = q * static_cast<double>(n - 1);
        const double below = std::floor(virtual_index);
        const auto k = static_cast<std::size_t>(below);
        // Order statistics are found left to right, each search starting after the last.
        const auto kth = data.begin() + static_cast<std::ptrdiff_t>(k);
        if (kth >= sorted_from) std::nth_element(sorted_from, kth, data.end());
        const double a = *kth;
        double b = a;
        if (k + 1 < n) b = *std::min_element(kth + 1, data.end());
        sorted_from = kth + 1;
        const double edge = lerp(a, b, virtual_index - below);
        if (edge > edges.back()) edges.push_back(edge);
    }
    edges.push_back(std::numeric_limits<double>::infinity());
    return edges;
}

std::vector<double> rule_edges(std::span<const double> x, std::size_t bins, BinMethod method) {
    const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    double first = *lo, last = *hi;
    const double ptp = last - first;
    if (first == last) {
        first -= 0.5;
        last += 0.5;
    }
    if (method == BinMethod::uniform) return linspace(first, last, bins);
    const auto n = static_cast<double>(x.size());
    double width = 0.0;
    if (method == BinMethod::sturges) {
        width = ptp / (std::log2(n) + 1.0);
    } else if (x.size() > 2) {
        const double sg1 = std::sqrt(6.0 * (n - 2.0) / ((n + 1.0) * (n + 3.0)));
        double mean = 0.0;
        for (const double v : x) mean += v;
        mean /= n;
        double var = 0.0;
        for (const double v : x) var += (v - mean) * (v - mean);
        const double sigma = std::sqrt(var / n);
        if (sigma > 0.0) {
            double g1 = 0.0;
            for (const double v : x) {
                const double z = (v - mean) / sigma;
                g1 += z * z * z;
            }
            g1 /= n;
            width = ptp / (1.0 + std::log2(n) + std::log2(1.0 + std::abs(g1) / sg1));
        }
    }
    const std::size_t count =
        width > 0.0 ? static_cast<std::size_t>(std::ceil((last - first) / width)) : 1;
    return linspace(first, last, std::max<std::size_t>(count, 1));
}

void put_le(std::string& out, const void* p, std::size_t k) {
    const auto* bytes = static_cast<const char*>(p);
    if constexpr (std::endian::native == std::endian::little) {
        out.append(bytes, k);
    } else {
        for (std::size_t i = k; i > 0; --i) out.push_back(bytes[i - 1]);
    }
}

void get_le(const char* src, void* p, std::size_t k) {
    auto* bytes = static_cast<char*>(p);
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(bytes, src, k);
    } else {
        for (std::size_t i = 0; i < k; ++i) bytes[i] = src[k - 1 - i];
    }
}

constexpr std::string_view state_magic = "LGHS";
constexpr std::uint8_t state_version = 1;

}  // namespace

BinMethod parse_bin_method(const std::string& method) {
    if (method == "quantile") return BinMethod::quantile;
    if (method == "uniform") return BinMethod::uniform;
    if (method == "sturges") return BinMethod::sturges;
    if (method == "doane") return BinMethod::doane;
    throw InvalidArgument(
        "method", "must be 'quantile', 'uniform', 'sturges' or 'doane', got '" + method + "'");
}

std::vector<double> histogram_edges(std::span<const double> reference, std::size_t bins,
                                    BinMethod method, NonFinite policy) {
    if (bins < 1 || bins > 100000) {
        throw InvalidArgument("bins", "must be between 1 and 100000, got " + std::to_string(bins));
    }
    const CleanScores clean = clean_scores(reference, policy, "reference");
    const auto data = finite_view(reference, clean);
    if (method == BinMethod::quantile) return quantile_edges(data, bins);
    return rule_edges(data, bins, method);
}

void validate_edges(std::span<const double> edges) {
    if (edges.size() < 2) {
        throw InvalidArgument("edges", "has " + std::to_string(edges.size()) +
                                           " values; at least two edges (one bin) are needed");
    }
    for (std::size_t i = 0; i < edges.size(); ++i) {
        if (std::isnan(edges[i])) {
            throw InvalidArgument("edges[" + std::to_string(i) + "]", "is NaN");
        }
        if (i > 0 && !(edges[i] > edges[i - 1])) {
            throw InvalidArgument("edges[" + std::to_string(i) + "]",
                                  "is " + number(edges[i]) + " after " + number(edges[i - 1]) +
                                      "; edges must be strictly increasing");
        }
    }
}

BinFinder::BinFinder(std::span<const double> edges) : bins_(edges.size() - 1) {
    validate_edges(edges);
    const std::size_t interior = edges.size() - 2;
    const std::size_t size = std::bit_ceil(interior + 1);
    padded_.assign(size, std::numeric_limits<double>::infinity());
    std::copy(edges.begin() + 1, edges.end() - 1, padded_.begin());
}

BinCounts bin_counts(std::span<const double> scores, std::span<const double> edges,
                     NonFinite policy, const std::string& field, std::size_t threads) {
    const BinFinder find(edges);
    if (scores.empty()) throw InvalidArgument(field, "is empty; pass at least one score");
    const std::size_t bins = find.bins();
    std::vector<std::atomic<std::uint64_t>> totals(bins);
    std::atomic<std::size_t> non_finite{0};
    parallel_ranges(scores.size(), resolve_threads(threads), [&](std::size_t b, std::size_t e) {
        // Four interleaved sub-histograms: runs of equal bins do not serialise on one counter.
        constexpr std::size_t lanes = 4;
        std::vector<std::uint64_t> local(lanes * bins, 0);
        std::size_t bad = 0;
        for (std::size_t i = b; i < e; ++i) {
            const double x = scores[i];
            if (!std::isfinite(x)) {
                ++bad;
                continue;
            }
            ++local[(i % lanes) * bins + find(x)];
        }
        for (std::size_t k = 0; k < bins; ++k) {
            std::uint64_t sum = 0;
            for (std::size_t lane = 0; lane < lanes; ++lane) sum += local[lane * bins + k];
            totals[k].fetch_add(sum, std::memory_order_relaxed);
        }
        non_finite.fetch_add(bad, std::memory_order_relaxed);
    });
    BinCounts result;
    result.dropped = non_finite.load();
    // The shared cleaner words the error (first bad index) exactly as everywhere else.
    if (result.dropped > 0) (void)clean_scores(scores, policy, field);
    result.counts.resize(bins);
    for (std::size_t k = 0; k < bins; ++k) result.counts[k] = totals[k].load();
    return result;
}

template <std::size_t Limbs, int LowestBit>
void ExactSum<Limbs, LowestBit>::add_scaled(std::uint64_t lo64, std::uint64_t hi64, int exponent,
                                            bool negative) {
    const auto p = static_cast<std::size_t>(exponent - LowestBit);
    const std::size_t index = p / 32;
    const unsigned shift = static_cast<unsigned>(p % 32);
    const std::uint64_t digit[4] = {lo64 & 0xffffffffU, lo64 >> 32, hi64 & 0xffffffffU, hi64 >> 32};
    for (std::size_t j = 0; j < 5; ++j) {
        std::uint64_t out = j < 4 ? digit[j] << shift : 0;
        if (shift > 0 && j > 0) out |= digit[j - 1] >> (32 - shift);
        const auto value = static_cast<std::int64_t>(out & 0xffffffffU);
        limbs[index + j] += negative ? -value : value;
    }
    if (++pending >= (1U << 30)) normalize();
}

template <std::size_t Limbs, int LowestBit>
void ExactSum<Limbs, LowestBit>::normalize() {
    for (std::size_t i = 0; i + 1 < Limbs; ++i) {
        const std::int64_t carry = limbs[i] >> 32;  // floor division (C++20 arithmetic shift)
        limbs[i] -= carry * (std::int64_t{1} << 32);
        limbs[i + 1] += carry;
    }
    pending = 0;
}

template <std::size_t Limbs, int LowestBit>
void ExactSum<Limbs, LowestBit>::merge(const ExactSum& other) {
    normalize();
    ExactSum copy = other;
    copy.normalize();
    for (std::size_t i = 0; i < Limbs; ++i) limbs[i] += copy.limbs[i];
    normalize();
}

template <std::size_t Limbs, int LowestBit>
double ExactSum<Limbs, LowestBit>::value() const {
    ExactSum copy = *this;
    copy.normalize();
    const bool negative = copy.limbs[Limbs - 1] < 0;
    if (negative) {
        for (auto& limb : copy.limbs) limb = -limb;
        copy.normalize();
    }
    std::size_t top = Limbs;
    while (top > 0 && copy.limbs[top - 1] == 0) --top;
    if (top == 0) return 0.0;
    double v = 0.0;
    for (std::size_t j = top >= 3 ? top - 3 : 0; j < top; ++j) {
        v += std::ldexp(static_cast<double>(copy.limbs[j]), static_cast<int>(32 * j) + LowestBit);
    }
    return negative ? -v : v;
}

template <std::size_t Limbs, int LowestBit>
bool ExactSum<Limbs, LowestBit>::operator==(const ExactSum& other) const {
    ExactSum a = *this, b = other;
    a.normalize();
    b.normalize();
    return a.limbs == b.limbs;
}

template class ExactSum<72, -1130>;
template class ExactSum<140, -2260>;

void HistogramState::add(double x, std::size_t bin) {
    ++counts[bin];
    if (n == 0) {
        min = max = x;
    } else {
        min = std::min(min, x);
        max = std::max(max, x);
    }
    ++n;
    if (x == 0.0) return;
    int e2 = 0;
    const double f = std::frexp(std::abs(x), &e2);
    const auto m = static_cast<std::uint64_t>(std::ldexp(f, 53));
    const int e = e2 - 53;
    sum.add_scaled(m, 0, e, x < 0);
    // m * m as 128 bits from 32-bit halves (m < 2^53).
    const std::uint64_t a = m >> 32, b = m & 0xffffffffU;
    const std::uint64_t cross = 2 * a * b;
    const std::uint64_t low = b * b;
    const std::uint64_t lo = low + (cross << 32);
    const std::uint64_t carry = lo < low ? 1 : 0;
    const std::uint64_t hi = a * a + (cross >> 32) + carry;
    sum_of_squares.add_scaled(lo, hi, 2 * e, false);
}

HistogramState HistogramState::empty(std::span<const double> edges) {
    validate_edges(edges);
    HistogramState s;
    s.edges.assign(edges.begin(), edges.end());
    s.counts.assign(edges.size() - 1, 0);
    return s;
}

HistogramState HistogramState::from_scores(std::span<const double> scores,
                                           std::span<const double> edges, NonFinite policy,
                                           std::size_t threads) {
    HistogramState total = empty(edges);
    const CleanScores clean = clean_scores(scores, policy, "scores");
    const auto data = finite_view(scores, clean);
    const BinFinder find(edges);
    std::mutex lock;
    // Each chunk's state is exact, so merging chunks in any order gives the serial result.
    parallel_ranges(data.size(), resolve_threads(threads), [&](std::size_t b, std::size_t e) {
        HistogramState part = empty(edges);
        for (std::size_t i = b; i < e; ++i) part.add(data[i], find(data[i]));
        const std::scoped_lock guard(lock);
        total = total.merged(part);
    });
    return total;
}

HistogramState HistogramState::merged(const HistogramState& other) const {
    if (edges != other.edges) {
        throw InvalidArgument("other.edges",
                              "differ from this state's edges (" + std::to_string(edges.size()) +
                                  " vs " + std::to_string(other.edges.size()) +
                                  " edges); only states built on the same edges merge");
    }
    HistogramState out = *this;
    for (std::size_t k = 0; k < counts.size(); ++k) out.counts[k] += other.counts[k];
    if (other.n > 0) {
        out.min = n > 0 ? std::min(min, other.min) : other.min;
        out.max = n > 0 ? std::max(max, other.max) : other.max;
    }
    out.n += other.n;
    out.sum.merge(other.sum);
    out.sum_of_squares.merge(other.sum_of_squares);
    return out;
}

bool HistogramState::operator==(const HistogramState& other) const {
    return edges == other.edges && counts == other.counts && n == other.n &&
           (n == 0 || (min == other.min && max == other.max)) && sum == other.sum &&
           sum_of_squares == other.sum_of_squares;
}

void ByteWriter::u32(std::uint32_t v) { put_le(out_, &v, 4); }
void ByteWriter::u64(std::uint64_t v) { put_le(out_, &v, 8); }
void ByteWriter::f64(double v) { put_le(out_, &v, 8); }

std::string ByteWriter::finish_with_checksum() {
    u64(XXH64(out_.data(), out_.size(), 0));
    return std::move(out_);
}

ByteReader::ByteReader(std::string_view bytes, std::string_view magic, std::uint8_t version,
                       const std::string& what)
    : bytes_(bytes), what_(what) {
    if (bytes.size() < magic.size() + 1 + 8)
        fail("are truncated (" + std::to_string(bytes.size()) + " bytes)");
    if (bytes.substr(0, magic.size()) != magic) {
        fail("do not start with the magic header '" + std::string(magic) + "'");
    }
    const auto found = static_cast<std::uint8_t>(bytes[magic.size()]);
    if (found != version) {
        fail("have format version " + std::to_string(found) + "; this lumengate reads version " +
             std::to_string(version));
    }
    end_ = bytes.size() - 8;
    std::uint64_t stored = 0;
    get_le(bytes.data() + end_, &stored, 8);
    if (stored != XXH64(bytes.data(), end_, 0)) {
        fail("fail their checksum (corrupt or truncated)");
    }
    pos_ = magic.size() + 1;
}

void ByteReader::fail(const std::string& why) const {
    throw InvalidArgument("data", what_ + " bytes " + why);
}

void ByteReader::need(std::size_t k) const {
    if (end_ - pos_ < k) fail("are truncated");
}

std::uint8_t ByteReader::u8() {
    need(1);
    return static_cast<std::uint8_t>(bytes_[pos_++]);
}
std::uint32_t ByteReader::u32() {
    need(4);
    std::uint32_t v = 0;
    get_le(bytes_.data() + pos_, &v, 4);
    pos_ += 4;
    return v;
}
std::uint64_t ByteReader::u64() {
    need(8);
    std::uint64_t v = 0;
    get_le(bytes_.data() + pos_, &v, 8);
    pos_ += 8;
    return v;
}
double ByteReader::f64() {
    need(8);
    double v = 0;
    get_le(bytes_.data() + pos_, &v, 8);
    pos_ += 8;
    return v;
}

namespace {

template <typename Sum>
void write_sum(ByteWriter& w, const Sum& s) {
    Sum copy = s;
    copy.normalize();
    w.u32(static_cast<std::uint32_t>(copy.limbs.size()));
    for (const auto limb : copy.limbs) w.i64(limb);
}

template <typename Sum>
void read_sum(ByteReader& r, Sum& s) {
    if (r.u32() != s.limbs.size()) r.fail("hold a moment accumulator of the wrong size");
    for (auto& limb : s.limbs) limb = r.i64();
}

}  // namespace

std::string HistogramState::to_bytes() const {
    ByteWriter w;
    w.raw(state_magic);
    w.u8(state_version);
    w.u32(static_cast<std::uint32_t>(edges.size()));
    for (const double e : edges) w.f64(e);
    for (const auto c : counts) w.u64(c);
    w.u64(n);
    w.f64(min);
    w.f64(max);
    write_sum(w, sum);
    write_sum(w, sum_of_squares);
    return w.finish_with_checksum();
}

HistogramState HistogramState::from_bytes(std::string_view bytes) {
    ByteReader r(bytes, state_magic, state_version, "HistogramState");
    const std::uint32_t count = r.u32();
    if (count < 2 || count > bytes.size() / 8) r.fail("hold an impossible edge count");
    std::vector<double> edges(count);
    for (auto& e : edges) e = r.f64();
    HistogramState s = empty(edges);
    std::uint64_t total = 0;
    for (auto& c : s.counts) {
        c = r.u64();
        total += c;
    }
    s.n = r.u64();
    s.min = r.f64();
    s.max = r.f64();
    read_sum(r, s.sum);
    read_sum(r, s.sum_of_squares);
    if (!r.done()) r.fail("have trailing data");
    if (total != s.n) r.fail("hold counts that do not add up to n");
    return s;
}

}  // namespace lumengate::drift
