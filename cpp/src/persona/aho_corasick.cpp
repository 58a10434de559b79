#include "lumengate/persona/aho_corasick.hpp"

#include <array>
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
    std::vector<std::uint32_t> delta = std::move(children);
    std::vector<std::uint32_t> fail(nodes, 0);
    dict_link_.assign(nodes, 0);
    terminal_.assign(nodes, 0);
    for (std::size_t n = 0; n < nodes; ++n) terminal_[n] = ends[n].empty() ? 0 : 1;
    // Breadth-first: a node's failure link is final before any deeper node reads it, so
    // missing edges can be filled from the failure node's (already complete) row.
    std::deque<std::uint32_t> queue;
    for (std::size_t c = 0; c < 256; ++c) {
        if (delta[c] != 0) queue.push_back(delta[c]);
    }
    while (!queue.empty()) {
        const std::uint32_t node = queue.front();
        queue.pop_front();
        const std::uint32_t f = fail[node];
        dict_link_[node] = terminal_[f] ? f : dict_link_[f];
        for (std::size_t c = 0; c < 256; ++c) {
            std::uint32_t& next = delta[node * 256U + c];
            if (next != 0) {
                fail[next] = delta[f * 256U + c];
                queue.push_back(next);
            } else {
                next = delta[f * 256U + c];
            }
        }
    }
    // Byte classes: a byte in no pattern has no edge anywhere, so its completed column is all
    // root and one shared class 0 serves every such byte.
    std::array<bool, 256> used{};
    for (const std::string& pattern : patterns_) {
        for (const char c : pattern) used[static_cast<unsigned char>(c)] = true;
    }
    class_of_.fill(0);
    std::vector<std::size_t> byte_of_class(1, 0);
    for (std::size_t b = 0; b < 256; ++b) {
        if (!used[b]) continue;
        class_of_[b] = static_cast<std::uint8_t>(byte_of_class.size());
        byte_of_class.push_back(b);
    }
    classes_ = static_cast<std::uint32_t>(byte_of_class.size());
    std::vector<std::uint8_t> reports(nodes, 0);
    for (std::size_t n = 0; n < nodes; ++n) {
        reports[n] = (terminal_[n] != 0 || dict_link_[n] != 0) ? 1 : 0;
    }
    const auto entry = [&](std::size_t node, std::size_t cls) -> std::uint32_t {
        if (cls == 0) return 0;  // the root reports nothing
        const std::uint32_t next = delta[node * 256U + byte_of_class[cls]];
        return (next << 1U) | reports[next];
    };
    const bool narrow = nodes < (1U << 15U);
    if (narrow) {
        narrow_.resize(nodes * classes_);
    } else {
        wide_.resize(nodes * classes_);
    }
    for (std::size_t n = 0; n < nodes; ++n) {
        for (std::size_t c = 0; c < classes_; ++c) {
            if (narrow) {
                narrow_[n * classes_ + c] = static_cast<std::uint16_t>(entry(n, c));
            } else {
                wide_[n * classes_ + c] = entry(n, c);
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
