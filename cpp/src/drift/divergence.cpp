#include "lumengate/drift/divergence.hpp"

#include <boost/math/distributions/chi_squared.hpp>
#include <cmath>
#include <limits>
#include <sstream>

#include "lumengate/common/error.hpp"

namespace lumengate::drift {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

std::string number(double x) {
    std::ostringstream out;
    out.precision(17);
    out << x;
    return out.str();
}

// scipy.special.rel_entr: x ln(x / y), 0 when x == 0, inf when only y == 0.
double rel_entr(double x, double y) {
    if (x > 0 && y > 0) return x * std::log(x / y);
    if (x == 0 && y >= 0) return 0.0;
    return inf;
}

void check_counts(std::span<const double> counts, const std::string& field) {
    if (counts.empty()) throw InvalidArgument(field, "is empty; pass at least one bin");
    double total = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        const double c = counts[i];
        if (!std::isfinite(c) || c < 0) {
            throw InvalidArgument(field + "[" + std::to_string(i) + "]",
                                  "is " + number(c) + "; counts must be finite and >= 0");
        }
        total += c;
    }
    if (total == 0) throw InvalidArgument(field, "is all zeros; at least one count must be > 0");
}

void check_same_length(std::span<const double> reference, std::span<const double> current) {
    if (reference.size() != current.size()) {
        throw InvalidArgument("current", "has " + std::to_string(current.size()) +
                                             " bins but reference has " +
                                             std::to_string(reference.size()) +
                                             "; both histograms need the same bins");
    }
}

}  // namespace

Statistic parse_statistic(const std::string& name) {
    if (name == "kl") return Statistic::kl;
    if (name == "psi") return Statistic::psi;
    if (name == "js") return Statistic::js;
    if (name == "hellinger") return Statistic::hellinger;
    throw InvalidArgument("statistic",
                          "must be 'kl', 'psi', 'js' or 'hellinger', got '" + name + "'");
}

std::string statistic_name(Statistic s) {
    switch (s) {
        case Statistic::kl:
            return "kl";
        case Statistic::psi:
            return "psi";
        case Statistic::js:
            return "js";
        case Statistic::hellinger:
            return "hellinger";
    }
    return "kl";
}

std::vector<double> probabilities(std::span<const double> counts, double smoothing,
                                  const std::string& field) {
    if (!std::isfinite(smoothing) || smoothing < 0) {
        throw InvalidArgument(
            "smoothing", "is " + number(smoothing) + "; it must be a finite number >= 0 (or None)");
    }
    check_counts(counts, field);
    std::vector<double> p(counts.size());
    double total = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        p[i] = counts[i] + smoothing;
        total += p[i];
    }
    for (auto& v : p) v /= total;
    return p;
}

double divergence_of_probabilities(std::span<const double> p, std::span<const double> q,
                                   Statistic statistic) {
    double sum = 0;
    switch (statistic) {
        case Statistic::kl:
            for (std::size_t i = 0; i < p.size(); ++i) sum += rel_entr(q[i], p[i]);
            return sum;
        case Statistic::psi:
            for (std::size_t i = 0; i < p.size(); ++i) {
                if (p[i] == q[i]) continue;
                if (p[i] == 0 || q[i] == 0) return inf;
                sum += (q[i] - p[i]) * std::log(q[i] / p[i]);
            }
            return sum;
        case Statistic::js:
            for (std::size_t i = 0; i < p.size(); ++i) {
                const double m = (p[i] + q[i]) / 2.0;
                sum += rel_entr(p[i], m) + rel_entr(q[i], m);
            }
            return std::sqrt(std::max(sum, 0.0) / 2.0);
        case Statistic::hellinger:
            for (std::size_t i = 0; i < p.size(); ++i) {
                const double d = std::sqrt(p[i]) - std::sqrt(q[i]);
                sum += d * d;
            }
            return std::sqrt(sum) / std::sqrt(2.0);
    }
    return sum;
}

double divergence(std::span<const double> reference, std::span<const double> current,
                  Statistic statistic, double smoothing) {
    check_same_length(reference, current);
    const auto p = probabilities(reference, smoothing, "reference");
    const auto q = probabilities(current, smoothing, "current");
    return divergence_of_probabilities(p, q, statistic);
}

Chi2Result chi2_test(std::span<const double> reference, std::span<const double> current) {
    check_same_length(reference, current);
    check_counts(reference, "reference");
    check_counts(current, "current");
    double row_ref = 0, row_cur = 0;
    for (std::size_t i = 0; i < reference.size(); ++i) {
        row_ref += reference[i];
        row_cur += current[i];
    }
    const double total = row_ref + row_cur;
    double statistic = 0;
    for (std::size_t i = 0; i < reference.size(); ++i) {
        const double column = reference[i] + current[i];
        if (column == 0) {
            throw InvalidArgument("reference[" + std::to_string(i) + "]",
                                  "and current[" + std::to_string(i) +
                                      "] are both 0; a category seen on neither side has no "
                                      "expected frequency (drop it)");
        }
        const double e_ref = row_ref * column / total;
        const double e_cur = row_cur * column / total;
        statistic += (reference[i] - e_ref) * (reference[i] - e_ref) / e_ref;
        statistic += (current[i] - e_cur) * (current[i] - e_cur) / e_cur;
    }
    const std::size_t dof = reference.size() - 1;
    if (dof == 0) return {0.0, 1.0, 0};
    const boost::math::chi_squared dist(static_cast<double>(dof));
    return {statistic, boost::math::cdf(boost::math::complement(dist, statistic)), dof};
}

}  // namespace lumengate::drift
