#pragma once
// Resonance keys: `tone-pace-intent` parsed against a vocabulary, with strict and lenient
// modes, a full list of problems for validation, and a match score against a profile.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace lumengate::persona {

// NFC-normalises and case-folds UTF-8 text (utf8proc) so that decomposed Hangul and any
// letter case compare equal; throws InvalidArgument(field) on invalid UTF-8.
std::string normalize_text(std::string_view text, const char* field);

// Levenshtein distance over code points (not bytes), so one Hangul syllable is one edit.
std::size_t edit_distance(std::u32string_view a, std::u32string_view b);

// A similarity between two different values of one part; missing pairs are 0, a value
// with itself is 1, and (a, b) means (b, a) too.
struct Similarity {
    std::string a;
    std::string b;
    double value = 0.0;
};

enum class Part { tone, pace, intent };
const char* part_name(Part part) noexcept;

// The allowed tones, paces (ordered slow to fast) and intents, synonyms mapping other
// words (any language) to them, and the tone and intent similarity tables. Immutable once
// built, so one instance can be shared by any number of threads.
class Vocabulary {
  public:
    Vocabulary(std::vector<std::string> tones, std::vector<std::string> paces,
               std::vector<std::string> intents,
               const std::vector<std::pair<std::string, std::string>>& synonyms,
               const std::vector<Similarity>& tone_similarity,
               const std::vector<Similarity>& intent_similarity);

    [[nodiscard]] const std::vector<std::string>& values(Part part) const noexcept;
    // Synonyms as given, keyed by their normalised form, in the order they were given.
    [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& synonyms()
        const noexcept {
        return synonyms_;
    }
    [[nodiscard]] const std::vector<Similarity>& similarities(Part part) const;
    [[nodiscard]] std::optional<Part> part_of(const std::string& value) const;
    [[nodiscard]] std::optional<std::size_t> index_of(Part part, const std::string& value) const;
    // Tone and intent from the tables; pace as 1 - |i - j| / (paces - 1).
    [[nodiscard]] double similarity(Part part, const std::string& a, const std::string& b) const;

  private:
    std::vector<std::string> tones_;
    std::vector<std::string> paces_;
    std::vector<std::string> intents_;
    std::vector<std::pair<std::string, std::string>> synonyms_;
    std::vector<Similarity> tone_pairs_;
    std::vector<Similarity> intent_pairs_;
    std::unordered_map<std::string, std::pair<Part, std::size_t>> index_;
    std::unordered_map<std::string, double> table_;
};

struct KeyMapping {
    std::string part;
    std::string given;
    std::string mapped_to;
    std::string reason;  // "synonym" or "edit_distance"
};

struct KeyProblem {
    std::string part;  // "key", "tone", "pace" or "intent"
    std::string given;
    std::string message;
    std::vector<std::string> allowed;
    std::string suggestion;  // what lenient parsing maps the value to, or empty
};

struct ResonanceKey {
    std::optional<std::string> tone;
    std::optional<std::string> pace;
    std::optional<std::string> intent;
    std::vector<KeyMapping> mappings;
};

// Longest key text accepted, in bytes; keys are a few words.
inline constexpr std::size_t max_key_bytes = 256;

// Every problem of the text as a strict key; empty when parse(text, vocabulary, false)
// succeeds. Each problem carries the lenient mapping as its suggestion when there is one.
std::vector<KeyProblem> validate(std::string_view text, const Vocabulary& vocabulary);

// The key; throws ParseError(part) listing every problem (and the allowed values) when the
// text is not a key. Lenient mode maps synonyms and values within edit distance 2 (smallest
// distance first, then vocabulary order, then synonyms in order) and reports each mapping.
ResonanceKey parse(std::string_view text, const Vocabulary& vocabulary, bool lenient);

// The preferred resonance of a persona, or another key: any part may be unset.
struct Profile {
    std::optional<std::string> tone;
    std::optional<std::string> pace;
    std::vector<std::string> intents;
};

// Mean over the parts set in both key and profile of the per-part similarity (intent: the
// best over the profile's intents); 0.5 when no part can be compared. Throws
// InvalidArgument for values outside the vocabulary.
double match_score(const ResonanceKey& key, const Profile& profile, const Vocabulary& vocabulary);

}  // namespace lumengate::persona
