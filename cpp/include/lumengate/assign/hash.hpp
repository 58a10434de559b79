#pragma once
// Hash functions behind every assignment scheme. Cryptographic digests come from
// OpenSSL EVP; FNV-1a and MurmurHash3 are the published reference algorithms; xxHash64
// comes from libxxhash.
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

namespace lumengate::assign {

enum class Algorithm { md5, sha1, sha256, fnv1a32, murmur3_32, xxhash64 };

Algorithm parse_algorithm(std::string_view name);
std::string_view algorithm_name(Algorithm algorithm) noexcept;
bool is_digest(Algorithm algorithm) noexcept;
std::size_t digest_size(Algorithm algorithm);

inline constexpr std::uint32_t fnv_offset_basis = 0x811c9dc5U;
inline constexpr std::uint32_t fnv_prime = 0x01000193U;

// FNV-1a 32 over bytes. Every FNV function continues from `state`, so a key made of several
// parts hashes part by part without being copied together.
inline std::uint32_t fnv1a32(std::string_view bytes,
                             std::uint32_t state = fnv_offset_basis) noexcept {
    for (const char c : bytes) state = (state ^ static_cast<unsigned char>(c)) * fnv_prime;
    return state;
}

// FNV-1a 32 over the UTF-16 code units of UTF-8 text, as GrowthBook's JS SDK (charCodeAt)
// and its Python SDK since 4.0 do; throws InvalidArgument on malformed UTF-8.
std::uint32_t fnv1a32_utf16(std::string_view utf8, std::uint32_t state = fnv_offset_basis);
// FNV-1a 32 over Unicode code points (each XORed whole), as GrowthBook's Python SDK did
// before 4.0; differs from fnv1a32_utf16 only for characters outside the BMP (emoji).
std::uint32_t fnv1a32_code_points(std::string_view utf8, std::uint32_t state = fnv_offset_basis);
std::uint32_t murmur3_x86_32(std::string_view bytes, std::uint32_t seed) noexcept;
std::uint64_t xxhash64(std::string_view bytes, std::uint64_t seed) noexcept;

// A reusable OpenSSL digest context; one per thread (not thread-safe itself).
class Digester {
  public:
    explicit Digester(Algorithm algorithm);
    // Writes digest_size() bytes to out.
    void digest(std::string_view bytes, unsigned char* out);
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

  private:
    struct CtxFree {
        void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
    };
    const EVP_MD* md_;
    std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_;
    std::size_t size_;
};

}  // namespace lumengate::assign
