#pragma once
// Batch operations over a KeyColumn, parallel over `threads` workers. Outputs are
// caller-owned buffers of size() entries. On bad input the error names the lowest bad index,
// whatever the thread schedule.
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lumengate/assign/keys.hpp"
#include "lumengate/assign/scheme.hpp"

namespace lumengate::assign {

// Digests write digest_size() bytes per id into out_bytes; 32/64-bit hashes write out_words.
void hash_many(const KeyColumn& ids, Algorithm algorithm, std::uint64_t seed,
               unsigned char* out_bytes, std::uint64_t* out_words, std::size_t threads);

void bucket_many(const Scheme& scheme, const KeyColumn& ids, double* out, std::size_t threads);
void bucket_many(const Scheme& scheme, const KeyColumn& ids, std::int64_t* out,
                 std::size_t threads);

// Why an id got its variant index.
enum class Reason : std::uint8_t {
    hashed = 0,            // in the experiment by its bucket
    forced = 1,            // a forced override
    sticky = 2,            // an earlier assignment kept
    not_in_namespace = 3,  // outside the experiment's namespace range
    not_in_coverage = 4,   // bucket outside every variant range
};

struct Namespace {
    std::string id;
    double start = 0.0;
    double end = 1.0;
};

// Variant i covers buckets in [ranges[i].first, ranges[i].second), or in
// [first, second] when upper_inclusive (PlanOut's weighted choice; first match wins); the bucket is
// multiplied by `scale` before the comparison.
struct ExperimentPlan {
    Scheme scheme;
    std::vector<std::pair<double, double>> ranges;
    double scale = 1.0;
    bool upper_inclusive = false;
    std::vector<Namespace> namespaces;  // at most one; GrowthBook v1 hash of id + "__" + ns id
    std::unordered_map<std::string, std::int32_t> forced;
    std::unordered_map<std::string, std::int32_t> sticky;
};

// Variant index for a bucket, -1 when outside every range.
std::int32_t choose_variant(const ExperimentPlan& plan, double bucket) noexcept;

// GrowthBook's inNamespace: fnv-v1 fraction of id + "__" + ns.id in [start, end).
bool in_namespace(const Namespace& ns, std::string_view id, bool code_points);

struct AssignOutput {
    std::int32_t* index;
    double* bucket;
    std::uint8_t* reason;
};

struct OneAssignment {
    std::int32_t index = -1;
    double bucket = 0.0;
    Reason reason = Reason::hashed;
    bool moved = false;  // a sticky id whose bucket now gives another variant
};

// Forced overrides first, then sticky assignments, then namespace and bucket ranges.
OneAssignment assign_one(const ExperimentPlan& plan, Bucketer& bucketer, std::string_view id);

// Returns how many sticky ids hold a variant other than the one their bucket gives now.
std::size_t assign_many(const ExperimentPlan& plan, const KeyColumn& ids, AssignOutput out,
                        std::size_t threads);

}  // namespace lumengate::assign
