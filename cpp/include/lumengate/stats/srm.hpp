#pragma once
// Sample-ratio mismatch: Pearson's chi-square goodness of fit of observed arm counts
// against the planned weights, p-value from Boost.Math's chi-squared distribution.
#include <cstddef>
#include <span>
#include <vector>

namespace lumengate::stats {

struct SrmResult {
    double statistic = 0.0;
    double pvalue = 1.0;
    std::size_t dof = 0;
    std::vector<double> expected;
};

// observed: non-negative counts per arm; weights: planned shares summing to 1 (1e-6).
// An arm with weight 0 and users is a certain mismatch (statistic inf, p-value 0).
SrmResult srm_test(std::span<const double> observed, std::span<const double> weights);

// Survival function of the chi-squared distribution with dof degrees of freedom.
double chi2_sf(double x, double dof);

}  // namespace lumengate::stats
