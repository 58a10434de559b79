#include "lumengate/common/tokens.hpp"

#include <string>

#include "lumengate/assign/utf8.hpp"
#include "lumengate/common/error.hpp"

namespace lumengate::common {

namespace {

enum class Run { none, latin, digits };

bool is_latin_letter(char32_t cp) {
    return (cp >= U'a' && cp <= U'z') || (cp >= U'A' && cp <= U'Z') || cp == U'\'' ||
           (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7);
}

bool is_space(char32_t cp) {
    return cp == U' ' || cp == U'\t' || cp == U'\n' || cp == U'\r' || cp == U'\f' || cp == U'\v' ||
           cp == 0xA0 || cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200B);
}

std::size_t run_cost(Run run, std::size_t length) {
    switch (run) {
        case Run::latin:
            return length <= 6 ? 1 : 1 + (length - 6 + 3) / 4;
        case Run::digits:
            return (length + 2) / 3;
        case Run::none:
            return 0;
    }
    return 0;
}

}  // namespace

std::size_t estimate_tokens(std::string_view text, const char* field) {
    std::size_t tokens = 0;
    Run run = Run::none;
    std::size_t run_length = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        char32_t cp = 0;
        const std::size_t start = pos;
        try {
            cp = assign::decode_utf8(text, pos);
        } catch (const InvalidArgument&) {
            throw InvalidArgument(field,
                                  "is not valid UTF-8 (at byte " + std::to_string(start) + ")");
        }
        Run kind = Run::none;
        if (is_latin_letter(cp)) {
            kind = Run::latin;
        } else if (cp >= U'0' && cp <= U'9') {
            kind = Run::digits;
        }
        if (kind != run) {
            tokens += run_cost(run, run_length);
            run = kind;
            run_length = 0;
        }
        if (kind != Run::none) {
            ++run_length;
        } else if (!is_space(cp)) {
            ++tokens;
        }
    }
    return tokens + run_cost(run, run_length);
}

}  // namespace lumengate::common
