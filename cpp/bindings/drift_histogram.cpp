#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lumengate/common/error.hpp"
#include "lumengate/drift/divergence.hpp"
#include "lumengate/drift/histogram.hpp"
#include "lumengate/drift/monitor.hpp"
#include "pybind.hpp"

namespace lumengate::bindings {
namespace {

using namespace lumengate::drift;
using Doubles = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Times = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

std::span<const double> view(const Doubles& a, const char* field) {
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

py::tuple event_tuple(const MonitorEvent& e) {
    return py::make_tuple(e.time_us, e.statistic, e.score_index);
}

}  // namespace

void register_drift_histogram(py::module_& m) {
    m.def(
        "histogram_edges",
        [](const Doubles& reference, std::size_t bins, const std::string& method,
           const std::string& non_finite) {
            const auto data = view(reference, "reference");
            const BinMethod how = parse_bin_method(method);
            const NonFinite policy = parse_non_finite(non_finite);
            std::vector<double> edges;
            {
                // Only the core's own copy of the data is touched; `reference` stays alive.
                py::gil_scoped_release release;
                edges = histogram_edges(data, bins, how, policy);
            }
            return to_numpy(edges);
        },
        "reference"_a, "bins"_a = 10, "method"_a = "quantile", "non_finite"_a = "reject",
        "Bin edges of the reference: quantile (open outer edges), uniform, sturges or doane.");

    m.def(
        "bin_counts",
        [](const Doubles& scores, const Doubles& edges, const std::string& non_finite,
           const std::string& field, std::size_t threads) {
            const auto data = view(scores, field.c_str());
            const auto e = view(edges, "edges");
            const NonFinite policy = parse_non_finite(non_finite);
            BinCounts result;
            {
                // The arrays are held by the caller's references for the whole call.
                py::gil_scoped_release release;
                result = bin_counts(data, e, policy, field, threads);
            }
            return py::make_tuple(to_numpy(result.counts), result.dropped);
        },
        "scores"_a, "edges"_a, "non_finite"_a = "reject", "field"_a = "scores", "threads"_a = 0,
        "Counts per bin (outside scores go to the outer bins) and the number of dropped scores.");

    m.def(
        "divergence",
        [](const Doubles& reference, const Doubles& current, const std::string& statistic,
           double smoothing) {
            const auto r = view(reference, "reference");
            const auto c = view(current, "current");
            return drift::divergence(r, c, parse_statistic(statistic), smoothing);
        },
        "reference"_a, "current"_a, "statistic"_a = "kl", "smoothing"_a = 0.0,
        "The statistic of two count or probability vectors after additive smoothing.");

    m.def(
        "scores_divergence",
        [](const Doubles& reference, const Doubles& current, const Doubles& edges,
           const std::string& statistic, double smoothing, const std::string& non_finite,
           std::size_t threads) {
            const auto r = view(reference, "reference");
            const auto c = view(current, "current");
            const auto e = view(edges, "edges");
            const Statistic which = parse_statistic(statistic);
            const NonFinite policy = parse_non_finite(non_finite);
            BinCounts ref_counts, cur_counts;
            double value = 0;
            {
                // Pure C++ over buffers the caller keeps alive; no Python object is touched.
                py::gil_scoped_release release;
                ref_counts = bin_counts(r, e, policy, "reference", threads);
                cur_counts = bin_counts(c, e, policy, "current", threads);
                const std::vector<double> rc(ref_counts.counts.begin(), ref_counts.counts.end());
                const std::vector<double> cc(cur_counts.counts.begin(), cur_counts.counts.end());
                value = drift::divergence(rc, cc, which, smoothing);
            }
            return py::make_tuple(value, to_numpy(ref_counts.counts), to_numpy(cur_counts.counts),
                                  ref_counts.dropped, cur_counts.dropped);
        },
        "reference"_a, "current"_a, "edges"_a, "statistic"_a = "kl", "smoothing"_a = 0.5,
        "non_finite"_a = "reject", "threads"_a = 0,
        "Bins both score arrays on the edges and returns (statistic, reference counts, current "
        "counts, reference dropped, current dropped).");

    m.def(
        "chi2_test",
        [](const Doubles& reference, const Doubles& current) {
            const auto result =
                drift::chi2_test(view(reference, "reference"), view(current, "current"));
            return py::make_tuple(result.statistic, result.pvalue, result.dof);
        },
        "reference"_a, "current"_a,
        "Chi-square homogeneity test of two count vectors: (statistic, pvalue, dof).");

    py::class_<HistogramState>(m, "HistogramState",
                               "Frozen bin edges with counts and exact moments; mergeable.")
        .def_static(
            "from_scores",
            [](const Doubles& scores, const Doubles& edges, const std::string& non_finite,
               std::size_t threads) {
                const auto s = view(scores, "scores");
                const auto e = view(edges, "edges");
                const NonFinite policy = parse_non_finite(non_finite);
                // Buffers are kept alive by the caller; the core holds no Python objects.
                py::gil_scoped_release release;
                return HistogramState::from_scores(s, e, policy, threads);
            },
            "scores"_a, "edges"_a, "non_finite"_a = "reject", "threads"_a = 0,
            "The state of `scores` binned on `edges`.")
        .def_static(
            "empty",
            [](const Doubles& edges) { return HistogramState::empty(view(edges, "edges")); },
            "edges"_a, "A state with no scores on `edges`.")
        .def("merge", &HistogramState::merged, "other"_a,
             "The state of both inputs together; edges must match.")
        .def(
            "to_bytes", [](const HistogramState& s) { return py::bytes(s.to_bytes()); },
            "Versioned little-endian bytes (magic 'LGHS', version 1, XXH64 checksum).")
        .def_static(
            "from_bytes",
            [](const py::bytes& data) {
                return HistogramState::from_bytes(std::string_view(data));
            },
            "data"_a, "The state written by to_bytes; corrupt bytes raise InvalidArgument.")
        .def_property_readonly("edges", [](const HistogramState& s) { return to_numpy(s.edges); })
        .def_property_readonly("counts", [](const HistogramState& s) { return to_numpy(s.counts); })
        .def_readonly("n", &HistogramState::n)
        .def_property_readonly(
            "min", [](const HistogramState& s) { return s.n > 0 ? s.min : std::nan(""); })
        .def_property_readonly(
            "max", [](const HistogramState& s) { return s.n > 0 ? s.max : std::nan(""); })
        .def_property_readonly("sum", [](const HistogramState& s) { return s.sum.value(); })
        .def_property_readonly("sum_of_squares",
                               [](const HistogramState& s) { return s.sum_of_squares.value(); })
        .def("__eq__", &HistogramState::operator==, "other"_a)
        .def(py::pickle([](const HistogramState& s) { return py::bytes(s.to_bytes()); },
                        [](const py::bytes& data) {
                            return HistogramState::from_bytes(std::string_view(data));
                        }));

    py::class_<DriftMonitorCore>(m, "DriftMonitorCore", "Native part of DriftMonitor.")
        .def(py::init([](const Doubles& edges, const std::vector<std::uint64_t>& baseline_counts,
                         const std::string& statistic, double threshold, std::size_t window,
                         std::size_t min_samples, double smoothing, std::int64_t cooldown_us,
                         const std::string& non_finite) {
                 MonitorConfig c;
                 const auto e = view(edges, "edges");
                 c.edges.assign(e.begin(), e.end());
                 c.baseline_counts = baseline_counts;
                 c.statistic = parse_statistic(statistic);
                 c.threshold = threshold;
                 c.window = window;
                 c.min_samples = min_samples;
                 c.smoothing = smoothing;
                 c.cooldown_us = cooldown_us;
                 c.non_finite = parse_non_finite(non_finite);
                 return std::make_unique<DriftMonitorCore>(std::move(c));
             }),
             "edges"_a, "baseline_counts"_a, "statistic"_a, "threshold"_a, "window"_a,
             "min_samples"_a, "smoothing"_a, "cooldown_us"_a, "non_finite"_a)
        .def(
            "add",
            [](DriftMonitorCore& self, double score, std::int64_t time_us) {
                const MonitorCheck c = self.add(score, time_us);
                return py::make_tuple(c.drift, c.statistic, c.samples, c.event);
            },
            "score"_a, "time_us"_a, "One score: (drift, statistic, samples, event raised).")
        .def(
            "add_many",
            [](DriftMonitorCore& self, const Doubles& scores, const Times& times) {
                const auto s = view(scores, "scores");
                const std::span<const std::int64_t> t(times.data(),
                                                      static_cast<std::size_t>(times.size()));
                std::vector<MonitorEvent> events;
                {
                    // The monitor's own mutex serialises callers; the buffers stay alive.
                    py::gil_scoped_release release;
                    events = self.add_many(s, t);
                }
                py::list out;
                for (const auto& e : events) out.append(event_tuple(e));
                return out;
            },
            "scores"_a, "times_us"_a, "Scores in order; returns the events they raised.")
        .def(
            "snapshot",
            [](const DriftMonitorCore& self) {
                const MonitorSnapshot s = self.snapshot();
                py::list events;
                for (const auto& e : s.events) events.append(event_tuple(e));
                return py::dict("drift"_a = s.drift, "statistic"_a = s.statistic,
                                "samples"_a = s.samples, "total"_a = s.total,
                                "dropped"_a = s.dropped, "peak"_a = s.peak,
                                "counts"_a = to_numpy(s.counts), "events"_a = events);
            },
            "The monitor's state as a dict.")
        .def(
            "config",
            [](const DriftMonitorCore& self) {
                const MonitorConfig& c = self.config();
                return py::dict(
                    "edges"_a = to_numpy(c.edges),
                    "baseline_counts"_a = to_numpy(c.baseline_counts),
                    "statistic"_a = statistic_name(c.statistic), "threshold"_a = c.threshold,
                    "window"_a = c.window, "min_samples"_a = c.min_samples,
                    "smoothing"_a = c.smoothing, "cooldown_us"_a = c.cooldown_us,
                    "non_finite"_a = c.non_finite == NonFinite::drop ? "drop" : "reject");
            },
            "The monitor's settings as a dict.")
        .def("reset", &DriftMonitorCore::reset, "Forget the window and the events.")
        .def("baseline_probabilities", &DriftMonitorCore::baseline_probabilities,
             "The smoothed baseline histogram.")
        .def(
            "to_bytes",
            [](const DriftMonitorCore& self, const py::bytes& extra) {
                return py::bytes(self.to_bytes(std::string_view(extra)));
            },
            "extra"_a, "Versioned little-endian bytes (magic 'LGDM', version 1) with `extra`.")
        .def_static(
            "from_bytes",
            [](const py::bytes& data) {
                std::string extra;
                auto core = DriftMonitorCore::from_bytes(std::string_view(data), extra);
                return py::make_tuple(std::move(core), py::bytes(extra));
            },
            "data"_a, "(monitor, extra) from to_bytes; corrupt bytes raise InvalidArgument.");
}

}  // namespace lumengate::bindings
