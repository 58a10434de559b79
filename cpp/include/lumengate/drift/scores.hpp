#pragma once
// Score arrays as every drift function receives them: finite numbers only. NaN and ±inf are
// rejected (naming the field and index) or, on request, dropped and counted.
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace lumengate::drift {

enum class NonFinite { reject, drop };

NonFinite parse_non_finite(const std::string& policy);

struct CleanScores {
    std::vector<double> values;  // empty when the input was already clean (use the input)
    std::size_t dropped = 0;
    bool copied = false;
};

// Throws InvalidArgument("<field>[i]") for the first non-finite value under `reject`, and
// InvalidArgument(field) when nothing finite is left. Under `drop`, copies only if needed.
CleanScores clean_scores(std::span<const double> scores, NonFinite policy,
                         const std::string& field);

// The finite view of `scores` after clean_scores (the copy, or the input itself).
inline std::span<const double> finite_view(std::span<const double> scores, const CleanScores& c) {
    return c.copied ? std::span<const double>(c.values) : scores;
}

}  // namespace lumengate::drift
