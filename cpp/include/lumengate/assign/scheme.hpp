#pragma once
// Bucketing schemes: how one id becomes a bucket value, each bit-compatible with the
// convention it is named after. A scheme hashes prefix + id + suffix with its hasher and
// maps the hash to its own bucket space (integers 0..99, 0..9999, 1..N, or a unit fraction).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lumengate/assign/hash.hpp"

namespace lumengate::assign {

enum class SchemeKind {
    md5_mod100,     // int(md5(id + "_" + seed).hexdigest()[:8], 16) % 100
    md5_canary,     // same digest prefix, key id or salt + ":" + id
    growthbook_v1,  // fnv1a32 over UTF-16 units (or code points) of id + seed, % 1000 / 1000
    growthbook_v2,  // fnv(str(fnv(seed + id))) % 10000 / 10000
    unleash,        // murmur3(group + ":" + id, seed) % normalizer + 1
    statsig,        // big-endian first 8 bytes of sha256(config.rule.id) % 10000
    optimizely,     // floor(murmur3(id + entity, 1) / 2**32 * 10000)
    planout,        // int(sha1(exp.param.id).hexdigest()[:15], 16) / float(0xFFFFFFFFFFFFFFF)
};

struct Scheme {
    SchemeKind kind = SchemeKind::md5_mod100;
    std::string prefix;
    std::string suffix;
    std::uint32_t seed = 0;
    std::uint32_t normalizer = 100;
    bool code_points = false;  // GrowthBook: hash code points (Python SDK < 4) not UTF-16 units
};

// GrowthBook's FNV-1a over text, by the scheme's text unit, continuing from `state`.
std::uint32_t growthbook_fnv(std::string_view utf8, bool code_points,
                             std::uint32_t state = fnv_offset_basis);

// True when buckets are integers (returned as int64); false for unit fractions (float64).
bool has_integer_buckets(SchemeKind kind) noexcept;

// PlanOut's fraction of a 60-bit hash: double(h) / float(0xFFFFFFFFFFFFFFF), i.e. / 2**60.
double planout_fraction(std::uint64_t h60) noexcept;

// Computes bucket values; holds per-thread scratch and digest contexts (not thread-safe).
class Bucketer {
  public:
    static constexpr std::size_t block_size = 4;

    explicit Bucketer(const Scheme& scheme);
    [[nodiscard]] double bucket(std::string_view id);
    // Buckets of up to block_size ids at once; equal to bucket() for each.
    void bucket_block(const std::string_view* ids, std::size_t count, double* out);

  private:
    void growthbook_block(const std::string_view* ids, double* out);

    const Scheme& scheme_;
    std::string key_;
    std::optional<Digester> digester_;
    bool ascii_affixes_ = true;
    std::uint32_t prefix_state_ = fnv_offset_basis;  // FNV state after an ASCII prefix
};

}  // namespace lumengate::assign
