#pragma once
// Two-sample tests between a reference and a current score sample, each equal to the scipy
// function users compare against (scipy.stats.ks_2samp, wasserstein_distance,
// cramervonmises_2samp, anderson_ksamp): the same statistic and the same p-value rule.
// Inputs are finite (see scores.hpp); samples are sorted on every allowed thread.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lumengate::drift {

struct KsTestResult {
    double statistic = 0.0;
    double pvalue = 1.0;
    bool exact = false;     // the p-value comes from the exact null distribution
    double location = 0.0;  // score at which the CDF gap is measured
    int sign = 1;           // +1: reference CDF above the current one there, -1: below
};

// Two-sample Kolmogorov-Smirnov test with scipy's method='auto' rule: exact when
// max(n1, n2) <= 10000 (asymptotic when the exact count fails), asymptotic otherwise.
// method is "auto", "exact" or "asymp"; alternative is "two-sided", "less" or "greater"
// (scipy's meaning: "greater" tests whether the reference CDF lies above the current one).
KsTestResult ks_2samp(std::span<const double> reference, std::span<const double> current,
                      const std::string& method, const std::string& alternative,
                      std::size_t threads);

// The same test on samples already sorted ascending (no copy, no sort).
KsTestResult ks_2samp_sorted(std::span<const double> reference, std::span<const double> current,
                             const std::string& method, const std::string& alternative);

// First Wasserstein distance between the two empirical distributions.
double wasserstein(std::span<const double> reference, std::span<const double> current,
                   std::size_t threads);
double wasserstein_sorted(std::span<const double> reference, std::span<const double> current);

struct CramerVonMisesResult {
    double statistic = 0.0;
    double pvalue = 1.0;
    bool exact = false;
};

// Two-sample Cramér-von Mises test (midranks for ties); exact p-value when max(n1, n2) <= 20
// under method "auto", else Anderson's normalised asymptotic approximation.
// method is "auto", "exact" or "asymptotic". Each sample needs at least two scores.
CramerVonMisesResult cramervonmises(std::span<const double> reference,
                                    std::span<const double> current, const std::string& method,
                                    std::size_t threads);

struct AndersonResult {
    double statistic = 0.0;               // normalised k-sample statistic (Scholz & Stephens)
    double pvalue = 0.0;                  // interpolated, capped to [0.001, 0.25]
    std::vector<double> critical_values;  // at 25, 10, 5, 2.5, 1, 0.5, 0.1 %
    int capped = 0;                       // -1 floored at 0.001, +1 capped at 0.25, 0 interpolated
};

// k-sample Anderson-Darling test, midrank variant (equation 7 of Scholz & Stephens 1987).
AndersonResult anderson_ksamp(const std::vector<std::span<const double>>& samples,
                              std::size_t threads);

// Distributions behind the p-values, exposed so they can be checked on their own.
// P(D_n >= d) for the two-sided one-sample statistic (Simard & L'Ecuyer 2011 selection rule).
double kolmogorov_sf(std::int64_t n, double d);
// P(D_n^+ >= d), one-sided (Birnbaum & Tingey 1951).
double smirnov_sf(std::int64_t n, double d);
// Limiting CDF of the one-sample Cramér-von Mises statistic (Csörgő & Faraway 1996, eq. 1.2).
double cramervonmises_limit_cdf(double x);

// Sorted copies of both samples, sorted concurrently with oneTBB on `threads` workers.
void sort_pair(std::vector<double>& a, std::vector<double>& b, std::size_t threads);

}  // namespace lumengate::drift
