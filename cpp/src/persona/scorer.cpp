#include "lumengate/persona/scorer.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <utf8proc.h>
#include <xxhash.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <utility>

#include "lumengate/common/error.hpp"
#include "lumengate/common/threads.hpp"

namespace lumengate::persona {
namespace {

constexpr double weight_tolerance = 1e-9;
constexpr double probability_tolerance = 1e-6;

std::string number(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.10g", value);
    return text;
}

bool is_blank(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// NFC + full case folding; utf8proc allocates with malloc, so the buffer is freed here.
std::string normalise(std::string_view text, const char* field) {
    utf8proc_uint8_t* out = nullptr;
    const auto length = utf8proc_map(
        reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
        static_cast<utf8proc_ssize_t>(text.size()), &out,
        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD));
    if (length < 0) {
        std::free(out);
        throw InvalidArgument(
            field, std::string("is not valid UTF-8 text (") + utf8proc_errmsg(length) + ")");
    }
    std::string result(reinterpret_cast<const char*>(out), static_cast<std::size_t>(length));
    std::free(out);
    return result;
}

// Byte offset of every code point of a valid UTF-8 string, plus its end.
void code_point_starts(std::string_view word, std::vector<std::size_t>& starts) {
    starts.clear();
    for (std::size_t i = 0; i < word.size(); ++i) {
        if ((static_cast<unsigned char>(word[i]) & 0xC0U) != 0x80U) starts.push_back(i);
    }
    starts.push_back(word.size());
}

struct Candidate {
    float score;
    std::uint32_t item;
};

// Higher score first; equal scores keep item order.
bool better(const Candidate& a, const Candidate& b) {
    return a.score > b.score || (a.score == b.score && a.item < b.item);
}

// Keeps the k best candidates seen; the heap's top is the worst of them.
class Selection {
  public:
    explicit Selection(std::size_t k) : k_(k) { heap_.reserve(k); }
    void offer(Candidate c) {
        if (heap_.size() < k_) {
            heap_.push_back(c);
            std::push_heap(heap_.begin(), heap_.end(), better);
        } else if (better(c, heap_.front())) {
            std::pop_heap(heap_.begin(), heap_.end(), better);
            heap_.back() = c;
            std::push_heap(heap_.begin(), heap_.end(), better);
        }
    }
    std::vector<Candidate>& candidates() { return heap_; }

  private:
    std::size_t k_;
    std::vector<Candidate> heap_;
};

float clip_unit(float value) noexcept { return std::min(1.0F, std::max(0.0F, value)); }

// x86-64 builds get an AVX2 clone picked at load time (ifunc); others run the portable loop.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LUMENGATE_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define LUMENGATE_VECTOR_CLONES
#endif

// out[r] = max(0, cosine(row first + r, query)) for count rows of a row-major [n, d] matrix.
LUMENGATE_VECTOR_CLONES void cosine_rows(const float* data, const float* inverse_norm,
                                         std::size_t d, std::size_t first, std::size_t count,
                                         const float* query, float query_inverse_norm,
                                         float* out) noexcept {
    for (std::size_t r = 0; r < count; ++r) {
        const float* row = data + (first + r) * d;
        // Sixteen independent lanes let the compiler vectorise without reassociating one sum.
        float lanes[16] = {};
        std::size_t j = 0;
        for (; j + 16 <= d; j += 16) {
            for (std::size_t l = 0; l < 16; ++l) lanes[l] += row[j + l] * query[j + l];
        }
        float tail = 0.0F;
        for (; j < d; ++j) tail += row[j] * query[j];
        for (std::size_t width = 8; width > 0; width /= 2) {
            for (std::size_t l = 0; l < width; ++l) lanes[l] += lanes[l + width];
        }
        out[r] = clip_unit((lanes[0] + tail) * inverse_norm[first + r] * query_inverse_norm);
    }
}

// out[r] = Σ_j code[j]·query[j] · code_scale[row] · query_inverse_norm over int8 rows.
void approximate_rows_portable(const std::int8_t* codes, const float* code_scale, std::size_t d,
                               std::size_t first, std::size_t count, const float* query,
                               float query_inverse_norm, float* out) noexcept {
    for (std::size_t r = 0; r < count; ++r) {
        const std::int8_t* row = codes + (first + r) * d;
        float sum = 0.0F;
        for (std::size_t j = 0; j < d; ++j) sum += static_cast<float>(row[j]) * query[j];
        out[r] = sum * code_scale[first + r] * query_inverse_norm;
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LUMENGATE_AVX2_KERNEL 1

__attribute__((target("avx2,fma"))) inline __m256 widen_codes(const std::int8_t* codes) noexcept {
    return _mm256_cvtepi32_ps(
        _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes))));
}

// The same sums with AVX2 + FMA, four rows per pass so the query's registers are reused and the
// four horizontal sums share one reduction. The compiler does not vectorise the int8 → float
// widening well on its own (3x slower measured).
__attribute__((target("avx2,fma"))) void approximate_rows_avx2(
    const std::int8_t* codes, const float* code_scale, std::size_t d, std::size_t first,
    std::size_t count, const float* query, float query_inverse_norm, float* out) noexcept {
    const std::size_t full = d - d % 8;
    std::size_t r = 0;
    for (; r + 4 <= count; r += 4) {
        const std::int8_t* row = codes + (first + r) * d;
        __m256 a0 = _mm256_setzero_ps();
        __m256 a1 = a0;
        __m256 a2 = a0;
        __m256 a3 = a0;
        for (std::size_t j = 0; j < full; j += 8) {
            const __m256 q = _mm256_loadu_ps(query + j);
            a0 = _mm256_fmadd_ps(widen_codes(row + j), q, a0);
            a1 = _mm256_fmadd_ps(widen_codes(row + d + j), q, a1);
            a2 = _mm256_fmadd_ps(widen_codes(row + 2 * d + j), q, a2);
            a3 = _mm256_fmadd_ps(widen_codes(row + 3 * d + j), q, a3);
        }
        const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
        __m128 sums = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        if (full < d) {
            float tails[4] = {};
            for (std::size_t t = 0; t < 4; ++t) {
                for (std::size_t j = full; j < d; ++j) {
                    tails[t] += static_cast<float>(row[t * d + j]) * query[j];
                }
            }
            sums = _mm_add_ps(sums, _mm_loadu_ps(tails));
        }
        const __m128 scale =
            _mm_mul_ps(_mm_loadu_ps(code_scale + first + r), _mm_set1_ps(query_inverse_norm));
        _mm_storeu_ps(out + r, _mm_mul_ps(sums, scale));
    }
    if (r < count) {
        approximate_rows_portable(codes, code_scale, d, first + r, count - r, query,
                                  query_inverse_norm, out + r);
    }
}
#endif

void approximate_rows(const std::int8_t* codes, const float* code_scale, std::size_t d,
                      std::size_t first, std::size_t count, const float* query,
                      float query_inverse_norm, float* out) noexcept {
#ifdef LUMENGATE_AVX2_KERNEL
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2) {
        approximate_rows_avx2(codes, code_scale, d, first, count, query, query_inverse_norm, out);
        return;
    }
#endif
    approximate_rows_portable(codes, code_scale, d, first, count, query, query_inverse_norm, out);
}

// Rows (ascending) whose exact cosine may place them among the k best of a dense-only request,
// found from the int8 copy; std::nullopt when too many rows are that close to call (then the
// caller scans the float32 rows instead).
//
// Why nothing is lost: with A the k-th best approximate cosine seen and B the approximation
// bound, k rows have exact cosine >= L = A − B. The score is the cosine clipped to [0, 1], so
// when L > 0 a row with approximate + B < min(L, 1) scores strictly below those k rows, ties
// included, and is skipped. A only grows, so a row skipped early also fails the final test.
std::optional<std::vector<std::uint32_t>> dense_candidates(const DenseIndex& index,
                                                           const float* query,
                                                           float query_inverse_norm, std::size_t k,
                                                           std::size_t threads) {
    constexpr std::size_t chunk_rows = std::size_t{1} << 15;
    constexpr std::size_t block = 256;
    constexpr std::size_t max_candidates = std::size_t{1} << 14;
    const std::size_t n = index.n_items();
    const float bound = index.approximation_error(query, query_inverse_norm);
    const auto threshold = [bound](float kth) {
        const float lower = kth - bound;
        return lower > 0.0F ? std::min(lower, 1.0F) - bound
                            : -std::numeric_limits<float>::infinity();
    };
    struct Chunk {
        std::vector<float> best;  // min-heap of the k best approximate cosines
        std::vector<Candidate> found;
    };
    const std::size_t chunks = (n + chunk_rows - 1) / chunk_rows;
    std::vector<Chunk> parts(chunks);
    std::atomic<bool> overflow{false};
    const auto scan = [&](std::size_t c) {
        Chunk& part = parts[c];
        part.best.reserve(k);
        float collect = -std::numeric_limits<float>::infinity();
        float approximate[block];
        const std::size_t end = std::min(n, (c + 1) * chunk_rows);
        for (std::size_t start = c * chunk_rows; start < end; start += block) {
            if (overflow.load(std::memory_order_relaxed)) return;
            const std::size_t count = std::min(block, end - start);
            index.approximate_cosine_block(start, count, query, query_inverse_norm, approximate);
            for (std::size_t r = 0; r < count; ++r) {
                const float a = approximate[r];
                if (!(a >= collect)) continue;
                part.found.push_back({a, static_cast<std::uint32_t>(start + r)});
                auto& best = part.best;
                if (best.size() < k) {
                    best.push_back(a);
                    std::push_heap(best.begin(), best.end(), std::greater<>());
                } else if (a > best.front()) {
                    std::pop_heap(best.begin(), best.end(), std::greater<>());
                    best.back() = a;
                    std::push_heap(best.begin(), best.end(), std::greater<>());
                }
                if (best.size() == k) collect = threshold(best.front());
            }
            if (part.found.size() > max_candidates) {
                overflow.store(true, std::memory_order_relaxed);
                return;
            }
        }
    };
    const std::size_t workers = std::min(resolve_threads(threads), chunks);
    if (workers <= 1) {
        for (std::size_t c = 0; c < chunks; ++c) scan(c);
    } else {
        tbb::task_arena arena(static_cast<int>(workers));
        arena.execute([&] {
            tbb::parallel_for(
                tbb::blocked_range<std::size_t>(0, chunks, 1),
                [&](const tbb::blocked_range<std::size_t>& r) {
                    for (std::size_t c = r.begin(); c < r.end(); ++c) scan(c);
                },
                tbb::simple_partitioner());
        });
    }
    if (overflow.load()) return std::nullopt;

    std::vector<float> best;
    for (const auto& part : parts) best.insert(best.end(), part.best.begin(), part.best.end());
    float collect = -std::numeric_limits<float>::infinity();
    if (best.size() >= k) {
        std::nth_element(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(k - 1),
                         best.end(), std::greater<>());
        collect = threshold(best[k - 1]);
    }
    std::vector<std::uint32_t> rows;
    for (const auto& part : parts) {
        for (const auto& c : part.found) {
            if (c.score >= collect) rows.push_back(c.item);
        }
    }
    return rows;
}

}  // namespace

void validate_weights(const ScoreWeights& w) {
    const double parts[] = {w.cf, w.cb, w.pa};
    const char* names[] = {"cf", "cb", "pa"};
    for (std::size_t i = 0; i < 3; ++i) {
        if (!std::isfinite(parts[i]) || parts[i] < 0) {
            throw InvalidArgument("weights", std::string("each weight must be finite and >= 0, "
                                                         "got w_") +
                                                 names[i] + " = " + number(parts[i]));
        }
    }
    const double sum = w.cf + w.cb + w.pa;
    if (std::abs(sum - 1.0) > weight_tolerance) {
        throw InvalidArgument("weights",
                              "(w_cf, w_cb, w_pa) must sum to 1 within 1e-9, got " + number(sum));
    }
}

ScoreWeights effective_weights(const ScoreWeights& w, bool has_cf, bool has_cb, bool has_pa) {
    const double cf = has_cf ? w.cf : 0.0;
    const double cb = has_cb ? w.cb : 0.0;
    const double pa = has_pa ? w.pa : 0.0;
    const double kept = cf + cb + pa;
    if (kept > 0) return {cf / kept, cb / kept, pa / kept};
    const double parts =
        static_cast<double>(has_cf) + static_cast<double>(has_cb) + static_cast<double>(has_pa);
    if (parts == 0) return {0.0, 0.0, 0.0};
    return {has_cf ? 1.0 / parts : 0.0, has_cb ? 1.0 / parts : 0.0, has_pa ? 1.0 / parts : 0.0};
}

InteractionMatrix InteractionMatrix::from_triplets(std::size_t n_users, std::size_t n_items,
                                                   std::span<const std::int64_t> users,
                                                   std::span<const std::int64_t> items,
                                                   std::span<const double> weights) {
    if (users.size() != items.size() || users.size() != weights.size()) {
        throw InvalidArgument("interactions",
                              "users, items and weights must have one entry "
                              "each per interaction, got " +
                                  std::to_string(users.size()) + ", " +
                                  std::to_string(items.size()) + " and " +
                                  std::to_string(weights.size()));
    }
    if (n_items >= std::numeric_limits<std::uint32_t>::max()) {
        throw InvalidArgument("items", "at most 4294967294 items are supported");
    }
    std::vector<std::size_t> order(users.size());
    for (std::size_t i = 0; i < users.size(); ++i) {
        const auto u = users[i];
        const auto it = items[i];
        if (u < 0 || static_cast<std::size_t>(u) >= n_users) {
            throw InvalidArgument("interactions", "user index " + std::to_string(u) +
                                                      " is outside [0, " + std::to_string(n_users) +
                                                      ")");
        }
        if (it < 0 || static_cast<std::size_t>(it) >= n_items) {
            throw InvalidArgument("interactions", "item index " + std::to_string(it) +
                                                      " is outside [0, " + std::to_string(n_items) +
                                                      ")");
        }
        if (!std::isfinite(weights[i]) || weights[i] <= 0) {
            throw InvalidArgument("interactions", "weights must be finite and > 0, got " +
                                                      number(weights[i]) + " at row " +
                                                      std::to_string(i));
        }
        order[i] = i;
    }
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return users[a] < users[b] || (users[a] == users[b] && items[a] < items[b]);
    });
    InteractionMatrix m;
    m.n_users = n_users;
    m.n_items = n_items;
    m.offsets.assign(n_users + 1, 0);
    for (std::size_t pos = 0; pos < order.size(); ++pos) {
        const std::size_t i = order[pos];
        const auto u = static_cast<std::size_t>(users[i]);
        const auto item = static_cast<std::uint32_t>(items[i]);
        // Repeated (user, item) pairs are one interaction with the summed weight.
        if (pos > 0 && users[order[pos - 1]] == users[i] && items[order[pos - 1]] == items[i]) {
            m.weights.back() += weights[i];
            continue;
        }
        m.items.push_back(item);
        m.weights.push_back(weights[i]);
        ++m.offsets[u + 1];
    }
    std::partial_sum(m.offsets.begin(), m.offsets.end(), m.offsets.begin());
    return m;
}

std::span<const std::uint32_t> InteractionMatrix::history(std::size_t user) const {
    if (user >= n_users) return {};
    return {items.data() + offsets[user], offsets[user + 1] - offsets[user]};
}

std::span<const double> InteractionMatrix::history_weights(std::size_t user) const {
    if (user >= n_users) return {};
    return {weights.data() + offsets[user], offsets[user + 1] - offsets[user]};
}

ItemNeighbours ItemNeighbours::build(const InteractionMatrix& m, std::size_t max_neighbours,
                                     std::size_t threads) {
    if (max_neighbours < 1) {
        throw InvalidArgument("neighbours", "must be >= 1, got " + std::to_string(max_neighbours));
    }
    const std::size_t n = m.n_items;
    // Items × users (the transpose) so that each item finds its co-interacted items.
    std::vector<std::uint64_t> column_offsets(n + 1, 0);
    for (const auto item : m.items) ++column_offsets[item + 1];
    std::partial_sum(column_offsets.begin(), column_offsets.end(), column_offsets.begin());
    std::vector<std::uint32_t> column_users(m.items.size());
    std::vector<double> column_weights(m.items.size());
    {
        std::vector<std::uint64_t> fill(column_offsets.begin(), column_offsets.end() - 1);
        for (std::size_t u = 0; u < m.n_users; ++u) {
            for (auto pos = m.offsets[u]; pos < m.offsets[u + 1]; ++pos) {
                const auto slot = fill[m.items[pos]]++;
                column_users[slot] = static_cast<std::uint32_t>(u);
                column_weights[slot] = m.weights[pos];
            }
        }
    }
    std::vector<double> norm(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        double squares = 0;
        for (auto pos = column_offsets[i]; pos < column_offsets[i + 1]; ++pos) {
            squares += column_weights[pos] * column_weights[pos];
        }
        norm[i] = std::sqrt(squares);
    }

    std::vector<std::vector<std::pair<std::uint32_t, double>>> lists(n);
    parallel_ranges(n, resolve_threads(threads), [&](std::size_t begin, std::size_t end) {
        std::vector<double> dots(n, 0.0);
        std::vector<std::uint32_t> touched;
        for (std::size_t i = begin; i < end; ++i) {
            touched.clear();
            for (auto pos = column_offsets[i]; pos < column_offsets[i + 1]; ++pos) {
                const auto u = column_users[pos];
                const double wi = column_weights[pos];
                for (auto hp = m.offsets[u]; hp < m.offsets[u + 1]; ++hp) {
                    const auto j = m.items[hp];
                    if (j == i) continue;
                    // Weights are > 0, so a zero sum means j has not been seen yet.
                    if (dots[j] == 0.0) touched.push_back(j);
                    dots[j] += wi * m.weights[hp];
                }
            }
            auto& list = lists[i];
            list.reserve(touched.size());
            for (const auto j : touched) {
                list.emplace_back(j, dots[j] / (norm[i] * norm[j]));
                dots[j] = 0.0;
            }
            const auto order = [](const auto& a, const auto& b) {
                return a.second > b.second || (a.second == b.second && a.first < b.first);
            };
            if (list.size() > max_neighbours) {
                std::partial_sort(list.begin(),
                                  list.begin() + static_cast<std::ptrdiff_t>(max_neighbours),
                                  list.end(), order);
                list.resize(max_neighbours);
            } else {
                std::sort(list.begin(), list.end(), order);
            }
        }
    });

    ItemNeighbours result;
    result.max_neighbours = max_neighbours;
    result.offsets.assign(n + 1, 0);
    result.has_interactions.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        result.offsets[i + 1] = result.offsets[i] + lists[i].size();
        result.has_interactions[i] = column_offsets[i + 1] > column_offsets[i] ? 1 : 0;
    }
    result.items.reserve(result.offsets[n]);
    result.similarity.reserve(result.offsets[n]);
    for (const auto& list : lists) {
        for (const auto& [j, s] : list) {
            result.items.push_back(j);
            result.similarity.push_back(static_cast<float>(s));
        }
    }
    return result;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> hashed_char_ngrams(std::string_view text,
                                                                        std::size_t n_features,
                                                                        std::size_t n_min,
                                                                        std::size_t n_max,
                                                                        const char* field) {
    const std::string folded = normalise(text, field);
    std::vector<std::uint32_t> hashes;
    std::vector<std::size_t> starts;
    std::string padded;
    std::size_t pos = 0;
    while (pos < folded.size()) {
        while (pos < folded.size() && is_blank(static_cast<unsigned char>(folded[pos]))) ++pos;
        const std::size_t word_begin = pos;
        while (pos < folded.size() && !is_blank(static_cast<unsigned char>(folded[pos]))) ++pos;
        if (pos == word_begin) break;
        padded.assign(1, ' ');
        padded.append(folded, word_begin, pos - word_begin);
        padded.push_back(' ');
        code_point_starts(padded, starts);
        const std::size_t length = starts.size() - 1;
        for (std::size_t n = n_min; n <= n_max; ++n) {
            const std::size_t last = length > n ? length - n : 0;
            for (std::size_t offset = 0; offset <= last; ++offset) {
                const std::size_t from = starts[offset];
                const std::size_t to = starts[std::min(offset + n, length)];
                const auto h = XXH64(padded.data() + from, to - from, 0);
                hashes.push_back(static_cast<std::uint32_t>(h % n_features));
            }
            // A word no longer than n gives itself once, for every larger n too.
            if (length <= n) break;
        }
    }
    std::sort(hashes.begin(), hashes.end());
    std::vector<std::pair<std::uint32_t, std::uint32_t>> counts;
    for (const auto h : hashes) {
        if (!counts.empty() && counts.back().first == h) {
            ++counts.back().second;
        } else {
            counts.emplace_back(h, 1);
        }
    }
    return counts;
}

TextIndex TextIndex::build(std::span<const std::string> texts, std::size_t n_features,
                           std::size_t threads) {
    if (n_features < 1 || n_features > (std::size_t{1} << 30)) {
        throw InvalidArgument("n_features",
                              "must be in [1, 2**30], got " + std::to_string(n_features));
    }
    TextIndex index;
    index.n_items_ = texts.size();
    index.n_features_ = n_features;
    std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> counts(texts.size());
    const std::size_t workers = resolve_threads(threads);
    tbb::task_arena arena(static_cast<int>(workers));
    arena.execute([&] {
        tbb::parallel_for(std::size_t{0}, texts.size(), [&](std::size_t i) {
            counts[i] = hashed_char_ngrams(texts[i], n_features, 2, 4, "items");
        });
    });
    std::vector<std::uint32_t> df(n_features, 0);
    for (const auto& row : counts) {
        for (const auto& [f, c] : row) ++df[f];
    }
    const double n = static_cast<double>(texts.size());
    index.idf_.resize(n_features);
    for (std::size_t f = 0; f < n_features; ++f) {
        index.idf_[f] = std::log((1.0 + n) / (1.0 + static_cast<double>(df[f]))) + 1.0;
    }
    index.feature_offsets_.assign(n_features + 1, 0);
    for (std::size_t f = 0; f < n_features; ++f) index.feature_offsets_[f + 1] = df[f];
    std::partial_sum(index.feature_offsets_.begin(), index.feature_offsets_.end(),
                     index.feature_offsets_.begin());
    index.posting_items_.resize(index.feature_offsets_[n_features]);
    index.posting_values_.resize(index.feature_offsets_[n_features]);
    std::vector<std::uint32_t> fill(index.feature_offsets_.begin(),
                                    index.feature_offsets_.end() - 1);
    for (std::size_t i = 0; i < counts.size(); ++i) {
        double squares = 0;
        for (const auto& [f, c] : counts[i]) {
            const double v = c * index.idf_[f];
            squares += v * v;
        }
        const double scale = squares > 0 ? 1.0 / std::sqrt(squares) : 0.0;
        for (const auto& [f, c] : counts[i]) {
            const auto slot = fill[f]++;
            index.posting_items_[slot] = static_cast<std::uint32_t>(i);
            index.posting_values_[slot] = static_cast<float>(c * index.idf_[f] * scale);
        }
    }
    return index;
}

SparseVector TextIndex::vectorise(std::string_view text, const char* field) const {
    const auto counts = hashed_char_ngrams(text, n_features_, 2, 4, field);
    SparseVector v;
    double squares = 0;
    for (const auto& [f, c] : counts) {
        const double x = c * idf_[f];
        squares += x * x;
    }
    const double scale = squares > 0 ? 1.0 / std::sqrt(squares) : 0.0;
    for (const auto& [f, c] : counts) {
        v.features.push_back(f);
        v.values.push_back(static_cast<float>(c * idf_[f] * scale));
    }
    return v;
}

void TextIndex::cosine(const SparseVector& query, std::span<float> out) const {
    std::fill(out.begin(), out.end(), 0.0F);
    for (std::size_t q = 0; q < query.features.size(); ++q) {
        const auto f = query.features[q];
        const float value = query.values[q];
        for (auto pos = feature_offsets_[f]; pos < feature_offsets_[f + 1]; ++pos) {
            out[posting_items_[pos]] += value * posting_values_[pos];
        }
    }
    for (auto& x : out) x = clip_unit(x);
}

SparseVector TextIndex::item_vector(std::size_t item) const {
    SparseVector v;
    for (std::size_t f = 0; f < n_features_; ++f) {
        for (auto pos = feature_offsets_[f]; pos < feature_offsets_[f + 1]; ++pos) {
            if (posting_items_[pos] == item) {
                v.features.push_back(static_cast<std::uint32_t>(f));
                v.values.push_back(posting_values_[pos]);
            }
        }
    }
    return v;
}

DenseIndex::DenseIndex(const float* data, std::size_t n, std::size_t d, std::size_t threads)
    : data_(data), n_(n), d_(d), inverse_norm_(n), codes_(n * d), code_scale_(n) {
    if (d < 1) throw InvalidArgument("item_vectors", "must have at least one column");
    std::mutex mutex;
    std::size_t bad_row = n;
    parallel_ranges(n, resolve_threads(threads), [&](std::size_t begin, std::size_t end) {
        double worst = 0;
        for (std::size_t i = begin; i < end; ++i) {
            const float* row = data_ + i * d_;
            double squares = 0;
            float largest = 0.0F;
            for (std::size_t j = 0; j < d_; ++j) {
                squares += double(row[j]) * double(row[j]);
                largest = std::max(largest, std::abs(row[j]));
            }
            if (!std::isfinite(squares)) {
                const std::lock_guard lock(mutex);
                bad_row = std::min(bad_row, i);
                return;
            }
            const double inverse = squares > 0 ? 1.0 / std::sqrt(squares) : 0.0;
            inverse_norm_[i] = static_cast<float>(inverse);
            // Symmetric int8 codes; the error is measured against the scale actually stored.
            const float scale = largest / 127.0F;
            std::int8_t* code = codes_.data() + i * d_;
            double error = 0;
            for (std::size_t j = 0; j < d_; ++j) {
                const double q = scale > 0.0F ? std::nearbyint(double(row[j]) / scale) : 0.0;
                code[j] = static_cast<std::int8_t>(std::clamp(q, -127.0, 127.0));
                error = std::max(error, std::abs(double(row[j]) - double(scale) * code[j]));
            }
            code_scale_[i] = static_cast<float>(double(scale) * inverse);
            worst = std::max(worst, error * inverse);
        }
        const std::lock_guard lock(mutex);
        max_code_error_ = std::max(max_code_error_, worst);
    });
    if (bad_row < n) {
        throw InvalidArgument("item_vectors", "must be finite; row " + std::to_string(bad_row) +
                                                  " holds NaN or infinity");
    }
}

float DenseIndex::cosine(std::size_t row, const float* query,
                         float query_inverse_norm) const noexcept {
    float out = 0.0F;
    cosine_rows(data_, inverse_norm_.data(), d_, row, 1, query, query_inverse_norm, &out);
    return out;
}

void DenseIndex::cosine_block(std::size_t first, std::size_t count, const float* query,
                              float query_inverse_norm, float* out) const noexcept {
    cosine_rows(data_, inverse_norm_.data(), d_, first, count, query, query_inverse_norm, out);
}

void DenseIndex::approximate_cosine_block(std::size_t first, std::size_t count, const float* query,
                                          float query_inverse_norm, float* out) const noexcept {
    approximate_rows(codes_.data(), code_scale_.data(), d_, first, count, query, query_inverse_norm,
                     out);
}

float DenseIndex::approximation_error(const float* query, float query_inverse_norm) const noexcept {
    double l1 = 0;
    for (std::size_t j = 0; j < d_; ++j) l1 += std::abs(double(query[j]));
    // |Σ (x − scale·code)·q| / (‖x‖‖q‖) <= max error / ‖x‖ · ‖q‖₁ / ‖q‖; then float rounding of
    // both d-term dot products and the scalings (each <= (d + 8)·2⁻²⁴ in cosine units), and
    // 10⁻⁶ for the threshold arithmetic.
    const double rounding = 4.0 * static_cast<double>(d_ + 8) * 0x1p-24 + 1e-6;
    return static_cast<float>(max_code_error_ * l1 * double(query_inverse_norm) * 1.001 + rounding);
}

HybridScorer::HybridScorer(std::size_t n_items, std::size_t n_personas, std::vector<float> affinity,
                           ScoreWeights weights, std::shared_ptr<const TextIndex> text,
                           std::shared_ptr<const DenseIndex> dense, InteractionMatrix interactions,
                           std::size_t max_neighbours, std::size_t threads)
    : n_items_(n_items),
      n_personas_(n_personas),
      affinity_(std::move(affinity)),
      weights_(weights),
      text_(std::move(text)),
      dense_(std::move(dense)),
      interactions_(std::move(interactions)) {
    validate_weights(weights_);
    if (!affinity_.empty()) {
        if (affinity_.size() != n_items_ * n_personas_) {
            throw InvalidArgument("affinity", "must have shape (" + std::to_string(n_items_) +
                                                  ", " + std::to_string(n_personas_) + ")");
        }
        for (std::size_t i = 0; i < affinity_.size(); ++i) {
            if (!(affinity_[i] >= 0.0F && affinity_[i] <= 1.0F)) {
                throw InvalidArgument(
                    "affinity", "must be in [0, 1], got " + number(affinity_[i]) + " for item " +
                                    std::to_string(i / n_personas_) + ", persona " +
                                    std::to_string(i % n_personas_));
            }
        }
    }
    if (text_ && text_->n_items() != n_items_) {
        throw InvalidArgument("items", "text features must have one row per item");
    }
    if (dense_ && dense_->n_items() != n_items_) {
        throw InvalidArgument("item_vectors", "must have " + std::to_string(n_items_) +
                                                  " rows (one per item id), got " +
                                                  std::to_string(dense_->n_items()));
    }
    if (interactions_.n_items != n_items_) {
        throw InvalidArgument("interactions", "must cover " + std::to_string(n_items_) +
                                                  " items, got " +
                                                  std::to_string(interactions_.n_items));
    }
    neighbours_ = ItemNeighbours::build(interactions_, max_neighbours, threads);
}

TopK HybridScorer::top_k(const ScoreRequest& request, std::size_t threads) const {
    if (request.k < 1) throw InvalidArgument("k", "must be >= 1, got 0");
    const bool has_vector = !request.vector.empty();
    if (request.has_text && !text_) {
        throw InvalidArgument("query",
                              "this scorer has dense item vectors; pass a float32 query "
                              "vector of length " +
                                  std::to_string(dense_ ? dense_->dim() : 0));
    }
    if (has_vector) {
        if (!dense_) {
            throw InvalidArgument("query", "this scorer has text item features; pass text");
        }
        if (request.vector.size() != dense_->dim()) {
            throw InvalidArgument("query", "must have length " + std::to_string(dense_->dim()) +
                                               " (the item vectors' dimension), got " +
                                               std::to_string(request.vector.size()));
        }
    }
    double query_squares = 0;
    for (const float x : request.vector) {
        if (!std::isfinite(x)) throw InvalidArgument("query", "must be finite");
        query_squares += double(x) * double(x);
    }
    if (!request.persona_probs.empty()) {
        if (request.persona_probs.size() != n_personas_) {
            throw InvalidArgument("persona_probs",
                                  "must have one probability per persona (" +
                                      std::to_string(n_personas_) + "), got " +
                                      std::to_string(request.persona_probs.size()));
        }
        double total = 0;
        for (const double p : request.persona_probs) {
            if (!std::isfinite(p) || p < 0 || p > 1) {
                throw InvalidArgument("persona_probs",
                                      "probabilities must be in [0, 1], got " + number(p));
            }
            total += p;
        }
        if (total > 1.0 + probability_tolerance) {
            throw InvalidArgument("persona_probs",
                                  "probabilities must sum to at most 1, got " + number(total));
        }
    }

    const bool known_user =
        request.user >= 0 && static_cast<std::size_t>(request.user) < interactions_.n_users;
    const auto history = known_user ? interactions_.history(static_cast<std::size_t>(request.user))
                                    : std::span<const std::uint32_t>{};
    const auto history_weights =
        known_user ? interactions_.history_weights(static_cast<std::size_t>(request.user))
                   : std::span<const double>{};
    const bool has_cf = !history.empty();
    const bool has_cb = request.has_text || has_vector;
    const bool has_pa = !request.persona_probs.empty() && !affinity_.empty();
    if (!has_cf && !has_cb && !has_pa) {
        throw InvalidArgument("query",
                              "a user without history needs a query or persona_probs "
                              "(with item affinity) to score items");
    }
    const ScoreWeights w = effective_weights(weights_, has_cf, has_cb, has_pa);

    std::vector<float> cf;
    if (has_cf) {
        // Weighted mean over the history of neighbour similarity: in [0, 1] for any user.
        std::vector<double> sums(n_items_, 0.0);
        double total = 0;
        for (std::size_t h = 0; h < history.size(); ++h) {
            const auto item = history[h];
            total += history_weights[h];
            for (auto pos = neighbours_.offsets[item]; pos < neighbours_.offsets[item + 1]; ++pos) {
                sums[neighbours_.items[pos]] += history_weights[h] * neighbours_.similarity[pos];
            }
        }
        cf.resize(n_items_);
        for (std::size_t i = 0; i < n_items_; ++i) {
            cf[i] = clip_unit(static_cast<float>(sums[i] / total));
        }
    }
    std::vector<float> text_cb;
    if (request.has_text) {
        text_cb.resize(n_items_);
        text_->cosine(text_->vectorise(request.text, "query"), text_cb);
    }
    std::vector<std::uint8_t> seen;
    if (request.exclude_seen && has_cf) {
        seen.assign(n_items_, 0);
        for (const auto item : history) seen[item] = 1;
    }
    std::vector<float> probs(request.persona_probs.begin(), request.persona_probs.end());
    const float query_inverse_norm =
        query_squares > 0 ? static_cast<float>(1.0 / std::sqrt(query_squares)) : 0.0F;
    const float* query = request.vector.data();

    struct Parts {
        float cf, cb, pa;
    };
    // Every part but the dense cosine, which the scan computes a block at a time.
    const auto other_parts = [&](std::size_t i) -> Parts {
        Parts p{0.0F, 0.0F, 0.0F};
        if (has_cf) p.cf = cf[i];
        if (request.has_text) p.cb = text_cb[i];
        if (has_pa) {
            const float* a = affinity_.data() + i * n_personas_;
            float sum = 0.0F;
            for (std::size_t q = 0; q < n_personas_; ++q) sum += probs[q] * a[q];
            p.pa = clip_unit(sum);
        }
        return p;
    };
    const auto parts = [&](std::size_t i) -> Parts {
        Parts p = other_parts(i);
        if (has_vector) p.cb = dense_->cosine(i, query, query_inverse_norm);
        return p;
    };
    const auto combine = [&](const Parts& p) {
        return static_cast<float>(w.cf * p.cf + w.cb * p.cb + w.pa * p.pa);
    };

    std::vector<Candidate> best;
    // A dense-only request reads the int8 rows first and rescores the few that can win.
    const bool dense_only = has_vector && !has_cf && !request.has_text && !has_pa && seen.empty();
    const auto candidates =
        dense_only ? dense_candidates(*dense_, query, query_inverse_norm, request.k, threads)
                   : std::nullopt;
    if (candidates) {
        Selection selection(request.k);
        for (const auto i : *candidates) {
            Parts p{0.0F, 0.0F, 0.0F};
            dense_->cosine_block(i, 1, query, query_inverse_norm, &p.cb);
            selection.offer({combine(p), i});
        }
        best = std::move(selection.candidates());
    }
    std::mutex merge_mutex;
    // Otherwise every row is scored (the range is empty when the candidates were found).
    const std::size_t scanned = candidates ? 0 : n_items_;
    parallel_ranges(scanned, resolve_threads(threads), [&](std::size_t begin, std::size_t end) {
        Selection selection(request.k);
        // Dense cosines are computed a block at a time so the kernel runs over many rows.
        constexpr std::size_t block = 256;
        float cosines[block];
        for (std::size_t start = begin; start < end; start += block) {
            const std::size_t count = std::min(block, end - start);
            if (has_vector) dense_->cosine_block(start, count, query, query_inverse_norm, cosines);
            for (std::size_t r = 0; r < count; ++r) {
                const std::size_t i = start + r;
                if (!seen.empty() && seen[i]) continue;
                Parts p = other_parts(i);
                if (has_vector) p.cb = cosines[r];
                selection.offer({combine(p), static_cast<std::uint32_t>(i)});
            }
        }
        const std::lock_guard lock(merge_mutex);
        auto& found = selection.candidates();
        best.insert(best.end(), found.begin(), found.end());
    });
    std::sort(best.begin(), best.end(), better);
    if (best.size() > request.k) best.resize(request.k);

    TopK result;
    result.cold_start = !has_cf;
    result.weights = w;
    for (const auto& c : best) {
        const Parts p = parts(c.item);
        result.items.push_back(c.item);
        result.scores.push_back(c.score);
        result.cf.push_back(p.cf);
        result.cb.push_back(p.cb);
        result.pa.push_back(p.pa);
    }
    return result;
}

std::vector<TopK> HybridScorer::top_k_many(std::span<const ScoreRequest> requests,
                                           std::size_t threads) const {
    std::vector<TopK> results(requests.size());
    const std::size_t workers = resolve_threads(threads);
    if (workers <= 1 || requests.size() <= 1) {
        for (std::size_t i = 0; i < requests.size(); ++i) results[i] = top_k(requests[i], workers);
        return results;
    }
    // One request per task, each single-threaded: many small requests scale better this way.
    tbb::task_arena arena(static_cast<int>(workers));
    arena.execute([&] {
        tbb::parallel_for(std::size_t{0}, requests.size(),
                          [&](std::size_t i) { results[i] = top_k(requests[i], 1); });
    });
    return results;
}

}  // namespace lumengate::persona
