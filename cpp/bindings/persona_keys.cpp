#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "lumengate/common/error.hpp"
#include "lumengate/persona/keys.hpp"
#include "pybind.hpp"

namespace lumengate::bindings {
namespace {

using namespace lumengate::persona;
using Table = std::vector<std::tuple<std::string, std::string, double>>;

std::vector<Similarity> to_similarities(const Table& table) {
    std::vector<Similarity> out;
    out.reserve(table.size());
    for (const auto& [a, b, value] : table) out.push_back({a, b, value});
    return out;
}

Table to_table(const std::vector<Similarity>& pairs) {
    Table out;
    out.reserve(pairs.size());
    for (const auto& entry : pairs) out.emplace_back(entry.a, entry.b, entry.value);
    return out;
}

Part to_part(const std::string& name) {
    if (name == "tone") return Part::tone;
    if (name == "pace") return Part::pace;
    if (name == "intent") return Part::intent;
    throw InvalidArgument("part", "unknown part '" + name + "'; allowed: tone, pace, intent");
}

py::tuple key_tuple(const ResonanceKey& key) {
    py::list mappings;
    for (const auto& m : key.mappings) {
        mappings.append(py::make_tuple(m.part, m.given, m.mapped_to, m.reason));
    }
    return py::make_tuple(key.tone, key.pace, key.intent, mappings);
}

}  // namespace

void register_persona_keys(py::module_& m) {
    py::class_<Vocabulary, std::shared_ptr<Vocabulary>>(
        m, "Vocabulary", "Tones, ordered paces, intents, synonyms and similarity tables.")
        .def(py::init([](std::vector<std::string> tones, std::vector<std::string> paces,
                         std::vector<std::string> intents,
                         const std::vector<std::pair<std::string, std::string>>& synonyms,
                         const Table& tone_similarity, const Table& intent_similarity) {
                 return std::make_shared<Vocabulary>(
                     std::move(tones), std::move(paces), std::move(intents), synonyms,
                     to_similarities(tone_similarity), to_similarities(intent_similarity));
             }),
             "tones"_a, "paces"_a, "intents"_a, "synonyms"_a, "tone_similarity"_a,
             "intent_similarity"_a,
             "Validates and builds a vocabulary; synonyms are (word, value) pairs.")
        .def(
            "values",
            [](const Vocabulary& v, const std::string& part) { return v.values(to_part(part)); },
            "part"_a, "The allowed values of 'tone', 'pace' or 'intent', in vocabulary order.")
        .def_property_readonly("synonyms", &Vocabulary::synonyms,
                               "(normalised word, value) pairs in the order given.")
        .def(
            "similarities",
            [](const Vocabulary& v, const std::string& part) {
                return to_table(v.similarities(to_part(part)));
            },
            "part"_a, "The (a, b, value) pairs of the tone or intent similarity table.")
        .def(
            "similarity",
            [](const Vocabulary& v, const std::string& part, const std::string& a,
               const std::string& b) { return v.similarity(to_part(part), a, b); },
            "part"_a, "a"_a, "b"_a, "Similarity in [0, 1] of two values of one part.");

    m.def(
        "parse_resonance_key",
        [](const std::string& text, const Vocabulary& vocabulary, bool lenient) {
            ResonanceKey key;
            {
                // Only the copied text and the immutable vocabulary are read.
                py::gil_scoped_release release;
                key = parse(text, vocabulary, lenient);
            }
            return key_tuple(key);
        },
        "text"_a, "vocabulary"_a, "lenient"_a = false,
        "(tone, pace, intent, [(part, given, mapped_to, reason)]) of a resonance key.");

    m.def(
        "validate_resonance_key",
        [](const std::string& text, const Vocabulary& vocabulary) {
            std::vector<KeyProblem> problems;
            {
                // Only the copied text and the immutable vocabulary are read.
                py::gil_scoped_release release;
                problems = validate(text, vocabulary);
            }
            py::list out;
            for (const auto& p : problems) {
                out.append(py::make_tuple(p.part, p.given, p.message, p.allowed, p.suggestion));
            }
            return out;
        },
        "text"_a, "vocabulary"_a,
        "Every problem of a strict key as (part, given, message, allowed, suggestion).");

    m.def(
        "match_score",
        [](std::optional<std::string> tone, std::optional<std::string> pace,
           std::optional<std::string> intent, std::optional<std::string> profile_tone,
           std::optional<std::string> profile_pace, std::vector<std::string> profile_intents,
           const Vocabulary& vocabulary) {
            // A handful of table look-ups: releasing the GIL would cost more than the work.
            const ResonanceKey key{std::move(tone), std::move(pace), std::move(intent), {}};
            const Profile profile{std::move(profile_tone), std::move(profile_pace),
                                  std::move(profile_intents)};
            return match_score(key, profile, vocabulary);
        },
        "tone"_a, "pace"_a, "intent"_a, "profile_tone"_a, "profile_pace"_a, "profile_intents"_a,
        "vocabulary"_a, "Resonance match in [0, 1] of a key against a profile.");
}

}  // namespace lumengate::bindings
