#pragma once
// The crisis stage: self-harm, suicide and abuse language in Korean and English, run before the
// model. It is fixed in code (a curated lexicon, first-person and abuse patterns, and a small
// learned character n-gram model generated into the build) so no fit, calibration or threshold
// of the router can switch it off.
//
// Conservative by design: a strong phrase or a first-person pattern always fires; look-alike
// framing ("essay about", "suicide prevention hotline", "kill -9", helping a friend) can veto
// only the weakest evidence (a bare topic word, a scene-like cue pair, a Korean crisis phrase
// said of someone else, or the learned score alone).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lumengate/persona/aho_corasick.hpp"

namespace lumengate::persona {

// What the fixed (non-learned) part of the stage found in a text.
struct CrisisVerdict {
    bool strong = false;   // a strong phrase or a first-person / abuse pattern: always fires
    bool weak = false;     // a topic word that fires unless framing vetoes it
    bool framing = false;  // look-alike framing: vetoes weak phrases and the learned score
};

class CrisisDetector {
  public:
    CrisisDetector();
    // Why normalised text counts as crisis language: the lexicon phrases found, the patterns
    // matched ("pattern: i … die") and, when only the learned model fired, its probability
    // ("model: 0.93"). Empty: no crisis language.
    [[nodiscard]] std::vector<std::string> matches(std::string_view normalized) const;
    [[nodiscard]] bool detect(std::string_view normalized) const;
    // Probability from the learned character n-gram model alone, in [0, 1].
    [[nodiscard]] double model_score(std::string_view normalized) const;
    // The model fires at or above this probability (chosen by cross-validation for recall).
    [[nodiscard]] static double model_threshold() noexcept;
    // The lexicon and patterns alone, without the learned model.
    [[nodiscard]] CrisisVerdict lexicon(std::string_view normalized) const;
    [[nodiscard]] const std::vector<std::string>& phrases() const noexcept { return phrases_; }
    // Normalised text as the stage reads it: whitespace runs become one space and a space
    // between two Hangul characters is dropped, so Korean spacing variants read alike.
    [[nodiscard]] static std::string compact(std::string_view normalized);
    // The fixed text shown to the user when crisis language is found.
    static const std::string& safe_response();
    // The one shared instance (immutable once built).
    static const CrisisDetector& instance();

    enum class Kind : std::uint8_t { strong, weak, framing, excluded, cue_first, cue_second };

  private:
    CrisisVerdict analyse(std::string_view compacted, std::vector<std::string>* evidence,
                          bool stop_at_strong) const;
    bool decide(const CrisisVerdict& v, std::string_view compacted,
                std::vector<std::string>* evidence) const;
    [[nodiscard]] double logit(std::string_view compacted) const;

    std::vector<std::string> phrases_;  // strong and weak lexicon phrases, compacted
    std::vector<std::string> patterns_;
    std::vector<Kind> kinds_;
    std::vector<std::uint8_t> latin_start_;
    AhoCorasick automaton_;
    std::vector<float> weights_;  // learned model, one weight per hashed n-gram bucket
};

}  // namespace lumengate::persona
