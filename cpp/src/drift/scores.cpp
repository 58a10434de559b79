#include "lumengate/drift/scores.hpp"

#include <cmath>

#include "lumengate/common/error.hpp"

namespace lumengate::drift {

NonFinite parse_non_finite(const std::string& policy) {
    if (policy == "reject") return NonFinite::reject;
    if (policy == "drop") return NonFinite::drop;
    throw InvalidArgument("non_finite", "must be 'reject' or 'drop', got '" + policy + "'");
}

CleanScores clean_scores(std::span<const double> scores, NonFinite policy,
                         const std::string& field) {
    CleanScores result;
    if (scores.empty()) throw InvalidArgument(field, "is empty; pass at least one score");
    std::size_t first_bad = scores.size();
    for (std::size_t i = 0; i < scores.size(); ++i) {
        if (!std::isfinite(scores[i])) {
            first_bad = i;
            break;
        }
    }
    if (first_bad == scores.size()) return result;
    if (policy == NonFinite::reject) {
        throw InvalidArgument(field + "[" + std::to_string(first_bad) + "]",
                              "is " + std::to_string(scores[first_bad]) +
                                  "; scores must be finite (or pass non_finite='drop')");
    }
    result.copied = true;
    result.values.reserve(scores.size());
    for (const double x : scores) {
        if (std::isfinite(x)) {
            result.values.push_back(x);
        } else {
            ++result.dropped;
        }
    }
    if (result.values.empty()) {
        throw InvalidArgument(field, "holds no finite score after dropping " +
                                         std::to_string(result.dropped) + " NaN/inf values");
    }
    return result;
}

}  // namespace lumengate::drift
