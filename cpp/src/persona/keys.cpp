#include "lumengate/persona/keys.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <numeric>

#include "lumengate/assign/utf8.hpp"
#include "lumengate/common/error.hpp"

namespace lumengate::persona {
namespace {

constexpr Part all_parts[] = {Part::tone, Part::pace, Part::intent};

std::u32string decode(std::string_view text, const char* field) {
    std::u32string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        try {
            out.push_back(assign::decode_utf8(text, pos));
        } catch (const InvalidArgument&) {
            throw InvalidArgument(field,
                                  "is not valid UTF-8 (at byte " + std::to_string(pos) + ")");
        }
    }
    return out;
}

std::string encode(std::u32string_view text) {
    std::string out;
    out.reserve(text.size());
    char buffer[4];
    for (const char32_t cp : text) out.append(buffer, assign::encode_utf8(buffer, cp));
    return out;
}

bool is_blank(char32_t cp) {
    if (cp == U'\t' || cp == U'\n' || cp == U'\r' || cp == U'\v' || cp == U'\f' || cp == 0x85 ||
        cp == 0x2028 || cp == 0x2029) {
        return true;
    }
    return utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_ZS;
}

std::u32string trim(std::u32string_view text) {
    std::size_t begin = 0;
    std::size_t end = text.size();
    while (begin < end && is_blank(text[begin])) ++begin;
    while (end > begin && is_blank(text[end - 1])) --end;
    return std::u32string(text.substr(begin, end - begin));
}

// Trims, then turns every run of blanks, '-' and '_' inside into one '_': the canonical
// spelling of a multi-word value (`career planning`, `career-planning` → `career_planning`).
std::u32string join_words(std::u32string_view text, bool& had_separator) {
    const std::u32string trimmed = trim(text);
    std::u32string out;
    bool in_separator = false;
    had_separator = false;
    for (const char32_t cp : trimmed) {
        if (cp == U'-' || cp == U'_' || is_blank(cp)) {
            in_separator = true;
            continue;
        }
        if (in_separator && !out.empty()) {
            out.push_back(U'_');
            had_separator = true;
        }
        in_separator = false;
        out.push_back(cp);
    }
    return out;
}

std::string canonical(std::string_view text, const char* field, bool& had_separator) {
    return encode(join_words(decode(normalize_text(text, field), field), had_separator));
}

std::string canonical(std::string_view text, const char* field) {
    bool had_separator = false;
    return canonical(text, field, had_separator);
}

std::string join(const std::vector<std::string>& values) {
    std::string out;
    for (const auto& value : values) {
        if (!out.empty()) out += ", ";
        out += value;
    }
    return out;
}

std::string pair_key(const std::string& a, const std::string& b) {
    return a < b ? a + '\x1f' + b : b + '\x1f' + a;
}

bool is_identifier(const std::string& value) {
    if (value.empty() || value.front() < 'a' || value.front() > 'z') return false;
    return std::all_of(value.begin(), value.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

struct Resolved {
    std::optional<std::string> value;
    std::string reason;  // "", "synonym" or "edit_distance"
};

// The lenient reading of a normalised part: itself, a synonym, or the nearest value or
// synonym within edit distance 2 (smallest distance, then values in vocabulary order, then
// synonyms in the order given). A near miss keeps at least half of both words: with d edits,
// 2d is at most the shorter length in code points, so "clam" is calm but "f" is not fast and a
// two-letter word is not a two-syllable Korean synonym (every pair of those is 2 edits apart).
Resolved resolve(Part part, const std::string& normalized, const Vocabulary& vocabulary) {
    const auto& values = vocabulary.values(part);
    if (std::find(values.begin(), values.end(), normalized) != values.end()) {
        return {normalized, ""};
    }
    for (const auto& [word, value] : vocabulary.synonyms()) {
        if (word == normalized && vocabulary.part_of(value) == part) return {value, "synonym"};
    }
    const std::u32string given = decode(normalized, part_name(part));
    std::size_t best = 3;
    std::optional<std::string> best_value;
    const auto consider = [&](const std::string& candidate, const std::string& value) {
        const std::u32string word = decode(candidate, part_name(part));
        const std::size_t distance = edit_distance(given, word);
        if (2 * distance > std::min(given.size(), word.size())) return;
        if (distance < best) {
            best = distance;
            best_value = value;
        }
    };
    for (const auto& value : values) consider(value, value);
    for (const auto& [word, value] : vocabulary.synonyms()) {
        if (vocabulary.part_of(value) == part) consider(word, value);
    }
    if (best_value) return {best_value, "edit_distance"};
    return {};
}

struct Analysis {
    ResonanceKey key;
    std::vector<KeyProblem> problems;
    std::vector<std::string> details;  // each problem's message without its part prefix
};

void add_problem(Analysis& analysis, const std::string& part, const std::string& given,
                 const std::string& detail, std::vector<std::string> allowed,
                 std::string suggestion = {}) {
    analysis.problems.push_back(
        {part, given, part + ": " + detail, std::move(allowed), std::move(suggestion)});
    analysis.details.push_back(detail);
}

const char* const key_shapes =
    "a key fills from the left: tone, tone-pace or tone-pace-intent (e.g. calm-slow-learn)";

std::optional<std::string> read_part(Analysis& analysis, Part part, std::string_view raw,
                                     std::string_view whole, const Vocabulary& vocabulary,
                                     bool lenient) {
    const char* name = part_name(part);
    const std::string given = encode(trim(decode(raw, name)));
    const auto& allowed = vocabulary.values(part);
    bool had_separator = false;
    const std::string normalized = canonical(given, name, had_separator);
    if (normalized.empty()) {
        add_problem(analysis, name, given,
                    "is empty in '" + std::string(whole) + "'; " + key_shapes, allowed);
        return std::nullopt;
    }
    const Resolved resolved = resolve(part, normalized, vocabulary);
    if (resolved.value && resolved.reason.empty()) return resolved.value;
    if (resolved.value && lenient) {
        analysis.key.mappings.push_back({name, given, *resolved.value, resolved.reason});
        return resolved.value;
    }
    std::string detail = "unknown " + std::string(name) + " '" + given + "'";
    if (had_separator && part != Part::intent) {
        detail = "'" + given + "' is not a single word (parts are separated by '-')";
    }
    detail += "; allowed: " + join(allowed);
    std::string suggestion;
    if (resolved.value) {
        suggestion = *resolved.value;
        detail += " (lenient mode maps it to '" + suggestion + "' by " +
                  (resolved.reason == "synonym" ? "synonym" : "edit distance") + ")";
    }
    add_problem(analysis, name, given, detail, allowed, suggestion);
    return std::nullopt;
}

Analysis analyse(std::string_view text, const Vocabulary& vocabulary, bool lenient) {
    Analysis analysis;
    if (text.size() > max_key_bytes) {
        // Quote the start, cut on a code point boundary so that the quote stays valid UTF-8.
        std::size_t cut = 32;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) --cut;
        add_problem(analysis, "key", std::string(text.substr(0, cut)) + "...",
                    "is " + std::to_string(text.size()) + " bytes; keys are at most " +
                        std::to_string(max_key_bytes) + " bytes",
                    {});
        return analysis;
    }
    // Validates the whole text once, so each part below is known to be valid UTF-8.
    const std::u32string whole = trim(decode(normalize_text(text, "key"), "key"));
    if (whole.empty()) {
        add_problem(analysis, "key", std::string(text),
                    std::string("is empty or blank; ") + key_shapes, {});
        return analysis;
    }
    // '-' is ASCII and never part of a multi-byte sequence, so splitting the raw bytes keeps
    // each part's text exactly as the user typed it.
    const std::size_t first = text.find('-');
    const std::string_view tone = text.substr(0, first);
    analysis.key.tone = read_part(analysis, Part::tone, tone, text, vocabulary, lenient);
    if (first == std::string_view::npos) return analysis;
    const std::string_view rest = text.substr(first + 1);
    const std::size_t second = rest.find('-');
    analysis.key.pace =
        read_part(analysis, Part::pace, rest.substr(0, second), text, vocabulary, lenient);
    if (second == std::string_view::npos) return analysis;
    analysis.key.intent =
        read_part(analysis, Part::intent, rest.substr(second + 1), text, vocabulary, lenient);
    return analysis;
}

}  // namespace

const char* part_name(Part part) noexcept {
    switch (part) {
        case Part::tone:
            return "tone";
        case Part::pace:
            return "pace";
        case Part::intent:
            return "intent";
    }
    return "part";
}

std::string normalize_text(std::string_view text, const char* field) {
    utf8proc_uint8_t* mapped = nullptr;
    const auto options =
        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    const utf8proc_ssize_t length =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                     static_cast<utf8proc_ssize_t>(text.size()), &mapped, options);
    if (length < 0) {
        throw InvalidArgument(field,
                              std::string("is not valid UTF-8 (") + utf8proc_errmsg(length) + ")");
    }
    const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owner(mapped, &std::free);
    return {reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(length)};
}

std::size_t edit_distance(std::u32string_view a, std::u32string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] =
                std::min({above + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

Vocabulary::Vocabulary(std::vector<std::string> tones, std::vector<std::string> paces,
                       std::vector<std::string> intents,
                       const std::vector<std::pair<std::string, std::string>>& synonyms,
                       const std::vector<Similarity>& tone_similarity,
                       const std::vector<Similarity>& intent_similarity)
    : tones_(std::move(tones)), paces_(std::move(paces)), intents_(std::move(intents)) {
    for (const Part part : all_parts) {
        const auto& list = values(part);
        const std::string field = std::string(part_name(part)) + "s";
        if (list.empty()) throw InvalidArgument(field, "must name at least one value");
        for (std::size_t i = 0; i < list.size(); ++i) {
            const std::string& value = list[i];
            if (!is_identifier(value)) {
                throw InvalidArgument(field, "'" + value +
                                                 "' is not a lowercase identifier "
                                                 "([a-z][a-z0-9_]*)");
            }
            const auto [it, inserted] = index_.emplace(value, std::make_pair(part, i));
            if (!inserted) {
                throw InvalidArgument(field, "'" + value + "' is already a " +
                                                 part_name(it->second.first) +
                                                 "; values must be unique across parts");
            }
        }
    }
    for (const auto& [word, value] : synonyms) {
        const std::string key = canonical(word, "synonyms");
        if (key.empty()) throw InvalidArgument("synonyms", "a synonym is empty or blank");
        if (!index_.contains(value)) {
            throw InvalidArgument("synonyms", "'" + word + "' maps to '" + value +
                                                  "', which is not a tone, pace or intent");
        }
        if (index_.contains(key)) {
            throw InvalidArgument("synonyms",
                                  "'" + word + "' is already a value of the vocabulary");
        }
        const auto same = std::find_if(synonyms_.begin(), synonyms_.end(),
                                       [&](const auto& entry) { return entry.first == key; });
        if (same != synonyms_.end()) {
            if (same->second == value) continue;
            throw InvalidArgument("synonyms", "'" + word + "' maps to both '" + same->second +
                                                  "' and '" + value + "'");
        }
        synonyms_.emplace_back(key, value);
    }
    const auto add_table = [&](Part part, const std::vector<Similarity>& pairs,
                               std::vector<Similarity>& kept) {
        const std::string field = std::string(part_name(part)) + "_similarity";
        for (const auto& entry : pairs) {
            for (const auto* value : {&entry.a, &entry.b}) {
                if (index_of(part, *value) == std::nullopt) {
                    throw InvalidArgument(field, "'" + *value + "' is not a " + part_name(part) +
                                                     "; allowed: " + join(values(part)));
                }
            }
            if (entry.a == entry.b) {
                throw InvalidArgument(field, "'" + entry.a + "' with itself is always 1");
            }
            if (!std::isfinite(entry.value) || entry.value < 0.0 || entry.value > 1.0) {
                throw InvalidArgument(field, "(" + entry.a + ", " + entry.b +
                                                 ") = " + std::to_string(entry.value) +
                                                 " is outside [0, 1]");
            }
            if (!table_.emplace(pair_key(entry.a, entry.b), entry.value).second) {
                throw InvalidArgument(field, "(" + entry.a + ", " + entry.b + ") is given twice");
            }
            kept.push_back(entry);
        }
    };
    add_table(Part::tone, tone_similarity, tone_pairs_);
    add_table(Part::intent, intent_similarity, intent_pairs_);
}

const std::vector<std::string>& Vocabulary::values(Part part) const noexcept {
    switch (part) {
        case Part::tone:
            return tones_;
        case Part::pace:
            return paces_;
        case Part::intent:
            return intents_;
    }
    return tones_;
}

const std::vector<Similarity>& Vocabulary::similarities(Part part) const {
    if (part == Part::pace) {
        throw InvalidArgument("part", "pace similarity is ordinal and has no table");
    }
    return part == Part::tone ? tone_pairs_ : intent_pairs_;
}

std::optional<Part> Vocabulary::part_of(const std::string& value) const {
    const auto it = index_.find(value);
    if (it == index_.end()) return std::nullopt;
    return it->second.first;
}

std::optional<std::size_t> Vocabulary::index_of(Part part, const std::string& value) const {
    const auto it = index_.find(value);
    if (it == index_.end() || it->second.first != part) return std::nullopt;
    return it->second.second;
}

double Vocabulary::similarity(Part part, const std::string& a, const std::string& b) const {
    const auto i = index_of(part, a);
    const auto j = index_of(part, b);
    for (const auto& [index, value] : {std::pair{i, &a}, std::pair{j, &b}}) {
        if (!index) {
            throw InvalidArgument(part_name(part), "unknown " + std::string(part_name(part)) +
                                                       " '" + *value +
                                                       "'; allowed: " + join(values(part)));
        }
    }
    if (*i == *j) return 1.0;
    if (part == Part::pace) {
        if (paces_.size() < 2) return 1.0;
        const double delta = std::abs(static_cast<double>(*i) - static_cast<double>(*j));
        return 1.0 - delta / static_cast<double>(paces_.size() - 1);
    }
    const auto it = table_.find(pair_key(a, b));
    return it == table_.end() ? 0.0 : it->second;
}

std::vector<KeyProblem> validate(std::string_view text, const Vocabulary& vocabulary) {
    return analyse(text, vocabulary, false).problems;
}

ResonanceKey parse(std::string_view text, const Vocabulary& vocabulary, bool lenient) {
    Analysis analysis = analyse(text, vocabulary, lenient);
    if (!analysis.problems.empty()) {
        std::string message = analysis.details.front();
        for (std::size_t i = 1; i < analysis.problems.size(); ++i) {
            message += "; also " + analysis.problems[i].message;
        }
        throw ParseError(analysis.problems.front().part, message);
    }
    return std::move(analysis.key);
}

double match_score(const ResonanceKey& key, const Profile& profile, const Vocabulary& vocabulary) {
    double total = 0.0;
    int compared = 0;
    if (key.tone && profile.tone) {
        total += vocabulary.similarity(Part::tone, *key.tone, *profile.tone);
        ++compared;
    }
    if (key.pace && profile.pace) {
        total += vocabulary.similarity(Part::pace, *key.pace, *profile.pace);
        ++compared;
    }
    if (key.intent && !profile.intents.empty()) {
        double best = 0.0;
        for (const auto& intent : profile.intents) {
            best = std::max(best, vocabulary.similarity(Part::intent, *key.intent, intent));
        }
        total += best;
        ++compared;
    }
    return compared == 0 ? 0.5 : total / compared;
}

}  // namespace lumengate::persona
