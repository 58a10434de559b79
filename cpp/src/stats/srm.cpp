#include "lumengate/stats/srm.hpp"

#include <boost/math/distributions/chi_squared.hpp>
#include <cmath>
#include <limits>
#include <string>

#include "lumengate/common/error.hpp"

namespace lumengate::stats {

double chi2_sf(double x, double dof) {
    if (!(dof > 0) || !std::isfinite(dof)) {
        throw InvalidArgument("dof", "must be a positive number, got " + std::to_string(dof));
    }
    if (std::isnan(x)) throw InvalidArgument("statistic", "must not be NaN");
    if (x <= 0) return 1.0;
    if (std::isinf(x)) return 0.0;
    const boost::math::chi_squared_distribution<double> distribution(dof);
    return boost::math::cdf(boost::math::complement(distribution, x));
}

SrmResult srm_test(std::span<const double> observed, std::span<const double> weights) {
    if (observed.size() < 2) {
        throw InvalidArgument("observed",
                              "needs at least 2 arms, got " + std::to_string(observed.size()));
    }
    if (weights.size() != observed.size()) {
        throw InvalidArgument("weights", "has " + std::to_string(weights.size()) +
                                             " entries but observed has " +
                                             std::to_string(observed.size()));
    }
    double total = 0.0;
    double weight_sum = 0.0;
    for (std::size_t i = 0; i < observed.size(); ++i) {
        const double o = observed[i];
        if (!std::isfinite(o) || o < 0 || std::floor(o) != o) {
            throw InvalidArgument("observed[" + std::to_string(i) + "]",
                                  "must be a non-negative whole count, got " + std::to_string(o));
        }
        const double w = weights[i];
        if (!std::isfinite(w) || w < 0) {
            throw InvalidArgument("weights[" + std::to_string(i) + "]",
                                  "must be a finite share >= 0, got " + std::to_string(w));
        }
        total += o;
        weight_sum += w;
    }
    if (std::abs(weight_sum - 1.0) > 1e-6) {
        throw InvalidArgument("weights",
                              "must sum to 1 (within 1e-6), got " + std::to_string(weight_sum));
    }
    if (total <= 0) throw InvalidArgument("observed", "holds no users; nothing to test");

    SrmResult result;
    result.expected.resize(observed.size());
    std::size_t arms = 0;
    bool impossible = false;
    for (std::size_t i = 0; i < observed.size(); ++i) {
        const double expected = total * weights[i] / weight_sum;
        result.expected[i] = expected;
        if (expected == 0) {
            if (observed[i] > 0) impossible = true;
            continue;
        }
        ++arms;
        const double d = observed[i] - expected;
        result.statistic += d * d / expected;
    }
    result.dof = arms > 0 ? arms - 1 : 0;
    if (impossible) {
        result.statistic = std::numeric_limits<double>::infinity();
        result.pvalue = 0.0;
    } else if (result.dof == 0) {
        result.pvalue = 1.0;
    } else {
        result.pvalue = chi2_sf(result.statistic, static_cast<double>(result.dof));
    }
    return result;
}

}  // namespace lumengate::stats
