#pragma once
// Divergences between two histograms (reference, current) with scipy's conventions: KL is
// KL(current || reference) in nats, JS is scipy's jensenshannon distance (natural log),
// Hellinger includes 1/sqrt(2), PSI is sum (cur - ref) ln(cur / ref). Plus the chi-square
// homogeneity test of two count vectors.
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace lumengate::drift {

enum class Statistic { kl, psi, js, hellinger };

Statistic parse_statistic(const std::string& name);
std::string statistic_name(Statistic s);

// Counts (or weights) plus `smoothing` in every bin, divided by their total. Throws
// InvalidArgument(field...) for negative, non-finite or all-zero input.
std::vector<double> probabilities(std::span<const double> counts, double smoothing,
                                  const std::string& field);

// The statistic of two count or probability vectors of the same length (each normalised
// after adding `smoothing`, which may be 0). Infinite when a bin is empty on one side only
// (KL: empty in reference only; JS and Hellinger stay finite).
double divergence(std::span<const double> reference, std::span<const double> current,
                  Statistic statistic, double smoothing);

// The same on probability vectors already normalised and validated.
double divergence_of_probabilities(std::span<const double> p, std::span<const double> q,
                                   Statistic statistic);

struct Chi2Result {
    double statistic;
    double pvalue;
    std::size_t dof;
};

// Pearson chi-square of the 2 x k table [reference; current] without continuity correction,
// as scipy.stats.chi2_contingency(..., correction=False).
Chi2Result chi2_test(std::span<const double> reference, std::span<const double> current);

}  // namespace lumengate::drift
