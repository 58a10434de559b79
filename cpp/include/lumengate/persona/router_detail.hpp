#pragma once
// Pieces of the router shared by its source files (feature hashing, softmax, the solver).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "lumengate/persona/router.hpp"

namespace lumengate::persona::detail {

// Calls on_term(term, bucket) for every term of the analyzer, in one pass over the words:
// first each word's char_wb n-grams, then the word n-grams ending at that word. Word n-grams
// are hashed with their own seed, so "ab" the word and "ab" inside a word are two terms.
void for_each_ngram(std::string_view normalized, const Analyzer& analyzer,
                    const std::function<void(std::string_view, std::uint32_t)>& on_term);
std::uint32_t bucket_of(std::string_view ngram) noexcept;
std::uint32_t word_bucket_of(std::string_view words) noexcept;
inline constexpr std::uint64_t word_hash_seed = 1;
// (bucket, count) pairs of a normalised query, each bucket once, in the order its first term
// occurs in the query.
void bucket_counts(std::string_view normalized, const Analyzer& analyzer,
                   std::vector<std::pair<std::uint32_t, std::uint32_t>>& out);
// Rejects an analyzer outside 1 <= char_min <= char_max <= 8, word_max <= 3.
void check_analyzer(const Analyzer& analyzer);
void softmax(std::span<const double> z, double temperature, std::span<double> p);
void run_parallel(std::size_t n, std::size_t threads,
                  const std::function<void(std::size_t, std::size_t)>& body);

// Minimises mean cross-entropy + ||W||² / (2·c·n) (the intercepts are not penalised) with
// L-BFGS from zero; sequential and in a fixed order, so the result is bit-reproducible.
// Returns the parameters: features × classes weights (feature-major), then the intercepts.
std::vector<double> fit_logistic(const Csr& x, std::span<const std::int32_t> labels,
                                 std::size_t classes, double c, std::size_t max_iter, double tol);

// The temperature T minimising the mean NLL of softmax(logits / T).
double fit_temperature(std::span<const double> logits, std::span<const std::int32_t> labels,
                       std::size_t classes);

// Isotonic (pool-adjacent-violators) regression of "the top label is right" on the top-label
// confidence of softmax(logits / temperature), as scikit-learn's IsotonicRegression(y_min=
// 1/classes, y_max=1): equal confidences are pooled first. Returns ascending knots x and y.
void fit_confidence_map(std::span<const double> logits, std::span<const std::int32_t> labels,
                        std::size_t classes, double temperature, std::vector<double>& x,
                        std::vector<double>& y);

// Applies the map to calibrated probabilities in place: the top one becomes the interpolated
// knot value (clamped at the ends, and never below the second so the ranking holds), the
// others are rescaled to keep their proportions and the sum of 1.
void apply_confidence_map(std::span<const double> x, std::span<const double> y,
                          std::span<double> p) noexcept;

}  // namespace lumengate::persona::detail
