#include "lumengate/persona/aho_corasick.hpp"

#include <deque>

#include "lumengate/common/error.hpp"

namespace lumengate::persona {

AhoCorasick::AhoCorasick(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {
    // Trie with sparse children first (0 = absent; the root is node 0 and never a child).
    std::vector<std::uint32_t> children(256, 0);
    std::vector<std::vector<std::uint32_t>> ends(1);
    for (std::size_t p = 0; p < patterns_.size(); ++p) {
        const std::string& pattern = patterns_[p];
        if (pattern.empty()) {
            throw InvalidArgument("patterns[" + std::to_string(p) + "]", "must not be empty");
        }
        std::uint32_t node = 0;
        for (const char c : pattern) {
            const std::size_t slot = node * 256U + static_cast<unsigned char>(c);
            if (children[slot] == 0) {
                children[slot] = static_cast<std::uint32_t>(ends.size());
                ends.emplace_back();
                children.resize(ends.size() * 256U, 0);
            }
            node = children[slot];
        }
        ends[node].push_back(static_cast<std::uint32_t>(p));
    }
    const std::size_t nodes = ends.size();
    delta_ = std::move(children);
    std::vector<std::uint32_t> fail(nodes, 0);
    dict_link_.assign(nodes, 0);
    terminal_.assign(nodes, 0);
    for (std::size_t n = 0; n < nodes; ++n) terminal_[n] = ends[n].empty() ? 0 : 1;
    // Breadth-first: a node's failure link is final before any deeper node reads it, so
    // missing edges can be filled from the failure node's (already complete) row.
    std::deque<std::uint32_t> queue;
    for (std::size_t c = 0; c < 256; ++c) {
        if (delta_[c] != 0) queue.push_back(delta_[c]);
    }
    while (!queue.empty()) {
        const std::uint32_t node = queue.front();
        queue.pop_front();
        const std::uint32_t f = fail[node];
        dict_link_[node] = terminal_[f] ? f : dict_link_[f];
        for (std::size_t c = 0; c < 256; ++c) {
            std::uint32_t& next = delta_[node * 256U + c];
            if (next != 0) {
                fail[next] = delta_[f * 256U + c];
                queue.push_back(next);
            } else {
                next = delta_[f * 256U + c];
            }
        }
    }
    outputs_begin_.assign(nodes + 1, 0);
    for (std::size_t n = 0; n < nodes; ++n) {
        outputs_begin_[n + 1] = outputs_begin_[n] + static_cast<std::uint32_t>(ends[n].size());
        outputs_.insert(outputs_.end(), ends[n].begin(), ends[n].end());
    }
}

}  // namespace lumengate::persona
