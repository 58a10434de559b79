#include "lumengate/assign/scheme.hpp"

#include <algorithm>
#include <charconv>
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

std::uint32_t growthbook_fnv(std::string_view utf8, bool code_points, std::uint32_t state) {
    return code_points ? fnv1a32_code_points(utf8, state) : fnv1a32_utf16(utf8, state);
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
    const auto ascii = [](std::string_view text) {
        return std::all_of(text.begin(), text.end(),
                           [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    };
    ascii_affixes_ = ascii(scheme.prefix) && ascii(scheme.suffix);
    prefix_state_ = fnv1a32(scheme.prefix);
}

double Bucketer::bucket(std::string_view id) {
    if (scheme_.kind == SchemeKind::growthbook_v1 || scheme_.kind == SchemeKind::growthbook_v2) {
        // FNV streams, so the parts are hashed in place instead of being joined first.
        std::uint32_t h = growthbook_fnv(scheme_.prefix, scheme_.code_points);
        h = growthbook_fnv(id, scheme_.code_points, h);
        h = growthbook_fnv(scheme_.suffix, scheme_.code_points, h);
        if (scheme_.kind == SchemeKind::growthbook_v1) {
            return static_cast<double>(h % 1000U) / 1000.0;
        }
        char digits[16];
        const auto end = std::to_chars(digits, digits + sizeof(digits), h).ptr;
        const std::string_view inner(digits, static_cast<std::size_t>(end - digits));
        return static_cast<double>(fnv1a32(inner) % 10000U) / 10000.0;
    }
    key_.assign(scheme_.prefix);
    key_.append(id);
    key_.append(scheme_.suffix);
    unsigned char digest[32];
    switch (scheme_.kind) {
        case SchemeKind::md5_mod100:
        case SchemeKind::md5_canary:
            digester_->digest(key_, digest);
            return static_cast<double>(big_endian(digest, 4) % 100U);
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
        default:
            break;
    }
    return 0.0;
}

void Bucketer::bucket_block(const std::string_view* ids, std::size_t count, double* out) {
    const bool growthbook =
        scheme_.kind == SchemeKind::growthbook_v1 || scheme_.kind == SchemeKind::growthbook_v2;
    if (growthbook && count == block_size && ascii_affixes_) {
        growthbook_block(ids, out);
        return;
    }
    for (std::size_t k = 0; k < count; ++k) out[k] = bucket(ids[k]);
}

void Bucketer::growthbook_block(const std::string_view* ids, double* out) {
    // FNV-1a is one long dependency chain per key (xor, then multiply); running four keys'
    // chains side by side lets the CPU overlap them. ASCII keys only: UTF-16 units and code
    // points are then the bytes themselves; any other key takes the one-key path.
    constexpr std::size_t n = block_size;
    std::uint32_t h[n];
    unsigned char high = 0;
    std::size_t shortest = ids[0].size();
    for (std::size_t k = 0; k < n; ++k) {
        h[k] = prefix_state_;
        shortest = std::min(shortest, ids[k].size());
    }
    for (std::size_t j = 0; j < shortest; ++j) {
        for (std::size_t k = 0; k < n; ++k) {
            const auto c = static_cast<unsigned char>(ids[k][j]);
            high |= c;
            h[k] = (h[k] ^ c) * fnv_prime;
        }
    }
    for (std::size_t k = 0; k < n; ++k) {
        for (std::size_t j = shortest; j < ids[k].size(); ++j) {
            const auto c = static_cast<unsigned char>(ids[k][j]);
            high |= c;
            h[k] = (h[k] ^ c) * fnv_prime;
        }
    }
    if ((high & 0x80U) != 0) {
        for (std::size_t k = 0; k < n; ++k) out[k] = bucket(ids[k]);
        return;
    }
    for (const char c : scheme_.suffix) {
        for (std::size_t k = 0; k < n; ++k)
            h[k] = (h[k] ^ static_cast<unsigned char>(c)) * fnv_prime;
    }
    if (scheme_.kind == SchemeKind::growthbook_v1) {
        for (std::size_t k = 0; k < n; ++k) out[k] = static_cast<double>(h[k] % 1000U) / 1000.0;
        return;
    }
    char digits[n][16];
    std::size_t length[n];
    std::size_t shortest_digits = 16;
    for (std::size_t k = 0; k < n; ++k) {
        length[k] = static_cast<std::size_t>(std::to_chars(digits[k], digits[k] + 16, h[k]).ptr -
                                             digits[k]);
        shortest_digits = std::min(shortest_digits, length[k]);
        h[k] = fnv_offset_basis;
    }
    for (std::size_t j = 0; j < shortest_digits; ++j) {
        for (std::size_t k = 0; k < n; ++k) {
            h[k] = (h[k] ^ static_cast<unsigned char>(digits[k][j])) * fnv_prime;
        }
    }
    for (std::size_t k = 0; k < n; ++k) {
        for (std::size_t j = shortest_digits; j < length[k]; ++j) {
            h[k] = (h[k] ^ static_cast<unsigned char>(digits[k][j])) * fnv_prime;
        }
        out[k] = static_cast<double>(h[k] % 10000U) / 10000.0;
    }
}

}  // namespace lumengate::assign
