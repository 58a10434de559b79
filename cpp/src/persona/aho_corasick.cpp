#include "lumengate/persona/aho_corasick.hpp"

#include <array>
#include <deque>

#include "lumengate/common/error.hpp"

namespace lumengate::persona {

AhoCorasick::AhoCorasick(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {
    // Trie with sparse children first (0 = absent; the root is node 0 and never a child).
    std::vector<std::uint32_t> children(256, 0);
    std::vector<std::vector<std::uint32_t>> ends(1);
    std::vector<std::uint32_t> depth(1, 0);
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
                depth.push_back(depth[node] + 1);
                children.resize(ends.size() * 256U, 0);
            }
            node = children[slot];
        }
        ends[node].push_back(static_cast<std::uint32_t>(p));
    }
    const std::size_t nodes = ends.size();
    const std::vector<std::uint32_t> trie = children;  // the goto edges alone
    std::vector<std::uint32_t>& delta = children;      // completed below
    std::vector<std::uint32_t> fail(nodes, 0);
    std::vector<std::uint32_t> dict(nodes, 0);
    std::vector<std::uint8_t> terminal(nodes, 0);
    for (std::size_t n = 0; n < nodes; ++n) terminal[n] = ends[n].empty() ? 0 : 1;
    // Breadth-first: a node's failure link is final before any deeper node reads it, so
    // missing edges can be filled from the failure node's (already complete) row. The visit
    // order also numbers the nodes, shallowest first.
    std::vector<std::uint32_t> order(1, 0);
    std::deque<std::uint32_t> queue;
    for (std::size_t c = 0; c < 256; ++c) {
        if (delta[c] != 0) queue.push_back(delta[c]);
    }
    while (!queue.empty()) {
        const std::uint32_t node = queue.front();
        queue.pop_front();
        order.push_back(node);
        const std::uint32_t f = fail[node];
        dict[node] = terminal[f] ? f : dict[f];
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
    std::vector<std::uint32_t> id(nodes, 0);
    for (std::size_t n = 0; n < nodes; ++n) id[order[n]] = static_cast<std::uint32_t>(n);

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

    // Everything below is indexed by the breadth-first number.
    terminal_.assign(nodes, 0);
    dict_link_.assign(nodes, 0);
    reports_.assign(nodes, 0);
    outputs_begin_.assign(nodes + 1, 0);
    outputs_.clear();
    for (std::size_t n = 0; n < nodes; ++n) {
        const std::uint32_t old = order[n];
        terminal_[n] = terminal[old];
        dict_link_[n] = id[dict[old]];
        reports_[n] = (terminal[old] != 0 || dict[old] != 0) ? 1 : 0;
        outputs_begin_[n + 1] = outputs_begin_[n] + static_cast<std::uint32_t>(ends[old].size());
        outputs_.insert(outputs_.end(), ends[old].begin(), ends[old].end());
    }
    // Shallow nodes get full rows (what most steps read); deeper ones keep only their trie
    // edges and fall back along failure links, which end at a shallow node.
    dense_ = 0;
    while (dense_ < nodes && depth[order[dense_]] <= kDenseDepth) ++dense_;
    const auto entry = [&](std::uint32_t next_old) -> std::uint32_t {
        return (id[next_old] << 1U) | reports_[id[next_old]];
    };
    const bool narrow = nodes < (1U << 15U);
    narrow_.clear();
    wide_.clear();
    if (narrow) {
        narrow_.resize(dense_ * classes_);
    } else {
        wide_.resize(dense_ * classes_);
    }
    for (std::size_t n = 0; n < dense_; ++n) {
        for (std::size_t c = 1; c < classes_; ++c) {
            const std::uint32_t e = entry(delta[order[n] * 256U + byte_of_class[c]]);
            if (narrow) {
                narrow_[n * classes_ + c] = static_cast<std::uint16_t>(e);
            } else {
                wide_[n * classes_ + c] = e;
            }
        }
    }
    sparse_fail_.assign(nodes - dense_, 0);
    edges_begin_.assign(nodes - dense_ + 1, 0);
    edge_class_.clear();
    edge_target_.clear();
    for (std::size_t n = dense_; n < nodes; ++n) {
        const std::uint32_t old = order[n];
        sparse_fail_[n - dense_] = id[fail[old]];
        for (std::size_t c = 1; c < classes_; ++c) {
            const std::uint32_t child = trie[old * 256U + byte_of_class[c]];
            if (child == 0) continue;
            edge_class_.push_back(static_cast<std::uint8_t>(c));
            edge_target_.push_back(id[child]);
        }
        edges_begin_[n - dense_ + 1] = static_cast<std::uint32_t>(edge_class_.size());
    }
}

}  // namespace lumengate::persona
