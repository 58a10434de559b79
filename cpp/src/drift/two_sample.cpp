#include "lumengate/drift/two_sample.hpp"

#include <tbb/parallel_invoke.h>
#include <tbb/parallel_sort.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>

#include "lumengate/common/error.hpp"

namespace lumengate::drift {
namespace {

// Exact integer sums of squared rank differences overflow 64 bits for millions of scores.
__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;

// Sum with Neumaier's compensation: the result is at least as accurate as numpy's pairwise sum,
// so the two agree to a few ulps whatever the order.
class CompensatedSum {
  public:
    void add(double x) {
        const double t = sum_ + x;
        if (std::abs(sum_) >= std::abs(x)) {
            compensation_ += (sum_ - t) + x;
        } else {
            compensation_ += (x - t) + sum_;
        }
        sum_ = t;
    }
    [[nodiscard]] double value() const { return sum_ + compensation_; }

  private:
    double sum_ = 0.0;
    double compensation_ = 0.0;
};

// numpy's float floor division (npy_floor_divide), which can differ from floor(a / b).
double floor_divide(double a, double b) {
    if (b == 0.0) return a / b;
    double mod = std::fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0.0) {
        if ((b < 0) != (mod < 0)) div -= 1.0;
    }
    if (div != 0.0) {
        double floored = std::floor(div);
        if (div - floored > 0.5) floored += 1.0;
        return floored;
    }
    return std::copysign(0.0, a / b);
}

// Rounds half to even, as numpy.round does.
double round_half_even(double x) { return std::nearbyint(x); }

std::vector<double> sorted_copy(std::span<const double> values, std::size_t threads) {
    std::vector<double> out(values.begin(), values.end());
    std::vector<double> none;
    sort_pair(out, none, threads);
    return out;
}

// Fraction of lattice paths from (0,0) to (n,n) that leave the band |x - y| < h
// (P(D_{n,n} >= h/n)), by an alternating series evaluated Horner-style.
double prob_outside_square(std::int64_t n, std::int64_t h) {
    double p = 0.0;
    for (std::int64_t k = n / h; k >= 0; --k) {
        double term = 1.0;
        for (std::int64_t j = 0; j < h; ++j) {
            term =
                static_cast<double>(n - k * h - j) * term / static_cast<double>(n + k * h + j + 1);
        }
        p = term * (1.0 - p);
    }
    return 2 * p;
}

// 1 - (fraction of lattice paths from (0,0) to (m,n) staying strictly inside
// |x/m - y/n| < h/lcm(m,n)), by Viehmann's (2021) recursion for the complement over a sliding
// column window (Hodges 1958).
double outer_prob_inside(std::int64_t m, std::int64_t n, std::int64_t g, std::int64_t h) {
    if (m < n) std::swap(m, n);
    const std::int64_t mg = m / g;
    const std::int64_t ng = n / g;
    const auto mgd = static_cast<double>(mg);
    std::int64_t minj = 0;
    std::int64_t maxj =
        std::min(static_cast<std::int64_t>(std::ceil(static_cast<double>(h) / mgd)), n + 1);
    std::int64_t curlen = maxj - minj;
    const std::int64_t length = std::min(2 * maxj + 2, n + 1);
    std::vector<double> a(static_cast<std::size_t>(length), 1.0);
    std::fill(a.begin() + minj, a.begin() + maxj, 0.0);
    for (std::int64_t i = 1; i <= m; ++i) {
        const std::int64_t lastminj = minj;
        const std::int64_t lastlen = curlen;
        minj = std::max<std::int64_t>(
            static_cast<std::int64_t>(std::floor(static_cast<double>(ng * i - h) / mgd)) + 1, 0);
        minj = std::min(minj, n);
        maxj = std::min(static_cast<std::int64_t>(std::ceil(static_cast<double>(ng * i + h) / mgd)),
                        n + 1);
        if (maxj <= minj) return 1.0;
        double value = minj == 0 ? 0.0 : 1.0;
        const auto id = static_cast<double>(i);
        for (std::int64_t jj = 0; jj < maxj - minj; ++jj) {
            const std::int64_t j = jj + minj;
            const auto jd = static_cast<double>(j);
            value =
                (a[static_cast<std::size_t>(jj + minj - lastminj)] * id + value * jd) / (id + jd);
            a[static_cast<std::size_t>(jj)] = value;
        }
        curlen = maxj - minj;
        if (lastlen > curlen) {
            std::fill(a.begin() + (maxj - minj), a.begin() + (maxj - minj + (lastlen - curlen)),
                      1.0);
        }
    }
    return a[static_cast<std::size_t>(maxj - minj - 1)];
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

// C(n, k) as a double, correctly rounded from extended precision; inf when it exceeds the
// double range (scipy's count then fails over to the asymptotic formula, as here).
double binomial(std::int64_t n, std::int64_t k) {
    if (k < 0 || k > n) return 0.0;
    const long double log_value = std::lgamma(static_cast<long double>(n) + 1) -
                                  std::lgamma(static_cast<long double>(k) + 1) -
                                  std::lgamma(static_cast<long double>(n - k) + 1);
    if (k < 60 || n - k < 60) {
        // Small k: the exact product, free of lgamma's cancellation.
        const std::int64_t kk = std::min(k, n - k);
        long double value = 1.0L;
        for (std::int64_t i = 1; i <= kk; ++i) {
            value = value * static_cast<long double>(n - kk + i) / static_cast<long double>(i);
        }
        return static_cast<double>(value);
    }
    return static_cast<double>(std::exp(log_value));
}

// One-sided exact p-value for n1 != n2: the number of lattice paths from (0,0) to (m,n) that
// reach the line m*y <= n*x - h*g (Hodges 1958, after Drion, Gnedenko & Korolyuk), over all
// C(m+n, n) paths. Returns false when a count overflows the double range.
bool one_sided_exact(std::int64_t m, std::int64_t n, std::int64_t g, std::int64_t h, double& prob) {
    if (m < n) std::swap(m, n);
    const std::int64_t mg = m / g;
    const std::int64_t ng = n / g;
    const std::int64_t count = n + floor_div(mg - h, mg);
    double paths = 0.0;
    if (count <= 0) {
        paths = binomial(m + n, n);
    } else {
        std::vector<std::int64_t> xj(static_cast<std::size_t>(count));
        for (std::int64_t j = 0; j < count; ++j) {
            xj[static_cast<std::size_t>(j)] = floor_div(h + mg * j + ng - 1, ng);
        }
        std::vector<double> below(static_cast<std::size_t>(count), 0.0);
        below[0] = 1.0;
        for (std::int64_t j = 1; j < count; ++j) {
            const auto uj = static_cast<std::size_t>(j);
            double bj = binomial(xj[uj] + j, j);
            for (std::int64_t i = 0; i < j; ++i) {
                const auto ui = static_cast<std::size_t>(i);
                bj -= binomial(xj[uj] - xj[ui] + j - i, j - i) * below[ui];
            }
            if (!std::isfinite(bj)) return false;
            below[uj] = bj;
        }
        for (std::int64_t j = 0; j < count; ++j) {
            const auto uj = static_cast<std::size_t>(j);
            paths += below[uj] * binomial((m - xj[uj]) + (n - j), n - j);
        }
        if (!std::isfinite(paths)) return false;
    }
    const double all = binomial(m + n, n);
    if (!std::isfinite(all) || paths > all) return false;
    prob = paths / all;
    return true;
}

void require_nonempty(std::span<const double> values, const char* field) {
    if (values.empty()) throw InvalidArgument(field, "is empty; pass at least one score");
}

}  // namespace

namespace {

// Order-preserving map of a finite double onto an unsigned key: flip every bit of negatives,
// only the sign bit of positives.
std::uint64_t sort_key(double x) {
    const auto bits = std::bit_cast<std::uint64_t>(x);
    return (bits >> 63) != 0 ? ~bits : bits | (std::uint64_t{1} << 63);
}

double from_sort_key(std::uint64_t key) {
    const std::uint64_t bits = (key >> 63) != 0 ? key & ~(std::uint64_t{1} << 63) : ~key;
    return std::bit_cast<double>(bits);
}

std::uint64_t load_key(const unsigned char* buffer, std::size_t i) {
    std::uint64_t key = 0;
    std::memcpy(&key, buffer + i * sizeof(key), sizeof(key));
    return key;
}

void store_key(unsigned char* buffer, std::size_t i, std::uint64_t key) {
    std::memcpy(buffer + i * sizeof(key), &key, sizeof(key));
}

// LSD radix sort, 11-bit digits in 6 passes, all histograms counted in one read; a pass whose
// digit is the same for every key is skipped. Linear time: several times faster than a
// comparison sort on a million doubles. Keys live in the values' own storage (bytes copied,
// never read as doubles) plus one scratch buffer: 16 bytes per score at the peak.
void radix_sort(std::vector<double>& values) {
    constexpr int bits_per_digit = 11;
    constexpr std::size_t buckets = std::size_t{1} << bits_per_digit;
    constexpr int passes = 6;
    const std::size_t n = values.size();
    std::vector<std::uint64_t> scratch(n);
    auto* home = reinterpret_cast<unsigned char*>(values.data());
    auto* spare = reinterpret_cast<unsigned char*>(scratch.data());
    std::vector<std::size_t> counts(buckets * passes, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t key = sort_key(values[i]);
        store_key(home, i, key);
        for (int p = 0; p < passes; ++p) {
            ++counts[static_cast<std::size_t>(p) * buckets +
                     ((key >> (p * bits_per_digit)) & (buckets - 1))];
        }
    }
    unsigned char* source = home;
    unsigned char* target = spare;
    for (int p = 0; p < passes; ++p) {
        std::size_t* count = counts.data() + static_cast<std::size_t>(p) * buckets;
        const std::uint64_t first_digit =
            (load_key(source, 0) >> (p * bits_per_digit)) & (buckets - 1);
        if (count[first_digit] == n) continue;
        std::size_t offset = 0;
        for (std::size_t d = 0; d < buckets; ++d) {
            const std::size_t c = count[d];
            count[d] = offset;
            offset += c;
        }
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint64_t key = load_key(source, i);
            store_key(target, count[(key >> (p * bits_per_digit)) & (buckets - 1)]++, key);
        }
        std::swap(source, target);
    }
    for (std::size_t i = 0; i < n; ++i) values[i] = from_sort_key(load_key(source, i));
}

void sort_one(std::vector<double>& values) {
    constexpr std::size_t radix_threshold = 1 << 12;
    if (values.size() < radix_threshold) {
        std::sort(values.begin(), values.end());
    } else {
        radix_sort(values);
    }
}

}  // namespace

void sort_pair(std::vector<double>& a, std::vector<double>& b, std::size_t threads) {
    constexpr std::size_t parallel_threshold = 1 << 14;
    if (threads <= 1 || a.size() + b.size() < parallel_threshold) {
        sort_one(a);
        sort_one(b);
        return;
    }
    // One worker per sample (radix sorts are linear; a single one gains little from splitting).
    tbb::task_arena arena(static_cast<int>(threads));
    arena.execute([&] {
        if (b.empty() || a.empty()) {
            sort_one(a.empty() ? b : a);
        } else {
            tbb::parallel_invoke([&] { sort_one(a); }, [&] { sort_one(b); });
        }
    });
}

KsTestResult ks_2samp_sorted(std::span<const double> a, std::span<const double> b,
                             const std::string& method, const std::string& alternative) {
    require_nonempty(a, "reference");
    require_nonempty(b, "current");
    if (method != "auto" && method != "exact" && method != "asymp") {
        throw InvalidArgument("method", "must be 'auto', 'exact' or 'asymp', got '" + method + "'");
    }
    if (alternative != "two-sided" && alternative != "less" && alternative != "greater") {
        throw InvalidArgument(
            "alternative", "must be 'two-sided', 'less' or 'greater', got '" + alternative + "'");
    }
    const bool two_sided = alternative == "two-sided";
    const auto n1 = static_cast<std::int64_t>(a.size());
    const auto n2 = static_cast<std::int64_t>(b.size());
    const auto n1d = static_cast<double>(n1);
    const auto n2d = static_cast<double>(n2);
    // Largest and smallest difference of the two empirical CDFs, at every observed value, and
    // where each is first reached: scipy scans the reference's sorted values before the
    // current's, so a reference value wins a tie.
    double max_diff = -std::numeric_limits<double>::infinity();
    double min_diff = std::numeric_limits<double>::infinity();
    constexpr double none = std::numeric_limits<double>::quiet_NaN();
    double max_at_a = none, max_at_b = none, min_at_a = none, min_at_b = none;
    std::size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        const double value = (j == b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
        const bool in_a = i < a.size() && a[i] <= value;
        const bool in_b = j < b.size() && b[j] <= value;
        while (i < a.size() && a[i] <= value) ++i;
        while (j < b.size() && b[j] <= value) ++j;
        const double diff = static_cast<double>(i) / n1d - static_cast<double>(j) / n2d;
        if (diff > max_diff) {
            max_diff = diff;
            max_at_a = in_a ? value : none;
            max_at_b = in_b ? value : none;
        } else if (diff == max_diff) {
            if (in_a && std::isnan(max_at_a)) max_at_a = value;
            if (in_b && std::isnan(max_at_b)) max_at_b = value;
        }
        if (diff < min_diff) {
            min_diff = diff;
            min_at_a = in_a ? value : none;
            min_at_b = in_b ? value : none;
        } else if (diff == min_diff) {
            if (in_a && std::isnan(min_at_a)) min_at_a = value;
            if (in_b && std::isnan(min_at_b)) min_at_b = value;
        }
    }
    const double min_s = std::clamp(-min_diff, 0.0, 1.0);
    const bool use_min = alternative == "less" || (two_sided && min_s > max_diff);
    double d = use_min ? min_s : max_diff;
    const double location = use_min ? (std::isnan(min_at_a) ? min_at_b : min_at_a)
                                    : (std::isnan(max_at_a) ? max_at_b : max_at_a);
    const int sign = use_min ? -1 : 1;

    const std::int64_t g = std::gcd(n1, n2);
    const std::int64_t n1g = n1 / g;
    const std::int64_t n2g = n2 / g;
    std::string mode = method;
    if (mode == "auto") {
        mode = std::max(n1, n2) <= 10000 ? "exact" : "asymp";
    } else if (mode == "exact" &&
               static_cast<double>(n1g) >=
                   static_cast<double>(std::numeric_limits<std::int32_t>::max()) /
                       static_cast<double>(n2g)) {
        mode = "asymp";
    }
    KsTestResult result;
    result.location = location;
    result.sign = sign;
    if (mode == "exact") {
        const std::int64_t lcm = n1g * n2;
        const auto h = static_cast<std::int64_t>(round_half_even(d * static_cast<double>(lcm)));
        d = static_cast<double>(h) * 1.0 / static_cast<double>(lcm);
        double prob = 1.0;
        bool counted = true;
        if (h != 0) {
            if (two_sided) {
                prob = n1 == n2 ? prob_outside_square(n1, h) : outer_prob_inside(n1, n2, g, h);
            } else if (n1 == n2) {
                prob = 1.0;
                for (std::int64_t k = 0; k < h; ++k) {
                    prob *= static_cast<double>(n1 - k) / (static_cast<double>(n1 + k) + 1.0);
                }
            } else {
                counted = one_sided_exact(n1, n2, g, h, prob);
            }
        }
        if (counted && prob >= 0.0 && prob <= 1.0) {
            result.statistic = d;
            result.pvalue = prob;
            result.exact = true;
            return result;
        }
    }
    // Smirnov's asymptotic: the one-sample distribution at the effective size m*n/(m+n).
    const double m = std::max(n1d, n2d);
    const double n = std::min(n1d, n2d);
    const double en = m * n / (m + n);
    const auto effective = static_cast<std::int64_t>(round_half_even(en));
    result.statistic = d;
    if (two_sided) {
        result.pvalue = std::clamp(kolmogorov_sf(effective, d), 0.0, 1.0);
    } else {
        // Hodges' (1958) eqn 5.3 approximation; m is the larger sample.
        const double z = std::sqrt(en) * d;
        const double exponent = -2 * z * z - 2 * z * (m + 2 * n) / std::sqrt(m * n * (m + n)) / 3.0;
        result.pvalue = std::clamp(std::exp(exponent), 0.0, 1.0);
    }
    result.exact = false;
    return result;
}

KsTestResult ks_2samp(std::span<const double> reference, std::span<const double> current,
                      const std::string& method, const std::string& alternative,
                      std::size_t threads) {
    require_nonempty(reference, "reference");
    require_nonempty(current, "current");
    std::vector<double> a(reference.begin(), reference.end());
    std::vector<double> b(current.begin(), current.end());
    sort_pair(a, b, threads);
    return ks_2samp_sorted(a, b, method, alternative);
}

double wasserstein_sorted(std::span<const double> a, std::span<const double> b) {
    require_nonempty(a, "reference");
    require_nonempty(b, "current");
    const auto n1 = static_cast<double>(a.size());
    const auto n2 = static_cast<double>(b.size());
    // Integral of |F_a - F_b| over the merged sorted values: each gap between consecutive
    // distinct values weighted by the CDF difference at its left end.
    CompensatedSum total;
    std::size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        const double value = (j == b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
        while (i < a.size() && a[i] <= value) ++i;
        while (j < b.size() && b[j] <= value) ++j;
        if (i == a.size() && j == b.size()) break;
        const double next = (j == b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
        const double weight = std::abs(static_cast<double>(i) / n1 - static_cast<double>(j) / n2);
        total.add(weight * (next - value));
    }
    return total.value();
}

double wasserstein(std::span<const double> reference, std::span<const double> current,
                   std::size_t threads) {
    require_nonempty(reference, "reference");
    require_nonempty(current, "current");
    std::vector<double> a(reference.begin(), reference.end());
    std::vector<double> b(current.begin(), current.end());
    sort_pair(a, b, threads);
    return wasserstein_sorted(a, b);
}

namespace {

// Exact null distribution of the two-sample Cramér-von Mises U statistic (Xiao, Gordon &
// Yakovlev 2006, Algorithm 1): frequencies of sum (a*v - b*u)^2 over lattice paths.
double cramervonmises_exact_pvalue(double u_statistic, std::int64_t m, std::int64_t n) {
    const std::int64_t lcm = std::lcm(m, n);
    const std::int64_t a = lcm / m;
    const std::int64_t b = lcm / n;
    const std::int64_t mn = m * n;
    const double zeta = floor_divide(static_cast<double>(lcm * lcm * (m + n)) *
                                         (6 * u_statistic - static_cast<double>(mn * (4 * mn - 1))),
                                     static_cast<double>(6 * mn * mn));
    using Table = std::vector<std::pair<std::int64_t, std::uint64_t>>;  // value -> paths, sorted
    std::vector<Table> tables(static_cast<std::size_t>(m + 1));
    tables[0] = {{0, 1}};
    for (std::int64_t u = 0; u <= n; ++u) {
        std::vector<Table> next(static_cast<std::size_t>(m + 1));
        Table running;
        for (std::int64_t v = 0; v <= m; ++v) {
            const Table& g = tables[static_cast<std::size_t>(v)];
            Table merged;
            merged.reserve(running.size() + g.size());
            std::size_t p = 0, q = 0;
            while (p < running.size() || q < g.size()) {
                if (q == g.size() || (p < running.size() && running[p].first < g[q].first)) {
                    merged.push_back(running[p++]);
                } else if (p == running.size() || g[q].first < running[p].first) {
                    merged.push_back(g[q++]);
                } else {
                    merged.emplace_back(running[p].first, running[p].second + g[q].second);
                    ++p;
                    ++q;
                }
            }
            const std::int64_t step = (a * v - b * u) * (a * v - b * u);
            for (auto& entry : merged) entry.first += step;
            running = merged;
            next[static_cast<std::size_t>(v)] = std::move(merged);
        }
        tables = std::move(next);
    }
    std::uint64_t at_least = 0;
    for (const auto& [value, paths] : tables[static_cast<std::size_t>(m)]) {
        if (static_cast<double>(value) >= zeta) at_least += paths;
    }
    // C(m+n, m) exactly: m + n <= 40 here.
    std::uint64_t combinations = 1;
    for (std::int64_t k = 1; k <= m; ++k) {
        combinations =
            combinations * static_cast<std::uint64_t>(n + k) / static_cast<std::uint64_t>(k);
    }
    return static_cast<double>(at_least) / static_cast<double>(combinations);
}

// Midranks of the pooled sorted sample, as sums of twice the rank (exact integers): for each
// element of `a` (sorted), twice its average rank among a ∪ b.
void twice_midranks(std::span<const double> a, std::span<const double> b,
                    std::vector<std::int64_t>& ranks_a, std::vector<std::int64_t>& ranks_b) {
    ranks_a.resize(a.size());
    ranks_b.resize(b.size());
    std::size_t i = 0, j = 0;
    std::int64_t below = 0;
    while (i < a.size() || j < b.size()) {
        const double value = (j == b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
        std::size_t ie = i, je = j;
        while (ie < a.size() && a[ie] == value) ++ie;
        while (je < b.size() && b[je] == value) ++je;
        const auto tied = static_cast<std::int64_t>((ie - i) + (je - j));
        // Ranks below+1 .. below+tied average to below + (tied + 1) / 2.
        const std::int64_t twice = 2 * below + tied + 1;
        for (std::size_t k = i; k < ie; ++k) ranks_a[k] = twice;
        for (std::size_t k = j; k < je; ++k) ranks_b[k] = twice;
        below += tied;
        i = ie;
        j = je;
    }
}

}  // namespace

CramerVonMisesResult cramervonmises(std::span<const double> reference,
                                    std::span<const double> current, const std::string& method,
                                    std::size_t threads) {
    if (reference.size() < 2) {
        throw InvalidArgument("reference",
                              "holds " + std::to_string(reference.size()) +
                                  " score(s); the Cramér-von Mises test needs at least 2");
    }
    if (current.size() < 2) {
        throw InvalidArgument("current",
                              "holds " + std::to_string(current.size()) +
                                  " score(s); the Cramér-von Mises test needs at least 2");
    }
    if (method != "auto" && method != "exact" && method != "asymptotic") {
        throw InvalidArgument("method",
                              "must be 'auto', 'exact' or 'asymptotic', got '" + method + "'");
    }
    std::vector<double> a(reference.begin(), reference.end());
    std::vector<double> b(current.begin(), current.end());
    sort_pair(a, b, threads);
    const auto nx = static_cast<std::int64_t>(a.size());
    const auto ny = static_cast<std::int64_t>(b.size());
    std::string mode = method;
    if (mode == "auto") mode = std::max(nx, ny) > 20 ? "asymptotic" : "exact";
    if (mode == "exact" && std::max(nx, ny) > 30) {
        throw InvalidArgument(
            "method", "'exact' is limited to samples of at most 30 scores here, got " +
                          std::to_string(nx) + " and " + std::to_string(ny) + "; use 'asymptotic'");
    }

    std::vector<std::int64_t> ra, rb;
    twice_midranks(a, b, ra, rb);
    // Sums of (2*rank - 2*i)^2 are exact integers: U = (nx*Sx + ny*Sy) / 4.
    uint128 sx = 0, sy = 0;
    for (std::size_t i = 0; i < ra.size(); ++i) {
        const std::int64_t d = ra[i] - 2 * static_cast<std::int64_t>(i + 1);
        sx += static_cast<uint128>(d * d);
    }
    for (std::size_t i = 0; i < rb.size(); ++i) {
        const std::int64_t d = rb[i] - 2 * static_cast<std::int64_t>(i + 1);
        sy += static_cast<uint128>(d * d);
    }
    const double u =
        static_cast<double>(static_cast<long double>(sx) / 4.0L) * static_cast<double>(nx) +
        static_cast<double>(static_cast<long double>(sy) / 4.0L) * static_cast<double>(ny);
    const std::int64_t k = nx * ny;
    const std::int64_t total = nx + ny;
    const double t = u / static_cast<double>(k * total) -
                     static_cast<double>(4 * k - 1) / static_cast<double>(6 * total);

    CramerVonMisesResult result;
    result.statistic = t;
    if (mode == "exact") {
        result.pvalue = cramervonmises_exact_pvalue(u, nx, ny);
        result.exact = true;
        return result;
    }
    // Anderson (1962): mean and variance of T, then the limiting one-sample distribution.
    const double big_n = static_cast<double>(total);
    const double et = (1 + 1 / big_n) / 6;
    const int128 numerator = static_cast<int128>(total + 1) *
                             (static_cast<int128>(4) * k * total -
                              3 * (static_cast<int128>(nx) * nx + static_cast<int128>(ny) * ny) -
                              2 * static_cast<int128>(k));
    const int128 denominator = static_cast<int128>(45) * total * total * 4 * static_cast<int128>(k);
    const double vt = static_cast<double>(static_cast<long double>(numerator) /
                                          static_cast<long double>(denominator));
    const double tn = 1.0 / 6 + (t - et) / std::sqrt(45 * vt);
    result.pvalue = tn >= 0.003 ? std::max(1.0 - cramervonmises_limit_cdf(tn), 0.0) : 1.0;
    return result;
}

namespace {

// Least-squares quadratic through (x, y), as numpy.polyfit(x, y, 2) computes it: columns scaled
// to unit norm, then a Householder QR solve (full rank here).
std::array<double, 3> quadratic_fit(std::span<const double> x, std::span<const double> y) {
    const std::size_t rows = x.size();
    std::vector<std::array<double, 3>> a(rows);
    std::array<double, 3> scale{};
    for (std::size_t r = 0; r < rows; ++r) {
        a[r] = {x[r] * x[r], x[r], 1.0};
        for (int c = 0; c < 3; ++c)
            scale[static_cast<std::size_t>(c)] +=
                a[r][static_cast<std::size_t>(c)] * a[r][static_cast<std::size_t>(c)];
    }
    for (double& s : scale) s = std::sqrt(s);
    for (auto& row : a) {
        for (std::size_t c = 0; c < 3; ++c) row[c] /= scale[c];
    }
    std::vector<double> rhs(y.begin(), y.end());
    for (std::size_t c = 0; c < 3; ++c) {
        double norm = 0.0;
        for (std::size_t r = c; r < rows; ++r) norm += a[r][c] * a[r][c];
        norm = std::sqrt(norm);
        const double alpha = a[c][c] > 0 ? -norm : norm;
        std::vector<double> v(rows, 0.0);
        for (std::size_t r = c; r < rows; ++r) v[r] = a[r][c];
        v[c] -= alpha;
        double vnorm = 0.0;
        for (std::size_t r = c; r < rows; ++r) vnorm += v[r] * v[r];
        if (vnorm == 0.0) continue;
        for (std::size_t cc = c; cc < 3; ++cc) {
            double dot = 0.0;
            for (std::size_t r = c; r < rows; ++r) dot += v[r] * a[r][cc];
            const double f = 2 * dot / vnorm;
            for (std::size_t r = c; r < rows; ++r) a[r][cc] -= f * v[r];
        }
        double dot = 0.0;
        for (std::size_t r = c; r < rows; ++r) dot += v[r] * rhs[r];
        const double f = 2 * dot / vnorm;
        for (std::size_t r = c; r < rows; ++r) rhs[r] -= f * v[r];
    }
    std::array<double, 3> coef{};
    for (std::size_t c = 3; c-- > 0;) {
        double s = rhs[c];
        for (std::size_t cc = c + 1; cc < 3; ++cc) s -= a[c][cc] * coef[cc];
        coef[c] = s / a[c][c];
    }
    for (std::size_t c = 0; c < 3; ++c) coef[c] /= scale[c];
    return coef;
}

}  // namespace

AndersonResult anderson_ksamp(const std::vector<std::span<const double>>& samples,
                              std::size_t threads) {
    const std::size_t k = samples.size();
    if (k < 2) {
        throw InvalidArgument(
            "samples", "holds " + std::to_string(k) +
                           " sample(s); the k-sample Anderson-Darling test needs at least 2");
    }
    std::vector<std::vector<double>> sorted(k);
    std::vector<double> pooled;
    for (std::size_t i = 0; i < k; ++i) {
        if (samples[i].empty()) {
            throw InvalidArgument("samples[" + std::to_string(i) + "]",
                                  "is empty; every sample needs at least one score");
        }
        sorted[i] = sorted_copy(samples[i], threads);
        pooled.insert(pooled.end(), samples[i].begin(), samples[i].end());
    }
    pooled = sorted_copy(pooled, threads);
    const auto n_total = static_cast<double>(pooled.size());
    // Distinct pooled values z_j with their multiplicities l_j and midpoints B_j.
    std::vector<double> distinct;
    std::vector<double> counts;
    std::vector<double> midpoints;
    for (std::size_t i = 0; i < pooled.size();) {
        std::size_t e = i;
        while (e < pooled.size() && pooled[e] == pooled[i]) ++e;
        distinct.push_back(pooled[i]);
        const auto l = static_cast<double>(e - i);
        counts.push_back(l);
        midpoints.push_back(static_cast<double>(i) + l / 2.);
        i = e;
    }
    if (distinct.size() < 2) {
        throw InvalidArgument("samples", "hold a single distinct value (" +
                                             std::to_string(distinct[0]) +
                                             "); the Anderson-Darling test needs at least two");
    }
    double a2 = 0.0;
    for (std::size_t i = 0; i < k; ++i) {
        const std::vector<double>& s = sorted[i];
        const auto ni = static_cast<double>(s.size());
        CompensatedSum inner;
        std::size_t below = 0;  // s elements < z_j
        for (std::size_t jz = 0; jz < distinct.size(); ++jz) {
            const double z = distinct[jz];
            while (below < s.size() && s[below] < z) ++below;
            std::size_t upto = below;
            while (upto < s.size() && s[upto] == z) ++upto;
            const double fij = static_cast<double>(upto - below);
            const double mij = static_cast<double>(upto) - fij / 2.;
            const double lj = counts[jz];
            const double bj = midpoints[jz];
            const double diff = n_total * mij - bj * ni;
            inner.add(lj / n_total * (diff * diff) / (bj * (n_total - bj) - n_total * lj / 4.));
        }
        a2 += inner.value() / ni;
    }
    a2 *= (n_total - 1.) / n_total;

    double harmonic_inverse = 0.0;
    for (const auto& s : sorted) harmonic_inverse += 1. / static_cast<double>(s.size());
    // h = sum_{i=1}^{N-1} 1/i and g = sum_{i=1}^{N-2} sum_{j=i+1}^{N-1} 1/((N-i) j), by the
    // cumulative sums scipy uses.
    const auto big_n = static_cast<std::int64_t>(pooled.size());
    double running = 0.0;
    CompensatedSum g_sum;
    for (std::int64_t step = 0; step < big_n - 2; ++step) {
        running += 1. / static_cast<double>(big_n - 1 - step);
        g_sum.add(running / static_cast<double>(step + 2));
    }
    const double h = running + 1;
    const double g = g_sum.value();
    const auto kd = static_cast<double>(k);
    const double big_h = harmonic_inverse;
    const double ca = (4 * g - 6) * (kd - 1) + (10 - 6 * g) * big_h;
    const double cb =
        (2 * g - 4) * kd * kd + 8 * h * kd + (2 * g - 14 * h - 4) * big_h - 8 * h + 4 * g - 6;
    const double cc =
        (6 * h + 2 * g - 2) * kd * kd + (4 * h - 4 * g + 6) * kd + (2 * h - 6) * big_h + 4 * h;
    const double cd = (2 * h + 6) * kd * kd - 4 * h * kd;
    const auto big_nl = static_cast<long double>(big_n);
    const auto n3 = static_cast<double>(big_nl * big_nl * big_nl);
    const auto n2 = static_cast<double>(big_nl * big_nl);
    const double sigmasq = (ca * n3 + cb * n2 + cc * n_total + cd) /
                           ((n_total - 1.) * (n_total - 2.) * (n_total - 3.));
    const double m = kd - 1;
    AndersonResult result;
    result.statistic = (a2 - m) / std::sqrt(sigmasq);

    // Scholz & Stephens (1987), Table 2 interpolation coefficients.
    constexpr std::array<double, 7> b0 = {0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085};
    constexpr std::array<double, 7> b1 = {-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615};
    constexpr std::array<double, 7> b2 = {-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154};
    constexpr std::array<double, 7> levels = {0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001};
    result.critical_values.resize(7);
    for (std::size_t i = 0; i < 7; ++i) {
        result.critical_values[i] = b0[i] + b1[i] / std::sqrt(m) + b2[i] / m;
    }
    const auto [lowest, highest] =
        std::minmax_element(result.critical_values.begin(), result.critical_values.end());
    if (result.statistic < *lowest) {
        result.pvalue = 0.25;
        result.capped = 1;
    } else if (result.statistic > *highest) {
        result.pvalue = 0.001;
        result.capped = -1;
    } else {
        std::array<double, 7> log_levels{};
        for (std::size_t i = 0; i < 7; ++i) log_levels[i] = std::log(levels[i]);
        const auto coef = quadratic_fit(result.critical_values, log_levels);
        const double x = result.statistic;
        result.pvalue = std::exp(((0.0 * x + coef[0]) * x + coef[1]) * x + coef[2]);
    }
    return result;
}

}  // namespace lumengate::drift
