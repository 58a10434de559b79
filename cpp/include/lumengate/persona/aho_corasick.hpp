#pragma once
// A byte-level Aho-Corasick automaton: every occurrence of every pattern in one left-to-right
// pass. The goto function is completed into a dense table so matching is one lookup per byte.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lumengate::persona {

class AhoCorasick {
  public:
    AhoCorasick() = default;
    // Patterns must be non-empty; duplicates are allowed and each reports its own index.
    explicit AhoCorasick(std::vector<std::string> patterns);

    // Calls on_match(pattern_index, end) for every occurrence, `end` one past its last byte,
    // in order of `end`, then of pattern length (longest first) at the same end.
    template <typename F>
    void for_each_match(std::string_view text, F&& on_match) const {
        if (patterns_.empty()) return;
        std::uint32_t state = 0;
        for (std::size_t i = 0; i < text.size(); ++i) {
            state = delta_[state * 256U + static_cast<unsigned char>(text[i])];
            for (std::uint32_t node = terminal_[state] ? state : dict_link_[state]; node != 0;
                 node = dict_link_[node]) {
                for (std::uint32_t k = outputs_begin_[node]; k < outputs_begin_[node + 1]; ++k) {
                    on_match(outputs_[k], i + 1);
                }
            }
        }
    }

    [[nodiscard]] std::size_t size() const noexcept { return patterns_.size(); }
    [[nodiscard]] const std::string& pattern(std::size_t i) const { return patterns_.at(i); }

  private:
    std::vector<std::string> patterns_;
    std::vector<std::uint32_t> delta_;          // nodes × 256
    std::vector<std::uint32_t> dict_link_;      // nearest proper suffix that ends a pattern
    std::vector<std::uint8_t> terminal_;        // node ends at least one pattern
    std::vector<std::uint32_t> outputs_begin_;  // CSR offsets into outputs_, nodes + 1
    std::vector<std::uint32_t> outputs_;        // pattern indices ending exactly at each node
};

}  // namespace lumengate::persona
