#include "lumengate/persona/router.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <utf8proc.h>
// The n-gram hashes are on the routing hot path: inline XXH3 (the same algorithm and
// results as the shared library) instead of a call per short string.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <exception>
#include <numeric>
#include <unordered_set>
#include <utility>

#include "lumengate/assign/utf8.hpp"
#include "lumengate/common/error.hpp"
#include "lumengate/common/scratch.hpp"
#include "lumengate/common/threads.hpp"
#include "lumengate/persona/crisis.hpp"
#include "lumengate/persona/router_detail.hpp"
#include "lumengate/persona/text.hpp"

namespace lumengate::persona {

namespace detail {

namespace {

// Python's \w for str: letters, numbers and '_' (the word n-grams' token characters).
bool is_word_char(char32_t cp) noexcept {
    if (cp < 0x80) {
        return (cp >= U'a' && cp <= U'z') || (cp >= U'0' && cp <= U'9') || cp == U'_' ||
               (cp >= U'A' && cp <= U'Z');
    }
    switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
            return true;
        default:
            return false;
    }
}

}  // namespace

void check_analyzer(const Analyzer& a) {
    if (a.char_min < 1 || a.char_min > a.char_max || a.char_max > 8) {
        throw InvalidArgument("char_ngrams", "must satisfy 1 <= min <= max <= 8, got (" +
                                                 std::to_string(a.char_min) + ", " +
                                                 std::to_string(a.char_max) + ")");
    }
    if (a.word_max > 3) {
        throw InvalidArgument("word_ngrams",
                              "must be 0 (none), 1, 2 or 3, got " + std::to_string(a.word_max));
    }
}

namespace {

inline std::uint32_t char_bucket(std::string_view ngram) noexcept {
    return static_cast<std::uint32_t>(XXH3_64bits(ngram.data(), ngram.size()) &
                                      (hash_buckets - 1U));
}

inline std::uint32_t word_bucket(std::string_view words) noexcept {
    return static_cast<std::uint32_t>(
        XXH3_64bits_withSeed(words.data(), words.size(), word_hash_seed) & (hash_buckets - 1U));
}

// Per-thread buffers of the analyzer, reused so routing does not allocate once warm.
struct TermScratch {
    std::string padded;
    std::vector<std::size_t> offsets;
    // The last word_max tokens, for word n-grams that span whitespace-separated words.
    std::vector<std::string_view> recent;
    std::string joined;
    std::vector<std::uint32_t> hashes;
    // Empty between calls; see bucket_counts_with.
    std::vector<std::uint64_t> table;
    std::vector<std::uint32_t> filled;
};

TermScratch& term_scratch() { return thread_scratch<TermScratch>(); }

// The analyzer's terms in one pass over the words: first each word's char_wb n-grams, then the
// word n-grams ending at that word. A template so the per-term call inlines.
template <typename F>
void for_each_term(std::string_view normalized, const Analyzer& analyzer, TermScratch& s,
                   F&& on_term) {
    // One padded word at a time, exactly like scikit-learn's analyzer="char_wb": n-grams of
    // char_min..char_max code points of " word ", a word shorter than n counted once whole.
    s.recent.clear();
    const auto emit_words = [&](std::string_view token) {
        if (s.recent.size() == analyzer.word_max) s.recent.erase(s.recent.begin());
        s.recent.push_back(token);
        for (std::size_t n = 1; n <= s.recent.size(); ++n) {
            if (n == 1) {
                on_term(token, word_bucket(token));
                continue;
            }
            s.joined.clear();
            for (std::size_t i = s.recent.size() - n; i < s.recent.size(); ++i) {
                if (!s.joined.empty()) s.joined.push_back(' ');
                s.joined.append(s.recent[i]);
            }
            on_term(std::string_view(s.joined), word_bucket(s.joined));
        }
    };
    std::size_t pos = 0;
    while (pos < normalized.size()) {
        std::size_t word_start = pos;
        std::size_t next = pos;
        char32_t cp = decode_valid(normalized, next);
        if (is_space(cp)) {
            pos = next;
            continue;
        }
        std::size_t word_end = next;
        bool ascii = cp < 0x80U;
        while (word_end < normalized.size()) {
            const auto byte = static_cast<unsigned char>(normalized[word_end]);
            if (byte < 0x80U) {
                if (is_space(byte)) break;
                ++word_end;
                continue;
            }
            ascii = false;
            std::size_t probe = word_end;
            cp = decode_valid(normalized, probe);
            if (is_space(cp)) break;
            word_end = probe;
        }
        pos = word_end;
        const std::string_view word = normalized.substr(word_start, word_end - word_start);
        s.padded.assign(1, ' ');
        s.padded.append(word);
        s.padded.push_back(' ');
        const std::string_view view(s.padded);
        // The n-grams of n code points from each start; offset(i) is code point i's byte.
        const auto grams = [&](std::size_t n, std::size_t length, auto offset) {
            for (std::size_t i = 0; i + n <= length; ++i) {
                const std::string_view gram(view.data() + offset(i), offset(i + n) - offset(i));
                on_term(gram, char_bucket(gram));
            }
        };
        // char_min..char_max code points from each start, or the padded word once if shorter.
        const auto emit_chars = [&](std::size_t length, auto grams_of_width) {
            for (std::size_t n = analyzer.char_min; n <= analyzer.char_max; ++n) {
                if (length <= n) {
                    on_term(view, char_bucket(view));
                    break;
                }
                grams_of_width(n, length);
            }
        };
        if (ascii) {
            // A code point per byte. The usual widths are spelled out as constants, so each
            // gram's length is known where the hash inlines and its length dispatch folds away.
            const auto same = [](std::size_t i) { return i; };
            emit_chars(view.size(), [&](std::size_t n, std::size_t length) {
                switch (n) {
                    case 2:
                        grams(2, length, same);
                        break;
                    case 3:
                        grams(3, length, same);
                        break;
                    case 4:
                        grams(4, length, same);
                        break;
                    default:
                        grams(n, length, same);
                        break;
                }
            });
        } else {
            s.offsets.clear();
            for (std::size_t i = 0; i < view.size(); ++i) {
                if ((static_cast<unsigned char>(view[i]) & 0xC0U) != 0x80U) s.offsets.push_back(i);
            }
            s.offsets.push_back(view.size());
            const auto at = [&](std::size_t i) { return s.offsets[i]; };
            emit_chars(s.offsets.size() - 1,
                       [&](std::size_t n, std::size_t length) { grams(n, length, at); });
        }
        if (analyzer.word_max == 0) continue;
        // Word tokens inside this whitespace-separated word ("keyerror가" is one, "c++" is "c").
        std::size_t t = 0;
        while (t < word.size()) {
            std::size_t after = t;
            if (!is_word_char(decode_valid(word, after))) {
                t = after;
                continue;
            }
            std::size_t token_end = after;
            while (token_end < word.size()) {
                std::size_t probe = token_end;
                if (!is_word_char(decode_valid(word, probe))) break;
                token_end = probe;
            }
            // `word` views `normalized`, so the token views stay valid for the whole query.
            emit_words(word.substr(t, token_end - t));
            t = token_end;
        }
    }
}

}  // namespace

void for_each_ngram(std::string_view normalized, const Analyzer& analyzer,
                    const std::function<void(std::string_view, std::uint32_t)>& on_term) {
    TermScratch local;
    for_each_term(normalized, analyzer, local, on_term);
}

std::uint32_t bucket_of(std::string_view ngram) noexcept { return char_bucket(ngram); }

std::uint32_t word_bucket_of(std::string_view words) noexcept { return word_bucket(words); }

namespace {

// Flattened so XXH3 and the analyzer's helpers inline into the per-term loop.
[[gnu::flatten]] void bucket_counts_with(
    std::string_view normalized, const Analyzer& analyzer, TermScratch& s,
    std::vector<std::pair<std::uint32_t, std::uint32_t>>& out) {
    s.hashes.clear();
    for_each_term(normalized, analyzer, s,
                  [&](std::string_view, std::uint32_t bucket) { s.hashes.push_back(bucket); });
    out.clear();
    const std::size_t n = s.hashes.size();
    if (n == 0) return;
    // Counted in an open-addressing table with at least twice as many slots as terms, so probe
    // sequences stay short. A slot holds the bucket in its high half and 1 + its entry in `out`
    // in the low half; 0 is empty. The table is kept per thread and all-empty between calls:
    // only the slots a query filled are cleared again, not the whole table. Buckets come out
    // in the order each first occurs in the query: deterministic, like a sort, for less work.
    // No query has more distinct buckets than hash_buckets, which bounds the table too.
    const auto bits =
        std::clamp<unsigned>(static_cast<unsigned>(std::bit_width(2 * n - 1)), 6, hash_bits + 1);
    const std::size_t mask = (std::size_t{1} << bits) - 1;
    if (s.table.size() <= mask) s.table.resize(mask + 1, 0);
    std::uint64_t* table = s.table.data();
    // Reserved first, so nothing in the loop allocates or throws with the table half filled.
    const std::size_t distinct = std::min<std::size_t>(n, hash_buckets);
    out.reserve(distinct);
    s.filled.clear();
    s.filled.reserve(distinct);
    for (const std::uint32_t bucket : s.hashes) {
        // Fibonacci hashing: the top bits of the product spread any bucket range evenly.
        std::size_t slot =
            static_cast<std::size_t>((bucket * 0x9E3779B97F4A7C15ULL) >> (64U - bits));
        for (;;) {
            const std::uint64_t entry = table[slot];
            if (entry == 0) {
                out.emplace_back(bucket, 1U);
                table[slot] = (std::uint64_t{bucket} << 32U) | out.size();
                s.filled.push_back(static_cast<std::uint32_t>(slot));
                break;
            }
            if (static_cast<std::uint32_t>(entry >> 32U) == bucket) {
                ++out[static_cast<std::uint32_t>(entry) - 1U].second;
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    for (const std::uint32_t slot : s.filled) table[slot] = 0;
}

}  // namespace

void bucket_counts(std::string_view normalized, const Analyzer& analyzer,
                   std::vector<std::pair<std::uint32_t, std::uint32_t>>& out) {
    bucket_counts_with(normalized, analyzer, term_scratch(), out);
}

void softmax(std::span<const double> z, double temperature, std::span<double> p) {
    double top = -INFINITY;
    for (const double v : z) top = std::max(top, v / temperature);
    double sum = 0;
    for (std::size_t k = 0; k < z.size(); ++k) {
        p[k] = std::exp(z[k] / temperature - top);
        sum += p[k];
    }
    for (double& v : p) v /= sum;
}

void apply_confidence_map(std::span<const double> x, std::span<const double> y,
                          std::span<double> p) noexcept {
    if (x.empty() || p.size() < 2) return;
    std::size_t top = 0;
    for (std::size_t k = 1; k < p.size(); ++k) {
        if (p[k] > p[top]) top = k;
    }
    double second = 0;
    for (std::size_t k = 0; k < p.size(); ++k) {
        if (k != top) second = std::max(second, p[k]);
    }
    const double p1 = p[top];
    double c = 0;
    if (p1 <= x.front()) {
        c = y.front();
    } else if (p1 >= x.back()) {
        c = y.back();
    } else {
        // np.interp's formula, so the map equals scikit-learn's predict.
        const auto j =
            static_cast<std::size_t>(std::upper_bound(x.begin(), x.end(), p1) - x.begin()) - 1;
        const double slope = (y[j + 1] - y[j]) / (x[j + 1] - x[j]);
        c = slope * (p1 - x[j]) + y[j];
    }
    const double rest = 1.0 - p1;
    if (rest <= 0) {
        // Every other probability underflowed to 0: share what the map frees equally.
        const double share = (1.0 - c) / static_cast<double>(p.size() - 1);
        for (double& v : p) v = share;
        p[top] = c;
        return;
    }
    // Below this the rescaled runner-up would overtake the top persona.
    c = std::max(c, second / (rest + second));
    const double scale = (1.0 - c) / rest;
    for (double& v : p) v *= scale;
    p[top] = c;
}

void run_parallel(std::size_t n, std::size_t threads,
                  const std::function<void(std::size_t, std::size_t)>& body) {
    const std::size_t workers = resolve_threads(threads);
    if (workers <= 1 || n < 64) {
        body(0, n);
        return;
    }
    tbb::task_arena arena(static_cast<int>(workers));
    arena.execute([&] {
        tbb::parallel_for(
            tbb::blocked_range<std::size_t>(0, n, 32),
            [&](const tbb::blocked_range<std::size_t>& r) { body(r.begin(), r.end()); });
    });
}

}  // namespace detail

namespace {

bool latin_at(std::string_view s, std::size_t pos) {
    return pos < s.size() && is_latin_word_char(assign::decode_utf8(s, pos));
}

bool latin_before(std::string_view s, std::size_t pos) {
    if (pos == 0) return false;
    std::size_t prev = pos - 1;
    while (prev > 0 && (static_cast<unsigned char>(s[prev]) & 0xC0U) == 0x80U) --prev;
    return is_latin_word_char(assign::decode_utf8(s, prev));
}

bool ends_latin(std::string_view s) { return latin_before(s, s.size()); }

}  // namespace

Model::Model(std::vector<PersonaSpec> personas, std::size_t max_query_bytes,
             std::vector<double> thresholds, std::size_t default_persona)
    : personas_(std::move(personas)),
      max_query_bytes_(max_query_bytes),
      thresholds_(std::move(thresholds)),
      default_persona_(default_persona) {
    if (personas_.size() < 2) {
        throw InvalidArgument(
            "personas", "needs at least two personas, got " + std::to_string(personas_.size()));
    }
    std::unordered_set<std::string> ids;
    for (std::size_t p = 0; p < personas_.size(); ++p) {
        if (personas_[p].id.empty()) {
            throw InvalidArgument("personas[" + std::to_string(p) + "].id", "must not be empty");
        }
        if (!ids.insert(personas_[p].id).second) {
            throw InvalidArgument("personas[" + std::to_string(p) + "].id",
                                  "'" + personas_[p].id + "' appears twice; ids must be unique");
        }
    }
    if (max_query_bytes_ == 0) {
        throw InvalidArgument("max_query_bytes", "must be at least 1, got 0");
    }
    if (!thresholds_.empty() && thresholds_.size() != personas_.size()) {
        throw InvalidArgument("thresholds", "needs one value per persona (" +
                                                std::to_string(personas_.size()) + "), got " +
                                                std::to_string(thresholds_.size()));
    }
    for (std::size_t p = 0; p < thresholds_.size(); ++p) {
        if (!(thresholds_[p] >= 0.0 && thresholds_[p] <= 1.0)) {
            throw InvalidArgument("thresholds[" + personas_[p].id + "]",
                                  "must be in [0, 1], got " + std::to_string(thresholds_[p]));
        }
    }
    if (default_persona_ >= personas_.size()) {
        throw InvalidArgument("default_persona",
                              "index " + std::to_string(default_persona_) + " is not one of the " +
                                  std::to_string(personas_.size()) + " personas");
    }
    compile();
}

void Model::compile() {
    bucket_words_.assign(hash_buckets / 64U, BucketWord{});
    for (const std::uint32_t bucket : buckets_) {
        bucket_words_[bucket >> 6U].bits |= std::uint64_t{1} << (bucket & 63U);
    }
    std::uint64_t rank = 0;
    for (BucketWord& word : bucket_words_) {
        word.rank = rank;
        rank += count_bits(word.bits);
    }
    build_rows();
    patterns_.clear();
    pattern_owner_.clear();
    pattern_latin_start_.clear();
    pattern_latin_end_.clear();
    crisis_persona_ = default_persona_;
    for (std::size_t p = 0; p < personas_.size(); ++p) {
        if (personas_[p].id == "lua") crisis_persona_ = p;
        for (std::size_t k = 0; k < personas_[p].keywords.size(); ++k) {
            const std::string field =
                "personas[" + personas_[p].id + "].keywords[" + std::to_string(k) + "]";
            std::string folded = fold(personas_[p].keywords[k], field);
            // Surrounding blanks would defeat whole-word matching; inner blanks are phrases.
            const auto first = folded.find_first_not_of(" \t\n");
            if (first == std::string::npos) throw InvalidArgument(field, "must not be empty");
            folded = folded.substr(first, folded.find_last_not_of(" \t\n") - first + 1);
            pattern_latin_start_.push_back(latin_at(folded, 0) ? 1 : 0);
            pattern_latin_end_.push_back(ends_latin(folded) ? 1 : 0);
            patterns_.push_back(std::move(folded));
            pattern_owner_.push_back(static_cast<std::uint32_t>(p));
        }
    }
    lexicon_ = AhoCorasick(patterns_);
}

void Model::build_rows() {
    rows_.clear();
    if (!fitted()) return;
    const std::size_t k = personas_.size();
    rows_.resize(buckets_.size() * (k + 1));
    for (std::size_t j = 0; j < buckets_.size(); ++j) {
        rows_[j * (k + 1)] = idf_[j];
        std::copy_n(weights_.begin() + static_cast<std::ptrdiff_t>(j * k), k,
                    rows_.begin() + static_cast<std::ptrdiff_t>(j * (k + 1) + 1));
    }
}

std::size_t Model::feature_count() const noexcept {
    return buckets_.size() + 2 * personas_.size() + key_vocab_.size() + embedding_dim_;
}

namespace {

// Sublinear term frequency, 1 + ln(count): std::log itself, so the table holds exactly the
// values a direct call gives. log(1) is 0, so a single occurrence is 1.
double term_frequency(std::uint32_t count) noexcept {
    static const std::array<double, 64> table = [] {
        std::array<double, 64> t{};
        for (std::size_t c = 1; c < t.size(); ++c) t[c] = 1.0 + std::log(static_cast<double>(c));
        return t;
    }();
    return count < table.size() ? table[count] : 1.0 + std::log(static_cast<double>(count));
}

}  // namespace

LUMENGATE_POPCNT_CLONES
void Model::extract(std::string_view normalized, std::span<const std::string> key,
                    std::span<const float> embedding, Sparse& out,
                    std::vector<std::vector<std::string>>* keywords) const {
    out.index.clear();
    out.value.clear();
    struct Scratch {
        detail::TermScratch terms;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> counts;
        std::vector<std::int32_t> columns;
        std::vector<std::uint32_t> hits;
    };
    Scratch& scratch = thread_scratch<Scratch>();
    auto& counts = scratch.counts;
    auto& columns = scratch.columns;
    detail::bucket_counts_with(normalized, analyzer_, scratch.terms, counts);
    // The column lookups are independent cache misses: issue them a few buckets ahead so they
    // overlap instead of each waiting for memory in turn.
    constexpr std::size_t ahead = 32;
    const std::size_t n = counts.size();
    columns.resize(n);
    // Once fitted, a column's idf and weights share one row (rows_); while fitting, idf_.
    const std::size_t stride = rows_.empty() ? 1 : personas_.size() + 1;
    // With no fitted buckets (a loaded file may have none) every n-gram is unseen and reads
    // idf_unseen_ as row 0, so the branch-free idf read below never leaves the array.
    const double* idf_of = buckets_.empty() ? &idf_unseen_
                           : rows_.empty()  ? idf_.data()
                                            : rows_.data();
    for (std::size_t i = 0; i < std::min(ahead, n); ++i) {
        __builtin_prefetch(column_slot(counts[i].first));
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (i + ahead < n) __builtin_prefetch(column_slot(counts[i + ahead].first));
        const std::int32_t column = column_of(counts[i].first);
        columns[i] = column;
        // A row may straddle two cache lines: ask for both ends. An unseen bucket prefetches
        // row 0 rather than branching.
        const double* row = idf_of + static_cast<std::size_t>(std::max(column, 0)) * stride;
        __builtin_prefetch(row);
        __builtin_prefetch(row + stride - 1);
    }
    // TF-IDF over every bucket (unseen ones with the largest idf) so the L2 norm matches a
    // vectorizer that knew the query's n-grams; only fitted columns carry weights.
    double norm2 = 0;
    // Written in place (at most one entry per bucket), then cut to length.
    out.index.resize(n);
    out.value.resize(n);
    std::int32_t* index = out.index.data();
    double* value = out.value.data();
    std::size_t kept = 0;
    // Branch-free: which buckets were seen in fit is unpredictable, so the idf is picked by
    // index and every entry is written, kept only when its column exists.
    for (std::size_t i = 0; i < n; ++i) {
        const std::int32_t column = columns[i];
        const std::uint32_t count = counts[i].second;
        const std::array<double, 2> idf = {
            idf_unseen_, idf_of[static_cast<std::size_t>(std::max(column, 0)) * stride]};
        const double tf = term_frequency(count);
        const double w = tf * idf[static_cast<std::size_t>(column >= 0)];
        norm2 += w * w;
        index[kept] = column;
        value[kept] = w;
        kept += static_cast<std::size_t>(column >= 0);
    }
    out.index.resize(kept);
    out.value.resize(kept);
    if (norm2 > 0) {
        const double scale = 1.0 / std::sqrt(norm2);
        for (double& v : out.value) v *= scale;
    }
    const std::size_t personas = personas_.size();
    auto& hits = scratch.hits;
    hits.assign(personas, 0);
    lexicon_.for_each_match(normalized, [&](std::size_t p, std::size_t end) {
        const std::size_t start = end - patterns_[p].size();
        if (pattern_latin_start_[p] && latin_before(normalized, start)) return;
        if (pattern_latin_end_[p] && latin_at(normalized, end)) return;
        const std::uint32_t owner = pattern_owner_[p];
        ++hits[owner];
        if (keywords != nullptr) {
            auto& list = (*keywords)[owner];
            if (std::find(list.begin(), list.end(), patterns_[p]) == list.end()) {
                list.push_back(patterns_[p]);
            }
        }
    });
    const auto base = static_cast<std::int32_t>(buckets_.size());
    for (std::size_t p = 0; p < personas; ++p) {
        if (hits[p] == 0) continue;
        out.index.push_back(base + static_cast<std::int32_t>(2 * p));
        out.value.push_back(lexicon_weight_);
        out.index.push_back(base + static_cast<std::int32_t>(2 * p + 1));
        out.value.push_back(lexicon_weight_ * std::log1p(static_cast<double>(hits[p])));
    }
    const auto key_base = base + static_cast<std::int32_t>(2 * personas);
    for (const std::string& token : key) {
        const auto it = std::lower_bound(key_vocab_.begin(), key_vocab_.end(), token);
        if (it != key_vocab_.end() && *it == token) {
            out.index.push_back(key_base + static_cast<std::int32_t>(it - key_vocab_.begin()));
            out.value.push_back(1.0);
        }
    }
    const auto embedding_base = key_base + static_cast<std::int32_t>(key_vocab_.size());
    for (std::size_t j = 0; j < embedding.size(); ++j) {
        out.index.push_back(embedding_base + static_cast<std::int32_t>(j));
        out.value.push_back(static_cast<double>(embedding[j]));
    }
}

namespace {

// logits[c] += Σᵢ value[i] · weight(i)[c], each logit summed in feature order. K > 0 fixes the
// persona count at compile time so the inner loop becomes one vector operation.
template <std::size_t K, typename Weights>
void accumulate(const Model::Sparse& x, std::size_t k, std::span<double> logits,
                Weights&& weights_of) {
    const std::size_t n = x.index.size();
    if constexpr (K > 0) {
        std::array<double, K> z;
        std::copy_n(logits.begin(), K, z.begin());
        for (std::size_t i = 0; i < n; ++i) {
            const double* w = weights_of(static_cast<std::size_t>(x.index[i]));
            const double v = x.value[i];
            for (std::size_t c = 0; c < K; ++c) z[c] += v * w[c];
        }
        std::copy_n(z.begin(), K, logits.begin());
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            const double* w = weights_of(static_cast<std::size_t>(x.index[i]));
            for (std::size_t c = 0; c < k; ++c) logits[c] += x.value[i] * w[c];
        }
    }
}

}  // namespace

void Model::scores(const Sparse& x, std::span<double> logits) const {
    const std::size_t k = personas_.size();
    std::copy(bias_.begin(), bias_.end(), logits.begin());
    const auto weights_of = [&](std::size_t column) {
        return column < buckets_.size() && !rows_.empty() ? &rows_[column * (k + 1) + 1]
                                                          : &weights_[column * k];
    };
    if (k == 4) {
        accumulate<4>(x, k, logits, weights_of);
    } else {
        accumulate<0>(x, k, logits, weights_of);
    }
}

void Model::finish(RouteResult& r, std::span<const double> logits, bool crisis) const {
    const std::size_t k = personas_.size();
    r.probabilities.assign(k, 0.0);
    detail::softmax(logits, temperature_, r.probabilities);
    detail::apply_confidence_map(confidence_x_, confidence_y_, r.probabilities);
    r.ranking.resize(k);
    std::iota(r.ranking.begin(), r.ranking.end(), std::size_t{0});
    std::stable_sort(r.ranking.begin(), r.ranking.end(), [&](std::size_t a, std::size_t b) {
        return r.probabilities[a] > r.probabilities[b];
    });
    const std::size_t top = r.ranking[0];
    r.confidence = r.probabilities[top];
    r.margin = r.confidence - r.probabilities[r.ranking[1]];
    r.persona = top;
    r.crisis = crisis;
    r.abstained = false;
    if (crisis) {
        r.persona = crisis_persona_;
    } else if (!thresholds_.empty() && r.confidence < thresholds_[top]) {
        r.abstained = true;
        r.persona = default_persona_;
    }
}

std::span<const float> Model::embedding_row(const Queries& q, std::size_t i) const {
    if (q.embeddings == nullptr) return {};
    return {q.embeddings + i * q.embedding_dim, q.embedding_dim};
}

void Model::validate_queries(const Queries& q, std::size_t n_expected_labels) const {
    const std::size_t n = q.texts.size();
    if (n_expected_labels != n) {
        throw InvalidArgument("labels", "has " + std::to_string(n_expected_labels) +
                                            " entries but queries has " + std::to_string(n));
    }
    if (!q.keys.empty() && q.keys.size() != n) {
        throw InvalidArgument("resonance_keys", "has " + std::to_string(q.keys.size()) +
                                                    " entries but queries has " +
                                                    std::to_string(n));
    }
}

namespace {

void check_embedding(std::size_t expected, std::size_t given, bool present,
                     const std::string& field) {
    if (expected == 0 && present) {
        throw InvalidArgument(field,
                              "was given but the router was fitted without embeddings; "
                              "pass embeddings=None");
    }
    if (expected > 0 && !present) {
        throw InvalidArgument(field, "is required: the router was fitted with " +
                                         std::to_string(expected) + "-dimensional embeddings");
    }
    if (present && given != expected) {
        throw InvalidArgument(field, "has " + std::to_string(given) +
                                         " dimensions but the router was fitted with " +
                                         std::to_string(expected));
    }
}

void require_fitted(const Model& m) {
    if (!m.fitted()) {
        throw InvalidArgument("router", "is not fitted: call fit() first or use Router.default()");
    }
}

}  // namespace

RouteResult Model::route(std::string_view text, std::span<const std::string> key,
                         std::span<const float> embedding, bool evidence) const {
    require_fitted(*this);
    check_embedding(embedding_dim_, embedding.size(), embedding.data() != nullptr, "embedding");
    const std::string normalized = normalize_query(text, max_query_bytes_, "query");
    RouteResult r;
    // Per-thread scratch: a service routes on a few threads, so these stop allocating.
    struct Scratch {
        Sparse x;
        std::vector<double> z;
    };
    Scratch& scratch = thread_scratch<Scratch>();
    Sparse& x = scratch.x;
    std::vector<double>& z = scratch.z;
    z.assign(personas_.size(), 0.0);
    if (!evidence) {
        extract(normalized, key, embedding, x, nullptr);
        scores(x, z);
        finish(r, z, CrisisDetector::instance().detect(normalized));
        return r;
    }
    r.keywords.resize(personas_.size());
    extract(normalized, key, embedding, x, &r.keywords);
    scores(x, z);
    r.crisis_phrases = CrisisDetector::instance().matches(normalized);
    finish(r, z, !r.crisis_phrases.empty());

    // Evidence: the n-gram columns pushing hardest toward the model's top persona.
    const std::size_t k = personas_.size();
    const std::size_t top = r.ranking[0];
    std::vector<std::pair<double, std::uint32_t>> strongest;
    for (std::size_t i = 0; i < x.index.size(); ++i) {
        const auto column = static_cast<std::size_t>(x.index[i]);
        if (column >= buckets_.size()) break;
        const double contribution = x.value[i] * weights_[column * k + top];
        if (contribution > 0) strongest.emplace_back(contribution, buckets_[column]);
    }
    const std::size_t keep = std::min<std::size_t>(5, strongest.size());
    std::partial_sort(strongest.begin(), strongest.begin() + static_cast<std::ptrdiff_t>(keep),
                      strongest.end(), [](const auto& a, const auto& b) {
                          return a.first > b.first || (a.first == b.first && a.second < b.second);
                      });
    strongest.resize(keep);
    r.ngrams.resize(keep);
    std::vector<bool> named(keep, false);
    detail::for_each_ngram(normalized, analyzer_, [&](std::string_view g, std::uint32_t bucket) {
        for (std::size_t i = 0; i < keep; ++i) {
            if (!named[i] && strongest[i].second == bucket) {
                named[i] = true;
                r.ngrams[i] = NgramEvidence{std::string(g), strongest[i].first};
            }
        }
    });
    return r;
}

RouteBatch Model::route_many(const Queries& q, std::size_t threads) const {
    require_fitted(*this);
    validate_queries(q, q.texts.size());
    check_embedding(embedding_dim_, q.embedding_dim, q.embeddings != nullptr, "embeddings");
    const std::size_t n = q.texts.size();
    const std::size_t k = personas_.size();
    RouteBatch out;
    out.persona.resize(n);
    out.confidence.resize(n);
    out.probabilities.resize(n * k);
    out.crisis.resize(n);
    out.abstained.resize(n);
    std::vector<std::exception_ptr> errors(n);
    static const std::vector<std::string> no_key;
    detail::run_parallel(n, threads, [&](std::size_t begin, std::size_t end) {
        Sparse x;
        std::vector<double> z(k);
        RouteResult r;
        for (std::size_t i = begin; i < end; ++i) {
            try {
                const std::string normalized = normalize_query(
                    q.texts[i], max_query_bytes_, "queries[" + std::to_string(i) + "]");
                extract(normalized, q.keys.empty() ? no_key : q.keys[i], embedding_row(q, i), x,
                        nullptr);
                scores(x, z);
                finish(r, z, CrisisDetector::instance().detect(normalized));
                out.persona[i] = static_cast<std::int32_t>(r.persona);
                out.confidence[i] = r.confidence;
                std::copy(r.probabilities.begin(), r.probabilities.end(),
                          out.probabilities.begin() + static_cast<std::ptrdiff_t>(i * k));
                out.crisis[i] = r.crisis ? 1 : 0;
                out.abstained[i] = r.abstained ? 1 : 0;
            } catch (...) {
                errors[i] = std::current_exception();
            }
        }
    });
    // Report the first bad query, whichever thread met it.
    for (const auto& e : errors) {
        if (e) std::rethrow_exception(e);
    }
    return out;
}

std::vector<double> Model::logits(const Queries& q) const {
    require_fitted(*this);
    validate_queries(q, q.texts.size());
    check_embedding(embedding_dim_, q.embedding_dim, q.embeddings != nullptr, "embeddings");
    const std::size_t k = personas_.size();
    std::vector<double> out(q.texts.size() * k);
    static const std::vector<std::string> no_key;
    Sparse x;
    for (std::size_t i = 0; i < q.texts.size(); ++i) {
        const std::string normalized =
            normalize_query(q.texts[i], max_query_bytes_, "queries[" + std::to_string(i) + "]");
        extract(normalized, q.keys.empty() ? no_key : q.keys[i], embedding_row(q, i), x, nullptr);
        scores(x, std::span<double>(out).subspan(i * k, k));
    }
    return out;
}

Csr Model::features(const Queries& q) const {
    require_fitted(*this);
    validate_queries(q, q.texts.size());
    check_embedding(embedding_dim_, q.embedding_dim, q.embeddings != nullptr, "embeddings");
    Csr out;
    out.cols = feature_count();
    static const std::vector<std::string> no_key;
    Sparse x;
    for (std::size_t i = 0; i < q.texts.size(); ++i) {
        const std::string normalized =
            normalize_query(q.texts[i], max_query_bytes_, "queries[" + std::to_string(i) + "]");
        extract(normalized, q.keys.empty() ? no_key : q.keys[i], embedding_row(q, i), x, nullptr);
        out.indices.insert(out.indices.end(), x.index.begin(), x.index.end());
        out.data.insert(out.data.end(), x.value.begin(), x.value.end());
        out.indptr.push_back(static_cast<std::int64_t>(out.indices.size()));
    }
    return out;
}

std::shared_ptr<const Model> Model::with_temperature(double temperature) const {
    if (!(temperature > 0 && std::isfinite(temperature))) {
        throw InvalidArgument("temperature",
                              "must be a finite number > 0, got " + std::to_string(temperature));
    }
    auto copy = std::make_shared<Model>(*this);
    copy->temperature_ = temperature;
    // A confidence map fitted for another temperature would no longer be calibrated.
    copy->confidence_x_.clear();
    copy->confidence_y_.clear();
    return copy;
}

std::shared_ptr<const Model> Model::with_abstain(std::vector<double> thresholds,
                                                 std::size_t default_persona) const {
    // The constructor validates; the fitted state is then carried over unchanged.
    Model checked(personas_, max_query_bytes_, std::move(thresholds), default_persona);
    auto copy = std::make_shared<Model>(*this);
    copy->thresholds_ = std::move(checked.thresholds_);
    copy->default_persona_ = default_persona;
    copy->crisis_persona_ = checked.crisis_persona_;
    return copy;
}

}  // namespace lumengate::persona
