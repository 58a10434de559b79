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

// Calls on_ngram for every char_wb n-gram (2–4 code points of each space-padded word).
void for_each_ngram(std::string_view normalized,
                    const std::function<void(std::string_view)>& on_ngram);
std::uint32_t bucket_of(std::string_view ngram) noexcept;
// (bucket, count) pairs of a normalised query, ascending by bucket.
void bucket_counts(std::string_view normalized,
                   std::vector<std::pair<std::uint32_t, std::uint32_t>>& out);
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

}  // namespace lumengate::persona::detail
