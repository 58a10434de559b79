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

bool is_space(char32_t cp) noexcept;

// Letters and digits of Latin script (ASCII, Latin-1 and Latin Extended): the characters
// that make two Latin runs one word, so "log" is not found inside "catalog".
bool is_latin_word_char(char32_t cp) noexcept;

}  // namespace lumengate::persona
