#pragma once
// The crisis stage: a conservative phrase lexicon (self-harm, suicide, abuse; Korean and
// English) run before the model. It is fixed in code so no fit, calibration or threshold can
// switch it off.
#include <string>
#include <string_view>
#include <vector>

#include "lumengate/persona/aho_corasick.hpp"

namespace lumengate::persona {

class CrisisDetector {
  public:
    CrisisDetector();
    // The built-in phrases that occur in normalised text (empty: no crisis language).
    [[nodiscard]] std::vector<std::string> matches(std::string_view normalized) const;
    [[nodiscard]] bool detect(std::string_view normalized) const;
    [[nodiscard]] const std::vector<std::string>& phrases() const noexcept { return phrases_; }
    // The fixed text shown to the user when crisis language is found.
    static const std::string& safe_response();
    // The one shared instance (immutable once built).
    static const CrisisDetector& instance();

  private:
    template <typename F>
    void scan(std::string_view normalized, F&& on_phrase) const;
    std::vector<std::string> phrases_;
    std::vector<bool> latin_start_;
    AhoCorasick automaton_;
    AhoCorasick exclusions_;
    std::vector<std::size_t> exclusion_lengths_;
};

}  // namespace lumengate::persona
