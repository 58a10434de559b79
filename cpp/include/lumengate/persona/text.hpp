#pragma once
// Query text as the router sees it: validated, NFC-normalised and case-folded (utf8proc),
// so decomposed Hangul jamo, full-width forms typed by IMEs and capitals all match the lexicon.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lumengate::persona {

inline constexpr std::size_t default_max_query_bytes = 4096;

// Rejects empty, whitespace-only, over-long (> max_bytes) and invalid UTF-8 text with an
// InvalidArgument naming `field`, then returns the NFC, case-folded form.
std::string normalize_query(std::string_view text, std::size_t max_bytes, const std::string& field);

// NFC + case folding of trusted text (keywords); throws on invalid UTF-8.
std::string fold(std::string_view text, const std::string& field);

// Code points of valid UTF-8 (the caller has validated it).
std::vector<char32_t> code_points(std::string_view text);

// Whitespace as Unicode's Zs/Zl/Zp categories plus the ASCII controls Python's str.split
// treats as blanks; ASCII is decided inline, the rest by utf8proc.
bool is_space_beyond_ascii(char32_t cp) noexcept;
inline bool is_space(char32_t cp) noexcept {
    if (cp < 0x80U)
        return cp == U' ' || (cp >= 0x09U && cp <= 0x0DU) || (cp >= 0x1CU && cp <= 0x1FU);
    return is_space_beyond_ascii(cp);
}

// Decodes the code point at `pos` of text already validated as UTF-8 and advances `pos`;
// no checks, so the hot loops over normalised text stay branch-light and inline.
inline char32_t decode_valid(std::string_view text, std::size_t& pos) noexcept {
    const auto b0 = static_cast<unsigned char>(text[pos]);
    if (b0 < 0x80U) {
        ++pos;
        return b0;
    }
    const auto next = [&](std::size_t i) {
        return static_cast<char32_t>(static_cast<unsigned char>(text[pos + i]) & 0x3FU);
    };
    char32_t cp = 0;
    if (b0 < 0xE0U) {
        cp = (static_cast<char32_t>(b0 & 0x1FU) << 6U) | next(1);
        pos += 2;
    } else if (b0 < 0xF0U) {
        cp = (static_cast<char32_t>(b0 & 0x0FU) << 12U) | (next(1) << 6U) | next(2);
        pos += 3;
    } else {
        cp = (static_cast<char32_t>(b0 & 0x07U) << 18U) | (next(1) << 12U) | (next(2) << 6U) |
             next(3);
        pos += 4;
    }
    return cp;
}

// Letters and digits of Latin script (ASCII, Latin-1 and Latin Extended): the characters
// that make two Latin runs one word, so "log" is not found inside "catalog".
bool is_latin_word_char(char32_t cp) noexcept;

}  // namespace lumengate::persona
