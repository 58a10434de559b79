#pragma once
// Hybrid item scoring: score = w_cf·CF + w_cb·CB + w_pa·PA, every part in [0, 1].
//   CF  weighted mean, over the user's history, of item-item cosine similarity (top-M lists);
//   CB  cosine of the query with the item's features (hashed char n-gram TF-IDF or dense
//       embeddings), negative cosines clipped to 0;
//   PA  Σₚ P(p | query) · affinity[item, p].
// A part with no signal for a request (no history, no query, no persona probabilities)
// gets weight 0 and its weight goes to the other parts in proportion to theirs.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lumengate::persona {

struct ScoreWeights {
    double cf = 0.4;
    double cb = 0.4;
    double pa = 0.2;
};

// Throws InvalidArgument("weights", ...) unless all are finite, >= 0 and sum to 1 (±1e-9).
void validate_weights(const ScoreWeights& weights);

// The weights used for one request: parts without signal get 0 and their weight is shared
// proportionally among the others (equally when those others all weigh 0).
ScoreWeights effective_weights(const ScoreWeights& weights, bool has_cf, bool has_cb, bool has_pa);

// Users × items, compressed by user; duplicates summed, weights finite and > 0.
struct InteractionMatrix {
    std::size_t n_users = 0;
    std::size_t n_items = 0;
    std::vector<std::uint64_t> offsets;  // n_users + 1
    std::vector<std::uint32_t> items;    // sorted within each user
    std::vector<double> weights;

    static InteractionMatrix from_triplets(std::size_t n_users, std::size_t n_items,
                                           std::span<const std::int64_t> users,
                                           std::span<const std::int64_t> items,
                                           std::span<const double> weights);
    [[nodiscard]] std::span<const std::uint32_t> history(std::size_t user) const;
    [[nodiscard]] std::span<const double> history_weights(std::size_t user) const;
};

// Top-M cosine neighbours of every item (similarity > 0, never the item itself), ordered by
// similarity descending then item index ascending. Cosine is dot / (‖i‖·‖j‖) over the
// interaction weights, ranked in double precision.
struct ItemNeighbours {
    std::size_t max_neighbours = 0;
    std::vector<std::uint64_t> offsets;  // n_items + 1
    std::vector<std::uint32_t> items;
    std::vector<float> similarity;
    std::vector<std::uint8_t> has_interactions;  // per item

    static ItemNeighbours build(const InteractionMatrix& interactions, std::size_t max_neighbours,
                                std::size_t threads);
    [[nodiscard]] std::size_t n_items() const noexcept {
        return offsets.empty() ? 0 : offsets.size() - 1;
    }
};

// A sparse, L2-normalised vector over hashed features.
struct SparseVector {
    std::vector<std::uint32_t> features;  // ascending
    std::vector<float> values;
};

// Text → NFC, case-folded (utf8proc), split on ASCII blanks; each word padded with one space
// on both sides gives character n-grams of n_min..n_max code points (a word shorter than n
// gives itself once, like scikit-learn's char_wb); each n-gram's UTF-8 bytes are hashed with
// XXH64 (seed 0) modulo n_features. Returns (feature, count) pairs, features ascending.
std::vector<std::pair<std::uint32_t, std::uint32_t>> hashed_char_ngrams(std::string_view text,
                                                                        std::size_t n_features,
                                                                        std::size_t n_min,
                                                                        std::size_t n_max,
                                                                        const char* field);

// Items' hashed char n-gram TF-IDF vectors: tf = raw count, idf = ln((1 + n)/(1 + df)) + 1,
// rows L2-normalised (scikit-learn's TfidfTransformer defaults). Stored by feature so that a
// query touches only the items that share one of its n-grams.
class TextIndex {
  public:
    static TextIndex build(std::span<const std::string> texts, std::size_t n_features,
                           std::size_t threads);
    [[nodiscard]] SparseVector vectorise(std::string_view text, const char* field) const;
    // out[i] = cosine(query, item i) for every item (0 where no n-gram is shared).
    void cosine(const SparseVector& query, std::span<float> out) const;
    [[nodiscard]] std::size_t n_items() const noexcept { return n_items_; }
    [[nodiscard]] std::size_t n_features() const noexcept { return n_features_; }
    [[nodiscard]] std::span<const double> idf() const noexcept { return idf_; }
    // The item's TF-IDF vector (for tests and inspection).
    [[nodiscard]] SparseVector item_vector(std::size_t item) const;

  private:
    std::size_t n_items_ = 0;
    std::size_t n_features_ = 0;
    std::vector<double> idf_;
    std::vector<std::uint32_t> feature_offsets_;  // n_features + 1
    std::vector<std::uint32_t> posting_items_;
    std::vector<float> posting_values_;
};

// Dense item embeddings viewed in place (row-major float32 [n, d]); the owner keeps the buffer
// alive and unchanged. Stored beside it: the inverse row norms and an int8 copy of every row
// (one scale per row, a quarter of the bytes) that lets a top-k scan read 1/4 of the memory
// and then rescore only the rows that can still be among the k best.
class DenseIndex {
  public:
    DenseIndex(const float* data, std::size_t n, std::size_t d, std::size_t threads);
    [[nodiscard]] std::size_t n_items() const noexcept { return n_; }
    [[nodiscard]] std::size_t dim() const noexcept { return d_; }
    // max(0, cosine(row, query)); query_inverse_norm is 1/‖query‖.
    [[nodiscard]] float cosine(std::size_t row, const float* query,
                               float query_inverse_norm) const noexcept;
    // out[r] = cosine(first + r, query) for count rows, bit-identical to cosine().
    void cosine_block(std::size_t first, std::size_t count, const float* query,
                      float query_inverse_norm, float* out) const noexcept;
    // out[r] ≈ cosine(first + r, query) before clipping, from the int8 rows; it differs from
    // the float32 cosine by at most approximation_error(query, query_inverse_norm).
    void approximate_cosine_block(std::size_t first, std::size_t count, const float* query,
                                  float query_inverse_norm, float* out) const noexcept;
    // A bound on |approximate − exact| cosine for this query over every row, rounding included.
    [[nodiscard]] float approximation_error(const float* query,
                                            float query_inverse_norm) const noexcept;

  private:
    const float* data_;
    std::size_t n_;
    std::size_t d_;
    std::vector<float> inverse_norm_;
    std::vector<std::int8_t> codes_;  // n × d, row i ≈ codes · scale_i
    std::vector<float> code_scale_;   // scale_i · inverse_norm_i
    double max_code_error_ = 0;  // max over rows of max_j |x_ij − scale_i·code_ij| / ‖x_i‖
};

struct ScoreRequest {
    std::int64_t user = -1;  // -1: unknown user (cold start)
    bool has_text = false;
    std::string_view text;
    std::span<const float> vector;          // dense query; empty when none
    std::span<const double> persona_probs;  // one per persona; empty when none
    std::size_t k = 10;
    bool exclude_seen = false;
};

struct TopK {
    std::vector<std::uint32_t> items;
    std::vector<float> scores;
    std::vector<float> cf;
    std::vector<float> cb;
    std::vector<float> pa;
    bool cold_start = false;
    ScoreWeights weights;  // the effective weights used
};

class HybridScorer {
  public:
    // affinity: n_items × n_personas row-major in [0, 1] (empty: no persona part).
    HybridScorer(std::size_t n_items, std::size_t n_personas, std::vector<float> affinity,
                 ScoreWeights weights, std::shared_ptr<const TextIndex> text,
                 std::shared_ptr<const DenseIndex> dense, InteractionMatrix interactions,
                 std::size_t max_neighbours, std::size_t threads);

    [[nodiscard]] TopK top_k(const ScoreRequest& request, std::size_t threads) const;
    [[nodiscard]] std::vector<TopK> top_k_many(std::span<const ScoreRequest> requests,
                                               std::size_t threads) const;

    [[nodiscard]] std::size_t n_items() const noexcept { return n_items_; }
    [[nodiscard]] std::size_t n_personas() const noexcept { return n_personas_; }
    [[nodiscard]] const ScoreWeights& weights() const noexcept { return weights_; }
    [[nodiscard]] const ItemNeighbours& neighbours() const noexcept { return neighbours_; }
    [[nodiscard]] const InteractionMatrix& interactions() const noexcept { return interactions_; }
    [[nodiscard]] bool has_text() const noexcept { return text_ != nullptr; }
    [[nodiscard]] bool has_dense() const noexcept { return dense_ != nullptr; }
    [[nodiscard]] const TextIndex* text() const noexcept { return text_.get(); }

  private:
    std::size_t n_items_;
    std::size_t n_personas_;
    std::vector<float> affinity_;
    ScoreWeights weights_;
    std::shared_ptr<const TextIndex> text_;
    std::shared_ptr<const DenseIndex> dense_;
    InteractionMatrix interactions_;
    ItemNeighbours neighbours_;
};

}  // namespace lumengate::persona
