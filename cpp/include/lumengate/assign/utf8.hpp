#pragma once
// Strict UTF-8 decoding and encoding used by key extraction and code-point hashing.
#include <cstdint>
#include <string>
#include <string_view>

namespace lumengate::assign {

// Decodes one code point at pos (advancing it); throws InvalidArgument on malformed
// input (overlong forms, surrogates, truncation, values above U+10FFFF).
char32_t decode_utf8(std::string_view text, std::size_t& pos);

// Writes the UTF-8 form of cp to out (room for 4 bytes) and returns the bytes written;
// 0 for surrogates and values above U+10FFFF.
std::size_t encode_utf8(char* out, char32_t cp) noexcept;

}  // namespace lumengate::assign
