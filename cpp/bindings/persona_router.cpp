#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "lumengate/common/error.hpp"
#include "lumengate/persona/crisis.hpp"
#include "lumengate/persona/router.hpp"
#include "lumengate/persona/text.hpp"
#include "pybind.hpp"

namespace lumengate::bindings {
namespace {

using namespace lumengate::persona;
using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;
using Labels = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;

// Views of a sequence of str or bytes; `keep` holds the objects so the views stay valid after
// the GIL is released.
std::vector<std::string_view> text_views(const py::sequence& items, std::vector<py::object>& keep,
                                         const std::string& field) {
    std::vector<std::string_view> out;
    out.reserve(items.size());
    keep.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        py::object item = items[i];
        out.push_back(text_view(item, field + "[" + std::to_string(i) + "]"));
        keep.push_back(std::move(item));
    }
    return out;
}

std::vector<std::string> persona_ids(const Model& model) {
    std::vector<std::string> ids;
    for (const auto& p : model.persona_specs()) ids.push_back(p.id);
    return ids;
}

struct Inputs {
    Queries q;
    std::vector<py::object> keep;
    std::optional<Floats> embeddings;
};

void fill_inputs(Inputs& in, const py::sequence& queries, const py::object& keys,
                 const py::object& embeddings) {
    in.q.texts = text_views(queries, in.keep, "queries");
    if (!keys.is_none()) {
        in.q.keys = keys.cast<std::vector<std::vector<std::string>>>();
    }
    if (!embeddings.is_none()) {
        in.embeddings = Floats::ensure(embeddings);
        if (!in.embeddings || in.embeddings->ndim() != 2) {
            throw InvalidArgument("embeddings", "must be a 2-dimensional float array [n, d]");
        }
        if (static_cast<std::size_t>(in.embeddings->shape(0)) != in.q.texts.size()) {
            throw InvalidArgument("embeddings", "has " + std::to_string(in.embeddings->shape(0)) +
                                                    " rows but queries has " +
                                                    std::to_string(in.q.texts.size()));
        }
        in.q.embeddings = in.embeddings->data();
        in.q.embedding_dim = static_cast<std::size_t>(in.embeddings->shape(1));
    }
}

std::span<const std::int32_t> label_view(const Labels& labels) {
    if (labels.ndim() != 1) throw InvalidArgument("labels", "must be one-dimensional");
    return {labels.data(), static_cast<std::size_t>(labels.size())};
}

template <typename T>
py::array_t<T> to_numpy(const std::vector<T>& v) {
    py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
    std::copy(v.begin(), v.end(), out.mutable_data());
    return out;
}

// One routed query as the core returned it; the scores dict and the evidence are built only
// when asked for, from the same model snapshot, so a concurrent swap cannot change them.
struct RouteOutcome {
    std::shared_ptr<const Model> model;
    RouteResult result;  // without evidence
    std::string text;
    std::vector<std::string> key;
    std::vector<float> embedding;
    bool has_embedding = false;
};

py::dict ranked_scores(const RouteOutcome& o) {
    const auto& specs = o.model->persona_specs();
    py::dict scores;
    for (const std::size_t i : o.result.ranking) {
        scores[py::str(specs[i].id)] = o.result.probabilities[i];
    }
    return scores;
}

py::tuple evidence_of(const Model& model, const RouteResult& r) {
    const auto& specs = model.persona_specs();
    py::dict keywords;
    for (std::size_t i = 0; i < r.keywords.size(); ++i) {
        if (!r.keywords[i].empty()) {
            keywords[py::str(specs[i].id)] = py::tuple(py::cast(r.keywords[i]));
        }
    }
    py::list ngrams;
    for (const auto& g : r.ngrams) ngrams.append(py::make_tuple(g.ngram, g.contribution));
    return py::make_tuple(keywords, py::tuple(ngrams), py::tuple(py::cast(r.crisis_phrases)));
}

Calibration calibration_method(const std::string& name, const std::string& field) {
    if (name == "temperature") return Calibration::temperature;
    if (name == "isotonic") return Calibration::isotonic;
    throw InvalidArgument(field,
                          "'" + name + "' is not supported; allowed: ['temperature', 'isotonic']");
}

std::shared_ptr<const Model> fitted(const Router& r) {
    auto m = r.model();
    if (!m->fitted()) {
        throw InvalidArgument("router", "is not fitted: call fit() first or use Router.default()");
    }
    return m;
}

}  // namespace

void register_persona_router(py::module_& m) {
    py::class_<RouteOutcome>(m, "RouteOutcome", "One routed query, kept in native form.")
        .def("scores", &ranked_scores, "persona id → calibrated probability, most probable first.")
        .def(
            "evidence",
            [](const RouteOutcome& o) {
                RouteResult full;
                {
                    // Only the outcome's own copies are read; the snapshot is immutable.
                    py::gil_scoped_release release;
                    const std::span<const float> embedding =
                        o.has_embedding ? std::span<const float>(o.embedding)
                                        : std::span<const float>{};
                    full = o.model->route(o.text, o.key, embedding, true);
                }
                return evidence_of(*o.model, full);
            },
            "(matched keywords per persona, strongest n-grams, crisis phrases), computed by the "
            "model that routed the query.");
    py::class_<Router>(m, "Router", "Persona router: lexicon, hashed n-grams, logistic regression.")
        .def(py::init([](const std::vector<std::string>& ids,
                         const std::vector<std::vector<std::string>>& keywords,
                         std::size_t max_query_bytes, const std::vector<double>& thresholds,
                         std::size_t default_persona) {
                 if (keywords.size() != ids.size()) {
                     throw InvalidArgument("keywords", "needs one list per persona");
                 }
                 std::vector<PersonaSpec> specs;
                 for (std::size_t i = 0; i < ids.size(); ++i)
                     specs.push_back({ids[i], keywords[i]});
                 return std::make_unique<Router>(std::make_shared<const Model>(
                     std::move(specs), max_query_bytes, thresholds, default_persona));
             }),
             "persona_ids"_a, "keywords"_a, "max_query_bytes"_a = default_max_query_bytes,
             "thresholds"_a = std::vector<double>{}, "default_persona"_a = 0,
             "An unfitted router over these personas and their keywords.")
        .def(
            "fit",
            [](Router& self, const py::sequence& queries, const Labels& labels,
               const py::object& keys, const py::object& embeddings, double c, std::uint64_t seed,
               std::size_t calibration_folds, std::size_t max_iter, double tol,
               std::pair<std::uint32_t, std::uint32_t> char_ngrams, std::uint32_t word_ngrams,
               double lexicon_weight, const std::string& calibration) {
                Inputs in;
                fill_inputs(in, queries, keys, embeddings);
                const auto y = label_view(labels);
                const FitOptions options{c,
                                         seed,
                                         calibration_folds,
                                         max_iter,
                                         tol,
                                         {char_ngrams.first, char_ngrams.second, word_ngrams},
                                         lexicon_weight,
                                         calibration_method(calibration, "calibration")};
                const auto base = self.model();
                std::shared_ptr<const Model> next;
                {
                    // Only the core's views of objects held by `in` and `labels` are read.
                    py::gil_scoped_release release;
                    next = base->fit(in.q, y, options);
                }
                self.swap(std::move(next));
            },
            "queries"_a, "labels"_a, "keys"_a = py::none(), "embeddings"_a = py::none(),
            "C"_a = 10.0, "seed"_a = 0, "calibration_folds"_a = 0, "max_iter"_a = 2000,
            "tol"_a = 1e-8, "char_ngrams"_a = std::pair<std::uint32_t, std::uint32_t>{2, 4},
            "word_ngrams"_a = 0, "lexicon_weight"_a = 1.0, "calibration"_a = "temperature",
            "Fit on labelled queries (persona indices), then swap the model in.")
        .def(
            "calibrate",
            [](Router& self, const py::sequence& queries, const Labels& labels,
               const py::object& keys, const py::object& embeddings, const std::string& method) {
                const Calibration calibration = calibration_method(method, "method");
                Inputs in;
                fill_inputs(in, queries, keys, embeddings);
                const auto y = label_view(labels);
                const auto base = fitted(self);
                std::shared_ptr<const Model> next;
                {
                    // As in fit: views of objects held for the whole call.
                    py::gil_scoped_release release;
                    next = base->calibrate(in.q, y, calibration);
                }
                const double temperature = next->temperature();
                self.swap(std::move(next));
                return temperature;
            },
            "queries"_a, "labels"_a, "keys"_a = py::none(), "embeddings"_a = py::none(),
            "method"_a = "temperature",
            "Fit the temperature (and for 'isotonic' the confidence map) on these (held-out) "
            "queries; returns the temperature.")
        .def(
            "set_temperature",
            [](Router& self, double t) { self.swap(fitted(self)->with_temperature(t)); },
            "temperature"_a, "Replace the calibration by this temperature alone.")
        .def(
            "set_abstain",
            [](Router& self, const std::vector<double>& thresholds, std::size_t default_persona) {
                self.swap(self.model()->with_abstain(thresholds, default_persona));
            },
            "thresholds"_a, "default_persona"_a,
            "Per-persona confidence thresholds (empty: never abstain) and the fallback persona.")
        .def(
            "route",
            [](const Router& self, const py::object& query, const std::vector<std::string>& key,
               const py::object& embedding) {
                const std::string_view text = text_view(query, "query");
                std::optional<Floats> e;
                std::span<const float> view;
                if (!embedding.is_none()) {
                    e = Floats::ensure(embedding);
                    if (!e || e->ndim() != 1) {
                        throw InvalidArgument("embedding", "must be a 1-dimensional float array");
                    }
                    if (e->size() == 0) throw InvalidArgument("embedding", "must not be empty");
                    view = {e->data(), static_cast<std::size_t>(e->size())};
                }
                auto outcome = std::make_unique<RouteOutcome>();
                outcome->model = self.model();
                {
                    // `text`, `key` and `view` belong to objects alive for the whole call.
                    py::gil_scoped_release release;
                    outcome->result = outcome->model->route(text, key, view, false);
                    outcome->text.assign(text);
                    outcome->key = key;
                    outcome->embedding.assign(view.begin(), view.end());
                    outcome->has_embedding = e.has_value();
                }
                // Ids come from the same snapshot as the scores, so a concurrent swap to a model
                // with other personas can never mislabel this result.
                const auto& r = outcome->result;
                py::str persona(outcome->model->persona_specs()[r.persona].id);
                return py::make_tuple(std::move(persona), r.confidence, r.margin, r.abstained,
                                      r.crisis, std::move(outcome));
            },
            "query"_a, "key"_a = std::vector<std::string>{}, "embedding"_a = py::none(),
            "Route one query: (persona id, confidence, margin, abstained, crisis, outcome); the "
            "outcome gives the scores and the evidence on request.")
        .def(
            "route_many",
            [](const Router& self, const py::sequence& queries, const py::object& keys,
               const py::object& embeddings, std::size_t threads) {
                Inputs in;
                fill_inputs(in, queries, keys, embeddings);
                const auto model = self.model();
                RouteBatch b;
                {
                    // Views of objects held by `in`; the model snapshot is immutable.
                    py::gil_scoped_release release;
                    b = model->route_many(in.q, threads);
                }
                const auto n = static_cast<py::ssize_t>(in.q.texts.size());
                auto probabilities = to_numpy(b.probabilities);
                probabilities.resize({n, static_cast<py::ssize_t>(model->personas())});
                // The ids come from the snapshot that routed, as in route().
                return py::make_tuple(persona_ids(*model), to_numpy(b.persona),
                                      to_numpy(b.confidence), probabilities,
                                      to_numpy(b.crisis).attr("astype")("bool"),
                                      to_numpy(b.abstained).attr("astype")("bool"));
            },
            "queries"_a, "keys"_a = py::none(), "embeddings"_a = py::none(), "threads"_a = 0,
            "Route many queries on all cores: (persona ids, persona, confidence, probabilities, "
            "crisis, abstained), the ids those of the model that routed them.")
        .def(
            "check_queries",
            [](const Router& self, const py::sequence& queries, bool single, bool routing) {
                const auto model = routing ? fitted(self) : self.model();
                for (std::size_t i = 0; i < queries.size(); ++i) {
                    const std::string name =
                        single ? "query" : "queries[" + std::to_string(i) + "]";
                    normalize_query(text_view(queries[i], name), model->max_query_bytes(), name);
                }
            },
            "queries"_a, "single"_a = false, "routing"_a = true,
            "Raise what routing (or, with routing=False, fitting) these queries would raise "
            "about them, without routing them: named 'query' when single.")
        .def(
            "logits",
            [](const Router& self, const py::sequence& queries, const py::object& keys,
               const py::object& embeddings) {
                Inputs in;
                fill_inputs(in, queries, keys, embeddings);
                const auto model = fitted(self);
                std::vector<double> z;
                {
                    // Views of objects held by `in`.
                    py::gil_scoped_release release;
                    z = model->logits(in.q);
                }
                auto out = to_numpy(z);
                out.resize({static_cast<py::ssize_t>(in.q.texts.size()),
                            static_cast<py::ssize_t>(model->personas())});
                return out;
            },
            "queries"_a, "keys"_a = py::none(), "embeddings"_a = py::none(),
            "Uncalibrated logits [n, personas].")
        .def(
            "features",
            [](const Router& self, const py::sequence& queries, const py::object& keys,
               const py::object& embeddings) {
                Inputs in;
                fill_inputs(in, queries, keys, embeddings);
                const auto model = fitted(self);
                Csr x;
                {
                    // Views of objects held by `in`.
                    py::gil_scoped_release release;
                    x = model->features(in.q);
                }
                return py::make_tuple(to_numpy(x.data), to_numpy(x.indices), to_numpy(x.indptr),
                                      py::make_tuple(in.q.texts.size(), x.cols));
            },
            "queries"_a, "keys"_a = py::none(), "embeddings"_a = py::none(),
            "The feature matrix as CSR parts (data, indices, indptr, shape).")
        .def(
            "to_bytes",
            [](const Router& self) {
                const auto model = self.model();
                std::string bytes;
                {
                    // Serialises an immutable snapshot.
                    py::gil_scoped_release release;
                    bytes = model->serialize();
                }
                return py::bytes(bytes);
            },
            "The fitted model in its versioned binary form.")
        .def(
            "load_bytes",
            [](Router& self, std::string_view data) {
                std::shared_ptr<const Model> next;
                {
                    // `data` views the caller's bytes object, alive for the call.
                    py::gil_scoped_release release;
                    next = Model::deserialize(data);
                }
                self.swap(std::move(next));
            },
            "data"_a, "Replace the model by one read from bytes, atomically.")
        .def(
            "swap_from", [](Router& self, const Router& other) { self.swap(other.model()); },
            "other"_a, "Share `other`'s current model, atomically.")
        .def(
            "snapshot", [](const Router& self) { return std::make_unique<Router>(self.model()); },
            "A router holding this one's current model: reads through it see one model even "
            "while this router is swapped.")
        .def_static(
            "from_bytes",
            [](std::string_view data) {
                std::shared_ptr<const Model> model;
                {
                    // As in load_bytes.
                    py::gil_scoped_release release;
                    model = Model::deserialize(data);
                }
                return std::make_unique<Router>(std::move(model));
            },
            "data"_a, "A router whose model is read from bytes.")
        .def_property_readonly("fitted", [](const Router& r) { return r.model()->fitted(); })
        .def_property_readonly("persona_ids",
                               [](const Router& r) { return persona_ids(*r.model()); })
        .def_property_readonly("keywords",
                               [](const Router& r) {
                                   std::vector<std::vector<std::string>> out;
                                   for (const auto& p : r.model()->persona_specs())
                                       out.push_back(p.keywords);
                                   return out;
                               })
        .def_property_readonly("temperature",
                               [](const Router& r) { return r.model()->temperature(); })
        .def_property_readonly("thresholds",
                               [](const Router& r) { return r.model()->thresholds(); })
        .def_property_readonly("default_persona",
                               [](const Router& r) { return r.model()->default_persona(); })
        .def_property_readonly("crisis_persona",
                               [](const Router& r) {
                                   const auto model = r.model();
                                   return model->persona_specs()[model->crisis_persona()].id;
                               })
        .def_property_readonly("max_query_bytes",
                               [](const Router& r) { return r.model()->max_query_bytes(); })
        .def_property_readonly("embedding_dim",
                               [](const Router& r) { return r.model()->embedding_dim(); })
        .def_property_readonly("feature_count",
                               [](const Router& r) { return r.model()->feature_count(); })
        .def_property_readonly("key_vocabulary",
                               [](const Router& r) { return r.model()->key_vocabulary(); })
        .def_property_readonly("C", [](const Router& r) { return r.model()->c(); })
        .def_property_readonly("char_ngrams",
                               [](const Router& r) {
                                   const auto& a = r.model()->analyzer();
                                   return std::make_pair(a.char_min, a.char_max);
                               })
        .def_property_readonly("word_ngrams",
                               [](const Router& r) { return r.model()->analyzer().word_max; })
        .def_property_readonly("confidence_map",
                               [](const Router& r) {
                                   const auto model = r.model();
                                   return std::make_pair(model->confidence_knots_x(),
                                                         model->confidence_knots_y());
                               })
        .def_property_readonly("lexicon_weight",
                               [](const Router& r) { return r.model()->lexicon_weight(); })
        .def_property_readonly("seed", [](const Router& r) { return r.model()->seed(); });

    m.def(
        "normalize_query",
        [](const py::object& text, std::size_t max_query_bytes, const std::string& field) {
            return py::str(normalize_query(text_view(text, field), max_query_bytes, field));
        },
        "text"_a, "max_query_bytes"_a = default_max_query_bytes, "field"_a = "query",
        "The text the router sees: validated (errors name `field`), NFC-normalised and "
        "case-folded.");
    m.def(
        "crisis_phrases",
        [](const py::object& text) {
            return CrisisDetector::instance().matches(
                normalize_query(text_view(text, "text"), default_max_query_bytes * 1024, "text"));
        },
        "text"_a, "The built-in crisis phrases found in text (empty: none).");
    m.def(
        "crisis_lexicon", [] { return CrisisDetector::instance().phrases(); },
        "Every built-in crisis phrase, normalised.");
    m.def(
        "crisis_verdict",
        [](std::string_view text) {
            const auto& detector = CrisisDetector::instance();
            const std::string normalized =
                normalize_query(text, default_max_query_bytes * 1024, "text");
            const CrisisVerdict v = detector.lexicon(normalized);
            return std::make_tuple(v.strong, v.weak, v.framing, detector.model_score(normalized),
                                   detector.detect(normalized));
        },
        "text"_a,
        "The crisis stage's parts on text: (strong, weak, framing, model probability, fires).");
    m.def(
        "crisis_compact", [](std::string_view text) { return CrisisDetector::compact(text); },
        "text"_a, "Normalised text as the crisis stage reads it (Hangul spacing removed).");
    m.def(
        "crisis_model_threshold", [] { return CrisisDetector::model_threshold(); },
        "Probability at which the crisis stage's learned model fires.");
    m.def(
        "safe_response", [] { return CrisisDetector::safe_response(); },
        "The fixed safe-response text shown when crisis language is found.");
    m.def(
        "aho_corasick_matches",
        [](const std::vector<std::string>& patterns, std::string_view text) {
            const AhoCorasick automaton(patterns);
            std::vector<std::pair<std::size_t, std::size_t>> out;
            automaton.for_each_match(text, [&](std::size_t p, std::size_t end) {
                out.emplace_back(p, end - automaton.pattern(p).size());
            });
            return out;
        },
        "patterns"_a, "text"_a,
        "Every (pattern index, start byte) occurrence; exposed for testing the automaton.");
}

}  // namespace lumengate::bindings
