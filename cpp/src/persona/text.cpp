#include "lumengate/persona/text.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "lumengate/assign/utf8.hpp"
#include "lumengate/common/error.hpp"

namespace lumengate::persona {

namespace {

std::string nfc_casefold(std::string_view text, const std::string& field) {
    utf8proc_uint8_t* out = nullptr;
    const auto options =
        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    const utf8proc_ssize_t n =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                     static_cast<utf8proc_ssize_t>(text.size()), &out, options);
    std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
    if (n < 0) {
        throw InvalidArgument(field, std::string("could not be normalised: ") + utf8proc_errmsg(n));
    }
    return {reinterpret_cast<const char*>(out), static_cast<std::size_t>(n)};
}

// Nothing a reader sees, so a query made only of these is blank: whitespace, control and
// format characters, Unicode's default-ignorable code points (zero-width space, byte order
// mark, soft hyphen, the Hangul fillers U+3164 / U+115F / U+FFA0 that Korean apps use as an
// "empty" character, variation selectors...) and the blank Braille pattern U+2800.
bool is_blank(char32_t cp) noexcept {
    if (cp <= 0x20U || cp == 0x7FU || cp == 0x2800U) return true;
    if (is_space(cp)) return true;
    const auto point = static_cast<utf8proc_int32_t>(cp);
    const auto category = utf8proc_category(point);
    return category == UTF8PROC_CATEGORY_CC || category == UTF8PROC_CATEGORY_CF ||
           utf8proc_get_property(point)->ignorable;
}

// Position of the first malformed sequence, or npos; `only_blank` tells whether every code
// point is blank.
std::size_t first_invalid_byte(std::string_view text, bool& only_blank) {
    only_blank = true;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t start = pos;
        try {
            const char32_t cp = assign::decode_utf8(text, pos);
            if (!is_blank(cp)) only_blank = false;
        } catch (const InvalidArgument&) {
            return start;
        }
    }
    return std::string_view::npos;
}

// The common case without utf8proc: text made only of ASCII and precomposed Hangul syllables
// (U+AC00..U+D7A3) and not only blanks. NFC leaves such text unchanged (a syllable only
// composes with a following conjoining jamo, which is not in this set) and case folding only
// lowers A-Z, so the result equals utf8proc's. Anything else returns false and takes the full
// path, which also reports invalid UTF-8.
bool fold_common(std::string_view text, std::string& out) {
    out.resize(text.size());
    bool only_blank = true;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80U) {
            // ASCII's blanks: the space and the control characters, whitespace or not.
            only_blank = only_blank && (b <= 0x20U || b == 0x7FU);
            out[i] = static_cast<char>(b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b);
            ++i;
            continue;
        }
        // Hangul syllables are EA B0 80 .. ED 9E A3 in UTF-8.
        if (b < 0xEAU || b > 0xEDU || i + 3 > text.size()) return false;
        const auto b1 = static_cast<unsigned char>(text[i + 1]);
        const auto b2 = static_cast<unsigned char>(text[i + 2]);
        if ((b1 & 0xC0U) != 0x80U || (b2 & 0xC0U) != 0x80U) return false;
        const char32_t cp = (static_cast<char32_t>(b & 0x0FU) << 12U) |
                            (static_cast<char32_t>(b1 & 0x3FU) << 6U) | (b2 & 0x3FU);
        if (cp < 0xAC00 || cp > 0xD7A3) return false;
        out[i] = static_cast<char>(b);
        out[i + 1] = static_cast<char>(b1);
        out[i + 2] = static_cast<char>(b2);
        only_blank = false;
        i += 3;
    }
    return !only_blank;
}

}  // namespace

bool is_space_beyond_ascii(char32_t cp) noexcept {
    if (cp == 0x85) return true;
    const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    return category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL ||
           category == UTF8PROC_CATEGORY_ZP;
}

bool is_latin_word_char(char32_t cp) noexcept {
    if ((cp >= U'a' && cp <= U'z') || (cp >= U'A' && cp <= U'Z') || (cp >= U'0' && cp <= U'9')) {
        return true;
    }
    return (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7);
}

std::string normalize_query(std::string_view text, std::size_t max_bytes,
                            const std::string& field) {
    if (text.empty()) throw InvalidArgument(field, "must not be empty");
    if (text.size() > max_bytes) {
        throw InvalidArgument(field, "is " + std::to_string(text.size()) +
                                         " bytes, over the limit of " + std::to_string(max_bytes) +
                                         " bytes (max_query_bytes)");
    }
    std::string out;
    if (fold_common(text, out)) return out;
    bool only_blank = true;
    const std::size_t bad = first_invalid_byte(text, only_blank);
    if (bad != std::string_view::npos) {
        throw InvalidArgument(field, "is not valid UTF-8 (at byte " + std::to_string(bad) + ")");
    }
    if (only_blank) {
        throw InvalidArgument(field,
                              "must not be only whitespace or invisible characters (control, "
                              "format or default-ignorable characters such as U+200B or U+3164)");
    }
    return nfc_casefold(text, field);
}

std::string fold(std::string_view text, const std::string& field) {
    bool only_blank = true;
    const std::size_t bad = first_invalid_byte(text, only_blank);
    if (bad != std::string_view::npos) {
        throw InvalidArgument(field, "is not valid UTF-8 (at byte " + std::to_string(bad) + ")");
    }
    return nfc_casefold(text, field);
}

std::vector<char32_t> code_points(std::string_view text) {
    std::vector<char32_t> out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) out.push_back(assign::decode_utf8(text, pos));
    return out;
}

}  // namespace lumengate::persona
