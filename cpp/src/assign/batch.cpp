#include "lumengate/assign/batch.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <limits>
#include <mutex>

#include "lumengate/common/error.hpp"
#include "lumengate/common/threads.hpp"

namespace lumengate::assign {
namespace {

// Keeps the error of the lowest failing index, so the message does not depend on threads.
class FirstError {
  public:
    void record(std::size_t index, const InvalidArgument& e) {
        // Messages from key decoding start with their own field; keep only the reason.
        std::string reason = e.what();
        const std::string prefix = e.field() + ": ";
        if (reason.rfind(prefix, 0) == 0) reason.erase(0, prefix.size());
        const std::lock_guard lock(mutex_);
        if (index < index_) {
            index_ = index;
            message_ = std::move(reason);
        }
    }
    void rethrow() const {
        if (!message_.empty()) throw InvalidArgument(id_field(index_), message_);
    }

  private:
    std::mutex mutex_;
    std::size_t index_ = std::numeric_limits<std::size_t>::max();
    std::string message_;
};

std::string_view checked_key(const KeyColumn& ids, std::size_t i, std::string& scratch) {
    const std::string_view id = ids.get(i, scratch);
    if (id.empty()) throw InvalidArgument(id_field(i), "is empty; an id needs at least one byte");
    return id;
}

// Runs body(state, i, key bytes) for every id.
template <class Body, class Make>
void for_each_id(const KeyColumn& ids, std::size_t threads, Make make_state, Body body) {
    FirstError error;
    parallel_ranges(ids.size(), threads, [&](std::size_t begin, std::size_t end) {
        auto state = make_state();
        std::string scratch;
        for (std::size_t i = begin; i < end; ++i) {
            try {
                body(state, i, checked_key(ids, i, scratch));
            } catch (const InvalidArgument& e) {
                error.record(i, e);
                return;
            }
        }
    });
    error.rethrow();
}

// Runs block(state, first index, keys, count) over blocks of up to four ids, so that kernels
// can interleave independent hash chains. A failing block is redone id by id to name the
// failing index.
template <class Block, class Make>
void for_each_block(const KeyColumn& ids, std::size_t threads, Make make_state, Block block) {
    constexpr std::size_t width = Bucketer::block_size;
    FirstError error;
    parallel_ranges(ids.size(), threads, [&](std::size_t begin, std::size_t end) {
        auto state = make_state();
        std::array<std::string, width> scratch;
        std::array<std::string_view, width> keys;
        for (std::size_t i = begin; i < end; i += width) {
            const std::size_t count = std::min(width, end - i);
            try {
                for (std::size_t k = 0; k < count; ++k)
                    keys[k] = checked_key(ids, i + k, scratch[k]);
                block(state, i, keys.data(), count);
            } catch (const InvalidArgument&) {
                for (std::size_t k = 0; k < count; ++k) {
                    try {
                        keys[0] = checked_key(ids, i + k, scratch[0]);
                        block(state, i + k, keys.data(), 1);
                    } catch (const InvalidArgument& e) {
                        error.record(i + k, e);
                        return;
                    }
                }
            }
        }
    });
    error.rethrow();
}

struct NoState {};

template <class Out>
void bucket_many_impl(const Scheme& scheme, const KeyColumn& ids, Out* out, std::size_t threads) {
    for_each_block(
        ids, threads, [&] { return Bucketer(scheme); },
        [&](Bucketer& bucketer, std::size_t i, const std::string_view* keys, std::size_t count) {
            double values[Bucketer::block_size];
            bucketer.bucket_block(keys, count, values);
            for (std::size_t k = 0; k < count; ++k) out[i + k] = static_cast<Out>(values[k]);
        });
}

}  // namespace

void hash_many(const KeyColumn& ids, Algorithm algorithm, std::uint64_t seed,
               unsigned char* out_bytes, std::uint64_t* out_words, std::size_t threads) {
    if (is_digest(algorithm)) {
        const std::size_t size = digest_size(algorithm);
        for_each_id(
            ids, threads, [&] { return Digester(algorithm); },
            [&](Digester& digester, std::size_t i, std::string_view id) {
                digester.digest(id, out_bytes + i * size);
            });
        return;
    }
    for_each_id(
        ids, threads, [] { return NoState{}; },
        [&](NoState&, std::size_t i, std::string_view id) {
            switch (algorithm) {
                case Algorithm::fnv1a32:
                    out_words[i] = fnv1a32(id);
                    break;
                case Algorithm::murmur3_32:
                    out_words[i] = murmur3_x86_32(id, static_cast<std::uint32_t>(seed));
                    break;
                default:
                    out_words[i] = xxhash64(id, seed);
                    break;
            }
        });
}

void bucket_many(const Scheme& scheme, const KeyColumn& ids, double* out, std::size_t threads) {
    bucket_many_impl(scheme, ids, out, threads);
}

void bucket_many(const Scheme& scheme, const KeyColumn& ids, std::int64_t* out,
                 std::size_t threads) {
    bucket_many_impl(scheme, ids, out, threads);
}

std::int32_t choose_variant(const ExperimentPlan& plan, double bucket) noexcept {
    const double value = bucket * plan.scale;
    for (std::size_t i = 0; i < plan.ranges.size(); ++i) {
        const auto& [start, end] = plan.ranges[i];
        // First match wins, so a value on a shared inclusive boundary goes to the lower range.
        const bool inside = value >= start && (plan.upper_inclusive ? value <= end : value < end);
        if (inside) return static_cast<std::int32_t>(i);
    }
    return -1;
}

bool in_namespace(const Namespace& ns, std::string_view id, bool code_points) {
    std::string key(id);
    key.append("__").append(ns.id);
    const double n = static_cast<double>(growthbook_fnv(key, code_points) % 1000U) / 1000.0;
    return n >= ns.start && n < ns.end;
}

OneAssignment assign_one(const ExperimentPlan& plan, Bucketer& bucketer, std::string_view id) {
    OneAssignment result;
    result.bucket = bucketer.bucket(id);
    bool admitted = true;
    for (const Namespace& ns : plan.namespaces) {
        admitted = admitted && in_namespace(ns, id, plan.scheme.code_points);
    }
    result.reason = Reason::not_in_namespace;
    if (admitted) {
        result.index = choose_variant(plan, result.bucket);
        result.reason = result.index < 0 ? Reason::not_in_coverage : Reason::hashed;
    }
    if (!plan.forced.empty() || !plan.sticky.empty()) {
        const std::string key(id);
        if (const auto it = plan.forced.find(key); it != plan.forced.end()) {
            result.index = it->second;
            result.reason = Reason::forced;
        } else if (const auto st = plan.sticky.find(key); st != plan.sticky.end()) {
            result.moved = st->second != result.index;
            result.index = st->second;
            result.reason = Reason::sticky;
        }
    }
    return result;
}

std::size_t assign_many(const ExperimentPlan& plan, const KeyColumn& ids, AssignOutput out,
                        std::size_t threads) {
    std::atomic<std::size_t> moved{0};
    for_each_id(
        ids, threads, [&] { return Bucketer(plan.scheme); },
        [&](Bucketer& bucketer, std::size_t i, std::string_view id) {
            const OneAssignment one = assign_one(plan, bucketer, id);
            out.index[i] = one.index;
            out.bucket[i] = one.bucket;
            out.reason[i] = static_cast<std::uint8_t>(one.reason);
            if (one.moved) moved.fetch_add(1, std::memory_order_relaxed);
        });
    return moved.load();
}

}  // namespace lumengate::assign
