#pragma once
// The persona router: a lexicon stage (Aho-Corasick over each persona's keywords), hashed
// character and word n-grams with TF-IDF, optional resonance-key and dense-embedding features, and
// an L2-regularised multinomial logistic regression calibrated by a temperature, optionally
// followed by an isotonic map of the top probability. A fitted Model is immutable; Router holds
// it through an atomically swapped shared pointer so routing threads always see one whole model.
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lumengate/persona/aho_corasick.hpp"

// x86-64 builds target the baseline, without POPCNT. The router's rank index counts bits for
// every distinct n-gram of a query, so the function doing that also gets a POPCNT clone,
// picked once when the library loads.
#if defined(__x86_64__) && defined(__GNUC__)
#define LUMENGATE_POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define LUMENGATE_POPCNT_CLONES
#endif

namespace lumengate::persona {

inline constexpr std::uint32_t hash_bits = 18;
inline constexpr std::uint32_t hash_buckets = 1U << hash_bits;
// Version 2 stores the analyzer and the lexicon weight; version 1 files (character n-grams of
// 2–4, no word n-grams, lexicon weight 1) still load.
inline constexpr std::uint32_t router_format_version = 2;

// How a normalised query becomes hashed n-gram terms: character n-grams of char_min..char_max
// code points of each space-padded word (scikit-learn's char_wb), and word n-grams of
// 1..word_max words (0: none), a word being a maximal run of letters, digits and '_'.
struct Analyzer {
    std::uint32_t char_min = 2;
    std::uint32_t char_max = 4;
    std::uint32_t word_max = 0;
    friend bool operator==(const Analyzer&, const Analyzer&) = default;
};

struct PersonaSpec {
    std::string id;
    std::vector<std::string> keywords;  // Korean and English words and phrases
};

// How probabilities are calibrated: a temperature alone, or a temperature followed by an
// isotonic map of the top-label confidence (the other probabilities rescaled to sum to 1).
enum class Calibration : std::uint32_t { temperature = 0, isotonic = 1 };

struct FitOptions {
    double c = 10.0;  // inverse L2 strength, as scikit-learn's C
    std::uint64_t seed = 0;
    std::size_t calibration_folds = 0;  // > 1: fit the calibration on out-of-fold logits
    std::size_t max_iter = 2000;
    double tol = 1e-8;  // on the largest gradient component of the mean loss
    Analyzer analyzer{};
    double lexicon_weight = 1.0;  // scale of the lexicon columns against the unit-norm TF-IDF
    Calibration calibration = Calibration::temperature;
};

// Rows of a sparse feature matrix (CSR) in the model's feature layout.
struct Csr {
    std::vector<std::int64_t> indptr{0};
    std::vector<std::int32_t> indices;
    std::vector<double> data;
    std::size_t cols = 0;
};

struct NgramEvidence {
    std::string ngram;
    double contribution;  // feature value × weight of the winning persona
};

struct RouteResult {
    std::size_t persona = 0;
    double confidence = 0;              // top calibrated probability
    double margin = 0;                  // top − second
    std::vector<double> probabilities;  // calibrated, in persona order
    std::vector<std::size_t> ranking;   // persona indices, most probable first
    bool abstained = false;
    bool crisis = false;
    std::vector<std::vector<std::string>> keywords;  // matched keywords, per persona
    std::vector<NgramEvidence> ngrams;               // strongest for the model's top persona
    std::vector<std::string> crisis_phrases;
};

struct RouteBatch {
    std::vector<std::int32_t> persona;
    std::vector<double> confidence;
    std::vector<double> probabilities;  // n × personas, row-major
    std::vector<std::uint8_t> crisis;
    std::vector<std::uint8_t> abstained;
};

// Inputs of many queries; keys and embeddings may be empty (none given).
struct Queries {
    std::vector<std::string_view> texts;
    std::vector<std::vector<std::string>> keys;  // resonance-key feature tokens per query
    const float* embeddings = nullptr;           // n × embedding_dim, row-major
    std::size_t embedding_dim = 0;
};

class Model {
  public:
    // An unfitted model: personas, the query size limit, abstain thresholds (0 = never;
    // empty = none) and the persona used when abstaining.
    Model(std::vector<PersonaSpec> personas, std::size_t max_query_bytes,
          std::vector<double> thresholds, std::size_t default_persona);

    [[nodiscard]] bool fitted() const noexcept { return !weights_.empty(); }
    [[nodiscard]] std::size_t personas() const noexcept { return personas_.size(); }
    [[nodiscard]] const std::vector<PersonaSpec>& persona_specs() const noexcept {
        return personas_;
    }
    [[nodiscard]] std::size_t max_query_bytes() const noexcept { return max_query_bytes_; }
    [[nodiscard]] const std::vector<double>& thresholds() const noexcept { return thresholds_; }
    [[nodiscard]] std::size_t default_persona() const noexcept { return default_persona_; }
    // Where crisis language is routed: "lua" when present, else the default persona.
    [[nodiscard]] std::size_t crisis_persona() const noexcept { return crisis_persona_; }
    [[nodiscard]] double temperature() const noexcept { return temperature_; }
    [[nodiscard]] std::size_t embedding_dim() const noexcept { return embedding_dim_; }
    [[nodiscard]] std::size_t feature_count() const noexcept;
    [[nodiscard]] const std::vector<std::string>& key_vocabulary() const noexcept {
        return key_vocab_;
    }
    [[nodiscard]] double c() const noexcept { return c_; }
    [[nodiscard]] const Analyzer& analyzer() const noexcept { return analyzer_; }
    [[nodiscard]] double lexicon_weight() const noexcept { return lexicon_weight_; }
    [[nodiscard]] std::uint64_t seed() const noexcept { return seed_; }

    // Fits on labelled queries (labels are persona indices); deterministic for the options.
    [[nodiscard]] std::shared_ptr<const Model> fit(const Queries& queries,
                                                   std::span<const std::int32_t> labels,
                                                   const FitOptions& options) const;
    // A copy with the temperature minimising the NLL of `labels` under this model's logits,
    // and for Calibration::isotonic the confidence map fitted on the same queries.
    [[nodiscard]] std::shared_ptr<const Model> calibrate(
        const Queries& queries, std::span<const std::int32_t> labels,
        Calibration method = Calibration::temperature) const;
    // Knots of the isotonic confidence map (ascending confidence, calibrated value); empty
    // when the calibration is a temperature alone.
    [[nodiscard]] const std::vector<double>& confidence_knots_x() const noexcept {
        return confidence_x_;
    }
    [[nodiscard]] const std::vector<double>& confidence_knots_y() const noexcept {
        return confidence_y_;
    }
    [[nodiscard]] std::shared_ptr<const Model> with_temperature(double temperature) const;
    [[nodiscard]] std::shared_ptr<const Model> with_abstain(std::vector<double> thresholds,
                                                            std::size_t default_persona) const;

    // With `evidence` false the result leaves keywords, ngrams and crisis_phrases empty (the
    // decision and probabilities are the same); a service reads those only when it shows them.
    [[nodiscard]] RouteResult route(std::string_view text, std::span<const std::string> key,
                                    std::span<const float> embedding, bool evidence = true) const;
    [[nodiscard]] RouteBatch route_many(const Queries& queries, std::size_t threads) const;
    // Uncalibrated logits (n × personas) and the feature matrix of the queries.
    [[nodiscard]] std::vector<double> logits(const Queries& queries) const;
    [[nodiscard]] Csr features(const Queries& queries) const;

    // Versioned little-endian binary form, with a checksum; deserialize rejects anything else.
    [[nodiscard]] std::string serialize() const;
    [[nodiscard]] static std::shared_ptr<const Model> deserialize(std::string_view bytes);

    // Growing one of these does not zero the new elements (every one is written before it is
    // read), so a reused buffer is sized to its bound without a memset per query.
    template <typename T>
    struct UninitializedAllocator : std::allocator<T> {
        using value_type = T;
        template <typename U>
        struct rebind {
            using other = UninitializedAllocator<U>;
        };
        UninitializedAllocator() noexcept = default;
        template <typename U>
        UninitializedAllocator(const UninitializedAllocator<U>& /*other*/) noexcept {}
        template <typename U>
        void construct(U* p) noexcept {
            ::new (static_cast<void*>(p)) U;
        }
        template <typename U, typename... Args>
        void construct(U* p, Args&&... args) {
            ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
        }
    };
    struct Sparse {
        std::vector<std::int32_t, UninitializedAllocator<std::int32_t>> index;
        std::vector<double, UninitializedAllocator<double>> value;
    };

  private:
    Model() = default;
    void compile();
    void build_rows();
    // The column of a bucket (-1: not seen in fit): the number of seen buckets below it, read
    // from one 16-byte word of the rank index. Branch-free, since whether a query's n-gram was
    // seen is unpredictable: an unseen bucket ORs its rank with all ones.
    [[nodiscard]] std::int32_t column_of(std::uint32_t bucket) const noexcept {
        const BucketWord& word = bucket_words_[bucket >> 6U];
        const std::uint64_t bit = std::uint64_t{1} << (bucket & 63U);
        const auto rank = static_cast<std::int32_t>(word.rank + count_bits(word.bits & (bit - 1U)));
        const std::int32_t unseen = -static_cast<std::int32_t>((word.bits & bit) == 0);
        return rank | unseen;
    }
    [[nodiscard]] const void* column_slot(std::uint32_t bucket) const noexcept {
        return &bucket_words_[bucket >> 6U];
    }
    // One POPCNT instruction in code built for it (extract()'s clone on x86-64); a library
    // call on the baseline target, which lacks the instruction.
    [[nodiscard]] static std::uint32_t count_bits(std::uint64_t x) noexcept {
        return static_cast<std::uint32_t>(std::popcount(x));
    }
    void validate_queries(const Queries& queries, std::size_t n_expected_labels) const;
    LUMENGATE_POPCNT_CLONES void extract(std::string_view normalized,
                                         std::span<const std::string> key,
                                         std::span<const float> embedding, Sparse& out,
                                         std::vector<std::vector<std::string>>* keywords) const;
    void scores(const Sparse& x, std::span<double> logits) const;
    void finish(RouteResult& r, std::span<const double> logits, bool crisis) const;
    [[nodiscard]] std::span<const float> embedding_row(const Queries& q, std::size_t i) const;

    // Configuration and fitted state (serialised).
    std::vector<PersonaSpec> personas_;
    std::size_t max_query_bytes_ = 0;
    std::vector<double> thresholds_;
    std::size_t default_persona_ = 0;
    Analyzer analyzer_{};
    double lexicon_weight_ = 1.0;
    std::vector<std::uint32_t> buckets_;  // n-gram buckets seen in fit, ascending
    std::vector<double> idf_;             // per seen bucket
    double idf_unseen_ = 1;
    std::vector<std::string> key_vocab_;  // sorted
    std::size_t embedding_dim_ = 0;
    double c_ = 0;
    std::uint64_t seed_ = 0;
    double temperature_ = 1;
    std::vector<double> confidence_x_, confidence_y_;
    std::vector<double> weights_;  // feature-major: features × personas
    std::vector<double> bias_;

    // Derived when built or loaded.
    // Rank index of the seen buckets: per 64 buckets, a bit per bucket and the number of seen
    // buckets before them. Columns follow ascending bucket order, so a bucket's column is its
    // rank; 64 KB for all 2^18 buckets, small enough to stay in cache between queries.
    struct BucketWord {
        std::uint64_t bits = 0;
        std::uint64_t rank = 0;
    };
    std::vector<BucketWord> bucket_words_;
    // Per n-gram column once fitted: its idf, then its weight per persona, side by side so
    // scoring a column touches one cache line instead of two arrays.
    std::vector<double> rows_;
    std::vector<std::string> patterns_;  // normalised keywords, all personas
    std::vector<std::uint32_t> pattern_owner_;
    std::vector<std::uint8_t> pattern_latin_start_, pattern_latin_end_;
    AhoCorasick lexicon_;
    std::size_t crisis_persona_ = 0;  // "lua" when present, else the default persona

    friend class ModelFitter;
};

class Router {
  public:
    explicit Router(std::shared_ptr<const Model> model) : model_(std::move(model)) {}
    [[nodiscard]] std::shared_ptr<const Model> model() const { return model_.load(); }
    void swap(std::shared_ptr<const Model> model) { model_.store(std::move(model)); }

  private:
    std::atomic<std::shared_ptr<const Model>> model_;
};

}  // namespace lumengate::persona
