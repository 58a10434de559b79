#include "lumengate/assign/scheme.hpp"

#include <cmath>
#include <cstring>

namespace lumengate::assign {
namespace {

std::optional<Algorithm> digest_for(SchemeKind kind) {
    switch (kind) {
        case SchemeKind::md5_mod100:
        case SchemeKind::md5_canary: return Algorithm::md5;
        case SchemeKind::statsig: return Algorithm::sha256;
        case SchemeKind::planout: return Algorithm::sha1;
        default: return std::nullopt;
    }
}

__extension__ typedef unsigned __int128 uint128;  // GCC/Clang extension, exact 128-bit arithmetic

std::uint64_t big_endian(const unsigned char* bytes, std::size_t count) noexcept {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < count; ++i) value = (value << 8) | bytes[i];
    return value;
}

}  // namespace

bool has_integer_buckets(SchemeKind kind) noexcept {
    return !(kind == SchemeKind::growthbook_v1 || kind == SchemeKind::growthbook_v2 ||
             kind == SchemeKind::planout);
}

double planout_fraction(std::uint64_t h60) noexcept {
    if (h60 == 0) return 0.0;
    constexpr std::uint64_t denominator = 0xFFFFFFFFFFFFFFFULL;
    // Scale so the integer quotient has 64 or 65 bits, then round to 53 bits by hand,
    // using the remainder as the sticky bit: one rounding, like Python's true division.
    const int bits = 64 - __builtin_clzll(h60);
    const int shift = 124 - bits;
    const uint128 numerator = static_cast<uint128>(h60) << shift;
    const uint128 quotient = numerator / denominator;
    const bool sticky = (numerator % denominator) != 0;
    const auto high = static_cast<std::uint64_t>(quotient >> 64);
    const int quotient_bits = high != 0 ? 128 - __builtin_clzll(high)
                                        : 64 - __builtin_clzll(static_cast<std::uint64_t>(quotient));
    const int drop = quotient_bits - 53;
    std::uint64_t mantissa = static_cast<std::uint64_t>(quotient >> drop);
    const uint128 rest = quotient & ((static_cast<uint128>(1) << drop) - 1);
    const uint128 half = static_cast<uint128>(1) << (drop - 1);
    if (rest > half || (rest == half && (sticky || (mantissa & 1U) != 0))) ++mantissa;
    return std::ldexp(static_cast<double>(mantissa), drop - shift);
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
            return static_cast<double>(fnv1a32_code_points(key_) % 1000U) / 1000.0;
        case SchemeKind::growthbook_v2: {
            const std::string inner = std::to_string(fnv1a32_code_points(key_));
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
