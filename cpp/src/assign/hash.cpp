#include "lumengate/assign/hash.hpp"

#include <xxhash.h>

#include <cstring>
#include <string>

#include "lumengate/assign/utf8.hpp"
#include "lumengate/common/error.hpp"

namespace lumengate::assign {
namespace {

struct MdFree {
    void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};

// Fetched once per process: explicit fetching avoids OpenSSL 3's per-call lookup cost.
// Function-local statics initialise thread-safely.
const EVP_MD* fetched_md(Algorithm algorithm) {
    static const std::unique_ptr<EVP_MD, MdFree> md5(EVP_MD_fetch(nullptr, "MD5", nullptr));
    static const std::unique_ptr<EVP_MD, MdFree> sha1(EVP_MD_fetch(nullptr, "SHA1", nullptr));
    static const std::unique_ptr<EVP_MD, MdFree> sha256(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    const EVP_MD* md = nullptr;
    switch (algorithm) {
        case Algorithm::md5:
            md = md5.get();
            break;
        case Algorithm::sha1:
            md = sha1.get();
            break;
        case Algorithm::sha256:
            md = sha256.get();
            break;
        default:
            throw InvalidArgument("algorithm", "not a digest algorithm");
    }
    if (md == nullptr) {
        throw Error("OpenSSL could not provide digest " + std::string(algorithm_name(algorithm)));
    }
    return md;
}

inline std::uint32_t rotl32(std::uint32_t x, int r) noexcept { return (x << r) | (x >> (32 - r)); }

inline std::uint32_t fmix32(std::uint32_t h) noexcept {
    h ^= h >> 16;
    h *= 0x85ebca6bU;
    h ^= h >> 13;
    h *= 0xc2b2ae35U;
    h ^= h >> 16;
    return h;
}

}  // namespace

namespace {

struct AlgorithmInfo {
    Algorithm algorithm;
    std::string_view name;
    std::size_t size;  // digest bytes, or the width of the integer hash
};

constexpr AlgorithmInfo algorithms[] = {
    {Algorithm::md5, "md5", 16},
    {Algorithm::sha1, "sha1", 20},
    {Algorithm::sha256, "sha256", 32},
    {Algorithm::fnv1a32, "fnv1a32", 4},
    {Algorithm::murmur3_32, "murmur3_32", 4},
    {Algorithm::xxhash64, "xxhash64", 8},
};

const AlgorithmInfo& info(Algorithm algorithm) noexcept {
    for (const auto& entry : algorithms) {
        if (entry.algorithm == algorithm) return entry;
    }
    return algorithms[0];
}

}  // namespace

Algorithm parse_algorithm(std::string_view name) {
    for (const auto& entry : algorithms) {
        if (entry.name == name) return entry.algorithm;
    }
    std::string allowed;
    for (const auto& entry : algorithms) {
        if (!allowed.empty()) allowed.append(", ");
        allowed.append(entry.name);
    }
    throw InvalidArgument("algorithm",
                          "unknown algorithm '" + std::string(name) + "'; allowed: " + allowed);
}

std::string_view algorithm_name(Algorithm algorithm) noexcept { return info(algorithm).name; }

bool is_digest(Algorithm algorithm) noexcept {
    return algorithm == Algorithm::md5 || algorithm == Algorithm::sha1 ||
           algorithm == Algorithm::sha256;
}

std::size_t digest_size(Algorithm algorithm) { return info(algorithm).size; }

std::uint32_t fnv1a32_code_points(std::string_view utf8, std::uint32_t state) {
    std::uint32_t h = state;
    std::size_t pos = 0;
    while (pos < utf8.size()) {
        const auto c = static_cast<unsigned char>(utf8[pos]);
        if (c < 0x80) {
            h ^= c;
            ++pos;
        } else {
            h ^= decode_utf8(utf8, pos);
        }
        h *= 0x01000193U;
    }
    return h;
}

std::uint32_t fnv1a32_utf16(std::string_view utf8, std::uint32_t state) {
    std::uint32_t h = state;
    std::size_t pos = 0;
    while (pos < utf8.size()) {
        const auto c = static_cast<unsigned char>(utf8[pos]);
        if (c < 0x80) {
            h = (h ^ c) * 0x01000193U;
            ++pos;
            continue;
        }
        const char32_t cp = decode_utf8(utf8, pos);
        if (cp < 0x10000) {
            h = (h ^ static_cast<std::uint32_t>(cp)) * 0x01000193U;
        } else {
            const std::uint32_t v = static_cast<std::uint32_t>(cp) - 0x10000U;
            h = (h ^ (0xD800U + (v >> 10))) * 0x01000193U;
            h = (h ^ (0xDC00U + (v & 0x3FFU))) * 0x01000193U;
        }
    }
    return h;
}

std::uint32_t murmur3_x86_32(std::string_view bytes, std::uint32_t seed) noexcept {
    constexpr std::uint32_t c1 = 0xcc9e2d51U;
    constexpr std::uint32_t c2 = 0x1b873593U;
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t len = bytes.size();
    const std::size_t blocks = len / 4;
    std::uint32_t h = seed;
    for (std::size_t i = 0; i < blocks; ++i) {
        std::uint32_t k;
        std::memcpy(&k, data + i * 4, 4);  // little-endian block read, as the reference on x86
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        h = rotl32(h, 13);
        h = h * 5 + 0xe6546b64U;
    }
    const unsigned char* tail = data + blocks * 4;
    std::uint32_t k = 0;
    switch (len & 3U) {
        case 3:
            k ^= static_cast<std::uint32_t>(tail[2]) << 16;
            [[fallthrough]];
        case 2:
            k ^= static_cast<std::uint32_t>(tail[1]) << 8;
            [[fallthrough]];
        case 1:
            k ^= tail[0];
            k *= c1;
            k = rotl32(k, 15);
            k *= c2;
            h ^= k;
            break;
        default:
            break;
    }
    h ^= static_cast<std::uint32_t>(len);
    return fmix32(h);
}

std::uint64_t xxhash64(std::string_view bytes, std::uint64_t seed) noexcept {
    return XXH64(bytes.data(), bytes.size(), seed);
}

Digester::Digester(Algorithm algorithm)
    : md_(fetched_md(algorithm)), ctx_(EVP_MD_CTX_new()), size_(digest_size(algorithm)) {
    if (!ctx_) throw Error("OpenSSL could not allocate a digest context");
}

void Digester::digest(std::string_view bytes, unsigned char* out) {
    unsigned int written = 0;
    if (EVP_DigestInit_ex2(ctx_.get(), md_, nullptr) != 1 ||
        EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1 ||
        EVP_DigestFinal_ex(ctx_.get(), out, &written) != 1) {
        throw Error("OpenSSL digest failed");
    }
}

}  // namespace lumengate::assign
