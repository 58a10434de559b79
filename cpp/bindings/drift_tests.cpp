#include <string>
#include <vector>

#include "lumengate/common/error.hpp"
#include "lumengate/common/threads.hpp"
#include "lumengate/drift/scores.hpp"
#include "lumengate/drift/sketch.hpp"
#include "lumengate/drift/two_sample.hpp"
#include "pybind.hpp"

namespace lumengate::bindings {
namespace {

using Scores = py::array_t<double, py::array::c_style | py::array::forcecast>;

// A caller's score array as a span over numpy's buffer (no copy), checked for shape.
std::span<const double> view(const Scores& scores, const std::string& field) {
    if (scores.ndim() != 1) {
        throw InvalidArgument(
            field, "must be one-dimensional, got " + std::to_string(scores.ndim()) + " dimensions");
    }
    return {scores.data(), static_cast<std::size_t>(scores.shape(0))};
}

// Finite scores of one sample: the numpy buffer itself, or a cleaned copy under "drop".
struct Sample {
    drift::CleanScores clean;
    std::span<const double> raw;
    [[nodiscard]] std::span<const double> finite() const { return drift::finite_view(raw, clean); }
};

Sample prepare(const Scores& scores, drift::NonFinite policy, const std::string& field) {
    Sample sample;
    sample.raw = view(scores, field);
    sample.clean = drift::clean_scores(sample.raw, policy, field);
    return sample;
}

}  // namespace

void register_drift_tests(py::module_& m) {
    m.def(
        "ks_2samp",
        [](const Scores& reference, const Scores& current, const std::string& method,
           const std::string& alternative, const std::string& non_finite, std::size_t threads) {
            const auto policy = drift::parse_non_finite(non_finite);
            const Sample a = prepare(reference, policy, "reference");
            const Sample b = prepare(current, policy, "current");
            const std::size_t workers = resolve_threads(threads);
            drift::KsTestResult r;
            {
                // Safe: the spans point into numpy buffers (or owned copies) kept alive by the
                // arguments, and the core touches no Python object.
                py::gil_scoped_release release;
                r = drift::ks_2samp(a.finite(), b.finite(), method, alternative, workers);
            }
            return py::make_tuple(r.statistic, r.pvalue, r.exact, a.clean.dropped, b.clean.dropped,
                                  r.location, r.sign);
        },
        "reference"_a, "current"_a, "method"_a = "auto", "alternative"_a = "two-sided",
        "non_finite"_a = "reject", "threads"_a = 0,
        "Two-sample Kolmogorov-Smirnov test: (statistic, pvalue, exact, dropped "
        "reference, dropped current, statistic location, statistic sign).");
    m.def(
        "wasserstein",
        [](const Scores& reference, const Scores& current, const std::string& non_finite,
           std::size_t threads) {
            const auto policy = drift::parse_non_finite(non_finite);
            const Sample a = prepare(reference, policy, "reference");
            const Sample b = prepare(current, policy, "current");
            const std::size_t workers = resolve_threads(threads);
            double distance = 0.0;
            {
                py::gil_scoped_release release;  // as in ks_2samp: only buffers kept alive
                distance = drift::wasserstein(a.finite(), b.finite(), workers);
            }
            return py::make_tuple(distance, a.clean.dropped, b.clean.dropped);
        },
        "reference"_a, "current"_a, "non_finite"_a = "reject", "threads"_a = 0,
        "First Wasserstein distance: (distance, dropped reference, dropped current).");
    m.def(
        "cramervonmises",
        [](const Scores& reference, const Scores& current, const std::string& method,
           const std::string& non_finite, std::size_t threads) {
            const auto policy = drift::parse_non_finite(non_finite);
            const Sample a = prepare(reference, policy, "reference");
            const Sample b = prepare(current, policy, "current");
            const std::size_t workers = resolve_threads(threads);
            drift::CramerVonMisesResult r;
            {
                py::gil_scoped_release release;  // as in ks_2samp: only buffers kept alive
                r = drift::cramervonmises(a.finite(), b.finite(), method, workers);
            }
            return py::make_tuple(r.statistic, r.pvalue, r.exact, a.clean.dropped, b.clean.dropped);
        },
        "reference"_a, "current"_a, "method"_a = "auto", "non_finite"_a = "reject", "threads"_a = 0,
        "Two-sample Cramér-von Mises test: (statistic, pvalue, exact, dropped reference, "
        "dropped current).");
    m.def(
        "anderson_ksamp",
        [](const std::vector<Scores>& samples, const std::string& non_finite, std::size_t threads) {
            const auto policy = drift::parse_non_finite(non_finite);
            std::vector<Sample> prepared;
            prepared.reserve(samples.size());
            std::vector<std::span<const double>> spans;
            std::vector<std::size_t> dropped;
            for (std::size_t i = 0; i < samples.size(); ++i) {
                prepared.push_back(
                    prepare(samples[i], policy, "samples[" + std::to_string(i) + "]"));
            }
            for (const auto& s : prepared) {
                spans.push_back(s.finite());
                dropped.push_back(s.clean.dropped);
            }
            const std::size_t workers = resolve_threads(threads);
            drift::AndersonResult r;
            {
                // Safe: `samples` holds the numpy arrays alive until return; no Python calls.
                py::gil_scoped_release release;
                r = drift::anderson_ksamp(spans, workers);
            }
            return py::make_tuple(r.statistic, r.pvalue, r.critical_values, r.capped, dropped);
        },
        "samples"_a, "non_finite"_a = "reject", "threads"_a = 0,
        "k-sample Anderson-Darling test (midrank): (statistic, pvalue, critical values, capped, "
        "dropped per sample).");
    m.def("kolmogorov_sf", &drift::kolmogorov_sf, "n"_a, "d"_a,
          "P(D_n >= d) of the two-sided one-sample Kolmogorov-Smirnov statistic.");
    m.def("smirnov_sf", &drift::smirnov_sf, "n"_a, "d"_a,
          "P(D_n+ >= d) of the one-sided one-sample Kolmogorov-Smirnov statistic.");
    m.def("cramervonmises_limit_cdf", &drift::cramervonmises_limit_cdf, "x"_a,
          "Limiting CDF of the one-sample Cramér-von Mises statistic.");

    py::class_<drift::QuantileSketch>(m, "QuantileSketch",
                                      "Mergeable quantile sketch with a rank error <= epsilon*n.")
        .def(py::init<double>(), "epsilon"_a = 0.001)
        .def(
            "update",
            [](drift::QuantileSketch& self, const Scores& scores, const std::string& non_finite) {
                const auto policy = drift::parse_non_finite(non_finite);
                const auto raw = view(scores, "scores");
                if (raw.empty()) return std::size_t{0};
                const Sample s = prepare(scores, policy, "scores");
                {
                    // Safe: the buffer is kept alive by `scores`; the facade holds the
                    // sketch's lock, so no other call touches `self` meanwhile.
                    py::gil_scoped_release release;
                    self.update(s.finite());
                }
                return s.clean.dropped;
            },
            "scores"_a, "non_finite"_a = "reject",
            "Add scores; returns how many NaN/inf were dropped.")
        .def("merge", &drift::QuantileSketch::merge, "other"_a,
             "Fold another sketch (same epsilon) into this one.")
        .def("rank", &drift::QuantileSketch::rank, "x"_a, "Estimated number of scores <= x.")
        .def("cdf", &drift::QuantileSketch::cdf, "x"_a, "Estimated fraction of scores <= x.")
        .def(
            "cdf_many",
            [](const drift::QuantileSketch& self, const Scores& xs) {
                const auto values = view(xs, "x");
                py::array_t<double> out(static_cast<py::ssize_t>(values.size()));
                double* data = out.mutable_data();
                for (std::size_t i = 0; i < values.size(); ++i) data[i] = self.cdf(values[i]);
                return out;
            },
            "x"_a, "cdf at every x.")
        .def("quantile", &drift::QuantileSketch::quantile, "q"_a,
             "Score at estimated quantile q in [0, 1].")
        .def_property_readonly("n", &drift::QuantileSketch::count, "Scores added so far.")
        .def_property_readonly("epsilon", &drift::QuantileSketch::epsilon, "Rank error target.")
        .def_property_readonly("rank_error_bound", &drift::QuantileSketch::rank_error_bound,
                               "Worst-case absolute rank error so far.")
        .def_property_readonly("retained", &drift::QuantileSketch::retained,
                               "Scores the sketch keeps.")
        .def_property_readonly("min", &drift::QuantileSketch::min, "Smallest score added.")
        .def_property_readonly("max", &drift::QuantileSketch::max, "Largest score added.")
        .def(
            "to_bytes",
            [](const drift::QuantileSketch& self) { return py::bytes(self.to_bytes()); },
            "Versioned little-endian serialisation.")
        .def_static(
            "from_bytes",
            [](const py::bytes& data) {
                return drift::QuantileSketch::from_bytes(std::string_view(data));
            },
            "data"_a, "Read a sketch written by to_bytes.");
    m.def(
        "ks_from_sketches",
        [](const drift::QuantileSketch& a, const drift::QuantileSketch& b) {
            const auto r = drift::ks_from_sketches(a, b);
            return py::make_tuple(r.statistic, r.error_bound);
        },
        "reference"_a, "current"_a, "KS distance between two sketches: (statistic, error bound).");
    m.def(
        "wasserstein_from_sketches",
        [](const drift::QuantileSketch& a, const drift::QuantileSketch& b) {
            const auto r = drift::wasserstein_from_sketches(a, b);
            return py::make_tuple(r.statistic, r.error_bound);
        },
        "reference"_a, "current"_a,
        "Wasserstein-1 distance between two sketches: (distance, error bound).");
}

}  // namespace lumengate::bindings
