#pragma once
// A byte-level Aho-Corasick automaton: every occurrence of every pattern in one left-to-right
// pass. The goto function is completed into a dense table so matching is one lookup per byte.
#include <array>
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
        if (!wide_.empty()) {
            run(wide_, text, on_match);
        } else {
            run(narrow_, text, on_match);
        }
    }

    [[nodiscard]] std::size_t size() const noexcept { return patterns_.size(); }
    [[nodiscard]] const std::string& pattern(std::size_t i) const { return patterns_.at(i); }

  private:
    // Nodes are numbered breadth-first. The first dense_ (depth <= kDenseDepth, where most
    // steps are) have a full row of the completed goto function, one column per byte class
    // (each byte that occurs in a pattern has its own class; every other byte is class 0 and
    // leads back to the root). An entry is the next node shifted left by one, with the low bit
    // set when that node reports a match (it ends a pattern or has a dictionary link), so the
    // common step is one load; 16-bit entries when the nodes fit. Deeper nodes keep only their
    // trie edges and follow failure links to a shallower node on a miss, which keeps the
    // tables small enough to stay in cache.
    static constexpr std::uint32_t kDenseDepth = 3;

    template <typename State, typename F>
    void run(const std::vector<State>& table, std::string_view text, F& on_match) const {
        std::uint32_t state = 0;
        for (std::size_t i = 0; i < text.size(); ++i) {
            const std::uint32_t cls = class_of_[static_cast<unsigned char>(text[i])];
            bool reports = false;
            for (std::uint32_t s = state;;) {
                if (s < dense_) {
                    const State entry = table[s * classes_ + cls];
                    state = static_cast<std::uint32_t>(entry >> 1U);
                    reports = (entry & 1U) != 0;
                    break;
                }
                const std::uint32_t k = s - dense_;
                std::uint32_t j = edges_begin_[k];
                const std::uint32_t end = edges_begin_[k + 1];
                while (j < end && edge_class_[j] != cls) ++j;
                if (j < end) {
                    state = edge_target_[j];
                    reports = reports_[state] != 0;
                    break;
                }
                s = sparse_fail_[k];
            }
            if (!reports) continue;
            for (std::uint32_t node = terminal_[state] ? state : dict_link_[state]; node != 0;
                 node = dict_link_[node]) {
                for (std::uint32_t k = outputs_begin_[node]; k < outputs_begin_[node + 1]; ++k) {
                    on_match(outputs_[k], i + 1);
                }
            }
        }
    }

    std::vector<std::string> patterns_;
    std::array<std::uint8_t, 256> class_of_{};
    std::uint32_t classes_ = 1;
    std::uint32_t dense_ = 0;
    std::vector<std::uint16_t> narrow_;       // dense nodes × classes, when nodes < 2^15
    std::vector<std::uint32_t> wide_;         // dense nodes × classes, otherwise
    std::vector<std::uint32_t> sparse_fail_;  // per deeper node: its failure link
    std::vector<std::uint32_t> edges_begin_;  // per deeper node: CSR offsets into edge_*
    std::vector<std::uint8_t> edge_class_;    // trie edges of the deeper nodes
    std::vector<std::uint32_t> edge_target_;
    std::vector<std::uint8_t> reports_;         // node ends a pattern or has a dictionary link
    std::vector<std::uint32_t> dict_link_;      // nearest proper suffix that ends a pattern
    std::vector<std::uint8_t> terminal_;        // node ends at least one pattern
    std::vector<std::uint32_t> outputs_begin_;  // CSR offsets into outputs_, nodes + 1
    std::vector<std::uint32_t> outputs_;        // pattern indices ending exactly at each node
};

}  // namespace lumengate::persona
