#include "lumengate/assign/scheme.hpp"

#include <cmath>
#include <cstring>

namespace lumengate::assign {
namespace {

std::optional<Algorithm> digest_for(SchemeKind kind) {
    switch (kind) {
        case SchemeKind::md5_mod100:
        case SchemeKind::md5_canary:
            return Algorithm::md5;
        case SchemeKind::statsig:
            return Algorithm::sha256;
        case SchemeKind::planout:
            return Algorithm::sha1;
        default:
            return std::nullopt;
    }
}

std::uint64_t big_endian(const unsigned char* bytes, std::size_t count) noexcept {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < count; ++i) value = (value << 8) | bytes[i];
    return value;
}

}  // namespace

std::uint32_t growthbook_fnv(std::string_view utf8, bool code_points) {
    return code_points ? fnv1a32_code_points(utf8) : fnv1a32_utf16(utf8);
}

bool has_integer_buckets(SchemeKind kind) noexcept {
    return !(kind == SchemeKind::growthbook_v1 || kind == SchemeKind::growthbook_v2 ||
             kind == SchemeKind::planout);
}

double planout_fraction(std::uint64_t h60) noexcept {
    // PlanOut divides by LONG_SCALE = float(0xFFFFFFFFFFFFFFF), which is exactly 2**60, after
    // Python converts the integer to a double: the same two steps here.
    return static_cast<double>(h60) / 1152921504606846976.0;
}

Bucketer::Bucketer(const Scheme& scheme) : scheme_(scheme) {
    if (const auto algorithm = digest_for(scheme.kind)) digester_.emplace(*algorithm);
    key_.reserve(128);
}

double Bucketer::bucket(std::string_view id) {
    key_.assign(scheme_.prefix);
    key_.append(id);
    key_.append(scheme_.suffix);
    unsigned char digest[32];
    switch (scheme_.kind) {
        case SchemeKind::md5_mod100:
        case SchemeKind::md5_canary:
            digester_->digest(key_, digest);
            return static_cast<double>(big_endian(digest, 4) % 100U);
        case SchemeKind::growthbook_v1:
            return static_cast<double>(growthbook_fnv(key_, scheme_.code_points) % 1000U) / 1000.0;
        case SchemeKind::growthbook_v2: {
            const std::string inner = std::to_string(growthbook_fnv(key_, scheme_.code_points));
            return static_cast<double>(fnv1a32(inner) % 10000U) / 10000.0;
        }
        case SchemeKind::unleash:
            return static_cast<double>(murmur3_x86_32(key_, scheme_.seed) % scheme_.normalizer +
                                       1U);
        case SchemeKind::statsig:
            digester_->digest(key_, digest);
            return static_cast<double>(big_endian(digest, 8) % 10000U);
        case SchemeKind::optimizely: {
            const double ratio = static_cast<double>(murmur3_x86_32(key_, 1U)) / 4294967296.0;
            return std::floor(ratio * 10000.0);
        }
        case SchemeKind::planout:
            digester_->digest(key_, digest);
            return planout_fraction(big_endian(digest, 8) >> 4);
    }
    return 0.0;
}

}  // namespace lumengate::assign
