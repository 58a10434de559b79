#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "lumengate/common/error.hpp"
#include "lumengate/persona/scorer.hpp"
#include "pybind.hpp"

namespace lumengate::bindings {
namespace {

using namespace lumengate::persona;
using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;
using Doubles = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Indices = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

// The native scorer plus the numpy buffer its dense index reads in place.
struct ScorerHandle {
    std::shared_ptr<const HybridScorer> core;
    py::object vectors_owner;
};

template <typename T>
std::span<const T> view1d(const py::array_t<T, py::array::c_style | py::array::forcecast>& a,
                          const char* field) {
    if (a.ndim() != 1) {
        throw InvalidArgument(
            field, "must be one-dimensional, got " + std::to_string(a.ndim()) + " dimensions");
    }
    return {a.data(), static_cast<std::size_t>(a.size())};
}

template <typename T>
py::array_t<T> to_numpy(const std::vector<T>& v) {
    py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
}

py::array_t<std::int64_t> indices_to_numpy(const std::vector<std::uint32_t>& v) {
    py::array_t<std::int64_t> out(static_cast<py::ssize_t>(v.size()));
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
}

py::tuple result_tuple(const TopK& r) {
    return py::make_tuple(indices_to_numpy(r.items), to_numpy(r.scores), to_numpy(r.cf),
                          to_numpy(r.cb), to_numpy(r.pa), r.cold_start,
                          py::make_tuple(r.weights.cf, r.weights.cb, r.weights.pa));
}

std::size_t checked_k(std::int64_t k) {
    if (k < 1) throw InvalidArgument("k", "must be >= 1, got " + std::to_string(k));
    return static_cast<std::size_t>(k);
}

std::shared_ptr<const HybridScorer> build(
    std::size_t n_items, const std::optional<std::vector<std::string>>& texts, const float* vectors,
    std::size_t dim, const std::optional<Floats>& affinity, std::size_t n_personas,
    std::tuple<double, double, double> weights, std::size_t n_users, const Indices& users,
    const Indices& items, const Doubles& values, std::size_t neighbours, std::size_t n_features,
    std::size_t threads) {
    std::vector<float> affinity_values;
    if (affinity) {
        const auto& a = *affinity;
        if (a.ndim() != 2 || static_cast<std::size_t>(a.shape(0)) != n_items ||
            static_cast<std::size_t>(a.shape(1)) != n_personas) {
            throw InvalidArgument("affinity", "must have shape (" + std::to_string(n_items) + ", " +
                                                  std::to_string(n_personas) +
                                                  ") (items × personas)");
        }
        affinity_values.assign(a.data(), a.data() + a.size());
    }
    const ScoreWeights w{std::get<0>(weights), std::get<1>(weights), std::get<2>(weights)};
    validate_weights(w);
    const auto u = view1d(users, "interactions");
    const auto it = view1d(items, "interactions");
    const auto v = view1d(values, "interactions");
    // Texts are C++ strings and the arrays are held by the caller: no Python object is used.
    py::gil_scoped_release release;
    std::shared_ptr<const TextIndex> text;
    std::shared_ptr<const DenseIndex> dense;
    if (texts) {
        text = std::make_shared<const TextIndex>(TextIndex::build(*texts, n_features, threads));
    }
    if (vectors != nullptr)
        dense = std::make_shared<const DenseIndex>(vectors, n_items, dim, threads);
    auto interactions = InteractionMatrix::from_triplets(n_users, n_items, u, it, v);
    return std::make_shared<const HybridScorer>(n_items, n_personas, std::move(affinity_values), w,
                                                std::move(text), std::move(dense),
                                                std::move(interactions), neighbours, threads);
}

}  // namespace

void register_persona_scorer(py::module_& m) {
    py::class_<ScorerHandle>(m, "HybridScorer",
                             "Native hybrid item scorer (use lumengate.persona.HybridScorer).")
        .def_static(
            "from_texts",
            [](const std::vector<std::string>& texts, const std::optional<Floats>& affinity,
               std::size_t n_personas, std::tuple<double, double, double> weights,
               std::size_t n_users, const Indices& users, const Indices& items,
               const Doubles& values, std::size_t neighbours, std::size_t n_features,
               std::size_t threads) {
                return ScorerHandle{
                    build(texts.size(), texts, nullptr, 0, affinity, n_personas, weights, n_users,
                          users, items, values, neighbours, n_features, threads),
                    py::none()};
            },
            "texts"_a, "affinity"_a, "n_personas"_a, "weights"_a, "n_users"_a, "users"_a, "items"_a,
            "values"_a, "neighbours"_a = 50, "n_features"_a = 1 << 18, "threads"_a = 0,
            "A scorer whose CB part is hashed char n-gram TF-IDF over `texts`.")
        .def_static(
            "from_vectors",
            [](const Floats& vectors, const std::optional<Floats>& affinity, std::size_t n_personas,
               std::tuple<double, double, double> weights, std::size_t n_users,
               const Indices& users, const Indices& items, const Doubles& values,
               std::size_t neighbours, std::size_t threads) {
                if (vectors.ndim() != 2) {
                    throw InvalidArgument("item_vectors",
                                          "must be two-dimensional [n_items, d], "
                                          "got " +
                                              std::to_string(vectors.ndim()) + " dimensions");
                }
                const auto n = static_cast<std::size_t>(vectors.shape(0));
                const auto d = static_cast<std::size_t>(vectors.shape(1));
                // The handle keeps `vectors` (the caller's array, or forcecast's float32 copy)
                // alive, so the dense index can read it in place without another copy.
                return ScorerHandle{
                    build(n, std::nullopt, vectors.data(), d, affinity, n_personas, weights,
                          n_users, users, items, values, neighbours, 0, threads),
                    vectors};
            },
            "vectors"_a, "affinity"_a, "n_personas"_a, "weights"_a, "n_users"_a, "users"_a,
            "items"_a, "values"_a, "neighbours"_a = 50, "threads"_a = 0,
            "A scorer whose CB part is the cosine of dense float32 item vectors.")
        .def_property_readonly(
            "n_items", [](const ScorerHandle& h) { return h.core->n_items(); }, "Number of items.")
        .def_property_readonly(
            "vectors", [](const ScorerHandle& h) { return h.vectors_owner; },
            "The float32 item vectors read in place (None for a text scorer).")
        .def_property_readonly(
            "has_interactions",
            [](const ScorerHandle& h) { return to_numpy(h.core->neighbours().has_interactions); },
            "Per item: 1 when some user interacted with it, else 0.")
        .def(
            "neighbour_lists",
            [](const ScorerHandle& h) {
                const auto& nb = h.core->neighbours();
                return py::make_tuple(to_numpy(nb.offsets), indices_to_numpy(nb.items),
                                      to_numpy(nb.similarity));
            },
            "All neighbour lists as (offsets, items, similarity), compressed by item.")
        .def(
            "history",
            [](const ScorerHandle& h, std::int64_t user) {
                if (user < 0)
                    return py::make_tuple(py::array_t<std::int64_t>(0),
                                          to_numpy(std::vector<double>{}));
                const auto items = h.core->interactions().history(static_cast<std::size_t>(user));
                const auto weights =
                    h.core->interactions().history_weights(static_cast<std::size_t>(user));
                return py::make_tuple(
                    indices_to_numpy(std::vector<std::uint32_t>(items.begin(), items.end())),
                    to_numpy(std::vector<double>(weights.begin(), weights.end())));
            },
            "user"_a, "The user's (items, summed weights); empty for an unknown user.")
        .def(
            "text_vector",
            [](const ScorerHandle& h, std::int64_t item) {
                if (!h.core->has_text()) throw InvalidArgument("item", "scorer has no text");
                if (item < 0 || static_cast<std::size_t>(item) >= h.core->n_items()) {
                    throw InvalidArgument("item", "out of range");
                }
                const auto v = h.core->text()->item_vector(static_cast<std::size_t>(item));
                return py::make_tuple(indices_to_numpy(v.features), to_numpy(v.values));
            },
            "item"_a, "The item's TF-IDF vector as (features, values).")
        .def(
            "query_vector",
            [](const ScorerHandle& h, const std::string& text) {
                if (!h.core->has_text()) throw InvalidArgument("query", "scorer has no text");
                const auto v = h.core->text()->vectorise(text, "query");
                return py::make_tuple(indices_to_numpy(v.features), to_numpy(v.values));
            },
            "text"_a, "The query's TF-IDF vector as (features, values).")
        .def(
            "top_k",
            [](const ScorerHandle& h, std::int64_t user, const std::optional<std::string>& text,
               const std::optional<Floats>& vector, const std::optional<Doubles>& persona_probs,
               std::int64_t k, bool exclude_seen, std::size_t threads) {
                ScoreRequest request;
                request.user = user;
                request.has_text = text.has_value();
                if (text) request.text = *text;
                if (vector) request.vector = view1d(*vector, "query");
                if (persona_probs) request.persona_probs = view1d(*persona_probs, "persona_probs");
                request.k = checked_k(k);
                request.exclude_seen = exclude_seen;
                TopK result;
                {
                    // The request views strings and arrays this frame keeps alive.
                    py::gil_scoped_release release;
                    result = h.core->top_k(request, threads);
                }
                return result_tuple(result);
            },
            "user"_a, "text"_a, "vector"_a, "persona_probs"_a, "k"_a = 10, "exclude_seen"_a = false,
            "threads"_a = 0,
            "(items, scores, cf, cb, pa, cold_start, weights) of the k best items.")
        .def(
            "top_k_many",
            [](const ScorerHandle& h, const Indices& users,
               const std::optional<std::vector<std::optional<std::string>>>& texts,
               const std::optional<Floats>& vectors, const std::optional<Doubles>& persona_probs,
               std::int64_t k, bool exclude_seen, std::size_t threads) {
                const auto u = view1d(users, "user_ids");
                const std::size_t n = u.size();
                if (texts && texts->size() != n) {
                    throw InvalidArgument("queries", "must have one entry per user id (" +
                                                         std::to_string(n) + "), got " +
                                                         std::to_string(texts->size()));
                }
                if (vectors &&
                    (vectors->ndim() != 2 || static_cast<std::size_t>(vectors->shape(0)) != n)) {
                    throw InvalidArgument("queries",
                                          "must be a 2-D array with one row per user "
                                          "id (" +
                                              std::to_string(n) + ")");
                }
                if (persona_probs && (persona_probs->ndim() != 2 ||
                                      static_cast<std::size_t>(persona_probs->shape(0)) != n)) {
                    throw InvalidArgument("persona_probs",
                                          "must be a 2-D array with one row per "
                                          "user id (" +
                                              std::to_string(n) + ")");
                }
                std::vector<ScoreRequest> requests(n);
                const std::size_t kk = checked_k(k);
                for (std::size_t i = 0; i < n; ++i) {
                    auto& r = requests[i];
                    r.user = u[i];
                    if (texts && (*texts)[i]) {
                        r.has_text = true;
                        r.text = *(*texts)[i];
                    }
                    if (vectors) {
                        const auto d = static_cast<std::size_t>(vectors->shape(1));
                        r.vector = {vectors->data() + i * d, d};
                    }
                    if (persona_probs) {
                        const auto p = static_cast<std::size_t>(persona_probs->shape(1));
                        r.persona_probs = {persona_probs->data() + i * p, p};
                    }
                    r.k = kk;
                    r.exclude_seen = exclude_seen;
                }
                std::vector<TopK> results;
                {
                    // Requests view the strings and arrays held by this frame's arguments.
                    py::gil_scoped_release release;
                    results = h.core->top_k_many(requests, threads);
                }
                py::list out;
                for (const auto& r : results) out.append(result_tuple(r));
                return out;
            },
            "users"_a, "texts"_a, "vectors"_a, "persona_probs"_a, "k"_a = 10,
            "exclude_seen"_a = false, "threads"_a = 0,
            "top_k for many requests at once, one request per worker.");
}

}  // namespace lumengate::bindings
